/**
 * tools/preview-guard.ts: a preview that deletes or replaces a stateful resource fails, protected or
 * not. The steps are `pulumi preview --json`'s (steps[].op, urn, oldState.type/inputs); the e2e
 * runs the same check over the real engine's steps (platform.e2e.ts, scenario 8).
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { DESTRUCTIVE_OPS, destructiveStatefulSteps, main, stepsOfPreview } from "../tools/preview-guard";
import { ROOT } from "./support/helpers";

const URN = "urn:pulumi:homelab::authentik-platform::";
const cluster = {
    type: "kubernetes:postgresql.cnpg.io/v1:Cluster",
    inputs: { metadata: { name: "authentik-db", namespace: "authentik" }, spec: { bootstrap: { initdb: { secret: { name: "authentik-db-app" } } } } },
};
const step = (op: string, urn: string, old?: { type: string; inputs: Record<string, unknown> }) => ({
    op,
    urn: `${URN}${urn}`,
    ...(old ? { oldState: { urn: `${URN}${urn}`, custom: true, ...old } } : {}),
});
const PREVIEW = {
    config: {},
    steps: [
        step("replace", "authentik-platform:database:Database$kubernetes:postgresql.cnpg.io/v1:Cluster::authentik-db", cluster),
        step("create-replacement", "authentik-platform:database:Database$kubernetes:postgresql.cnpg.io/v1:Cluster::authentik-db", cluster),
        step("delete-replaced", "authentik-platform:database:Database$kubernetes:postgresql.cnpg.io/v1:Cluster::authentik-db", cluster),
        step("delete", "authentik-platform:database:Database$authentik-platform:secrets:CredentialSecret$kubernetes:core/v1:Secret::authentik-db-credentials", {
            type: "kubernetes:core/v1:Secret",
            inputs: { metadata: { name: "authentik-db-app", namespace: "authentik" } },
        }),
        step("delete", "authentik-platform:secrets:Credentials$random:index/randomPassword:RandomPassword::credentials-secretKey", {
            type: "random:index/randomPassword:RandomPassword",
            inputs: { length: 64 },
        }),
        step("delete", "kubernetes:core/v1:PersistentVolumeClaim::authentik-media", {
            type: "kubernetes:core/v1:PersistentVolumeClaim",
            inputs: { metadata: { name: "authentik-media" } },
        }),
        // Not stateful: an app's OIDC client secret, a ConfigMap, a Secret no cluster bootstraps from.
        step("delete", "authentik-platform:authentik:AuthentikObjects$random:index/randomPassword:RandomPassword::app-grafana-client-secret", {
            type: "random:index/randomPassword:RandomPassword",
            inputs: {},
        }),
        step("replace", "authentik-platform:pgbouncer:PgBouncer$kubernetes:core/v1:ConfigMap::pgbouncer-config", {
            type: "kubernetes:core/v1:ConfigMap",
            inputs: {},
        }),
        step("delete", "authentik-platform:pgbouncer:PgBouncer$authentik-platform:secrets:CredentialSecret$kubernetes:core/v1:Secret::pgbouncer-auth", {
            type: "kubernetes:core/v1:Secret",
            inputs: { metadata: { name: "pgbouncer-auth", namespace: "authentik" } },
        }),
        // Not destructive: the same database kept, or a new namespace created.
        step("update", "kubernetes:core/v1:Namespace::namespace", { type: "kubernetes:core/v1:Namespace", inputs: { metadata: { name: "authentik" } } }),
        step("create", "kubernetes:core/v1:Namespace::outposts-namespace"),
    ],
    changeSummary: {},
};

describe("the preview guard", () => {
    it("names each stateful resource a preview deletes or replaces, once, whether or not it is protected", () => {
        const findings = destructiveStatefulSteps(stepsOfPreview(JSON.stringify(PREVIEW)));
        assert.deepEqual(
            findings.map((f) => f.split(" (")[0]),
            [
                "replace: kubernetes:postgresql.cnpg.io/v1:Cluster authentik-db",
                "delete: kubernetes:core/v1:Secret authentik-db-credentials",
                "delete: random:index/randomPassword:RandomPassword credentials-secretKey",
                "delete: kubernetes:core/v1:PersistentVolumeClaim authentik-media",
            ],
        );
        assert.match(
            findings[0],
            /\(urn:pulumi:homelab::[^)]*::authentik-db\) holds data; restore its config, move it with an alias, or take it out of the stack deliberately/,
        );
    });

    it("counts every operation that loses the old object, each on its own", () => {
        const old = { type: "kubernetes:core/v1:PersistentVolumeClaim", inputs: {} };
        for (const op of ["delete", "replace", "create-replacement", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"]) {
            assert.equal(destructiveStatefulSteps([{ op, urn: `${URN}kubernetes:core/v1:PersistentVolumeClaim::media`, old }]).length, 1, op);
        }
        for (const op of ["same", "update", "create", "read", "refresh", "import"])
            assert.deepEqual(destructiveStatefulSteps([{ op, urn: `${URN}x::media`, old }]), [], op);
        assert.equal(DESTRUCTIVE_OPS.length, 7);
    });

    it("runs in process the same way: usage, unreadable files, findings", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guard-main-"));
        const errors: string[] = [];
        const original = console.error;
        console.error = (line: string) => errors.push(line);
        try {
            assert.equal(main([]), 2);
            assert.equal(main(["a", "b"]), 2);
            assert.equal(main([path.join(dir, "missing.json")]), 2);
            fs.writeFileSync(path.join(dir, "bad.json"), JSON.stringify(PREVIEW));
            assert.equal(main([path.join(dir, "bad.json")]), 1);
        } finally {
            console.error = original;
        }
        assert.match(errors[0], /^usage: npm run guard -- PREVIEW\.json/);
        assert.match(errors[2], /missing\.json: ENOENT/);
        assert.match(errors[3], /^guard FAILED/);
    });

    it("passes a preview that only creates and updates", () => {
        assert.deepEqual(destructiveStatefulSteps(stepsOfPreview(JSON.stringify({ steps: PREVIEW.steps.slice(-2) }))), []);
        assert.deepEqual(destructiveStatefulSteps([]), []);
    });

    it("reads only pulumi preview --json's output", () => {
        assert.throws(() => stepsOfPreview(JSON.stringify({ resources: [] })), /not the output of pulumi preview --json \(no steps\)/);
        assert.throws(() => stepsOfPreview("null"), /no steps/);
        assert.deepEqual(stepsOfPreview(JSON.stringify({ steps: [{ op: "delete", urn: "u", oldState: { type: "t" } }] })), [
            { op: "delete", urn: "u", old: { type: "t", inputs: {} } },
        ]);
    });

    it("npm run guard exits 1 naming them, 0 when nothing stateful goes, 2 on a file that is not a preview", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "guard-"));
        const write = (name: string, value: unknown) => {
            fs.writeFileSync(path.join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
            return name;
        };
        const guard = (...args: string[]) =>
            spawnSync(process.execPath, [path.join(ROOT, "bin", "tools", "preview-guard.js"), ...args], {
                cwd: ROOT,
                encoding: "utf8",
                env: { ...process.env, INIT_CWD: dir },
            });
        const failed = guard(write("bad.json", PREVIEW));
        assert.equal(failed.status, 1);
        assert.match(
            failed.stderr,
            /^guard FAILED: this preview deletes or replaces what holds data:\n {2}replace: kubernetes:postgresql\.cnpg\.io\/v1:Cluster authentik-db /,
        );
        const passed = guard(write("good.json", { steps: PREVIEW.steps.slice(-2) }));
        assert.equal(passed.status, 0);
        assert.equal(passed.stdout, "guard ok: 2 steps, no stateful resource deleted or replaced\n");
        assert.equal(guard(write("text.json", "not json")).status, 2);
        assert.equal(guard().status, 2);
        assert.match(guard("a", "b").stderr, /^usage: npm run guard -- PREVIEW\.json/);
    });
});
