/**
 * `npm run conformance -- PLAN.json`: checks an offline plan (`npm run plan -- --json PLAN.json`)
 * against upstream files from REFERENCE_DIR (tools/reference.ts): every CloudNativePG object
 * against its CRD schema, every authentik Helm value against the pinned chart's values, and every
 * `authentik.*` key and `AUTHENTIK_*` variable against authentik's configuration keys (removed
 * keys such as Redis get their own message). Exit 0 when every check passes; each finding is a
 * line `FAIL <resource>: <what>`.
 */
import * as fs from "node:fs";
import Ajv from "ajv";
import YAML from "yaml";
import { chartFile, readReference } from "./reference";

type Tree = Record<string, unknown>;
const isMap = (v: unknown): v is Tree => v !== null && typeof v === "object" && !Array.isArray(v);

interface PlannedResource {
    type?: string;
    name?: string;
    inputs?: Tree;
}

/** The upstream data the checks read. */
export interface References {
    /** CRD documents by CNPG kind. */
    cnpgCrds: Record<string, Tree>;
    /** The chart's values.yaml. */
    chartValues: Tree;
    /** authentik's default.yml. */
    configDefaults: Tree;
}

const CNPG_CRDS: Record<string, string> = {
    Cluster: "cnpg/postgresql.cnpg.io_clusters.yaml",
    Pooler: "cnpg/postgresql.cnpg.io_poolers.yaml",
    ScheduledBackup: "cnpg/postgresql.cnpg.io_scheduledbackups.yaml",
    Backup: "cnpg/postgresql.cnpg.io_backups.yaml",
};

/** The references from REFERENCE_DIR, each checked against its provenance. */
export function loadReferences(env: NodeJS.ProcessEnv = process.env): References {
    const cnpgCrds = Object.fromEntries(Object.entries(CNPG_CRDS).map(([kind, file]) => [kind, YAML.parse(readReference(file, env).toString("utf8")) as Tree]));
    return {
        cnpgCrds,
        chartValues: YAML.parse(chartFile("authentik/values.yaml", env)) as Tree,
        configDefaults: YAML.parseAllDocuments(readReference("authentik/default.yml", env).toString("utf8"))[0].toJS() as Tree,
    };
}

/** Keys authentik reads in code (authentik/lib/config.py and bootstrap) that default.yml does not list. */
const CODE_ONLY_KEYS = [
    "postgresql.conn_max_age",
    "postgresql.use_pgbouncer",
    "postgresql.disable_server_side_cursors",
    "postgresql.conn_options",
    "postgresql.sslrootcert",
    "postgresql.sslcert",
    "postgresql.sslkey",
    "secret_key",
    "bootstrap_password",
    "bootstrap_token",
    "bootstrap_email",
    "enabled",
    "existingSecret.secretName",
];
const REMOVED_KEYS: Record<string, string> = {
    redis: "authentik has no Redis since 2025.10: cache, tasks and channels live in PostgreSQL",
    "worker.concurrency": "renamed to worker.threads (authentik 2025.8)",
    broker: "removed with Redis (authentik 2025.10)",
    result_backend: "removed with Redis (authentik 2025.10)",
};

/** The findings of every check on `resources`, and how many resources were checked. */
export function conformance(resources: PlannedResource[], references: References): { checked: number; failures: string[] } {
    const failures: string[] = [];
    const fail = (who: string, what: string) => failures.push(`FAIL ${who}: ${what}`);
    let checked = 0;

    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
    const validators = new Map<string, ReturnType<Ajv["compile"]>>();
    const validatorFor = (kind: string) => {
        if (!validators.has(kind)) {
            const crd = references.cnpgCrds[kind] as { spec: { versions: { name: string; schema: { openAPIV3Schema: object } }[] } };
            validators.set(kind, ajv.compile(crd.spec.versions.find((v) => v.name === "v1")!.schema.openAPIV3Schema));
        }
        return validators.get(kind)!;
    };
    for (const r of resources) {
        const m = /^kubernetes:postgresql\.cnpg\.io\/v1:(\w+)$/.exec(r.type ?? "");
        if (!m || !references.cnpgCrds[m[1]]) continue;
        checked++;
        const validate = validatorFor(m[1]);
        if (!validate({ apiVersion: "postgresql.cnpg.io/v1", kind: m[1], ...r.inputs })) {
            for (const e of validate.errors!.slice(0, 10)) fail(`${m[1]} ${r.name}`, `${e.instancePath || "/"} ${e.message}`);
        }
    }

    const { chartValues, configDefaults } = references;
    const removedAt = (dotted: string) => Object.keys(REMOVED_KEYS).find((k) => dotted === k || dotted.startsWith(`${k}.`));
    const knownConfigPath = (dotted: string) => {
        if (CODE_ONLY_KEYS.includes(dotted)) return true;
        return [configDefaults, chartValues.authentik].some((source) => {
            let node: unknown = source;
            for (const part of dotted.split(".")) {
                if (isMap(node) && Object.keys(node).length === 0) return true; // a free-form map
                if (!isMap(node) || !(part in node)) return false;
                node = node[part];
            }
            return true;
        });
    };
    const checkConfigTree = (who: string, tree: unknown, prefix = ""): void => {
        for (const [key, value] of Object.entries(isMap(tree) ? tree : {})) {
            const dotted = prefix ? `${prefix}.${key}` : key;
            const removed = removedAt(dotted);
            if (removed) fail(who, `authentik.${dotted}: ${REMOVED_KEYS[removed]}`);
            else if (isMap(value) && !CODE_ONLY_KEYS.includes(dotted)) checkConfigTree(who, value, dotted);
            else if (!knownConfigPath(dotted)) fail(who, `authentik.${dotted} is not an authentik configuration key`);
        }
    };
    const checkEnvList = (who: string, list: unknown) => {
        for (const e of Array.isArray(list) ? (list as { name?: unknown }[]) : []) {
            if (typeof e?.name !== "string" || !e.name.startsWith("AUTHENTIK_")) continue;
            const dotted = e.name.slice("AUTHENTIK_".length).toLowerCase().split("__").join(".");
            const removed = removedAt(dotted);
            if (removed) fail(who, `${e.name}: ${REMOVED_KEYS[removed]}`);
            else if (!knownConfigPath(dotted)) fail(who, `${e.name} is not an authentik configuration key`);
        }
    };
    const checkChartKeys = (who: string, values: Tree, reference: unknown, prefix = ""): void => {
        for (const [key, value] of Object.entries(values)) {
            const dotted = prefix ? `${prefix}.${key}` : key;
            if (dotted === "authentik") continue; // checked against authentik's own configuration keys
            if (!isMap(reference) || !(key in reference)) {
                fail(who, `values.${dotted} is not a value of the authentik chart`);
                continue;
            }
            const ref = reference[key];
            if (isMap(value) && isMap(ref) && Object.keys(ref).length > 0) checkChartKeys(who, value, ref, dotted);
        }
    };
    for (const r of resources) {
        const isRelease = r.type === "kubernetes:helm.sh/v3:Release" || r.type === "kubernetes:helm.sh/v4:Chart";
        if (!isRelease || !/authentik/.test(String(r.inputs?.chart ?? ""))) continue;
        checked++;
        const who = `${r.type!.split(":").pop()} ${r.name}`;
        const values = (r.inputs?.values ?? {}) as Tree & { global?: Tree; server?: Tree; worker?: Tree };
        if ("redis" in values) fail(who, `values.redis: ${REMOVED_KEYS.redis}`);
        checkChartKeys(who, Object.fromEntries(Object.entries(values).filter(([k]) => k !== "redis")), chartValues);
        checkConfigTree(who, values.authentik);
        for (const list of [values.global?.env, values.server?.env, values.worker?.env]) checkEnvList(who, list);
    }
    return { checked, failures };
}

/** The command: its exit code, its report written through `out` and its errors through `err`. */
export function cli(args: string[], env: NodeJS.ProcessEnv, out: (line: string) => void, err: (line: string) => void): number {
    const [planFile] = args;
    if (!planFile || !fs.existsSync(planFile)) {
        err("usage: npm run conformance -- PLAN.json  (the file `npm run plan -- --json PLAN.json` writes)");
        return 2;
    }
    const plan = JSON.parse(fs.readFileSync(planFile, "utf8")) as { resources?: PlannedResource[] };
    if (!Array.isArray(plan.resources)) {
        err(`${planFile} has no resources array: not a plan`);
        return 2;
    }
    let references: References;
    try {
        references = loadReferences(env);
    } catch (e) {
        err(`conformance: ${(e as Error).message}`);
        return 2;
    }
    const { checked, failures } = conformance(plan.resources, references);
    for (const f of failures) out(f);
    out(`conformance: ${checked} resources checked against upstream references, ${failures.length} findings`);
    return failures.length === 0 && checked > 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = cli(process.argv.slice(2), process.env, console.log, console.error);
