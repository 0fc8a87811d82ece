import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { externalSecretManifest, fillTemplates, generatedCredentialSpec, placeholdersOf } from "../components/secrets/render";
import { validateObject } from "../tools/schemas";

const templates = { username: "authentik", password: "{{databasePassword}}", "userlist.txt": '"authentik" "{{databasePassword}}"' };

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
        assert.deepEqual(m.spec.data, [{ secretKey: "databasePassword", remoteRef: { key: "authentik-db", property: "password" } }]);
        assert.equal(m.spec.target.template.data["userlist.txt"], '"authentik" "{{ .databasePassword }}"');
        assert.equal(m.spec.target.deletionPolicy, "Retain");
        assert.deepEqual(m.spec.secretStoreRef, { kind: "ClusterSecretStore", name: "onepassword-connect" });
        assert.deepEqual(await validateObject("kubernetes:external-secrets.io/v1:ExternalSecret", m), []);
    });

    it("generates long credentials without characters that need quoting", () => {
        assert.deepEqual(generatedCredentialSpec("secretKey"), { length: 64, special: false });
        assert.equal(generatedCredentialSpec("databasePassword").special, false);
    });
});
