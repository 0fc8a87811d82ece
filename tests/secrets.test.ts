import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
    credentialsDigest,
    externalSecretManifest,
    fillTemplates,
    generatedCredentialSpec,
    placeholdersOf,
    rolloutAnnotations,
} from "../components/secrets/render";
import { validateObject } from "../tools/schemas";

const templates = { username: "authentik", password: "{{databasePassword}}", "userlist.txt": '"authentik" "{{databasePassword}}"' };

const KEY = "rollout-key-of-this-stack";

describe("credential templates", () => {
    it("finds the credentials a secret uses", () => {
        assert.deepEqual(placeholdersOf(templates), ["databasePassword"]);
        assert.deepEqual(placeholdersOf({ a: "{{secretKey}}-{{bootstrapToken}}" }), ["secretKey", "bootstrapToken"]);
    });

    it("fills values, and refuses a missing one", () => {
        assert.deepEqual(fillTemplates(templates, { databasePassword: "pw" }), { username: "authentik", password: "pw", "userlist.txt": '"authentik" "pw"' });
        assert.throws(() => fillTemplates(templates, {}), /databasePassword/);
    });

    it("renders an ExternalSecret whose Go template reads 1Password fields", async () => {
        const m = externalSecretManifest({
            name: "pgbouncer-auth",
            namespace: "authentik",
            labels: {},
            secretType: "Opaque",
            templates,
            refs: { databasePassword: { item: "authentik-db", field: "password" } },
            store: "onepassword-connect",
            refreshInterval: "1h",
        });
        assert.deepEqual(m, {
            apiVersion: "external-secrets.io/v1",
            kind: "ExternalSecret",
            metadata: { name: "pgbouncer-auth", namespace: "authentik", labels: {} },
            spec: {
                refreshInterval: "1h",
                secretStoreRef: { kind: "ClusterSecretStore", name: "onepassword-connect" },
                target: {
                    name: "pgbouncer-auth",
                    creationPolicy: "Owner",
                    deletionPolicy: "Retain",
                    template: {
                        type: "Opaque",
                        engineVersion: "v2",
                        data: { username: "authentik", password: "{{ .databasePassword }}", "userlist.txt": '"authentik" "{{ .databasePassword }}"' },
                    },
                },
                data: [{ secretKey: "databasePassword", remoteRef: { key: "authentik-db", property: "password" } }],
            },
        });
        assert.throws(
            () =>
                externalSecretManifest({
                    name: "x",
                    namespace: "authentik",
                    labels: {},
                    secretType: "Opaque",
                    templates,
                    refs: {},
                    store: "s",
                    refreshInterval: "1h",
                }),
            /^Error: ExternalSecret x uses databasePassword, which is not a 1Password reference$/,
        );
        assert.deepEqual(await validateObject("kubernetes:external-secrets.io/v1:ExternalSecret", m), []);
    });

    it("escapes a value by the syntax it lands in: PgBouncer's auth file", () => {
        const t = { userlist: '"authentik" "{{databasePassword|userlist}}"' };
        assert.deepEqual(fillTemplates(t, { databasePassword: String.raw`a"b'c\d` }), { userlist: String.raw`"authentik" "a""b'c\d"` });
        assert.throws(() => fillTemplates({ x: "{{databasePassword|yaml}}" }, { databasePassword: "p" }), /unknown escape \|yaml/);
        const eso = externalSecretManifest({
            name: "n",
            namespace: "ns",
            labels: {},
            secretType: "Opaque",
            templates: t,
            refs: { databasePassword: { item: "i", field: "f" } },
            store: "s",
            refreshInterval: "1h",
        });
        assert.equal(eso.spec.target.template.data.userlist, String.raw`"authentik" "{{ .databasePassword | replace "\"" "\"\"" }}"`);
    });

    it("keys the digest with the stack's rollout key: a guessed password never reproduces it without the key", () => {
        const a = credentialsDigest({ password: "hunter2" }, "authentik-credentials", KEY);
        assert.notEqual(credentialsDigest({ password: "hunter2" }, "authentik-credentials", "another stack's key"), a, "the same password under another key");
        // Stable across releases: a changed formula would roll every pod once.
        assert.equal(a, "febf5b53cd615d57e8bc15747a30c99413f6799f007fcdd23ad2b02e6980fb00", "HMAC-SHA256(key, name NUL key=value)");
    });

    it("digests a Secret's content for the pods' rollout annotation: stable, salted, never the value", () => {
        const a = credentialsDigest({ password: "hunter2" }, "authentik-credentials", KEY);
        assert.match(a, /^[0-9a-f]{64}$/);
        assert.equal(credentialsDigest({ password: "hunter2" }, "authentik-credentials", KEY), a, "the same content: no roll");
        assert.notEqual(credentialsDigest({ password: "hunter3" }, "authentik-credentials", KEY), a, "a rotated value rolls the pods");
        assert.notEqual(credentialsDigest({ password: "hunter2" }, "pgbouncer-auth", KEY), a, "salted per Secret");
        assert.ok(!a.includes(Buffer.from("hunter2").toString("hex")));
        assert.deepEqual(rolloutAnnotations([{ digest: a, reloadSecrets: [] }, { reloadSecrets: ["x-1password"] }]), {
            pod: { "authentik-platform/credentials-digest": a },
            deployment: { "secret.reloader.stakater.com/reload": "x-1password" },
        });
        assert.deepEqual(rolloutAnnotations([]), { pod: {}, deployment: {} });
        const b = credentialsDigest({ password: "hunter2" }, "pgbouncer-auth", KEY);
        const both = rolloutAnnotations([
            { digest: a, reloadSecrets: ["one"] },
            { digest: b, reloadSecrets: ["two"] },
        ]);
        assert.deepEqual(both.deployment, { "secret.reloader.stakater.com/reload": "one,two" });
        const combined = both.pod["authentik-platform/credentials-digest"];
        assert.match(combined, /^[0-9a-f]{64}$/, "two Secrets: one digest over both");
        assert.ok(combined !== a && combined !== b);
        assert.notEqual(
            both.pod["authentik-platform/credentials-digest"],
            rolloutAnnotations([
                { digest: a, reloadSecrets: [] },
                { digest: a, reloadSecrets: [] },
            ]).pod["authentik-platform/credentials-digest"],
            "either one changing rolls the pods",
        );
        assert.equal(credentialsDigest({ a: "1", b: "2" }, "s", KEY), credentialsDigest({ b: "2", a: "1" }, "s", KEY), "key order does not roll the pods");
        assert.notEqual(credentialsDigest({ a: "1", b: "2" }, "s", KEY), credentialsDigest({ a: "2", b: "1" }, "s", KEY), "which value sits in which key does");
        assert.notEqual(
            credentialsDigest({ a: "1", b: "2" }, "s", KEY),
            credentialsDigest({ a: "1b=2" }, "s", KEY),
            "entries stay apart: no two contents digest alike",
        );
    });

    it("generates long credentials without characters that need quoting", () => {
        assert.deepEqual(generatedCredentialSpec("secretKey"), { length: 64, special: false });
        assert.equal(generatedCredentialSpec("databasePassword").special, false);
        assert.equal(generatedCredentialSpec("databasePassword").length, 40);
    });
});
