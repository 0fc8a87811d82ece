/** `npm run verify` against a local server that plays a healthy platform, then each failure. */
import { after, before, beforeEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { CheckOutcome, VerifyOptions, kubectlReason, parseArgs, verify } from "../tools/verify";
import { ROOT } from "./support/helpers";

/** What the server answers; each test breaks one thing. */
interface Behaviour {
    live: number;
    ready: number;
    token: string;
    flowComponent: string;
    /** Per app path: status and Location. */
    apps: Record<string, { status: number; location?: string }>;
    outpostStates: { last_seen: string; version: string; version_outdated: boolean }[];
    slowMs: number;
}
const healthy = (): Behaviour => ({
    live: 200,
    ready: 200,
    token: "good-token",
    flowComponent: "ak-stage-identification",
    apps: {
        sonarr: { status: 302, location: "/outpost.goauthentik.io/start?rd=https%3A%2F%2Fsonarr" },
        wiki: { status: 302, location: "AUTHENTIK/application/o/authorize/?x=1" },
    },
    outpostStates: [{ last_seen: new Date().toISOString(), version: "2026.8.3", version_outdated: false }],
    slowMs: 0,
});

let server: http.Server;
let base = "";
let behaviour = healthy();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-"));

/** An ExternalSecret as External Secrets leaves it: Ready, or failed as when a 1Password item is missing. */
const externalSecret = (name: string, ready = true) => ({
    metadata: { name },
    status: {
        conditions: [
            ready
                ? { type: "Ready", status: "True", reason: "SecretSynced", message: "secret synced" }
                : { type: "Ready", status: "False", reason: "SecretSyncedError", message: "could not get secret data from provider" },
        ],
    },
});
const SYNCED = [externalSecret("authentik-credentials-1password"), externalSecret("pgbouncer-auth")];

let stubs = 0;
/** A kubectl answering `get <type>` for each type, in JSON (its second argument is the type). */
function kubectlStub(pgbouncerReady: number, phase: string, externalSecrets: object[] | string = SYNCED, warnings: object[] = []): string {
    const file = path.join(dir, `kubectl-${stubs++}`);
    // Each answer in a file of its own: JSON and messages need no shell quoting.
    const answer = (name: string, body: unknown) => {
        fs.writeFileSync(`${file}.${name}`, typeof body === "string" ? body : JSON.stringify(body));
        return `"${file}.${name}"`;
    };
    const deployment = answer("deployment", { spec: { replicas: 3 }, status: { readyReplicas: pgbouncerReady } });
    const cluster = answer("cluster", { spec: { instances: 3 }, status: { readyInstances: 3, phase } });
    const es = typeof externalSecrets === "string" ? `cat ${answer("es", externalSecrets)} >&2; exit 1` : `cat ${answer("es", { items: externalSecrets })}`;
    const events = answer("events", { items: warnings });
    fs.writeFileSync(
        file,
        `#!/bin/sh\necho "$*" >> "${file}.calls"\ncase "$2" in deployment) cat ${deployment};; clusters.postgresql.cnpg.io) cat ${cluster};; externalsecrets.external-secrets.io) ${es};; events) cat ${events};; *) echo "unexpected $*" >&2; exit 1;; esac\n`,
        { mode: 0o755 },
    );
    return file;
}

before(async () => {
    server = http.createServer(async (req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (behaviour.slowMs) await new Promise((r) => setTimeout(r, behaviour.slowMs));
        if (url.pathname === "/-/health/live/") return res.writeHead(behaviour.live).end();
        if (url.pathname === "/-/health/ready/") return res.writeHead(behaviour.ready).end();
        if (url.pathname === "/api/v3/flows/executor/default-authentication-flow/") return json(200, { component: behaviour.flowComponent });
        if (url.pathname.startsWith("/app/")) {
            const app = behaviour.apps[url.pathname.slice(5)];
            return res.writeHead(app.status, app.location ? { location: app.location.replace("AUTHENTIK", base) } : {}).end();
        }
        if (req.headers.authorization !== `Bearer ${behaviour.token}`) return json(403, { detail: "Invalid token" });
        if (url.pathname === "/api/v3/core/users/me/") return json(200, { user: { username: "automation" } });
        if (url.pathname === "/api/v3/outposts/instances/") return json(200, { results: [{ pk: "op-1", name: url.searchParams.get("name__iexact") }] });
        if (url.pathname === "/api/v3/outposts/instances/op-1/health/") return json(200, behaviour.outpostStates);
        return json(404, { detail: "Not found." });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise((r) => server.close(r)));
beforeEach(() => {
    behaviour = healthy();
});

const outputs = (): VerifyOptions["outputs"] => ({
    namespace: "authentik",
    authentik: { url: base, host: "auth.example.com", serverService: "", releaseName: "authentik", chartVersion: "2026.8.0" },
    apps: {
        sonarr: { mode: "forward_single", url: `${base}/app/sonarr`, outpost: "authentik Embedded Outpost" },
        wiki: { mode: "proxy", url: `${base}/app/wiki`, outpost: "homelab-proxy" },
        grafana: { mode: "oidc", url: "https://grafana.example.com/", clientId: "grafana" },
    },
    database: { cluster: "authentik-db", host: "", port: 5432, database: "authentik", user: "authentik", credentialsSecret: "", backup: "" },
    radius: null,
});
const run = (extra: Partial<VerifyOptions> = {}) =>
    verify({ outputs: outputs(), token: "good-token", timeoutMs: 2000, kubectl: kubectlStub(3, "Cluster in healthy state"), ...extra });
const status = (outcomes: CheckOutcome[]) => Object.fromEntries(outcomes.map((c) => [c.name, c.status]));
const failed = (outcomes: CheckOutcome[]) => outcomes.filter((c) => c.status === "FAIL").map((c) => `${c.name}: ${c.detail}`);

describe("npm run verify", () => {
    it("asks kubectl in the stack's context, and says in one line why kubectl failed", async () => {
        // A kubectl that answers only in context homelab-ctx, and fails like kubectl does otherwise:
        // a warning, klog noise and the error line.
        fs.mkdirSync(path.join(dir, "in-context"), { recursive: true });
        const file = path.join(dir, "in-context", "kubectl");
        const deployment = JSON.stringify({ spec: { replicas: 3 }, status: { readyReplicas: 3 } });
        const cluster = JSON.stringify({ spec: { instances: 3 }, status: { readyInstances: 3, phase: "Cluster in healthy state" } });
        fs.writeFileSync(
            file,
            `#!/bin/sh\ncase "$*" in *"--context homelab-ctx"*) ;; *) printf 'W1204 10:00:00.000 loader.go:222] Config not found\\nerror: context "default" does not exist\\nSee kubectl --help\\n' >&2; exit 1;; esac\ncase "$2" in deployment) echo '${deployment}';; *) echo '${cluster}';; esac\n`,
            { mode: 0o755 },
        );
        const inContext = await run({ kubectl: file, context: "homelab-ctx" });
        assert.equal(status(inContext)["PgBouncer ready"], "PASS");
        const elsewhere = await run({ kubectl: file });
        assert.equal(elsewhere.find((c) => c.name === "PgBouncer ready")!.detail, 'kubectl get deployment pgbouncer: error: context "default" does not exist');
    });

    it("keeps a kubectl failure to one line: its error line, else its last, cut at 300 characters", () => {
        assert.equal(
            kubectlReason("I1204 noise\nError from server (Forbidden): deployments.apps is forbidden\nmore\n"),
            "Error from server (Forbidden): deployments.apps is forbidden",
        );
        assert.equal(kubectlReason("first\n\nlast line\n"), "last line");
        assert.equal(kubectlReason("  \n"), undefined);
        const long = kubectlReason(`error: ${"x".repeat(400)}`)!;
        assert.equal(long.length, 300);
        assert.ok(long.endsWith("…"));
    });

    it("takes the context from --context, else from the stack file's kubernetes:context", () => {
        const stack = path.join(dir, "Pulumi.lab.yaml");
        fs.writeFileSync(stack, "config:\n  kubernetes:context: lab-ctx\n");
        const env = { PATH: "/nonexistent", INIT_CWD: dir };
        assert.equal(parseArgs(["--outputs", "o.json", "--context", "given"], env).context, "given");
        assert.equal(parseArgs(["--outputs", "o.json", "--config", "Pulumi.lab.yaml"], env).context, "lab-ctx", "relative to where the user typed it");
        assert.equal(parseArgs(["--outputs", "o.json"], { ...env, PULUMI_STACK: "lab" }).context, "lab-ctx", "Pulumi.<PULUMI_STACK>.yaml by default");
        assert.equal(parseArgs(["--outputs", "o.json"], env).context, undefined, "no Pulumi.homelab.yaml here: kubectl's current context");
        assert.throws(() => parseArgs(["--outputs", "o.json", "--config", "Pulumi.none.yaml"], env), /--config .*Pulumi\.none\.yaml: no such stack file/);
        fs.writeFileSync(path.join(dir, "Pulumi.bare.yaml"), "config: {}\n");
        assert.throws(
            () => parseArgs(["--outputs", "o.json", "--config", "Pulumi.bare.yaml"], env),
            /Pulumi\.bare\.yaml names no kubernetes:context: pass --context/,
        );
    });

    it("passes every check on a healthy platform", async () => {
        const outcomes = await run();
        assert.deepEqual(status(outcomes), {
            "authentik live": "PASS",
            "authentik ready": "PASS",
            "API with the token": "PASS",
            "default authentication flow executes": "PASS",
            "sonarr sends anonymous visitors to authentik": "PASS",
            "wiki sends anonymous visitors to authentik": "PASS",
            "outpost authentik Embedded Outpost healthy": "PASS",
            "outpost homelab-proxy healthy": "PASS",
            "PgBouncer ready": "PASS",
            "CNPG cluster authentik-db ready": "PASS",
            "ExternalSecrets synced": "PASS",
        });
    });

    it("fails a platform that is not ready, with the status", async () => {
        behaviour.ready = 503;
        assert.deepEqual(failed(await run()), [`authentik ready: ${base}/-/health/ready/ answered 503`]);
    });

    it("fails a wrong token, saying so", async () => {
        behaviour.token = "rotated";
        const f = failed(await run());
        assert.match(f[0], /^API with the token: .*answered 403 \(the token is wrong, expired or revoked\)/);
        assert.equal(f.filter((x) => x.startsWith("outpost")).length, 2);
    });

    it("fails a flow that denies access", async () => {
        behaviour.flowComponent = "ak-stage-access-denied";
        assert.deepEqual(failed(await run()), ["default authentication flow executes: the flow answered ak-stage-access-denied"]);
    });

    it("fails a forward-auth host that serves anonymous visitors", async () => {
        behaviour.apps.sonarr = { status: 200 };
        assert.match(failed(await run())[0], /^sonarr sends anonymous visitors to authentik: .*answered 200: an anonymous visitor is not sent to authentik/);
    });

    it("fails an outpost that never connected, is stale, or is outdated", async () => {
        behaviour.outpostStates = [];
        assert.match(failed(await run()).join("\n"), /no instance has ever connected/);
        behaviour.outpostStates = [{ last_seen: new Date(Date.now() - 3_600_000).toISOString(), version: "2026.8.3", version_outdated: false }];
        assert.match(failed(await run()).join("\n"), /1 of 1 instances not seen for over 5 min/);
        behaviour.outpostStates = [{ last_seen: new Date().toISOString(), version: "2026.2.0", version_outdated: true }];
        assert.match(failed(await run()).join("\n"), /outdated version \(2026\.2\.0\)/);
    });

    it("fails PgBouncer or a database that is not ready, and skips those checks without kubectl", async () => {
        assert.deepEqual(failed(await run({ kubectl: kubectlStub(1, "Cluster in healthy state") })), ["PgBouncer ready: 1/3 ready"]);
        assert.deepEqual(failed(await run({ kubectl: kubectlStub(3, "Waiting for the instances to become active") })), [
            "CNPG cluster authentik-db ready: 3/3 instances, Waiting for the instances to become active",
        ]);
        const none = await run({ kubectl: undefined });
        assert.equal(status(none)["PgBouncer ready"], "SKIP");
    });

    it("fails an ExternalSecret that is not Ready, naming the missing 1Password item from its latest warning", async () => {
        const at = (minute: number) => `2026-12-05T10:${String(minute).padStart(2, "0")}:00Z`;
        // What External Secrets v0.16.2 recorded in the e2e when an item was gone: a generic Ready
        // condition, and a Warning event with the provider's error (pkg/controllers/externalsecret, markAsFailed).
        const warnings = [
            { involvedObject: { name: "authentik-credentials-1password" }, message: "an older warning", lastTimestamp: at(1) },
            {
                involvedObject: { name: "authentik-credentials-1password" },
                message: "error processing spec.data[2] (key: smtp-relay), err: key not found in 1Password Vaults: smtp-relay in: map[homelab:1]",
                lastTimestamp: at(5),
            },
            { involvedObject: { name: "authentik-credentials-1password" }, message: "a warning without a time" },
            { involvedObject: { name: "pgbouncer-auth" }, message: "another ExternalSecret's warning", lastTimestamp: at(9) },
        ];
        const kubectl = kubectlStub(
            3,
            "Cluster in healthy state",
            [externalSecret("authentik-credentials-1password", false), externalSecret("pgbouncer-auth")],
            warnings,
        );
        assert.deepEqual(failed(await run({ kubectl, context: "lab" })), [
            "ExternalSecrets synced: 1 of 2 not Ready: authentik-credentials-1password SecretSyncedError: could not get secret data from provider (last warning: error processing spec.data[2] (key: smtp-relay), err: key not found in 1Password Vaults: smtp-relay in: map[homelab:1])",
        ]);
        const calls = fs.readFileSync(`${kubectl}.calls`, "utf8");
        assert.match(
            calls,
            /^get externalsecrets\.external-secrets\.io --selector app\.kubernetes\.io\/part-of=authentik-platform --namespace authentik --context lab --output json$/m,
            "only the stack's ExternalSecrets",
        );
        assert.match(
            calls,
            /^get events --field-selector involvedObject\.kind=ExternalSecret,type=Warning --namespace authentik --context lab --output json$/m,
        );
        const synced = kubectlStub(3, "Cluster in healthy state");
        assert.equal(
            (await run({ kubectl: synced })).find((c) => c.name === "ExternalSecrets synced")!.detail,
            "2 Ready: authentik-credentials-1password, pgbouncer-auth",
        );
        assert.doesNotMatch(fs.readFileSync(`${synced}.calls`, "utf8"), /get events/, "events are read only for a failure");
    });

    it("says when External Secrets has not reconciled an ExternalSecret yet, and skips a stack without any", async () => {
        const fresh = await run({ kubectl: kubectlStub(3, "Cluster in healthy state", [{ metadata: { name: "pgbouncer-auth" } }]) });
        assert.deepEqual(failed(fresh), [
            "ExternalSecrets synced: 1 of 1 not Ready: pgbouncer-auth not reconciled yet (is the External Secrets controller running?)",
        ]);
        const bare = await run({
            kubectl: kubectlStub(3, "Cluster in healthy state", [
                { metadata: { name: "z-bare" }, status: { conditions: [{ type: "Ready", status: "False" }] } },
            ]),
        });
        assert.deepEqual(failed(bare), ["ExternalSecrets synced: 1 of 1 not Ready: z-bare not Ready"], "a condition without reason or message, and no warning");
        // Only the Ready condition counts; the names are listed sorted.
        const deleted = {
            metadata: { name: "a-first" },
            status: {
                conditions: [
                    { type: "Deleted", status: "False" },
                    { type: "Ready", status: "True" },
                ],
            },
        };
        const sorted = await run({ kubectl: kubectlStub(3, "Cluster in healthy state", [externalSecret("m-middle"), deleted]) });
        assert.equal(sorted.find((c) => c.name === "ExternalSecrets synced")!.detail, "2 Ready: a-first, m-middle");
        const none = await run({ kubectl: kubectlStub(3, "Cluster in healthy state", []) });
        assert.deepEqual(
            [status(none)["ExternalSecrets synced"], none.find((c) => c.name === "ExternalSecrets synced")!.detail],
            ["SKIP", "the stack manages no ExternalSecret (onepassword.mode is not external-secrets)"],
        );
        const noCrd = await run({ kubectl: kubectlStub(3, "Cluster in healthy state", `error: the server doesn't have a resource type "externalsecrets"`) });
        assert.deepEqual(
            [status(noCrd)["ExternalSecrets synced"], noCrd.find((c) => c.name === "ExternalSecrets synced")!.detail],
            ["SKIP", "External Secrets is not installed (onepassword.mode is not external-secrets)"],
            "no External Secrets in the cluster: a stack in another mode",
        );
        const denied = await run({
            kubectl: kubectlStub(3, "Cluster in healthy state", "Error from server (Forbidden): externalsecrets.external-secrets.io is forbidden"),
        });
        assert.match(
            failed(denied).join("\n"),
            /^ExternalSecrets synced: kubectl-\d+ get externalsecrets\.external-secrets\.io --selector: Error from server \(Forbidden\): externalsecrets\.external-secrets\.io is forbidden$/,
            "any other kubectl failure fails the check",
        );
    });

    it("gives each check its own timeout, and names a refused connection", async () => {
        behaviour.slowMs = 500;
        const slow = await run({ timeoutMs: 100, kubectl: undefined });
        assert.match(slow.find((c) => c.name === "authentik live")!.detail, /no answer within 0\.1s/);
        const closed = net.createServer();
        await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
        const port = (closed.address() as AddressInfo).port;
        await new Promise((r) => closed.close(r));
        const gone = await verify({ outputs: { ...outputs(), apps: {} }, url: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
        assert.match(gone.find((c) => c.name === "authentik live")!.detail, /ECONNREFUSED/);
    });

    it("exits 1 on a failure, 0 when verified, 2 on a usage error, with --help", async () => {
        const file = path.join(dir, "outputs.json");
        fs.writeFileSync(file, JSON.stringify({ ...outputs(), apps: {} }));
        // Asynchronous: the server answers from this process's event loop.
        const cli = (args: string[], env: Record<string, string> = {}) =>
            new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
                execFile(
                    process.execPath,
                    [path.join(ROOT, "bin", "tools", "verify.js"), ...args],
                    { encoding: "utf8", env: { ...process.env, PATH: "/nonexistent", ...env } },
                    (error, stdout, stderr) => resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
                ),
            );
        const ok = await cli(["--outputs", file], { AUTHENTIK_TOKEN: "good-token" });
        assert.equal(ok.status, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /^PASS  authentik live: /m);
        assert.match(ok.stdout, /^SKIP  PgBouncer ready: no kubectl/m);
        behaviour.ready = 500;
        const bad = await cli(["--outputs", file, "--url", base]);
        assert.equal(bad.status, 1);
        assert.match(bad.stdout, /FAILED/);
        assert.equal((await cli(["--outputs"])).status, 2);
        assert.equal((await cli(["--bogus", "x"])).status, 2);
        assert.equal((await cli(["--outputs", path.join(dir, "missing.json")])).status, 2);
        const help = await cli(["--help"]);
        assert.equal(help.status, 0);
        assert.match(help.stdout, /--outputs FILE/);
    });
});
