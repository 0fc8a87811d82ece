/** Shared test helpers: the homelab stack as data, edited per test, parsed or planned. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { ConfigError, ConfigIssue } from "../../config/schema";
import { PROJECT, StackConfig, parseStackConfig } from "../../config";
import { flattenConfig } from "../../tools/stackfile";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const HOMELAB_FILE = path.join(ROOT, "Pulumi.homelab.yaml");

export type ConfigBlock = Record<string, unknown>;

/** The homelab stack's `config:` block, freshly read (safe to edit). */
export function homelab(): ConfigBlock {
    return (YAML.parse(fs.readFileSync(HOMELAB_FILE, "utf8")) as { config: ConfigBlock }).config;
}

/**
 * Sets `section.path.to.key` of a config block (`section` without the project prefix); `undefined`
 * deletes it. Returns the block for chaining.
 */
export function set(block: ConfigBlock, dotted: string, value: unknown): ConfigBlock {
    const [section, ...rest] = dotted.split(".");
    const top = section.includes(":") ? section : `${PROJECT}:${section}`;
    if (rest.length === 0) {
        if (value === undefined) delete block[top];
        else block[top] = value;
        return block;
    }
    let node = (block[top] ??= {}) as Record<string, unknown>;
    for (const k of rest.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    const last = rest[rest.length - 1];
    if (value === undefined) delete node[last];
    else node[last] = value;
    return block;
}

export function parse(block: ConfigBlock): StackConfig {
    return parseWith(block, {});
}

/** Parses with an environment (e.g. OP_* variables the 1Password provider reads). */
export function parseWith(block: ConfigBlock, env: Record<string, string>): StackConfig {
    const { config, secretKeys } = flattenConfig(PROJECT, block);
    return parseStackConfig(config, secretKeys, env);
}

/** Parses a block that must fail; returns the issues. */
export function issuesOf(block: ConfigBlock): ConfigIssue[] {
    try {
        parse(block);
    } catch (e) {
        if (e instanceof ConfigError) return e.issues;
        throw e;
    }
    assert.fail("expected the configuration to be rejected");
}

/** Asserts one issue at `key` (full key), whose problem or fix matches `pattern`; returns it. */
export function expectIssue(block: ConfigBlock, key: string, pattern: RegExp): ConfigIssue {
    const issues = issuesOf(block);
    const issue = issues.find((i) => i.key === `${PROJECT}:${key}` || i.key === key);
    assert.ok(issue, `no issue for ${key}; got: ${issues.map((i) => i.key).join(", ")}`);
    assert.match(`${issue.problem} / ${issue.fix}`, pattern);
    return issue;
}

/** Writes a stack file (and Pulumi.yaml) for `block` into a fresh temp directory. */
export function writeStack(block: ConfigBlock, stack = "test"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authentik-platform-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(file, YAML.stringify({ config: block }));
    return file;
}

/** What the homelab stack exports (the stack-output contract), as a consuming stack's StackReference reads it. */
export const PUBLISHED_OUTPUTS = {
    contractVersion: 1,
    namespace: "authentik",
    database: { host: "authentik-db-rw.authentik.svc.cluster.local", port: 5432 },
    pgbouncer: { host: "pgbouncer.authentik.svc.cluster.local", port: 6432, poolMode: "session" },
    authentik: { url: "https://auth.example.com", host: "auth.example.com" },
    capacity: { connections: {}, memory: {} },
    apps: { grafana: { mode: "oidc", url: "https://grafana.example.com/", clientId: "grafana", issuer: "https://auth.example.com/application/o/grafana/" } },
    oidcClientSecrets: { grafana: "client-s3cret" },
    consumerTokens: { wiki: "wiki-t0ken" },
    radius: null,
};
