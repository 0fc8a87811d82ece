/**
 * Checks over a plan (pure, except the schema check which loads the ESM schema packages). The plan
 * CLI prints them; the tests assert them. Each returns findings; none means the check passed.
 */
import type { Plan, PlanResource } from "./harness";
import { SECRET_PLACEHOLDER_PREFIX } from "./harness";
import { parseQuantity } from "../lib/units";
import { RULES, statefulOf } from "../policy/rules";

export interface CheckResult {
    name: string;
    /** "fail" stops the plan (exit 1); "warn" is printed loudly but does not. */
    severity: "fail" | "warn";
    findings: string[];
    /** What passing means, printed when there are no findings. */
    passed: string;
}

const CNPG_CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";

/** No mocked secret value appears anywhere in the plan's inputs or outputs. */
export function checkNoPlaintextSecrets(plan: Plan): CheckResult {
    const findings: string[] = [];
    for (const r of plan.resources) {
        if (JSON.stringify(r.inputs).includes(SECRET_PLACEHOLDER_PREFIX)) findings.push(`${r.type} ${r.name}: a secret value is in its inputs in plain text`);
    }
    if (JSON.stringify(plan.outputs).includes(SECRET_PLACEHOLDER_PREFIX)) findings.push("stack outputs: a secret value is exported in plain text");
    return { name: "no plaintext secrets", severity: "fail", findings, passed: "every secret value is marked secret in inputs and outputs" };
}

/** Stateful resources: the database, its credentials, generated credentials, volumes and the namespace (policy/rules.ts statefulOf). */
export function statefulResources(plan: Plan): PlanResource[] {
    return statefulOf(plan.resources.map((r) => ({ ...r, props: r.inputs }))).map(({ props: _props, ...r }) => r);
}

/** Every stateful resource is protected and retained on delete. */
export function checkStatefulProtected(plan: Plan): CheckResult {
    const findings = statefulResources(plan)
        .filter((r) => !r.protect || !r.retainOnDelete)
        .map((r) => `${r.type} ${r.name}: protect=${r.protect} retainOnDelete=${r.retainOnDelete}`);
    return {
        name: "stateful resources protected",
        severity: "fail",
        findings,
        passed: `${statefulResources(plan).length} stateful resources are protect + retainOnDelete`,
    };
}

/**
 * Against a previous plan (`--baseline`): a stateful resource that disappears, changes its URN or
 * its Kubernetes identity would be deleted or replaced. So would a data volume that shrinks.
 */
export function checkBaseline(previous: Plan, current: Plan): CheckResult {
    const name = "no stateful replacement against the baseline";
    const passed = "no stateful resource is deleted, replaced or shrunk";
    if (previous.project !== current.project || previous.stack !== current.stack) {
        const finding = `the baseline is a plan of ${previous.project}/${previous.stack}, not ${current.project}/${current.stack}`;
        return { name, severity: "fail", findings: [finding], passed };
    }
    const findings: string[] = [];
    // A resource that aliases an earlier URN is that resource, moved.
    const now = new Map(current.resources.flatMap((r) => [[r.urn, r] as const, ...(r.aliases ?? []).map((a) => [a, r] as const)]));
    findings.push(...providerNameCollisions(previous, current, now));
    for (const before of statefulResources(previous)) {
        const after = now.get(before.urn);
        if (!after) {
            findings.push(`${before.type} ${before.name} would be DELETED (it is gone from the graph; restore its config or move it with an alias)`);
            continue;
        }
        if (nameOf(before) !== nameOf(after) || nsOf(before) !== nsOf(after)) {
            findings.push(
                `${before.type} ${before.name} would be REPLACED: ${nsOf(before)}/${nameOf(before)} → ${nsOf(after)}/${nameOf(after)} (a new name is a new, empty object; keep the old name)`,
            );
        }
        if (before.type === "random:index/randomPassword:RandomPassword" && JSON.stringify(before.inputs) !== JSON.stringify(after.inputs)) {
            findings.push(`${before.type} ${before.name} would be REGENERATED (its settings changed); keep length/special as they were`);
        }
        if (before.type === CNPG_CLUSTER) {
            const was = (before.inputs as ClusterInputs).spec?.storage?.size;
            const is = (after.inputs as ClusterInputs).spec?.storage?.size;
            if (was && is && parseQuantity(is)! < parseQuantity(was)!) {
                findings.push(`${before.name}: storage ${was} → ${is}: volumes cannot shrink; keep ${was} or larger`);
            }
        }
    }
    return { name, severity: "fail", findings, passed };
}

const PROVIDER_KINDS = ["ProxyProvider", "OAuth2Provider", "RadiusProvider", "LdapProvider"].map((k) => `pulumi-nodejs:dynamic/authentik:${k}`);

/**
 * An app whose slug changed without `renamedFrom`: its provider gets a new resource, created before
 * the old one is deleted, and authentik refuses the second provider of the same name (names are
 * unique across provider kinds). Caught here, before any deploy, with the way out.
 */
function providerNameCollisions(previous: Plan, current: Plan, now: Map<string, PlanResource>): string[] {
    const providerName = (r: PlanResource) => (r.inputs.spec as { name?: string } | undefined)?.name;
    const slugOf = (r: PlanResource) => /^app-(.+)-provider$/.exec(r.name)?.[1];
    const findings: string[] = [];
    for (const before of previous.resources.filter((r) => PROVIDER_KINDS.includes(r.type))) {
        if (now.has(before.urn)) continue;
        const after = current.resources.find((r) => PROVIDER_KINDS.includes(r.type) && providerName(r) === providerName(before));
        if (!after) continue;
        const [was, is] = [slugOf(before), slugOf(after)];
        const fix =
            was && is
                ? `add renamedFrom: [${was}] to the app ${is}, so its objects are updated in place`
                : "keep the old resource name, or rename the provider too";
        findings.push(
            `provider "${providerName(before)}" would be created again as ${after.name} while ${before.name} still holds its name: authentik refuses a second provider of that name; ${fix}`,
        );
    }
    return findings;
}

/** The homelab policy pack (policy/rules.ts), the same rules `pulumi preview --policy-pack policy` runs. */
export function checkPolicies(plan: Plan): CheckResult {
    const resources = plan.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs, protect: r.protect }));
    const findings = RULES.flatMap((rule) => rule.check(resources).map((v) => `${rule.name}: ${v.message}`));
    return { name: "homelab policy pack", severity: "fail", findings, passed: `${RULES.length} rules hold (${RULES.map((r) => r.name).join(", ")})` };
}

/** A ScheduledBackup exists for every CNPG cluster; otherwise the plan says loudly there is none. */
export function checkBackups(plan: Plan): CheckResult {
    const backedUp = new Set(
        plan.resources
            .filter((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup")
            .map((r) => `${nsOf(r)}/${(r.inputs as { spec?: { cluster?: { name?: string } } }).spec?.cluster?.name}`),
    );
    const findings = plan.resources
        .filter((r) => r.type === CNPG_CLUSTER && !backedUp.has(`${nsOf(r)}/${nameOf(r)}`))
        .map((r) => `NO BACKUP: database ${nsOf(r)}/${nameOf(r)} has no ScheduledBackup (set database.backup)`);
    // Backups hold signing keys and password hashes: say when they travel or rest unprotected.
    for (const r of plan.resources.filter((x) => x.type === CNPG_CLUSTER)) {
        const store = (r.inputs as { spec?: { backup?: { barmanObjectStore?: { endpointURL?: string; data?: { encryption?: string } } } } }).spec?.backup
            ?.barmanObjectStore;
        if (!store) continue;
        if (store.endpointURL?.startsWith("http://"))
            findings.push(
                `${nsOf(r)}/${nameOf(r)}: backups go to ${store.endpointURL} in PLAIN HTTP (use https://, with database.backup.objectStore.endpointCA for a private CA)`,
            );
        if (!store.data?.encryption)
            findings.push(`${nsOf(r)}/${nameOf(r)}: backups are NOT ENCRYPTED by the program (database.backup.objectStore.encryption)`);
    }
    return { name: "database backups", severity: "warn", findings, passed: "every database has a ScheduledBackup over HTTPS, encrypted" };
}

type ClusterInputs = {
    spec?: { bootstrap?: { initdb?: { secret?: { name?: string } } }; storage?: { size?: string } };
};

function metadataOf(r: PlanResource): { name?: string; namespace?: string } {
    return (r.inputs.metadata as { name?: string; namespace?: string }) ?? {};
}
function nameOf(r: PlanResource): string | undefined {
    return metadataOf(r).name;
}
function nsOf(r: PlanResource): string | undefined {
    return metadataOf(r).namespace;
}
