/** The plan command as users run it: exit codes, messages and the JSON contract. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, homelab, set, writeStack } from "./helpers";

const PLAN = path.join(ROOT, "bin", "tools", "plan.js");
const run = (...args: string[]) => spawnSync(process.execPath, [PLAN, ...args], { cwd: ROOT, encoding: "utf8" });

describe("npm run plan", () => {
    it("prints the tree and checks and writes the documented JSON", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "plan.json");
        const r = run("--json", file);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /kubernetes:postgresql\.cnpg\.io\/v1:Cluster authentik-db \[protected, retained\]/);
        assert.match(r.stdout, /ok {4}no plaintext secrets/);
        const plan = JSON.parse(fs.readFileSync(file, "utf8"));
        assert.deepEqual(Object.keys(plan), ["project", "stack", "resources", "outputs"]);
        assert.equal(plan.project, "authentik-platform");
        assert.equal(plan.stack, "homelab");
        for (const r of plan.resources) {
            assert.deepEqual(Object.keys(r), ["urn", "type", "name", "parent", "dependsOn", "protect", "retainOnDelete", "import", "aliases", "inputs"]);
        }
    });

    it("exits 1 with the key, value and fix on a bad config, before planning", () => {
        const r = run("--config", writeStack(set(homelab(), "database.resources.memoryLimit", "2GB")));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /authentik-platform:database\.resources\.memoryLimit = "2GB"/);
        assert.match(r.stderr, /fix: Kubernetes quantities have no "B"/);
        assert.doesNotMatch(r.stdout, /Plan for stack/);
    });

    it("exits 1 when a baseline shows a stateful replacement", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        const baseline = path.join(dir, "baseline.json");
        assert.equal(run("--json", baseline).status, 0);
        const r = run("--config", writeStack(set(homelab(), "database.name", "authentik-pg"), "homelab"), "--baseline", baseline);
        assert.equal(r.status, 1);
        assert.match(r.stdout, /FAIL {2}no stateful replacement against the baseline: .*would be REPLACED/);
    });

    it("exits 2 on a usage error", () => {
        assert.equal(run("--cofig", "x").status, 2);
        assert.equal(run("--config", "Pulumi.missing.yaml").status, 2);
    });
});
