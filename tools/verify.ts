/**
 * `npm run verify`: is the deployed platform working? Post-deploy checks from the stack outputs
 * (`pulumi stack output --json --show-secrets > "$(mktemp)"`, outside the repository), the habit the Terraform stack's
 * verify script had: authentik live and ready, the API answers with the token, the default
 * authentication flow executes, every forward-auth host sends an anonymous visitor to authentik,
 * every outpost reports healthy, and (with kubectl) PgBouncer and the CNPG cluster are ready and the
 * stack's ExternalSecrets are synced.
 *
 * One line per check (PASS / FAIL / SKIP, with the reason), a timeout per check, exit 1 when any
 * check fails, 2 on a usage error. The token comes from AUTHENTIK_TOKEN (never a flag: shells keep
 * their history).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFile } from "node:child_process";
import YAML from "yaml";
import type { PlatformOutputs } from "../packages/contract";
import { causeOf } from "../lib/authentik-api/retry";

export interface VerifyOptions {
    outputs: Pick<PlatformOutputs, "authentik" | "apps"> & Partial<Pick<PlatformOutputs, "namespace" | "database" | "pgbouncer" | "radius">>;
    /** authentik's base URL; default outputs.authentik.url (e.g. the in-cluster URL from a pod). */
    url?: string;
    token?: string;
    timeoutMs: number;
    /** kubectl for the Kubernetes checks; undefined skips them. */
    kubectl?: string;
    /** The kubeconfig context kubectl uses (the stack's `kubernetes:context`); undefined: kubectl's current one. */
    context?: string;
    /** Outposts whose health must be fresh: seen within this long. */
    outpostFreshMs?: number;
}

export interface CheckOutcome {
    name: string;
    status: "PASS" | "FAIL" | "SKIP";
    detail: string;
}

const FORWARD_MODES = new Set(["forward_single", "forward_domain", "proxy"]);

/** Runs a check with its own deadline; a thrown error or the deadline is a FAIL with its reason. */
async function timed(name: string, timeoutMs: number, check: (signal: AbortSignal) => Promise<Omit<CheckOutcome, "name">>): Promise<CheckOutcome> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
        const outcome = await Promise.race([
            check(signal),
            new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error(`no answer within ${timeoutMs / 1000}s`)))),
        ]);
        return { name, ...outcome };
    } catch (e) {
        return { name, status: "FAIL", detail: causeOf(e) };
    }
}

const pass = (detail: string) => ({ status: "PASS" as const, detail });
const fail = (detail: string) => ({ status: "FAIL" as const, detail });
const skip = (detail: string) => ({ status: "SKIP" as const, detail });

export async function verify(o: VerifyOptions): Promise<CheckOutcome[]> {
    const base = (o.url ?? o.outputs.authentik.url).replace(/\/+$/, "");
    const api = (p: string, signal: AbortSignal) =>
        fetch(`${base}/api/v3${p}`, { signal, headers: { authorization: `Bearer ${o.token}`, accept: "application/json" } });
    const checks: Promise<CheckOutcome>[] = [];

    for (const probe of ["live", "ready"]) {
        checks.push(
            timed(`authentik ${probe}`, o.timeoutMs, async (signal) => {
                const res = await fetch(`${base}/-/health/${probe}/`, { signal });
                return res.ok ? pass(`${base}/-/health/${probe}/ answered ${res.status}`) : fail(`${base}/-/health/${probe}/ answered ${res.status}`);
            }),
        );
    }

    checks.push(
        timed("API with the token", o.timeoutMs, async (signal) => {
            if (!o.token) return skip("set AUTHENTIK_TOKEN to check the API and the outposts");
            const res = await api("/core/users/me/", signal);
            if (!res.ok)
                return fail(`GET /api/v3/core/users/me/ answered ${res.status}${res.status === 403 ? " (the token is wrong, expired or revoked)" : ""}`);
            const me = (await res.json()) as { user?: { username?: string } };
            return pass(`authenticated as ${me.user?.username ?? "?"}`);
        }),
    );

    checks.push(
        timed("default authentication flow executes", o.timeoutMs, async (signal) => {
            const res = await fetch(`${base}/api/v3/flows/executor/default-authentication-flow/?query=`, { signal, headers: { accept: "application/json" } });
            if (!res.ok) return fail(`the flow executor answered ${res.status}`);
            const stage = (await res.json()) as { component?: string };
            if (!stage.component || stage.component === "ak-stage-access-denied" || stage.component === "ak-stage-flow-error")
                return fail(`the flow answered ${stage.component ?? "no stage"}`);
            return pass(`first stage ${stage.component}`);
        }),
    );

    const authentikHost = new URL(base).host;
    const publicHost = o.outputs.authentik.host;
    for (const [slug, app] of Object.entries(o.outputs.apps)) {
        if (!FORWARD_MODES.has(app.mode)) continue;
        checks.push(
            timed(`${slug} sends anonymous visitors to authentik`, o.timeoutMs, async (signal) => {
                const res = await fetch(app.url, { signal, redirect: "manual" });
                const location = res.headers.get("location") ?? "";
                const toAuthentik =
                    location.includes(authentikHost) ||
                    (publicHost !== undefined && location.includes(publicHost)) ||
                    location.includes("/outpost.goauthentik.io/");
                if (res.status >= 300 && res.status < 400 && toAuthentik) return pass(`${app.url} → ${res.status} ${location.split("?")[0]}`);
                return fail(
                    `${app.url} answered ${res.status}${location ? ` → ${location}` : ""}: an anonymous visitor is not sent to authentik (is the forward-auth middleware on its ingress?)`,
                );
            }),
        );
    }

    const outposts = [...new Set(Object.values(o.outputs.apps).flatMap((a) => (a.outpost ? [a.outpost] : [])))];
    const radius = o.outputs.radius?.host.match(/^ak-outpost-([^.]+)\./)?.[1];
    if (radius) outposts.push(radius);
    for (const name of outposts) {
        checks.push(
            timed(`outpost ${name} healthy`, o.timeoutMs, async (signal) => {
                if (!o.token) return skip("set AUTHENTIK_TOKEN to check the outposts");
                const list = await api(`/outposts/instances/?name__iexact=${encodeURIComponent(name)}`, signal);
                if (!list.ok) return fail(`listing outposts answered ${list.status}`);
                const outpost = ((await list.json()) as { results: { pk: string; name: string }[] }).results.find((x) => x.name === name);
                if (!outpost) return fail(`authentik has no outpost named "${name}"`);
                const health = await api(`/outposts/instances/${outpost.pk}/health/`, signal);
                if (!health.ok) return fail(`its health answered ${health.status}`);
                const states = (await health.json()) as { last_seen: string; version: string; version_outdated: boolean }[];
                if (states.length === 0) return fail("no instance has ever connected (is its Deployment running?)");
                const fresh = o.outpostFreshMs ?? 5 * 60_000;
                const stale = states.filter((s) => Date.now() - Date.parse(s.last_seen) > fresh);
                if (stale.length) return fail(`${stale.length} of ${states.length} instances not seen for over ${fresh / 60_000} min`);
                const outdated = states.filter((s) => s.version_outdated);
                if (outdated.length) return fail(`${outdated.length} of ${states.length} instances run an outdated version (${outdated[0].version})`);
                return pass(`${states.length} instance(s), version ${states[0].version}`);
            }),
        );
    }

    const ns = o.outputs.namespace;
    const kubectlChecks: [string, string[], (o: Record<string, unknown>) => Omit<CheckOutcome, "name">][] = [
        [
            "PgBouncer ready",
            ["get", "deployment", "pgbouncer"],
            (d) => {
                const spec = d.spec as { replicas?: number };
                const status = d.status as { readyReplicas?: number };
                return (status.readyReplicas ?? 0) >= (spec.replicas ?? 1)
                    ? pass(`${status.readyReplicas}/${spec.replicas} ready`)
                    : fail(`${status.readyReplicas ?? 0}/${spec.replicas} ready`);
            },
        ],
        [
            `CNPG cluster ${o.outputs.database?.cluster} ready`,
            ["get", "clusters.postgresql.cnpg.io", o.outputs.database?.cluster ?? ""],
            (c) => {
                const spec = c.spec as { instances?: number };
                const status = c.status as { readyInstances?: number; phase?: string };
                const healthy = status.phase === "Cluster in healthy state" && (status.readyInstances ?? 0) >= (spec.instances ?? 1);
                return healthy
                    ? pass(`${status.readyInstances}/${spec.instances} instances, ${status.phase}`)
                    : fail(`${status.readyInstances ?? 0}/${spec.instances} instances, ${status.phase ?? "no phase"}`);
            },
        ],
    ];
    const noKubectl = "no kubectl (pass --kubectl, or put it on PATH) or no namespace in the outputs";
    const kubectl = async (args: string[]) =>
        JSON.parse(
            await run(o.kubectl!, [...args, "--namespace", ns!, ...(o.context ? ["--context", o.context] : []), "--output", "json"], o.timeoutMs),
        ) as unknown;
    for (const [name, args, judge] of kubectlChecks) {
        checks.push(
            timed(name, o.timeoutMs, async () => {
                if (!o.kubectl || !ns) return skip(noKubectl);
                return judge((await kubectl(args)) as Record<string, unknown>);
            }),
        );
    }
    checks.push(
        timed("ExternalSecrets synced", o.timeoutMs, async () => {
            if (!o.kubectl || !ns) return skip(noKubectl);
            let list: { items: ExternalSecretStatus[] };
            try {
                list = (await kubectl([
                    "get",
                    "externalsecrets.external-secrets.io",
                    "--selector",
                    "app.kubernetes.io/part-of=authentik-platform",
                ])) as typeof list;
            } catch (e) {
                if (/doesn't have a resource type/.test(causeOf(e)))
                    return skip("External Secrets is not installed (onepassword.mode is not external-secrets)");
                throw e;
            }
            const warnings = list.items.some((i) => readyOf(i)?.status !== "True")
                ? ((await kubectl(["get", "events", "--field-selector", "involvedObject.kind=ExternalSecret,type=Warning"])) as { items: WarningEvent[] }).items
                : [];
            return externalSecretsOutcome(list.items, warnings);
        }),
    );
    return Promise.all(checks);
}

/** An ExternalSecret as kubectl prints it: its name and status conditions. */
export interface ExternalSecretStatus {
    metadata: { name: string };
    status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** A core/v1 Event as kubectl prints it. */
export interface WarningEvent {
    involvedObject: { name: string };
    message?: string;
    lastTimestamp?: string | null;
    eventTime?: string | null;
    metadata?: { creationTimestamp?: string };
}

const readyOf = (e: ExternalSecretStatus) => e.status?.conditions?.find((c) => c.type === "Ready");

/**
 * Whether the stack's ExternalSecrets are synced. External Secrets' Ready condition says only that
 * the provider failed ("could not get secret data from provider"); the Warning event it records
 * beside it says what (the missing 1Password item): a failure names both.
 */
export function externalSecretsOutcome(items: ExternalSecretStatus[], warnings: WarningEvent[]): Omit<CheckOutcome, "name"> {
    if (items.length === 0) return skip("the stack manages no ExternalSecret (onepassword.mode is not external-secrets)");
    const when = (w: WarningEvent) => Date.parse(w.lastTimestamp ?? w.eventTime ?? w.metadata?.creationTimestamp ?? "") || 0;
    const problems = items
        .filter((i) => readyOf(i)?.status !== "True")
        .map((i) => {
            const ready = readyOf(i);
            const latest = warnings.filter((w) => w.involvedObject.name === i.metadata.name).sort((a, b) => when(b) - when(a))[0];
            const why = ready
                ? `${ready.reason ?? "not Ready"}: ${ready.message ?? ""}`.replace(/: $/, "")
                : "not reconciled yet (is the External Secrets controller running?)";
            return `${i.metadata.name} ${why}${latest?.message ? ` (last warning: ${latest.message})` : ""}`;
        });
    if (problems.length) return fail(`${problems.length} of ${items.length} not Ready: ${problems.join("; ")}`);
    return pass(
        `${items.length} Ready: ${items
            .map((i) => i.metadata.name)
            .sort()
            .join(", ")}`,
    );
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) =>
        execFile(command, args, { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) =>
            error
                ? reject(new Error(`${path.basename(command)} ${args.slice(0, 3).join(" ")}: ${kubectlReason(stderr) ?? error.message.split("\n")[0]}`))
                : resolve(stdout),
        ),
    );
}

/**
 * What a failed kubectl said, in one line: its `error:` line (kubectl prints usage, warnings and
 * klog lines around it), else its last line, cut at 300 characters.
 */
export function kubectlReason(stderr: string): string | undefined {
    const lines = stderr
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    const line = lines.find((l) => /^(error|Error from server)\b/.test(l)) ?? lines[lines.length - 1];
    return line === undefined ? undefined : line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

export function renderOutcomes(outcomes: CheckOutcome[]): string {
    return outcomes.map((c) => `${c.status.padEnd(4)}  ${c.name}: ${c.detail}`).join("\n");
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

export const USAGE = `usage: npm run verify -- --outputs FILE [--url URL] [--timeout SECONDS] [--kubectl PATH] [--context NAME] [--config FILE]

  --outputs FILE     the stack outputs: pulumi stack output --json --show-secrets > FILE
  --url URL          where to reach authentik (default: the outputs' authentik.url)
  --timeout SECONDS  per check (default 10)
  --kubectl PATH     kubectl for the PgBouncer, CNPG and ExternalSecret checks (default: kubectl on PATH, else skipped)
  --context NAME     the kubeconfig context kubectl uses (default: the stack file's kubernetes:context)
  --config FILE      the stack file that names it (default: Pulumi.<PULUMI_STACK or homelab>.yaml)
  AUTHENTIK_TOKEN    an API token, for the API and outpost checks (skipped without it)

exit 0 when every check passes (skips allowed), 1 when one fails, 2 on a usage error`;

export function parseArgs(
    argv: string[],
    env: NodeJS.ProcessEnv = process.env,
): { outputsFile: string; url?: string; timeoutMs: number; kubectl?: string; context?: string; help: boolean } {
    const flags: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--help" || argv[i] === "-h") return { outputsFile: "", timeoutMs: 0, help: true };
        const flag = argv[i];
        const value = argv[i + 1];
        if (!["--outputs", "--url", "--timeout", "--kubectl", "--context", "--config"].includes(flag) || value === undefined)
            throw new Error(`unknown or incomplete option ${flag}\n${USAGE}`);
        flags[flag.slice(2)] = value;
        i++;
    }
    if (!flags.outputs) throw new Error(`--outputs is required\n${USAGE}`);
    const timeout = Number(flags.timeout ?? 10);
    if (!(timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, not ${flags.timeout}\n${USAGE}`);
    // npm runs scripts from the package root and says where the user typed the command in INIT_CWD.
    const stackFile = path.resolve(env.INIT_CWD ?? process.cwd(), flags.config ?? `Pulumi.${env.PULUMI_STACK ?? "homelab"}.yaml`);
    const context = flags.context ?? stackContext(stackFile, flags.config !== undefined);
    return {
        outputsFile: flags.outputs,
        url: flags.url,
        timeoutMs: timeout * 1000,
        kubectl: flags.kubectl ?? findOnPath("kubectl", env),
        context,
        help: false,
    };
}

/** The `kubernetes:context` a stack file names; a stack file named explicitly must exist and name one. */
function stackContext(file: string, named: boolean): string | undefined {
    if (!fs.existsSync(file)) {
        if (named) throw new Error(`--config ${file}: no such stack file\n${USAGE}`);
        return undefined;
    }
    const context = (YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)?.config?.["kubernetes:context"];
    if (typeof context !== "string" && named) throw new Error(`${file} names no kubernetes:context: pass --context\n${USAGE}`);
    return typeof context === "string" ? context : undefined;
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
    for (const dir of (env.PATH ?? "").split(path.delimiter)) {
        const candidate = path.join(dir, name);
        if (dir && fs.existsSync(candidate)) return candidate;
    }
    return undefined;
}

async function main(): Promise<number> {
    let args: ReturnType<typeof parseArgs>;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        console.error((e as Error).message);
        return 2;
    }
    if (args.help) {
        console.log(USAGE);
        return 0;
    }
    let outputs: VerifyOptions["outputs"];
    try {
        outputs = JSON.parse(fs.readFileSync(args.outputsFile, "utf8")) as VerifyOptions["outputs"];
        if (!outputs.authentik?.url || !outputs.apps) throw new Error("it has no authentik.url or apps: is it this stack's outputs?");
    } catch (e) {
        console.error(`cannot read the stack outputs from ${args.outputsFile}: ${(e as Error).message}\n${USAGE}`);
        return 2;
    }
    const outcomes = await verify({
        outputs,
        url: args.url,
        token: process.env.AUTHENTIK_TOKEN,
        timeoutMs: args.timeoutMs,
        kubectl: args.kubectl,
        context: args.context,
    });
    console.log(renderOutcomes(outcomes));
    const failed = outcomes.filter((c) => c.status === "FAIL").length;
    console.log(failed ? `\n${failed} check(s) FAILED` : "\nverified");
    return failed ? 1 : 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e) => {
            console.error(e instanceof Error ? e.message : e);
            process.exit(1);
        },
    );
}
