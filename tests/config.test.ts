import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ConfigError, formatIssues } from "../config/schema";
import { PROJECT, StackConfig, adminCredential, credentialsInUse, parseStackConfig, usesApi } from "../config";
import { flattenConfig } from "../tools/stackfile";
import { isPinnedImage } from "../lib/images";
import { expectIssue, homelab, issuesOf, parse, set, parseWith } from "./support/helpers";

describe("stack configuration", () => {
    it("parses the homelab stack with its documented numbers", () => {
        const c = parse(homelab());
        assert.equal(c.namespace, "authentik");
        assert.equal(c.database.instances, 3);
        assert.equal(c.database.maxConnections, 200);
        assert.equal(c.database.sharedBuffers, "768MB");
        assert.equal(c.database.resources.memoryLimit, "3Gi");
        assert.equal(c.database.pgStatStatements, true);
        assert.equal(c.pgbouncer.replicas, 3);
        assert.equal(c.pgbouncer.minAvailable, 2);
        assert.equal(c.pgbouncer.poolMode, "session");
        assert.equal(c.pgbouncer.serverIdleTimeout, 600);
        assert.deepEqual(c.credentials.secretKey, { kind: "onepassword", item: "authentik", field: "secret-key" });
    });

    it("needs only the authentik host; everything else has a documented default", () => {
        expectIssue({}, "authentik.host", /is required/);
        const c = parse({ "kubernetes:context": "homelab", "authentik-platform:authentik": { host: "auth.example.com" } });
        assert.equal(c.namespace, "authentik");
        assert.equal(c.pgbouncer.poolMode, "session");
        assert.equal(c.pgbouncer.resources.cpuRequest, "50m");
        assert.equal(c.pgbouncer.resources.memoryRequest, "128Mi");
        assert.equal(c.pgbouncer.resources.memoryLimit, "512Mi");
        assert.equal(c.database.backup, undefined);
        assert.deepEqual(c.credentials.databasePassword, { kind: "generate" });
        assert.equal(c.credentials.smtpPassword, undefined);
    });

    it("rejects minAvailable >= replicas, naming key, value and fix", () => {
        const issue = expectIssue(set(homelab(), "pgbouncer.minAvailable", 3), "pgbouncer.minAvailable", /below pgbouncer.replicas/);
        assert.equal(issue.value, 3);
        assert.match(issue.fix, /at most 2/);
    });

    it("rejects a malformed quantity such as 2GB with the binary/decimal hint", () => {
        const issue = expectIssue(set(homelab(), "database.resources.memoryLimit", "2GB"), "database.resources.memoryLimit", /Kubernetes quantit/);
        assert.equal(issue.value, "2GB");
        assert.match(issue.fix, /"2Gi".*"2G"/);
    });

    it("rejects shared_buffers that do not fit the memory limit", () => {
        const block = set(homelab(), "database.sharedBuffers", "4GB");
        const issue = expectIssue(block, "database.sharedBuffers", /memory limit 3Gi/);
        assert.match(issue.fix, /768MB/);
    });

    it("rejects a memory request above its limit, in every resources block", () => {
        for (const path of ["database.resources", "pgbouncer.resources", "authentik.server.resources", "authentik.worker.resources"]) {
            expectIssue(set(homelab(), `${path}.memoryRequest`, "8Gi"), `${path}.memoryRequest`, /above the memory limit/);
        }
    });

    it("rejects a PostgreSQL size without unit", () => {
        expectIssue(set(homelab(), "database.sharedBuffers", "768"), "database.sharedBuffers", /PostgreSQL size/);
    });

    it("rejects unknown keys and suggests the nearest known one", () => {
        const issue = expectIssue(set(homelab(), "pgbouncer.maxClientConns", 10), "pgbouncer.maxClientConns", /did you mean "maxClientConn"/);
        assert.equal(issue.value, "[not shown: unknown key]");
        expectIssue(set(homelab(), "databse", {}), "databse", /did you mean "database"/);
    });

    it("never echoes the value under an unknown key: it may be a credential in the wrong place", () => {
        const message = (block: Record<string, unknown>) => {
            try {
                parse(block);
            } catch (e) {
                return (e as Error).message;
            }
            assert.fail("the config was accepted");
        };
        const nested = message(
            set(homelab(), "authentik.email", { host: "smtp.example", username: "u", from: "a@example.com", password: "hunter2-in-plain-text" }),
        );
        assert.match(nested, /authentik-platform:authentik\.email\.password = "\[not shown: unknown key\]": is not a known key/);
        const top = message(set(homelab(), "bootstrapTokn", "hunter3-in-plain-text"));
        assert.match(
            top,
            /authentik-platform:bootstrapTokn = "\[not shown: unknown key\]": is not a known key\n {4}fix: did you mean the credential "bootstrapToken"\? pulumi config rm bootstrapTokn, then pulumi config set --secret bootstrapToken <value>/,
        );
        assert.doesNotMatch(nested + top, /hunter/);
        // A key nearer to a setting than to a credential keeps the setting's suggestion.
        expectIssue(set(homelab(), "namespce", "x"), "namespce", /did you mean "namespace"/);
    });

    it("explains that Redis is gone instead of ignoring it", () => {
        expectIssue(set(homelab(), "redis", { enabled: true }), "redis", /no Redis since 2025\.10/);
        expectIssue(set(homelab(), "authentik.redis", { host: "redis" }), "authentik.redis", /no Redis/);
    });

    it("rejects a missing required secret", () => {
        const block = set(homelab(), "credentials.databasePassword", "config");
        const issue = expectIssue(block, "databasePassword", /secure key is not set/);
        assert.match(issue.fix, /pulumi config set --secret databasePassword/);
    });

    it("accepts a secure config value for a credential", () => {
        const block = set(homelab(), "credentials.databasePassword", "config");
        set(block, "databasePassword", { secure: "v1:ciphertext" });
        assert.deepEqual(parse(block).secretConfigKeys, ["databasePassword"]);
    });

    it("rejects a credential in plaintext without printing it", () => {
        const block = set(homelab(), "databasePassword", "hunter2");
        const issue = expectIssue(block, "databasePassword", /plain text/);
        assert.equal(issue.value, "[redacted]");
        assert.equal(issue.fix, "pulumi config set --secret databasePassword <value>");
        assert.ok(!formatIssues(issuesOf(block)).includes("hunter2"));
    });

    it("rejects transaction pooling unless authentik is told it runs behind PgBouncer", () => {
        const block = set(homelab(), "pgbouncer.poolMode", "transaction");
        expectIssue(block, "pgbouncer.poolMode", /usePgbouncer/);
        set(block, "authentik.database.usePgbouncer", true);
        expectIssue(block, "authentik.database.connMaxAge", /only safe with session pooling/);
        set(block, "authentik.database.connMaxAge", 0);
        assert.equal(parse(block).pgbouncer.poolMode, "transaction");
    });

    it("rejects 1Password sources when 1Password is off, and provider mode without a vault", () => {
        expectIssue(set(homelab(), "onepassword.mode", "none"), "credentials.secretKey", /onepassword.mode is none/);
        expectIssue(set(homelab(), "onepassword.mode", "provider"), "onepassword.vault", /required in provider mode/);
    });

    it("rejects a malformed credential source", () => {
        expectIssue(set(homelab(), "credentials.secretKey", { onepassword: { item: "authentik" } }), "credentials.secretKey", /onepassword/);
        expectIssue(set(homelab(), "credentials.secretKey", "random"), "credentials.secretKey", /generate/);
    });

    it("requires the backup target that the method needs", () => {
        expectIssue(set(homelab(), "database.backup.objectStore", undefined), "database.backup.objectStore", /required for method objectStore/);
        const snap = set(homelab(), "database.backup", { method: "volumeSnapshot" });
        expectIssue(snap, "database.backup.volumeSnapshotClass", /VolumeSnapshotClass/);
    });

    it("rejects unpinned images", () => {
        for (const bad of ["edoburu/pgbouncer", "edoburu/pgbouncer:latest"]) {
            expectIssue(set(homelab(), "pgbouncer.image", bad), "pgbouncer.image", /never latest/);
        }
        assert.ok(isPinnedImage("edoburu/pgbouncer:v1.24.1-p1"));
        assert.ok(isPinnedImage("ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie"));
        assert.ok(isPinnedImage(`ghcr.io/x/y@sha256:${"a".repeat(64)}`));
        assert.ok(isPinnedImage(`ghcr.io/x/y:1.2.3@sha256:${"a".repeat(64)}`));
        for (const moving of ["postgres:17", "x:v1", "x:stable-1", "registry:5000/x", `x@sha256:${"a".repeat(63)}`]) {
            assert.ok(!isPinnedImage(moving), `${moving} moves under you`);
        }
        expectIssue(set(homelab(), "database.imageName", "postgres:17"), "database.imageName", /exact release/);
        expectIssue(set(homelab(), "authentik.imageTag", "2026"), "authentik.imageTag", /exact release tag/);
        // Anchored at both ends: a valid start does not carry a suffix through.
        expectIssue(set(homelab(), "authentik.imageTag", "2026.8.3+local"), "authentik.imageTag", /exact release tag/);
        expectIssue(set(homelab(), "authentik.imageTag", "2026.8.3 latest"), "authentik.imageTag", /exact release tag/);
        expectIssue(set(homelab(), "authentik.chartVersion", "2026.8.0-rc1"), "authentik.chartVersion", /exact chart version/);
        expectIssue(set(homelab(), "authentik.chartVersion", "2026.8.0.1"), "authentik.chartVersion", /exact chart version/);
        expectIssue(set(homelab(), "api.url", "https://auth.homelab.example/api/v3"), "api.url", /a base URL such as https:\/\/auth.example.com/);
        expectIssue(set(homelab(), "authentik.imageDigest", "abc"), "authentik.imageDigest", /sha256: and 64 hex digits/);
    });

    it("reports every problem at once, each with key, value and fix", () => {
        const block = set(set(homelab(), "pgbouncer.minAvailable", 5), "database.storage.size", "20GB");
        const issues = issuesOf(block);
        assert.equal(issues.length, 2);
        const text = formatIssues(issues);
        assert.match(text, /authentik-platform:pgbouncer.minAvailable = 5: .*\n\s+fix: /);
        assert.match(text, /authentik-platform:database.storage.size = "20GB"/);
    });

    it("a key whose value was refused is not judged again by a rule (that would judge the fallback)", () => {
        // api.token apiToken requires credentials.apiToken; the one given is no credential source.
        const issues = issuesOf(set(set(homelab(), "api.token", "apiToken"), "credentials.apiToken", "bogus"));
        assert.deepEqual(
            issues.filter((i) => i.key === "authentik-platform:credentials.apiToken").map((i) => i.problem),
            ["is not a credential source"],
        );
    });

    it("a name must be a DNS label from its first character to its last", () => {
        for (const bad of ["-authentik", "authentik-", "Authentik", "auth entik"]) expectIssue(set(homelab(), "namespace", bad), "namespace", /a DNS label/);
        assert.equal(parse(set(homelab(), "namespace", "a-1")).namespace, "a-1");
    });

    it("scalars are read from their text: numbers and booleans as written, anything else as the string it is", () => {
        const { config, secretKeys } = flattenConfig(PROJECT, homelab());
        config[`${PROJECT}:createNamespace`] = "false";
        assert.equal(parseStackConfig(config, secretKeys).createNamespace, false);
        config[`${PROJECT}:namespace`] = "2026";
        assert.equal(parseStackConfig(config, secretKeys).namespace, "2026", "a name of digits stays a name");
    });

    it("a structured setting that is not JSON is reported, not dropped for the defaults", () => {
        const { config, secretKeys } = flattenConfig(PROJECT, homelab());
        config[`${PROJECT}:pgbouncer`] = "{poolMode: session}"; // YAML flow style: pulumi config set without --path
        assert.throws(
            () => parseStackConfig(config, secretKeys),
            (e: ConfigError) => {
                assert.deepEqual(
                    e.issues.map((i) => [i.key, i.value, i.problem]),
                    [["authentik-platform:pgbouncer", "{poolMode: session}", "is not a map"]],
                );
                return true;
            },
        );
    });

    it("ignores other providers' namespaces", () => {
        assert.doesNotThrow(() => parse(set(homelab(), "aws:region", "eu-west-1")));
    });

    it("deploys only to the context the stack names: required, and a typo in a kubernetes: key is caught", () => {
        expectIssue(set(homelab(), "kubernetes:context", undefined), "kubernetes:context", /is required.*never to whichever context is current/);
        expectIssue(set(homelab(), "kubernetes:contxt", "homelab"), "kubernetes:contxt", /did you mean kubernetes:context/);
        expectIssue(set(homelab(), "kubernetes:namespace", "x"), "kubernetes:namespace", /not read by this program's Kubernetes provider/);
        assert.deepEqual(parse(homelab()).kubernetes, { context: "homelab", kubeconfig: false });
    });

    it("refuses a secure key that no credential reads, naming the credential source to change", () => {
        const issue = expectIssue(
            set(homelab(), "bootstrapToken", { secure: "v1" }),
            "bootstrapToken",
            /credentials\.bootstrapToken is "generate", so nothing reads it.*set credentials\.bootstrapToken: config/,
        );
        assert.equal(issue.value, "[secret]");
        expectIssue(set(homelab(), "apiToken", { secure: "v1" }), "apiToken", /uses no apiToken.*pulumi config rm apiToken/);
    });

    it("refuses a setting stored as a secret, naming the key and never its value", () => {
        const issue = expectIssue(set(homelab(), "namespace", { secure: "v1" }), "namespace", /is stored as a secret, but it is a setting/);
        assert.equal(issue.value, "[secret]");
        assert.equal(issue.fix, "pulumi config set namespace <value> (without --secret), or move a credential to its own key");
        assert.ok(
            !issuesOf(set(homelab(), "namespace", { secure: "v1" })).some((i) => JSON.stringify(i).includes("plan-secret")),
            "no placeholder leaks into any message",
        );
    });

    it("never echoes a password put where a credential source belongs", () => {
        const issue = expectIssue(
            set(homelab(), "credentials.databasePassword", "hunter2-hunter2"),
            "credentials.databasePassword",
            /is not a credential source/,
        );
        assert.equal(issue.value, "[redacted]");
    });

    it("needs 1Password credentials in provider mode, from config or the environment", () => {
        const provider = set(set(homelab(), "onepassword", { mode: "provider", vault: "vault-uuid" }), "credentials.smtpPassword", "generate");
        const noOp = set(provider, "credentials.secretKey", "generate");
        expectIssue(noOp, "onepassword:serviceAccountToken", /is missing, and so is 1Password Connect/);
        assert.doesNotThrow(() => parse(set(noOp, "onepassword:serviceAccountToken", { secure: "t" })));
        assert.doesNotThrow(() => parseWith(noOp, { OP_CONNECT_HOST: "https://op.example", OP_CONNECT_TOKEN: "t" }));
    });
});

describe("what a configuration implies", () => {
    const base = parse(homelab());
    const noObjects: StackConfig = {
        ...base,
        apps: [],
        groups: [],
        consumers: [],
        outposts: { ...base.outposts, radius: undefined, proxy: { ...base.outposts.proxy, enabled: false } },
    };

    it("the API is used when the stack declares any authentik object, each alone enough", () => {
        assert.equal(usesApi(noObjects), false);
        assert.equal(adminCredential(noObjects), undefined, "no API, no admin credential");
        assert.equal(usesApi({ ...noObjects, apps: base.apps }), true);
        assert.equal(usesApi({ ...noObjects, groups: base.groups }), true);
        assert.equal(usesApi({ ...noObjects, consumers: [{} as StackConfig["consumers"][number]] }), true);
        assert.equal(usesApi({ ...noObjects, outposts: { ...noObjects.outposts, radius: base.outposts.radius } }), true);
        assert.equal(usesApi({ ...noObjects, outposts: { ...noObjects.outposts, proxy: { ...noObjects.outposts.proxy, enabled: true } } }), true);
    });

    it("only the credentials something uses are generated or read", () => {
        assert.deepEqual(credentialsInUse(base), [
            "databasePassword",
            "secretKey",
            "bootstrapToken",
            "bootstrapPassword",
            "smtpPassword",
            "radiusSharedSecret",
        ]);
        const bare = credentialsInUse({ ...noObjects, authentik: { ...base.authentik, email: undefined, bootstrapCredentials: false } });
        assert.deepEqual(bare, ["databasePassword", "secretKey"]);
        const imported = { ...base, database: { ...base.database, bootstrap: { ...base.database.bootstrap, mode: "import" as const } } };
        assert.ok(credentialsInUse(imported).includes("importSourcePassword"));
        const bootstrapApi = { ...base, api: { ...base.api, token: "bootstrap" as const }, authentik: { ...base.authentik, bootstrapCredentials: false } };
        assert.deepEqual(
            credentialsInUse(bootstrapApi).filter((n) => n.startsWith("bootstrap")),
            ["bootstrapToken", "bootstrapPassword"],
            "the bootstrap token the API path uses is kept",
        );
    });
});
