/**
 * The retry engine's decisions, one by one, on plain values and a fake clock: which failures are
 * retried, what a message shows the operator, when a failed create may have committed, how long
 * it waits and when it gives up. Fast and free of the fake authentik, so the mutation run kills
 * these mutants here (the suite through the real client covers the same code end to end).
 */
import { describe, it, type TestContext } from "node:test";
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
    PermanentError,
    backoffMs,
    causeOf,
    describeError,
    describeFailure,
    isGone,
    isRefused,
    isTransient,
    isUnreachable,
    mayHaveCommitted,
    statusOf,
    waitForReady,
    withRetry,
    type Clock,
} from "../lib/authentik-api/retry";

const answer = (status: number, body = "", contentType?: string) => ({
    response: { status, headers: { get: (name: string) => (name.toLowerCase() === "content-type" ? (contentType ?? null) : null) }, text: async () => body },
});
const network = (code: string, message = `connect ${code} 10.0.0.1:443`) => ({
    name: "FetchError",
    message: "request failed",
    cause: { message: "fetch failed", cause: { code, message } },
});

/** A clock that never sleeps: time moves only by what the code under test waits. */
function fakeClock(random = 1): Clock & { slept: number[]; at: number } {
    const clock = {
        at: 1_000_000,
        slept: [] as number[],
        now: () => clock.at,
        sleep: async (ms: number) => {
            clock.slept.push(ms);
            clock.at += ms;
        },
        random: () => random,
    };
    return clock;
}

describe("which failures are retried", () => {
    it("every 5xx and 429; no other answer", () => {
        for (const status of [500, 501, 502, 503, 504, 599, 429]) assert.equal(isTransient(answer(status)), true, `HTTP ${status}`);
        for (const status of [400, 401, 403, 404, 409, 428, 430, 499]) assert.equal(isTransient(answer(status)), false, `HTTP ${status}`);
    });

    it("network failures and timeouts by their error name", () => {
        for (const name of ["FetchError", "AbortError", "TimeoutError", "TypeError"]) assert.equal(isTransient({ name }), true, name);
        assert.equal(isTransient({ name: "Error" }), false);
        assert.equal(isTransient(new Error("a bug")), false);
        assert.equal(isTransient(undefined), false);
    });

    it("never a permanent error, even one that carries a 503", () => {
        assert.equal(isTransient(new PermanentError("no", 503)), false);
        assert.equal(isTransient(Object.assign(new PermanentError("no"), { name: "FetchError" })), false);
    });

    it("an answer without a numeric status is not an answer", () => {
        assert.equal(isTransient({ name: "Error", response: { status: "503" } }), false);
        assert.equal(statusOf({ response: { status: "503" } }), undefined);
    });
});

describe("what an answer says", () => {
    it("statusOf reads a raw answer and a wrapped one", () => {
        assert.equal(statusOf(answer(418)), 418);
        assert.equal(statusOf(new PermanentError("x", 409)), 409);
        assert.equal(statusOf(new PermanentError("x")), undefined);
        assert.equal(statusOf(new Error("x")), undefined);
    });

    it("refused means 401 or 403 only", () => {
        assert.equal(isRefused(answer(401)), true);
        assert.equal(isRefused(new PermanentError("x", 403)), true);
        for (const status of [400, 402, 404, 500]) assert.equal(isRefused(answer(status)), false, `HTTP ${status}`);
        assert.equal(isRefused(new Error("x")), false);
    });

    it("gone only when a permanent error says so", () => {
        assert.equal(isGone(new PermanentError("x", 404, true)), true);
        assert.equal(isGone(new PermanentError("x", 404)), false);
        assert.equal(isGone(Object.assign(new Error("x"), { gone: true })), false);
    });

    it("a permanent error keeps its message and name (Pulumi's serializer drops what Error sets)", () => {
        const e = new PermanentError("the message", 400);
        assert.equal(e.message, "the message");
        assert.equal(e.name, "PermanentError");
        assert.equal(e.gone, false);
    });
});

describe("what the operator reads", () => {
    it("authentik's JSON 404 is gone, with its body", async () => {
        const f = await describeFailure("read group", answer(404, '{"detail":"No Group matches the given query."}', "application/json"));
        assert.deepEqual(f, { message: 'read group: authentik answered HTTP 404: {"detail":"No Group matches the given query."}', status: 404, gone: true });
        const api = await describeFailure("read", answer(404, '{"detail":"Not found."}', "application/vnd.api+json; charset=utf-8"));
        assert.equal(api.gone, true);
    });

    it("any other 404 is not gone, and says to check api.url and the ingress", async () => {
        const hint = " (not authentik's own answer: check api.url and the ingress in front of authentik)";
        const html = await describeFailure("read", answer(404, "<html>404 Not Found</html>", "text/html"));
        assert.deepEqual(html, { message: `read: authentik answered HTTP 404${hint}: <html>404 Not Found</html>`, status: 404, gone: false });
        for (const [body, type] of [
            ['{"error":"not found"}', "application/json"],
            ['{"detail":["a list"]}', "application/json"],
            ["null", "application/json"],
            ["not json at all", "application/json"],
            ['{"detail":"Not found."}', "text/plain"],
            ['{"detail":"Not found."}', undefined],
        ] as const) {
            const f = await describeFailure("read", answer(404, body, type));
            assert.equal(f.gone, false, `${body} as ${type}`);
            assert.ok(f.message.includes(hint), `${body} as ${type}`);
        }
    });

    it("another status with authentik's detail is not gone, and has no hint", async () => {
        const f = await describeFailure("update", answer(400, '{"detail":"bad"}', "application/json"));
        assert.deepEqual(f, { message: 'update: authentik answered HTTP 400: {"detail":"bad"}', status: 400, gone: false });
    });

    it("shows the first 500 characters of a long body, and says when there is none", async () => {
        const long = await describeError("create", answer(500, "x".repeat(501)));
        assert.equal(long, `create: authentik answered HTTP 500: ${"x".repeat(500)}…`);
        const exact = await describeError("create", answer(500, "y".repeat(500)));
        assert.equal(exact, `create: authentik answered HTTP 500: ${"y".repeat(500)}`);
        assert.equal(await describeError("create", answer(502)), "create: authentik answered HTTP 502: (no body)");
    });

    it("reads the body from a clone (the client may read it again), and survives a body that cannot be read", async () => {
        const original = { status: 500, text: async () => "consumed" };
        const withClone = { response: { ...original, clone: () => ({ status: 500, text: async () => "from the clone" }) } };
        assert.equal(await describeError("x", withClone), "x: authentik answered HTTP 500: from the clone");
        const broken = { response: { status: 500, text: async () => Promise.reject(new Error("already read")) } };
        assert.equal(await describeError("x", broken), "x: authentik answered HTTP 500: (no body)");
    });

    it("a permanent error is passed on as it is", async () => {
        assert.deepEqual(await describeFailure("x", new PermanentError("as it was", 404, true)), { message: "as it was", status: 404, gone: true });
    });

    it("a network failure shows its cause chain", async () => {
        assert.deepEqual(await describeFailure("lookup", network("ECONNREFUSED")), {
            message: "lookup: request failed: fetch failed: connect ECONNREFUSED 10.0.0.1:443",
            gone: false,
        });
    });
});

describe("the cause of a network failure", () => {
    it("follows the chain, adds a code the message lacks, once", () => {
        assert.equal(causeOf(network("ECONNRESET", "socket hang up")), "request failed: fetch failed: socket hang up (ECONNRESET)");
        assert.equal(causeOf({ message: "connect ECONNREFUSED", code: "ECONNREFUSED" }), "connect ECONNREFUSED");
        assert.equal(causeOf({ code: "ENOTFOUND" }), "(ENOTFOUND)");
    });

    it("names a timeout", () => {
        assert.equal(
            causeOf({ name: "TimeoutError", message: "The operation was aborted due to timeout" }),
            "timed out: The operation was aborted due to timeout",
        );
    });

    it("lists every address an AggregateError tried, and repeats no text", () => {
        const aggregate = {
            message: "fetch failed",
            cause: {
                name: "AggregateError",
                message: "",
                errors: [
                    { message: "connect ECONNREFUSED ::1:443" },
                    { message: "connect ECONNREFUSED 127.0.0.1:443" },
                    { message: "connect ECONNREFUSED ::1:443" },
                ],
            },
        };
        assert.equal(causeOf(aggregate), "fetch failed: connect ECONNREFUSED ::1:443: connect ECONNREFUSED 127.0.0.1:443");
        let nested: unknown = { message: "8" };
        for (let i = 7; i >= 0; i--) nested = { message: String(i), errors: [nested] };
        assert.equal(causeOf(nested), "0: 1: 2: 3: 4: 5: 6", "nested errors stop at depth 6 too");
        const loop: { message: string; errors: unknown[] } = { message: "a", errors: [] };
        loop.errors.push({ message: "b", errors: [loop] });
        assert.equal(causeOf(loop), "a: b");
    });

    it("stops at a cycle and at depth 6", () => {
        const a: { message: string; cause?: unknown } = { message: "a" };
        a.cause = { message: "b", cause: a };
        assert.equal(causeOf(a), "a: b");
        let deep: unknown = { message: "8" };
        for (let i = 7; i >= 0; i--) deep = { message: String(i), cause: deep };
        assert.equal(causeOf(deep), "0: 1: 2: 3: 4: 5: 6");
    });

    it("falls back to the value itself", () => {
        assert.equal(causeOf("plain text"), "plain text");
        assert.equal(causeOf({}), "[object Object]");
        assert.equal(causeOf(undefined), "undefined");
    });
});

describe("a failed create that may have committed", () => {
    it("a lost answer or a gateway's 502/504 may have; a refusal, an unknown host, 503 and 429 did nothing", () => {
        assert.equal(mayHaveCommitted(network("ECONNRESET", "socket hang up")), true);
        assert.equal(mayHaveCommitted({ name: "TimeoutError", message: "timeout" }), true);
        for (const status of [502, 504]) assert.equal(mayHaveCommitted(answer(status)), true, `HTTP ${status}`);
        for (const status of [500, 503, 429, 400]) assert.equal(mayHaveCommitted(answer(status)), false, `HTTP ${status}`);
        for (const code of ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]) assert.equal(mayHaveCommitted(network(code)), false, code);
        assert.equal(mayHaveCommitted(new PermanentError("x", 504)), true);
    });

    it("unreachable: refused, no such host, no route, TLS; not a reset or a timeout", () => {
        for (const code of [
            "ECONNREFUSED",
            "ENOTFOUND",
            "EAI_AGAIN",
            "EHOSTUNREACH",
            "ENETUNREACH",
            "ERR_SSL_WRONG_VERSION_NUMBER",
            "EPROTO",
            "CERT_HAS_EXPIRED",
        ]) {
            assert.equal(isUnreachable(network(code)), true, code);
        }
        assert.equal(isUnreachable({ message: "unable to verify the first certificate" }), true);
        assert.equal(isUnreachable({ message: "Client network socket disconnected before secure TLS connection was established" }), true);
        assert.equal(isUnreachable(network("ECONNRESET", "socket hang up")), false);
        assert.equal(isUnreachable({ name: "TimeoutError", message: "The operation was aborted due to timeout" }), false);
    });
});

describe("backoff", () => {
    it("from half the cap to the cap, the cap doubling from the base up to the maximum", () => {
        const policy = { deadlineMs: 1, baseDelayMs: 500, maxDelayMs: 15_000, requestTimeoutMs: 1 };
        assert.deepEqual(
            [1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, policy, () => 1)),
            [500, 1000, 2000, 4000, 8000, 15_000, 15_000],
        );
        assert.deepEqual(
            [1, 6].map((n) => backoffMs(n, policy, () => 0)),
            [250, 7500],
        );
        assert.equal(
            backoffMs(1, { ...policy, baseDelayMs: 3 }, () => 0),
            2,
            "rounded",
        );
    });
});

describe("withRetry", () => {
    const policy = { deadlineMs: 10_000, baseDelayMs: 1000, maxDelayMs: 4000, requestTimeoutMs: 1 };

    it("retries transient failures with the attempt number and the previous error, then returns the result", async () => {
        const clock = fakeClock();
        const seen: [number, unknown][] = [];
        const failure = answer(503);
        const result = await withRetry(
            "x",
            async (attempt, previous) => {
                seen.push([attempt, previous]);
                if (attempt < 3) throw failure;
                return "done";
            },
            policy,
            clock,
        );
        assert.equal(result, "done");
        assert.deepEqual(seen, [
            [1, undefined],
            [2, failure],
            [3, failure],
        ]);
        assert.deepEqual(clock.slept, [1000, 2000]);
    });

    it("fails at once on a permanent failure, with status, body and whether it is gone", async () => {
        const clock = fakeClock();
        let calls = 0;
        const e = await withRetry(
            "read group",
            async () => {
                calls++;
                throw answer(404, '{"detail":"Not found."}', "application/json");
            },
            policy,
            clock,
        ).catch((x: unknown) => x);
        assert.equal(calls, 1);
        assert.ok(e instanceof PermanentError);
        assert.equal(e.status, 404);
        assert.equal(e.gone, true);
        assert.equal(e.message, 'read group: authentik answered HTTP 404: {"detail":"Not found."}');
        assert.deepEqual(clock.slept, []);
    });

    it("gives up when the next wait would pass the deadline, saying how many attempts in how long", async () => {
        const clock = fakeClock();
        let calls = 0;
        const e = await withRetry(
            "create group",
            async () => {
                calls++;
                throw answer(503, "starting");
            },
            policy,
            clock,
        ).then(
            () => new Error("resolved"),
            (x: unknown) => x as Error,
        );
        // Waits 1000 + 2000 + 4000 = 7000 ms; a fourth wait (4000) would end at 11000 > 10000.
        assert.deepEqual(clock.slept, [1000, 2000, 4000]);
        assert.equal(calls, 4);
        assert.ok(!(e instanceof PermanentError));
        assert.equal(e.message, "create group: authentik answered HTTP 503: starting (gave up after 4 attempts in 7s)");
    });

    it("still waits when the wait ends exactly at the deadline", async () => {
        const clock = fakeClock();
        let calls = 0;
        await withRetry(
            "x",
            async () => {
                if (++calls < 3) throw { name: "FetchError" };
                return undefined;
            },
            { ...policy, deadlineMs: 3000 },
            clock,
        );
        assert.deepEqual(clock.slept, [1000, 2000]);
    });
});

describe("waiting for readiness", () => {
    /** A health endpoint answering `statuses` in turn, then 200; closed after the test whatever happens. */
    async function serve(t: TestContext, statuses: number[]): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
        const paths: string[] = [];
        const server = http.createServer((req, res) => {
            paths.push(req.url ?? "");
            res.statusCode = statuses.shift() ?? 200;
            res.end();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const close = () => new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
        t.after(() => {
            server.closeAllConnections();
            return close();
        });
        return { url, paths, close };
    }
    const policy = { deadlineMs: 600_000, baseDelayMs: 1000, maxDelayMs: 1000, requestTimeoutMs: 2000 };

    it("asks /-/health/ready/ (trailing slashes of the URL dropped) until it answers 200, whatever it answered before", async (t) => {
        const server = await serve(t, [503, 502, 404, 500]);
        const clock = fakeClock();
        await waitForReady(`${server.url}//`, policy, clock);
        await server.close();
        assert.deepEqual(server.paths, Array(5).fill("/-/health/ready/"));
        assert.equal(clock.slept.length, 4);
    });

    it("fail-fast: an unreachable authentik is a permanent error that says how to preview without it", async (t) => {
        const server = await serve(t, []);
        await server.close();
        const clock = fakeClock();
        const e = await waitForReady(server.url, policy, clock, { failFast: true }).then(
            () => new Error("resolved"),
            (x: unknown) => x as Error,
        );
        assert.ok(e instanceof PermanentError, String(e));
        assert.match(
            e.message,
            new RegExp(`^authentik at ${server.url} cannot be reached from here \\(.*ECONNREFUSED.*\\)\\. .*api\\.url.*pulumi preview --refresh=false$`),
        );
        assert.deepEqual(clock.slept, []);
    });

    it("without fail-fast, an unreachable authentik is waited for", async (t) => {
        const server = await serve(t, []);
        await server.close();
        const clock = fakeClock();
        const e = await waitForReady(server.url, { ...policy, deadlineMs: 2500 }, clock).then(
            () => new Error("resolved"),
            (x: unknown) => x as Error,
        );
        assert.ok(!(e instanceof PermanentError));
        assert.match(e.message, /is not ready: .*ECONNREFUSED.*gave up after 3 attempts/);
    });

    it("a health check that never answers times out after the request timeout, and is retried", async (t) => {
        const hung = http.createServer(() => undefined);
        await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
        t.after(() => {
            hung.closeAllConnections();
            return new Promise<void>((r) => hung.close(() => r()));
        });
        const clock = fakeClock();
        const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
        const e = await waitForReady(url, { deadlineMs: 2500, baseDelayMs: 1000, maxDelayMs: 1000, requestTimeoutMs: 50 }, clock).then(
            () => new Error("resolved"),
            (x: unknown) => x as Error,
        );
        assert.match(e.message, /is not ready: .*timed out: .*gave up after 3 attempts/);
    });

    it("fail-fast waits at most a minute for a starting authentik; without it, the whole deadline", async (t) => {
        const server = await serve(t, Array(200).fill(503));
        const fast = fakeClock();
        const e = await waitForReady(server.url, policy, fast, { failFast: true }).then(
            () => new Error("resolved"),
            (x: unknown) => x as Error,
        );
        assert.match(e.message, new RegExp(`^authentik at ${server.url}/-/health/ready/ is not ready: .*HTTP 503 \\(gave up after 61 attempts in 60s\\)$`));
        assert.equal(fast.slept.length, 60);
        const shorter = fakeClock();
        await waitForReady(server.url, { ...policy, deadlineMs: 5000 }, shorter, { failFast: true }).catch(() => undefined);
        assert.equal(shorter.slept.length, 5, "a policy deadline under a minute stands");
        const slow = fakeClock();
        await waitForReady(server.url, { ...policy, deadlineMs: 100_000 }, slow).catch(() => undefined);
        await server.close();
        assert.equal(slow.slept.length, 100, "the policy's deadline: 100 s");
    });
});
