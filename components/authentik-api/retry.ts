/**
 * How the engine talks to an authentik that may still be starting: wait for /-/health/ready/ with
 * bounded exponential backoff, retry transient failures (connection refused/reset, timeouts, 5xx,
 * 429) with jitter, and fail at once on 4xx with authentik's response body in the message.
 * No module state: everything a call needs comes in its arguments (dynamic providers are
 * serialized into state).
 */

export interface RetryPolicy {
    /** Give up after this long in total (default 10 minutes, as a fresh install needs). */
    deadlineMs: number;
    /** First backoff; doubles per attempt up to maxDelayMs, with full jitter. */
    baseDelayMs: number;
    maxDelayMs: number;
    /** One HTTP request may take this long before it counts as a transient failure. */
    requestTimeoutMs: number;
}

export const DEFAULT_POLICY: RetryPolicy = { deadlineMs: 600_000, baseDelayMs: 500, maxDelayMs: 15_000, requestTimeoutMs: 30_000 };

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
    random(): number;
}

export const realClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => Math.random(),
};

/** A failure that must not be retried (a 4xx from authentik, a bad reference). */
export class PermanentError extends Error {
    constructor(
        message: string,
        /** authentik's HTTP status, when the failure was an answer. */
        readonly status?: number,
    ) {
        super(message);
        this.name = "PermanentError";
    }
}

interface ResponseLike {
    status: number;
    clone?(): ResponseLike;
    text(): Promise<string>;
}

function responseOf(e: unknown): ResponseLike | undefined {
    const r = (e as { response?: ResponseLike })?.response;
    return r && typeof r.status === "number" ? r : undefined;
}

/** Transient: network errors, timeouts, 5xx, 429. Everything else fails at once. */
export function isTransient(e: unknown): boolean {
    if (e instanceof PermanentError) return false;
    const r = responseOf(e);
    if (r) return r.status >= 500 || r.status === 429;
    const name = (e as { name?: string })?.name;
    // FetchError wraps connection refused/reset; AbortError/TimeoutError come from request timeouts.
    return name === "FetchError" || name === "AbortError" || name === "TimeoutError" || name === "TypeError";
}

/** The HTTP status of an API error (raw, or wrapped by withRetry), if it has one. */
export function statusOf(e: unknown): number | undefined {
    return e instanceof PermanentError ? e.status : responseOf(e)?.status;
}

/** A message with authentik's response body (`{field: [msgs]}` or `{detail}`), for the operator. */
export async function describeError(what: string, e: unknown): Promise<string> {
    const r = responseOf(e);
    if (r) {
        let body = "";
        try {
            body = await (r.clone ? r.clone() : r).text();
        } catch {
            body = "(no body)";
        }
        return `${what}: authentik answered HTTP ${r.status}: ${body}`;
    }
    return `${what}: ${(e as Error)?.message ?? String(e)}`;
}

/** Backoff before attempt `n` (1-based): full jitter over an exponentially growing cap. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
    const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * Runs `fn` until it succeeds, fails permanently, or the deadline passes. `onRetry` sees each
 * transient failure (the engine uses it to check whether a create already committed).
 */
export async function withRetry<T>(
    what: string,
    fn: (attempt: number) => Promise<T>,
    policy: RetryPolicy,
    clock: Clock = realClock,
): Promise<T> {
    const start = clock.now();
    for (let attempt = 1; ; attempt++) {
        try {
            return await fn(attempt);
        } catch (e) {
            if (!isTransient(e)) throw new PermanentError(await describeError(what, e), statusOf(e));
            const wait = backoffMs(attempt, policy, clock.random);
            if (clock.now() - start + wait > policy.deadlineMs) {
                throw new Error(`${await describeError(what, e)} (gave up after ${attempt} attempts in ${Math.round((clock.now() - start) / 1000)}s)`);
            }
            await clock.sleep(wait);
        }
    }
}

/** Waits until authentik answers 200 on /-/health/ready/ (database reachable, migrations done). */
export async function waitForReady(baseUrl: string, policy: RetryPolicy, clock: Clock = realClock): Promise<void> {
    const url = `${baseUrl.replace(/\/+$/, "")}/-/health/ready/`;
    await withRetry(
        `authentik at ${url} is not ready`,
        async () => {
            const res = await fetch(url, { signal: AbortSignal.timeout(policy.requestTimeoutMs) });
            // Not ready yet is transient whatever the code: a starting pod answers 503, a proxy 502/404.
            if (res.status !== 200) throw Object.assign(new Error(`HTTP ${res.status}`), { name: "FetchError" });
        },
        policy,
        clock,
    );
}
