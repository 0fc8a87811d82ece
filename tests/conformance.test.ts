/**
 * tools/conformance.ts on small references of its own: what each check reports, word for word, and
 * what it leaves alone. (The whole homelab plan against the real upstream files: tests/graph.test.ts.)
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { References, cli, conformance } from "../tools/conformance";
import { ROOT } from "./support/helpers";
import { referenceFile } from "./support/tools";

/** A CRD whose v1 schema wants spec.instances to be an integer from 1. */
const clusterCrd = {
    spec: {
        versions: [
            { name: "v1beta1", schema: { openAPIV3Schema: { type: "object" } } },
            {
                name: "v1",
                schema: {
                    // The object as the API server sees it: apiVersion and kind included.
                    openAPIV3Schema: {
                        type: "object",
                        required: ["apiVersion", "kind"],
                        properties: {
                            apiVersion: { const: "postgresql.cnpg.io/v1" },
                            kind: { const: "Cluster" },
                            spec: { type: "object", required: ["instances"], properties: { instances: { type: "integer", minimum: 1 } } },
                        },
                    },
                },
            },
        ],
    },
};

const references: References = {
    cnpgCrds: { Cluster: clusterCrd },
    chartValues: {
        server: { replicas: 1, env: [] },
        global: { env: [] },
        worker: { env: [] },
        additionalObjects: {},
        authentik: { secret_key: "", error_reporting: { enabled: false } },
    },
    configDefaults: { postgresql: { host: "localhost", read_replicas: {} }, log_level: "info" },
};

const release = (values: Record<string, unknown>, chart = "authentik", type = "kubernetes:helm.sh/v3:Release") => ({
    type,
    name: "authentik",
    inputs: { chart, values },
});
const cluster = (spec: unknown) => ({
    type: "kubernetes:postgresql.cnpg.io/v1:Cluster",
    name: "authentik-db",
    inputs: { metadata: { name: "authentik-db" }, spec },
});

describe("conformance: CNPG objects against their CRD", () => {
    it("validates each object of a kind it has a CRD for, against the v1 schema, naming the path", () => {
        assert.deepEqual(conformance([cluster({ instances: 3 })], references), { checked: 1, failures: [] });
        assert.deepEqual(conformance([cluster({ instances: "three" })], references), {
            checked: 1,
            failures: ["FAIL Cluster authentik-db: /spec/instances must be integer"],
        });
        assert.deepEqual(conformance([cluster({})], references).failures, ["FAIL Cluster authentik-db: /spec must have required property 'instances'"]);
        // An error at the object's root is named "/".
        const rootless = { type: "kubernetes:postgresql.cnpg.io/v1:Cluster", name: "authentik-db", inputs: { extra: true } };
        const rooted = { spec: { versions: [{ name: "v1", schema: { openAPIV3Schema: { type: "object", required: ["spec"] } } }] } };
        assert.deepEqual(conformance([rootless], { ...references, cnpgCrds: { Cluster: rooted } }).failures, [
            "FAIL Cluster authentik-db: / must have required property 'spec'",
        ]);
    });

    it("reports at most ten errors an object", () => {
        const crd = {
            spec: {
                versions: [
                    {
                        name: "v1",
                        schema: {
                            openAPIV3Schema: {
                                type: "object",
                                properties: {
                                    spec: {
                                        type: "object",
                                        properties: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, { type: "integer" }])),
                                    },
                                },
                            },
                        },
                    },
                ],
            },
        };
        const spec = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, "x"]));
        assert.equal(conformance([cluster(spec)], { ...references, cnpgCrds: { Cluster: crd } }).failures.length, 10);
    });

    it("leaves alone what it has no CRD for, and other API groups", () => {
        const pooler = { type: "kubernetes:postgresql.cnpg.io/v1:Pooler", name: "p", inputs: { spec: "anything" } };
        const deployment = { type: "kubernetes:apps/v1:Deployment", name: "d", inputs: {} };
        const untyped = { name: "x", inputs: {} };
        // Only the exact type: not one inside a longer name, not a kind with a suffix.
        const prefixed = { type: "x-kubernetes:postgresql.cnpg.io/v1:Cluster", name: "p", inputs: { spec: {} } };
        const suffixed = { type: "kubernetes:postgresql.cnpg.io/v1:Cluster.extra", name: "s", inputs: { spec: {} } };
        assert.deepEqual(conformance([pooler, deployment, untyped, prefixed, suffixed], references), { checked: 0, failures: [] });
    });
});

describe("conformance: the authentik release's values", () => {
    it("accepts values the chart has, free-form maps and authentik's own keys", () => {
        const values = {
            server: { replicas: 3, env: [{ name: "AUTHENTIK_LOG_LEVEL", value: "info" }, { name: "OTHER", value: "x" }, { value: "nameless" }] },
            additionalObjects: { anything: { at: "all" } },
            authentik: {
                secret_key: "s",
                log_level: "debug",
                postgresql: { host: "db", conn_max_age: 60, read_replicas: { r1: { host: "x" } } },
                error_reporting: { enabled: true },
            },
        };
        assert.deepEqual(conformance([release(values)], references), { checked: 1, failures: [] });
    });

    it("names a value the chart does not have, at its full path", () => {
        const values = { server: { replicas: 3, replica: 3 }, serverr: {} };
        assert.deepEqual(conformance([release(values)], references).failures, [
            "FAIL Release authentik: values.server.replica is not a value of the authentik chart",
            "FAIL Release authentik: values.serverr is not a value of the authentik chart",
        ]);
    });

    it("names a configuration key or variable authentik does not read", () => {
        const values = { authentik: { postgresql: { hots: "db" }, nope: true }, global: { env: [{ name: "AUTHENTIK_POSTGRESQL__PORTT", value: "1" }] } };
        assert.deepEqual(conformance([release(values)], references).failures, [
            "FAIL Release authentik: authentik.postgresql.hots is not an authentik configuration key",
            "FAIL Release authentik: authentik.nope is not an authentik configuration key",
            "FAIL Release authentik: AUTHENTIK_POSTGRESQL__PORTT is not an authentik configuration key",
        ]);
    });

    it("says why a key that authentik removed is gone, in values, in authentik's keys and in variables", () => {
        const values = {
            redis: { enabled: true },
            authentik: { redis: { host: "r" }, worker: { concurrency: 4 }, broker: { url: "x" }, result_backend: { url: "y" } },
            worker: {
                env: [
                    { name: "AUTHENTIK_REDIS__HOST", value: "r" },
                    { name: "AUTHENTIK_WORKER__CONCURRENCY", value: "2" },
                ],
            },
        };
        assert.deepEqual(conformance([release(values)], references).failures, [
            "FAIL Release authentik: values.redis: authentik has no Redis since 2025.10: cache, tasks and channels live in PostgreSQL",
            "FAIL Release authentik: authentik.redis: authentik has no Redis since 2025.10: cache, tasks and channels live in PostgreSQL",
            "FAIL Release authentik: authentik.worker.concurrency: renamed to worker.threads (authentik 2025.8)",
            "FAIL Release authentik: authentik.broker: removed with Redis (authentik 2025.10)",
            "FAIL Release authentik: authentik.result_backend: removed with Redis (authentik 2025.10)",
            "FAIL Release authentik: AUTHENTIK_REDIS__HOST: authentik has no Redis since 2025.10: cache, tasks and channels live in PostgreSQL",
            "FAIL Release authentik: AUTHENTIK_WORKER__CONCURRENCY: renamed to worker.threads (authentik 2025.8)",
        ]);
        // A key that only starts like a removed one is judged on its own.
        assert.deepEqual(conformance([release({ authentik: { redisish: 1 } })], references).failures, [
            "FAIL Release authentik: authentik.redisish is not an authentik configuration key",
        ]);
    });

    it("reads every key authentik reads in code that default.yml does not list", () => {
        const codeOnly = [
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
        // References that know none of them (an empty map would accept any key below it).
        const bare: References = {
            ...references,
            chartValues: { server: {}, global: {}, worker: {}, authentik: { log_level: "info" } },
            configDefaults: { log_level: "info" },
        };
        assert.deepEqual(
            conformance([release({ authentik: { postgresql: { unknown: 1 } } })], bare).failures,
            ["FAIL Release authentik: authentik.postgresql.unknown is not an authentik configuration key"],
            "the references do not accept everything",
        );
        const env = codeOnly.map((key) => ({ name: `AUTHENTIK_${key.toUpperCase().split(".").join("__")}`, value: "x" }));
        assert.deepEqual(
            conformance([release({ global: { env } })], bare).failures.filter((f) => !/EXISTINGSECRET/.test(f)),
            [],
            "as variables",
        );
        for (const key of codeOnly) {
            const tree = key.split(".").reduceRight<unknown>((inner, part) => ({ [part]: inner }), "x");
            assert.deepEqual(conformance([release({ authentik: tree })], bare).failures, [], key);
        }
        // A code-only key that holds a map is not looked into.
        assert.deepEqual(conformance([release({ authentik: { postgresql: { conn_options: { sslmode: "x" } } } })], bare).failures, []);
    });

    it("takes an absent or null authentik tree, null entries and nameless variables without a finding", () => {
        const values = { authentik: null, server: { env: [null, { value: "no name" }, { name: 42 }] }, worker: { env: "not a list" } };
        assert.deepEqual(conformance([release(values)], references), { checked: 1, failures: [] });
    });

    it("checks the authentik chart as a Helm v3 release or a v4 Chart, and no other chart", () => {
        assert.equal(
            conformance([release({ bogus: 1 }, "authentik", "kubernetes:helm.sh/v4:Chart")], references).failures[0],
            "FAIL Chart authentik: values.bogus is not a value of the authentik chart",
        );
        assert.deepEqual(conformance([release({ bogus: 1 }, "cloudnative-pg")], references), { checked: 0, failures: [] });
        assert.deepEqual(conformance([{ type: "kubernetes:helm.sh/v3:Release", name: "r", inputs: { chart: "authentik" } }], references), {
            checked: 1,
            failures: [],
        });
        const notARelease = { type: "kubernetes:core/v1:ConfigMap", name: "c", inputs: { chart: "authentik", values: { bogus: 1 } } };
        assert.deepEqual(conformance([notARelease], references), { checked: 0, failures: [] });
    });
});

describe("npm run conformance", () => {
    /** The command in this process: its exit code and what it printed. */
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = cli(
            args,
            env,
            (l) => out.push(l),
            (l) => err.push(l),
        );
        return { code, out, err };
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conformance-"));
    const planFile = (content: unknown) => {
        const file = path.join(dir, `plan-${Math.random()}.json`);
        fs.writeFileSync(file, JSON.stringify(content));
        return file;
    };

    it("exits 2 with its usage, or naming what is missing, before checking anything", () => {
        assert.deepEqual(run([]), { code: 2, out: [], err: ["usage: npm run conformance -- PLAN.json  (the file `npm run plan -- --json PLAN.json` writes)"] });
        assert.equal(run([path.join(dir, "none.json")]).code, 2, "a file that is not there");
        const notPlan = planFile({});
        assert.deepEqual(run([notPlan]), { code: 2, out: [], err: [`${notPlan} has no resources array: not a plan`] });
        const noReferences = run([planFile({ resources: [] })]);
        assert.equal(noReferences.code, 2);
        assert.match(noReferences.err[0], /^conformance: the upstream file cnpg\/postgresql\.cnpg\.io_clusters\.yaml .* is missing: set REFERENCE_DIR/);
    });

    it("exits 0 when every check passes, 1 on a finding or when nothing was checked, printing each finding and the count", (t) => {
        if (!referenceFile(t, "authentik/default.yml")) return;
        const env = { REFERENCE_DIR: process.env.REFERENCE_DIR, AUTHENTIK_CHART: process.env.AUTHENTIK_CHART };
        assert.deepEqual(run([planFile({ resources: [release({ server: { replicas: 3 } })] })], env), {
            code: 0,
            out: ["conformance: 1 resources checked against upstream references, 0 findings"],
            err: [],
        });
        assert.deepEqual(run([planFile({ resources: [release({ bogus: 1 })] })], env), {
            code: 1,
            out: [
                "FAIL Release authentik: values.bogus is not a value of the authentik chart",
                "conformance: 1 resources checked against upstream references, 1 findings",
            ],
            err: [],
        });
        assert.equal(run([planFile({ resources: [] })], env).code, 1, "a plan with nothing to check is no pass");
    });

    it("runs as a command", () => {
        const usage = spawnSync(process.execPath, [path.join(ROOT, "bin", "tools", "conformance.js")], { encoding: "utf8" });
        assert.equal(usage.status, 2);
        assert.match(usage.stderr, /^usage: npm run conformance -- PLAN\.json/);
    });
});
