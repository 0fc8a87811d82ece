/** The plan command as users run it: exit codes, messages and the JSON contract. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import YAML, { YAMLParseError } from "yaml";
import { yamlError } from "../tools/plan";
import { ROOT, homelab, set, writeStack } from "./support/helpers";

const PLAN = path.join(ROOT, "bin", "tools", "plan.js");
const run = (...args: string[]) => spawnSync(process.execPath, [PLAN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, INIT_CWD: ROOT } });
/** As `npm run plan` from another directory: npm runs in the package root and sets INIT_CWD. */
const runFrom = (dir: string, ...args: string[]) =>
    spawnSync(process.execPath, [PLAN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, INIT_CWD: dir } });

describe("npm run plan", () => {
    it("prints the tree and checks and writes the documented JSON", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "plan.json");
        const r = run("--json", file);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /kubernetes:postgresql\.cnpg\.io\/v1:Cluster authentik-db \[protected, retained\]/);
        assert.match(r.stdout, /ok {4}no plaintext secrets/);
        const plan = JSON.parse(fs.readFileSync(file, "utf8"));
        assert.deepEqual(Object.keys(plan), ["project", "stack", "resources", "outputs", "deploy"]);
        // The deploy job's time limit (the workflow reads deploy.timeoutMinutes): the homelab stack's declared waits.
        assert.deepEqual(plan.deploy, {
            timeoutMinutes: 110,
            waits: [
                { stage: "the preview before up: authentik API ready for the refresh (api.readyTimeoutSeconds)", minutes: 10 },
                { stage: "the backup before an authentik upgrade", minutes: 60 },
                { stage: "authentik's Helm release (authentik.startupProbeSeconds × 2 + 5 min)", minutes: 15 },
                { stage: "authentik API ready after the release (api.readyTimeoutSeconds)", minutes: 10 },
                { stage: "npm ci, build, verify", minutes: 15 },
            ],
        });
        assert.match(r.stdout, /Deploy \(the longest an up may wait[^\n]*\n {2}10 min {2}the preview before up[\s\S]*\n {2}110 min in all/);
        assert.equal(plan.project, "authentik-platform");
        assert.equal(plan.stack, "homelab");
        for (const r of plan.resources) {
            assert.deepEqual(Object.keys(r), [
                "urn",
                "type",
                "name",
                "parent",
                "dependsOn",
                "protect",
                "retainOnDelete",
                "import",
                "aliases",
                "provider",
                "inputs",
            ]);
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

    it("exits 2 on a usage error, with the usage; --help describes every option and exits 0", () => {
        const wrong = run("--cofig", "x");
        assert.equal(wrong.status, 2);
        assert.match(wrong.stderr, /unknown option --cofig[\s\S]*usage: npm run plan/);
        assert.equal(run("--config", "Pulumi.missing.yaml").status, 2);
        assert.equal(run("--json").status, 2);
        for (const flag of ["--help", "-h"]) {
            const help = run(flag);
            assert.equal(help.status, 0);
            for (const option of ["--config", "--json", "--baseline", "--help"]) assert.match(help.stdout, new RegExp(option));
        }
    });

    it("names the file, line and column of a YAML error, without a stack trace", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "Pulumi.broken.yaml");
        fs.writeFileSync(file, "config:\n  authentik-platform:namespace: [unclosed\n  kubernetes:context: homelab\n");
        const r = run("--config", file);
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: not valid YAML`));
        assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
        // The offending line, with a caret under the column the parser names.
        assert.match(r.stderr, /\n {2}3 \| {3}kubernetes:context: homelab\n {4}\| {3}\^\n/);
    });

    it("shows a YAML error's line without the value of a key that names a credential", () => {
        const text = "config:\n  authentik-platform:bootstrapToken: hunter2: [\n";
        let error: YAMLParseError | undefined;
        try {
            YAML.parse(text);
        } catch (e) {
            error = e as YAMLParseError;
        }
        assert.ok(error instanceof YAMLParseError);
        const message = yamlError(error, "Pulumi.x.yaml", text);
        assert.match(message, /^Pulumi\.x\.yaml:2:\d+: not valid YAML: /);
        assert.match(message, /\n {2}2 \| {3}authentik-platform:bootstrapToken: \[not shown\]\n/);
        assert.doesNotMatch(message, /hunter2/);
        assert.equal(yamlError(error, "Pulumi.x.yaml", ""), message.split("\n")[0], "no line to show: where and what only");
    });

    it("plans a stack file kept outside the project, with paths relative to where the user ran it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elsewhere-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.homelab.yaml"), path.join(dir, "Pulumi.homelab.yaml"));
        const r = runFrom(dir, "--config", "Pulumi.homelab.yaml", "--json", "out.json");
        assert.equal(r.status, 0, r.stderr);
        assert.ok(fs.existsSync(path.join(dir, "out.json")), "written where the user is");
        assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "out.json"), "utf8")).project, "authentik-platform", "Pulumi.yaml from the project");
    });

    it("says so when the baseline is missing or not a plan", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        const missing = run("--baseline", path.join(dir, "nope.json"));
        assert.equal(missing.status, 2);
        assert.match(missing.stderr, /--baseline .*nope\.json: no such file/);
        fs.writeFileSync(path.join(dir, "bad.json"), "{ not json");
        assert.match(run("--baseline", path.join(dir, "bad.json")).stderr, /not JSON/);
        fs.writeFileSync(path.join(dir, "other.json"), "{}");
        assert.match(run("--baseline", path.join(dir, "other.json")).stderr, /not a plan written with --json/);
    });

    it("prints the program's own refusals without a stack trace", () => {
        const r = run("--config", writeStack(set(homelab(), "import", ["Deployment/authentik/pgbouncr"])));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /import lists "Deployment\/authentik\/pgbouncr"/);
        assert.doesNotMatch(r.stderr, /\n\s+at /);
    });

    it("prints a security summary", () => {
        const out = run().stdout;
        const section = out.slice(out.indexOf("\nSecurity:"), out.indexOf("\nChecks:"));
        assert.match(
            section,
            /API token: service account authentik-platform-automation's: 19 global permissions \(view; add on what it writes\), change and delete only on the objects its role owns \(those its token created, and those the admin credential handed it\); groups are written only with the admin credential, and homelab-admins is a superuser group: managing it is superuser power/,
        );
        assert.match(
            section,
            /Consumer tokens \(wiki\): 14 global permissions \(view; add on applications, bindings and proxy\/OAuth2 providers\), change and delete only on the objects each token's ProtectedApps created, and change on the embedded and proxy outposts \(a membership writes the outpost's provider list, so each can also change their config and other members\); no group, flow, user or role/,
        );
        assert.match(section, /rotated after 50% of it; made with the bootstrap token/);
        assert.match(section, /namespaces authentik and authentik-outposts enforce restricted/);
        assert.match(section, /Outposts: managed outposts run in authentik-outposts, the only namespace where the worker may write Secrets and Deployments/);
        assert.match(section, /NetworkPolicies: [6-9] \(/);
        assert.match(section, /PgBouncer → PostgreSQL verify-full against CNPG's CA/);
        assert.match(section, /HTTPS only \(Traefik websecure entrypoint, HSTS\)/);
        assert.match(section, /Backups: .*AES256 encryption/);
        assert.match(
            section,
            /Chart: authentik 2026\.8\.0 values and templates sha256:e1a5f2560fae8958bf5a5f3cfbefc285e0ea8e5943d100cf1c5b302d68099e61 \(what the tests render; every up checks the package https:\/\/charts\.goauthentik\.io serves against it before Helm installs it\)/,
        );
        assert.match(
            run("--config", writeStack(set(set(homelab(), "authentik.chartVersion", "2026.10.1"), "authentik.chartDigest", "b".repeat(64)))).stdout,
            /Chart: authentik 2026\.10\.1 has no recorded digest: this program was not tested with it \(every up checks the package against authentik\.chartDigest before Helm installs it\)/,
        );
    });

    it("prints the namespace first and each dependency once", () => {
        const out = run().stdout;
        const tree = out.slice(out.indexOf("\n") + 1);
        assert.match(tree, /^\s*pulumi:pulumi:Stack [^\n]*\n\s+kubernetes:core\/v1:Namespace namespace/);
        for (const line of out.split("\n").filter((l) => l.trim().startsWith("after:"))) {
            const deps = line.trim().slice("after: ".length).split(", ");
            assert.equal(new Set(deps).size, deps.length, line);
        }
        assert.match(out, /Kubernetes schemas: \d+ objects valid against kubernetes-models \(.*Deployment.*\); .*Cluster.* have no published model/);
        assert.doesNotMatch(out, /\.\.\/shared/, "no hint at a file a GitHub user does not have");
    });
});
