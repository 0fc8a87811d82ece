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
        /** authentik itself said the object does not exist (its JSON 404), not a proxy or an ingress. */
        readonly gone = false,
    ) {
        super(message);
        // Set again: Pulumi's closure serializer turns this class into a function that calls Error
        // as a plain function, which sets nothing on `this`; without this line every message the
        // provider host reports is "undefined" (found by the end-to-end suite).
        this.message = message;
        this.name = "PermanentError";
    }
}

interface ResponseLike {
    status: number;
    headers?: { get(name: string): string | null };
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

/** Whether authentik refused the token itself (expired, revoked, deleted): 401 or 403. */
export function isRefused(e: unknown): boolean {
    const status = statusOf(e);
    return status === 401 || status === 403;
}

/**
 * Whether authentik itself answered "no such object": HTTP 404 with its JSON body `{"detail": …}`
 * (Django REST framework's NotFound, raised by get_object()). An ingress's or proxy's 404 (HTML,
 * or JSON of another shape) says nothing about the object and must not drop it from state.
 */
export function isGone(e: unknown): boolean {
    return e instanceof PermanentError && e.gone;
}

async function bodyOf(r: ResponseLike): Promise<string> {
    try {
        return await (r.clone ? r.clone() : r).text();
    } catch {
        return "";
    }
}

function isAuthentikNotFound(r: ResponseLike, body: string): boolean {
    if (r.status !== 404 || !/application\/(vnd\.api\+)?json/.test(r.headers?.get("content-type") ?? "")) return false;
    let parsed: { detail?: unknown } | null;
    try {
        parsed = JSON.parse(body) as { detail?: unknown } | null;
    } catch {
        return false;
    }
    return typeof parsed?.detail === "string";
}

/**
 * The underlying reason of a network failure, from the cause chain the client and undici build:
 * FetchError → TypeError("fetch failed") → Error{code: ECONNREFUSED | ENOTFOUND | a TLS code} or
 * AggregateError (one per address tried), or a TimeoutError from the request's AbortSignal.
 * Messages and codes only: they carry no header, so no token.
 */
export function causeOf(e: unknown): string {
    const parts: string[] = [];
    // A cycle ends at the depth bound; a text already said is not repeated.
    const visit = (x: unknown, depth: number) => {
        if (!x || depth > 6) return;
        const err = x as { message?: string; code?: string; name?: string; cause?: unknown; errors?: unknown[] };
        const text = [err.message, err.code && !err.message?.includes(err.code) ? `(${err.code})` : ""].filter(Boolean).join(" ");
        if (text && !parts.includes(text)) parts.push(err.name === "TimeoutError" ? `timed out: ${text}` : text);
        if (Array.isArray(err.errors)) for (const inner of err.errors) visit(inner, depth + 1);
        visit(err.cause, depth + 1);
    };
    visit(e, 0);
    return parts.length ? parts.join(": ") : String(e);
}

/** What went wrong, for the operator: authentik's response body, or the network cause. */
export async function describeFailure(what: string, e: unknown): Promise<{ message: string; status?: number; gone: boolean }> {
    if (e instanceof PermanentError) return { message: e.message, status: e.status, gone: e.gone };
    const r = responseOf(e);
    if (r) {
        const body = await bodyOf(r);
        const gone = isAuthentikNotFound(r, body);
        const shown = body.length > 500 ? `${body.slice(0, 500)}…` : body || "(no body)";
        const foreign = r.status === 404 && !gone ? " (not authentik's own answer: check api.url and the ingress in front of authentik)" : "";
        return { message: `${what}: authentik answered HTTP ${r.status}${foreign}: ${shown}`, status: r.status, gone };
    }
    return { message: `${what}: ${causeOf(e)}`, gone: false };
}

/** A message with authentik's response body (`{field: [msgs]}` or `{detail}`) or the network cause. */
export async function describeError(what: string, e: unknown): Promise<string> {
    return (await describeFailure(what, e)).message;
}

/**
 * Whether a failed request may still have been done by the server: its answer was lost (timeout,
 * connection dropped after sending) or a gateway gave up waiting (502/504). A refused connection,
 * a 503 or a 429 did nothing.
 */
export function mayHaveCommitted(e: unknown): boolean {
    const status = statusOf(e);
    if (status !== undefined) return status === 502 || status === 504;
    return !/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(causeOf(e));
}

/** A pause between half of `ms` and `ms`, rounded: writers that collided do not retry in step. */
export function jittered(ms: number, random: () => number): number {
    return Math.round(ms / 2 + (random() * ms) / 2);
}

/** Backoff before attempt `n` (1-based): jittered under an exponentially growing cap. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
    return jittered(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)), random);
}

/**
 * Runs `fn` until it succeeds, fails permanently, or the deadline passes. `onRetry` sees each
 * transient failure (the engine uses it to check whether a create already committed).
 */
export async function withRetry<T>(
    what: string,
    fn: (attempt: number, previousError?: unknown) => Promise<T>,
    policy: RetryPolicy,
    clock: Clock = realClock,
): Promise<T> {
    const start = clock.now();
    let previousError: unknown;
    for (let attempt = 1; ; attempt++) {
        try {
            return await fn(attempt, previousError);
        } catch (e) {
            previousError = e;
            if (!isTransient(e)) {
                const failure = await describeFailure(what, e);
                throw new PermanentError(failure.message, failure.status, failure.gone);
            }
            const wait = backoffMs(attempt, policy, clock.random);
            if (clock.now() - start + wait > policy.deadlineMs) {
                throw new Error(`${await describeError(what, e)} (gave up after ${attempt} attempts in ${Math.round((clock.now() - start) / 1000)}s)`);
            }
            await clock.sleep(wait);
        }
    }
}

/** A failure that no wait cures: refused, no such host, no route, or a TLS certificate/handshake problem. */
export function isUnreachable(e: unknown): boolean {
    return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|CERT_|certificate|SSL|TLS|EPROTO/i.test(causeOf(e));
}

export interface ReadinessOptions {
    /**
     * Refresh/read (every preview with refresh: always): fail at once when authentik cannot be
     * reached at all, and wait at most a minute for a starting one. Creates and updates after a
     * release change keep the full deadline (authentik may still be migrating).
     */
    failFast?: boolean;
}

/** Waits until authentik answers 200 on /-/health/ready/ (database reachable, migrations done). */
export async function waitForReady(baseUrl: string, policy: RetryPolicy, clock: Clock = realClock, options: ReadinessOptions = {}): Promise<void> {
    const url = `${baseUrl.replace(/\/+$/, "")}/-/health/ready/`;
    const effective = options.failFast ? { ...policy, deadlineMs: Math.min(policy.deadlineMs, 60_000) } : policy;
    await withRetry(
        `authentik at ${url} is not ready`,
        async () => {
            let res: Response;
            try {
                res = await fetch(url, { signal: AbortSignal.timeout(policy.requestTimeoutMs) });
            } catch (e) {
                if (options.failFast && isUnreachable(e)) {
                    throw new PermanentError(
                        `authentik at ${baseUrl} cannot be reached from here (${causeOf(e)}). Reading authentik's objects (a refresh, which every preview and up runs) needs api.url to be reachable from this machine (VPN? the in-cluster URL from a runner in the cluster?); to preview without it, run pulumi preview --refresh=false`,
                    );
                }
                throw e;
            }
            // Not ready yet is transient whatever the code: a starting pod answers 503, a proxy 502/404.
            if (res.status !== 200) throw Object.assign(new Error(`HTTP ${res.status}`), { name: "FetchError" });
        },
        effective,
        clock,
    );
}
