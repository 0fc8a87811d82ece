/**
 * Nothing silently ignored: every key of the release values is a value of the pinned chart, and
 * every authentik.* key / AUTHENTIK_* variable is an authentik configuration key. Checked against
 * the upstream files from REFERENCE_DIR (chart 2026.8.0's values.yaml, authentik's default.yml),
 * each checked against tools/reference.json.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import YAML from "yaml";
import { releaseValues } from "../components/authentik/values";
import { PROVIDE, chartFile, readReference, referencePath } from "../tools/reference";
import { homelab, parse } from "./support/helpers";

/** Skipped loudly where the run was given no reference directory, unless REQUIRE_REAL_TOOLS=1 (then reading fails, naming what to provide). */
const SKIP =
    !referencePath("authentik/default.yml") &&
    process.env.REQUIRE_REAL_TOOLS !== "1" &&
    `SKIPPED: the upstream chart values and authentik's default.yml are not provided (${PROVIDE})`;
/** Keys authentik reads in code that default.yml does not list (authentik/lib/config.py). */
const CODE_ONLY = new Set([
    "postgresql.conn_max_age",
    "postgresql.use_pgbouncer",
    "postgresql.disable_server_side_cursors",
    "secret_key",
    "bootstrap_token",
    "bootstrap_password",
    "bootstrap_email",
]);

type Tree = Record<string, unknown>;
const isMap = (v: unknown): v is Tree => !!v && typeof v === "object" && !Array.isArray(v);

/** Paths in `values` that `reference` does not have (an empty reference map accepts anything). */
export function unknownKeys(values: Tree, reference: unknown, prefix = ""): string[] {
    if (!isMap(reference) || Object.keys(reference).length === 0) return [];
    return Object.entries(values).flatMap(([k, v]) => {
        const p = prefix ? `${prefix}.${k}` : k;
        if (!(k in reference)) return [p];
        return isMap(v) ? unknownKeys(v, reference[k], p) : [];
    });
}

function leafPaths(tree: Tree, prefix = ""): string[] {
    return Object.entries(tree).flatMap(([k, v]) => (isMap(v) ? leafPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function has(tree: unknown, dotted: string): boolean {
    let node = tree;
    for (const part of dotted.split(".")) {
        if (isMap(node) && Object.keys(node).length === 0) return true;
        if (!isMap(node) || !(part in node)) return false;
        node = node[part];
    }
    return true;
}

describe("release values against the pinned chart and authentik's config keys", { skip: SKIP }, () => {
    const chart = YAML.parse(chartFile("authentik/values.yaml")) as Tree;
    const defaults = YAML.parseAllDocuments(readReference("authentik/default.yml").toString("utf8"))[0].toJS() as Tree;
    const isConfigKey = (p: string) => CODE_ONLY.has(p) || has(defaults, p) || has(chart.authentik, p);
    const values = releaseValues({
        config: parse(homelab()),
        databaseHost: "pgbouncer.authentik.svc.cluster.local",
        databasePort: 6432,
        credentialSecrets: { secretKey: "a", smtpPassword: "a", databasePassword: "b", bootstrapToken: "b", bootstrapPassword: "b" },
    }) as unknown as Tree;

    it("uses only values the chart has", () => {
        // authentik: is checked against authentik's own configuration keys below.
        const chartOnly = Object.fromEntries(Object.entries(values).filter(([k]) => k !== "authentik"));
        assert.deepEqual(unknownKeys(chartOnly, chart), []);
    });

    it("uses only authentik configuration keys under authentik:", () => {
        assert.deepEqual(
            leafPaths(values.authentik as Tree).filter((p) => !isConfigKey(p)),
            [],
        );
    });

    it("sets only AUTHENTIK_* variables that are configuration keys", () => {
        const env = (values.global as { env: { name: string }[] }).env.map((e) => e.name);
        const paths = env.map((n) =>
            n
                .replace(/^AUTHENTIK_/, "")
                .toLowerCase()
                .split("__")
                .join("."),
        );
        assert.deepEqual(
            paths.filter((p) => !isConfigKey(p)),
            [],
        );
    });

    it("catches the keys the Flux setup shipped and the chart never rendered", () => {
        const flux = { server: { podDisruptionBudget: { minAvailable: 1 }, serviceMonitor: { enabled: true } }, redis: { enabled: true }, prometheusRule: {} };
        assert.deepEqual(unknownKeys(flux, chart).sort(), ["prometheusRule", "redis", "server.podDisruptionBudget", "server.serviceMonitor"]);
        assert.ok(!isConfigKey("worker.concurrency"));
        assert.ok(!isConfigKey("redis.host"));
    });
});
