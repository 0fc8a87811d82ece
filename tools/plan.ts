/**
 * The offline plan: evaluates the whole program for a stack file with Pulumi's mocks, no cluster.
 *
 *   npm run plan                                  # Pulumi.homelab.yaml
 *   npm run plan -- --config Pulumi.other.yaml    # any stack file
 *   npm run plan -- --json plan.json              # also write the plan contract (docs/plan-format.md)
 *   npm run plan -- --baseline old-plan.json      # fail if a stateful resource would be replaced
 *
 * Exit codes: 0 plan ok (warnings allowed), 1 invalid config or a failed check, 2 usage error.
 */
import "./compile-cache"; // first: every module after it is compiled from the cache
import * as fs from "node:fs";
import * as path from "node:path";
import YAML, { YAMLParseError } from "yaml";
import { TakeoverReport, readTerraformState, renderTakeover, takeoverReport } from "./takeover";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/schema";
import { StackConfig, parseStackConfig, usesApi } from "../config";
import { accessSummary, consumerSummary } from "../components/authentik-access/model";
import { Plan, PlanResource, SECRET_PLACEHOLDER_PREFIX, runProgram } from "./harness";
import { readStackFile } from "./stackfile";
import { CheckResult, checkBackups, checkBaseline, checkNoPlaintextSecrets, checkPolicies, checkStatefulProtected } from "./checks";
import { checkKubernetesSchemas } from "./schemas";
import { describeCapacity } from "../config/capacity";
import { backupSummary } from "../components/database/manifests";
import { CHART_REPO } from "../components/authentik/values";
import { httpsOnlyBy } from "../config";
import { referenceFiles } from "./reference";
import { outpostsApart } from "../components/authentik/outposts";
import { deployLimit } from "../components/deploy-waits";

export interface PlanOutcome {
    config: StackConfig;
    plan: Plan;
    checks: CheckResult[];
    ok: boolean;
}

/** Plans a stack file. Throws ConfigError (before any resource exists) when the config is invalid. */
export async function planStack(stackFile: string, baseline?: Plan): Promise<PlanOutcome> {
    const stack = readStackFile(stackFile);
    const config = parseStackConfig(stack.config, stack.secretKeys, process.env);
    const plan = await runProgram({ ...stack, invoke: (token, inputs) => mockInvoke(config, token, inputs) });
    const checks = [
        checkNoPlaintextSecrets(plan),
        checkStatefulProtected(plan),
        await checkKubernetesSchemas(plan),
        checkBackups(plan),
        checkPolicies(plan),
        ...(baseline ? [checkBaseline(baseline, plan)] : []),
    ];
    return { config, plan, checks, ok: checks.every((c) => c.severity !== "fail" || c.findings.length === 0) };
}

/** Provider functions under mocks: 1Password items answer with placeholder secrets for the fields asked of them. */
function mockInvoke(config: StackConfig, token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (token !== "onepassword:index/getItem:getItem") throw new Error(`the offline plan has no answer for ${token}`);
    const labels = Object.values(config.credentials)
        .filter((c) => c?.kind === "onepassword" && c.item === inputs.title)
        .map((c) => (c as { field: string }).field);
    return {
        ...inputs,
        id: `plan-${inputs.title}`,
        sections: [
            {
                id: "plan",
                label: "plan",
                fields: labels.map((label) => ({ id: label, label, value: `${SECRET_PLACEHOLDER_PREFIX}op-${inputs.title}-${label}` })),
            },
        ],
    };
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const get = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);

/** The few settings that matter for each kind, for the tree. */
export function summarize(r: PlanResource): string {
    const i = r.inputs;
    const kind = r.type.split(":").pop();
    const parts: string[] = [];
    if (r.type.startsWith("pulumi-nodejs:dynamic/authentik:")) return summarizeAuthentikObject(i, r.aliases);
    const name = get(i, "metadata", "name");
    const ns = get(i, "metadata", "namespace");
    if (name) parts.push(ns ? `${ns}/${name}` : String(name));
    switch (kind) {
        case "Cluster": {
            const p = get(i, "spec", "postgresql", "parameters") as Obj;
            parts.push(
                `instances=${get(i, "spec", "instances")}`,
                `image=${get(i, "spec", "imageName")}`,
                `storage=${get(i, "spec", "storage", "size")}`,
                `memory=${get(i, "spec", "resources", "limits", "memory")}`,
                `max_connections=${p?.max_connections}`,
                `shared_buffers=${p?.shared_buffers}`,
                `backup=${get(i, "spec", "backup") ? "yes" : "NONE"}`,
            );
            break;
        }
        case "Deployment": {
            const containers = (get(i, "spec", "template", "spec", "containers") as Obj[]) ?? [];
            parts.push(`replicas=${get(i, "spec", "replicas")}`, ...containers.map((c) => `${c.name}=${c.image}`));
            break;
        }
        case "PodDisruptionBudget":
            parts.push(
                get(i, "spec", "minAvailable") !== undefined
                    ? `minAvailable=${get(i, "spec", "minAvailable")}`
                    : `maxUnavailable=${get(i, "spec", "maxUnavailable")}`,
            );
            break;
        case "Secret":
            parts.push(`type=${i.type ?? "Opaque"}`, "values secret");
            break;
        case "ExternalSecret":
            parts.push(
                `store=${get(i, "spec", "secretStoreRef", "name")}`,
                `from=${((get(i, "spec", "data") as Obj[]) ?? []).map((d) => `${get(d, "remoteRef", "key")}/${get(d, "remoteRef", "property")}`).join(",")}`,
            );
            break;
        case "ConfigMap":
            parts.push(`keys=${Object.keys((i.data as Obj) ?? {}).join(",")}`);
            break;
        case "Service":
            parts.push(`ports=${((get(i, "spec", "ports") as Obj[]) ?? []).map((p) => p.port).join(",")}`);
            break;
        case "Release":
            parts.push(`chart=${i.chart}@${i.version}`, `namespace=${i.namespace}`);
            break;
        case "RandomPassword":
            parts.push(`length=${i.length}`);
            break;
        case "ScheduledBackup":
            parts.push(`schedule="${get(i, "spec", "schedule")}"`, `method=${get(i, "spec", "method")}`);
            break;
    }
    return parts.join(" ");
}

/** authentik objects: their natural key and the settings that matter. */
function summarizeAuthentikObject(i: Obj, aliases: string[] = []): string {
    // The automation token: whose, and when it rotates (its key is never in the plan).
    if (i.account !== undefined)
        return `API token of ${i.account}, expiring; rotated after ${Math.round(Number(i.rotateAfter) * 100)}% of its lifetime${i.user === "" ? ", by itself (no admin credential)" : ""}`;
    const spec = i.spec === "[secret]" ? {} : ((i.spec as Obj) ?? {});
    if (spec.username !== undefined) return `service account ${spec.username}`;
    if (Array.isArray(spec.permissions)) return `role ${spec.name}: ${spec.permissions.length} global permissions (${spec.permissions.join(", ")})`;
    const key =
        spec.outpostName !== undefined
            ? `provider ${spec.provider} on ${spec.outpostName} (only this provider is attached or detached)`
            : `${spec.target} ← ${spec.group}`;
    const parts = [String(spec.name ?? spec.slug ?? key)];
    for (const k of ["mode", "slug", "externalHost", "cookieDomain", "clientId", "clientNetworks", "type", "serviceConnection"]) {
        if (spec[k] !== undefined && spec[k] !== spec.name) parts.push(`${k}=${spec[k]}`);
    }
    if (Array.isArray(spec.initialProviders)) parts.push(`created with ${spec.initialProviders.length} provider(s)`);
    if (i.adopt) parts.push("adopt");
    if (aliases.length) parts.push(`renamed from ${aliases.map((a) => a.split("::").pop()).join(", ")}`);
    return parts.join(" ");
}

export function renderTree(plan: Plan): string {
    const byParent = new Map<string | null, PlanResource[]>();
    for (const r of plan.resources) byParent.set(r.parent, [...(byParent.get(r.parent) ?? []), r]);
    const names = new Map(plan.resources.map((r) => [r.urn, r.name]));
    const lines: string[] = [];
    // The namespace first: everything else lives in it.
    const first = (r: PlanResource) => (r.type === "kubernetes:core/v1:Namespace" ? 0 : 1);
    const walk = (parent: string | null, depth: number) => {
        for (const r of [...(byParent.get(parent) ?? [])].sort((a, b) => first(a) - first(b))) {
            const flags = [r.protect ? "protected" : "", r.retainOnDelete ? "retained" : "", r.import ? `will import ${r.import}` : ""].filter(Boolean);
            const deps = [...new Set(r.dependsOn.filter((d) => d !== r.parent).map((d) => names.get(d) ?? d))];
            lines.push(
                `${"  ".repeat(depth)}${r.type} ${r.name}${flags.length ? ` [${flags.join(", ")}]` : ""}` +
                    (summarize(r) ? `\n${"  ".repeat(depth + 2)}${summarize(r)}` : "") +
                    (deps.length ? `\n${"  ".repeat(depth + 2)}after: ${deps.join(", ")}` : ""),
            );
            walk(r.urn, depth + 1);
        }
    };
    walk(null, 0);
    return lines.join("\n");
}

/** The security posture the plan deploys, in a few lines a reviewer reads before approving. */
export function securitySummary(c: StackConfig, plan: Plan): string[] {
    const policies = plan.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.name);
    const tls = Boolean(c.authentik.ingress.enabled && (c.authentik.ingress.tlsSecret || c.authentik.ingress.clusterIssuer));
    const httpsOnly = httpsOnlyBy(c);
    return [
        accessSummary({
            ...c.api,
            ...c.api.automation,
            superuserGroups: c.groups.filter((g) => g.superuser).map((g) => g.name),
            bootstrapCredentials: c.authentik.bootstrapCredentials,
            managesObjects: usesApi(c),
        }),
        ...[consumerSummary(c.consumers.map((consumer) => consumer.name))].filter((line): line is string => line !== undefined),
        `Pod Security: ${outpostsApart(c) ? `namespaces ${c.namespace} and ${c.outposts.namespace}` : `namespace ${c.namespace}`} ${c.createNamespace ? `enforce ${c.podSecurity}` : "are not created here: their level is yours to set"}; authentik, PgBouncer and managed outposts meet restricted; the server mounts no API token`,
        `Outposts: ${outpostsApart(c) ? `managed outposts run in ${c.outposts.namespace}, the only namespace where the worker may write Secrets and Deployments` : `managed outposts share ${c.namespace}: the worker may read and write every Secret there (outposts.namespace apart narrows it)`}`,
        `NetworkPolicies: ${policies.length ? `${policies.length} (${policies.join(", ")}); metrics only from ${c.networkPolicies.monitoringNamespace}` : "none (networkPolicies.enabled: false)"}`,
        `TLS: users → authentik ${tls ? (httpsOnly ? `HTTPS only (${httpsOnly})` : "HTTPS; this Ingress does not refuse plain HTTP") : "NOT TLS (no certificate configured)"}; PgBouncer → PostgreSQL ${c.pgbouncer.serverTls === "verify-full" ? "verify-full against CNPG's CA" : "encrypted, certificate NOT verified"}; PostgreSQL refuses non-TLS clients; authentik → PgBouncer plaintext inside the namespace (PgBouncer holds no certificate for its name; README: Least privilege)`,
        `Backups: ${backupSummary(c.database).text}`,
        `Images: authentik ${c.authentik.imageDigest ? `by digest ${c.authentik.imageDigest.slice(0, 19)}…` : `by tag (${c.authentik.imageTag ?? `the chart's appVersion, chart ${c.authentik.chartVersion}`}); set authentik.imageDigest to pin the exact image`}`,
        `Chart: authentik ${c.authentik.chartVersion} ${chartTested(c.authentik.chartVersion)}`,
    ];
}

/** What the tests know of chart `version`: the digest of the values and templates they render, if any. */
function chartTested(version: string): string {
    const tested = referenceFiles().find((r) => r.helm?.version === version);
    if (!tested)
        return "has no recorded digest: this program was not tested with it (every up checks the package against authentik.chartDigest before Helm installs it)";
    return `values and templates sha256:${tested.sha256} (what the tests render; every up checks the package ${CHART_REPO} serves against it before Helm installs it)`;
}

export function renderChecks(checks: CheckResult[]): string {
    return checks
        .map((c) => {
            if (c.findings.length === 0) return `  ok    ${c.name}: ${c.passed}`;
            const tag = c.severity === "fail" ? "FAIL" : "WARN";
            return c.findings.map((f) => `  ${tag}  ${c.name}: ${f}`).join("\n");
        })
        .join("\n");
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

interface CliArgs {
    config: string;
    json?: string;
    baseline?: string;
    "from-terraform"?: string;
    "takeover-config"?: string;
    help?: boolean;
}

export const USAGE = `usage: npm run plan -- [options]

Plans a stack offline (the real program under Pulumi's mocks): prints the resource tree, the
capacity model, the stack outputs and the checks; exits 1 on an invalid config or a failed check.

  --config FILE     the stack file (default Pulumi.homelab.yaml); Pulumi.yaml is read beside it,
                    else the project's
  --json FILE       also write the plan as JSON (the contract in docs/plan-format.md)
  --baseline FILE   a previous --json plan: fail if a stateful resource would be replaced, deleted
                    or shrunk, or an app's provider would collide after a rename
  --from-terraform FILE
                    the Terraform stack's state (terraform state pull > FILE): what this program
                    takes over (import / adopt), changes, leaves alone and creates; secrets never
                    printed; added to --json as "takeover"
  --takeover-config FILE
                    with --from-terraform: write the stack-config fragment (import entries, adopt
                    flags) that makes the first up a takeover, to review and paste
  -h, --help        this text

Relative paths are relative to the directory you ran the command in.
exit codes: 0 ok (warnings allowed), 1 invalid config or a failed check, 2 usage error`;

export class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
    const args: CliArgs = { config: "Pulumi.homelab.yaml" };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === "-h" || flag === "--help") return { ...args, help: true };
        const value = argv[i + 1];
        if (!["--config", "--json", "--baseline", "--from-terraform", "--takeover-config"].includes(flag)) throw new UsageError(`unknown option ${flag}`);
        if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a file`);
        args[flag.slice(2) as "config" | "json" | "baseline" | "from-terraform" | "takeover-config"] = value;
        i++;
    }
    if (args["takeover-config"] && !args["from-terraform"]) throw new UsageError("--takeover-config needs --from-terraform");
    return args;
}

/** Where the user typed the command: npm runs scripts from the package root and says where in INIT_CWD. */
function fromUser(file: string): string {
    return path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

function readBaseline(file: string): Plan {
    if (!fs.existsSync(file)) throw new UsageError(`--baseline ${file}: no such file (write one with npm run plan -- --json FILE)`);
    let parsed: unknown;
    try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new UsageError(`--baseline ${file}: not JSON (${(e as Error).message}); it must be a plan written with --json`);
    }
    const plan = parsed as Partial<Plan>;
    if (!Array.isArray(plan.resources) || typeof plan.project !== "string")
        throw new UsageError(`--baseline ${file}: not a plan written with --json (no project or resources)`);
    return plan as Plan;
}

async function main(): Promise<number> {
    let args: CliArgs;
    let baseline: Plan | undefined;
    let terraform: ReturnType<typeof readTerraformState> | undefined;
    let stackFile: string;
    try {
        args = parseArgs(process.argv.slice(2));
        if (args.help) {
            console.log(USAGE);
            return 0;
        }
        stackFile = fromUser(args.config);
        if (!fs.existsSync(stackFile)) throw new UsageError(`no such stack file: ${stackFile}`);
        baseline = args.baseline ? readBaseline(fromUser(args.baseline)) : undefined;
        if (args["from-terraform"]) {
            const file = fromUser(args["from-terraform"]);
            if (!fs.existsSync(file)) throw new UsageError(`--from-terraform ${file}: no such file (terraform state pull > ${path.basename(file)})`);
            try {
                terraform = readTerraformState(fs.readFileSync(file, "utf8"));
            } catch (e) {
                throw new UsageError(`--from-terraform ${file}: ${(e as Error).message}`);
            }
        }
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        console.error(`${e.message}\n\n${USAGE}`);
        return 2;
    }
    let outcome: PlanOutcome;
    try {
        outcome = await planStack(stackFile, baseline);
    } catch (e) {
        const message = userError(e, stackFile);
        if (message) {
            console.error(message);
            return 1;
        }
        throw e;
    }
    const { plan, checks, ok } = outcome;
    console.log(`Plan for stack ${plan.project}/${plan.stack} (${plan.resources.length} resources, offline, Pulumi mocks)\n`);
    console.log(renderTree(plan));
    console.log(
        `\nCapacity (session pooling budget, memory):\n${describeCapacity(outcome.config)
            .map((l) => `  ${l}`)
            .join("\n")}`,
    );
    console.log(`\nStack outputs:\n${JSON.stringify(plan.outputs, null, 2)}`);
    console.log(
        `\nSecurity:\n${securitySummary(outcome.config, plan)
            .map((l) => `  ${l}`)
            .join("\n")}`,
    );
    const deploy = deployLimit(outcome.config);
    console.log(
        `\nDeploy (the longest an up may wait; the workflow's deploy job gets this limit from the plan):\n${deploy.waits.map((w) => `  ${w.minutes} min  ${w.stage}`).join("\n")}\n  ${deploy.timeoutMinutes} min in all`,
    );
    console.log(`\nChecks:\n${renderChecks(checks)}`);
    let takeover: TakeoverReport | undefined;
    if (terraform) {
        takeover = takeoverReport(terraform, plan, outcome.config, readStackFile(stackFile).rawConfig);
        console.log(`\n${renderTakeover(takeover, plan)}`);
        if (args["takeover-config"]) {
            const file = fromUser(args["takeover-config"]);
            fs.writeFileSync(
                file,
                `# From npm run plan -- --from-terraform: review, then put these keys in ${path.basename(stackFile)}.\n${YAML.stringify({ config: takeover.configFragment })}`,
            );
            console.log(`\nwrote the takeover config fragment to ${file}`);
        }
    }
    if (args.json) {
        const file = fromUser(args.json);
        fs.writeFileSync(file, `${JSON.stringify({ ...plan, deploy, ...(takeover ? { takeover } : {}) }, null, 2)}\n`);
        console.log(`\nwrote ${file}`);
    }
    console.log(ok ? "\nplan ok" : "\nplan FAILED");
    return ok ? 0 : 1;
}

/**
 * A YAML syntax error as the user fixes it: where (file:line:col), what, and the offending line with
 * a caret under the column. The value of a key that names a credential is not shown.
 */
export function yamlError(e: YAMLParseError, stackFile: string, text: string): string {
    const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
    const source = line > 0 ? text.split("\n")[line - 1] : undefined;
    const where = `${stackFile}:${line}:${col}: not valid YAML: ${e.message.split("\n")[0]}`;
    if (source === undefined) return where;
    const shown = source.replace(/^(\s*(?:-\s*)?\S*?(?:password|secret|token|key)\s*:).*$/i, "$1 [not shown]");
    const gutter = `  ${line} | `;
    return `${where}\n${gutter}${shown}\n${" ".repeat(gutter.length - 2)}| ${" ".repeat(Math.max(col - 1, 0))}^`;
}

/** The message for an error the user can fix (no stack trace), or undefined for a bug. */
export function userError(e: unknown, stackFile: string): string | undefined {
    if (e instanceof ConfigError) return `${path.basename(stackFile)}: ${e.message}`;
    if (e instanceof YAMLParseError) return yamlError(e, stackFile, fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : "");
    // The program's own refusals (a stale build, an import that matches nothing) are RunErrors.
    if (pulumi.RunError.isInstance(e)) return (e as Error).message;
    return undefined;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e) => {
            console.error(e instanceof Error ? (e.stack ?? e.message) : e);
            process.exit(1);
        },
    );
}
