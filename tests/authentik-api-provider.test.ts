/**
 * The generic provider's decisions on plain values, without authentik: what state keeps of a
 * secret, how drift is found, what a refresh hands back, and when a diff updates, replaces or
 * stops. The suite through the real client (authentik-api.test.ts) covers the same paths end to end.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { apisFor } from "../lib/authentik-api/client";
import {
    DUPLICATES,
    ENGINE_VERSION,
    ObjectInputs,
    ObjectOutputs,
    authentikProvider as p,
    driftOf,
    project,
    redactBody,
    refreshedInputs,
    stableJson,
} from "../lib/authentik-api/provider";

describe("state keeps no secret", () => {
    it("clientSecret and sharedSecret are stored as their sha256, other fields as they are", () => {
        const stored = redactBody({ name: "grafana", clientSecret: "s3cret", sharedSecret: "s3cret", clientId: "s3cret", port: 1 });
        assert.equal(stored.name, "grafana");
        assert.equal(stored.clientId, "s3cret", "a client id is no secret");
        assert.equal(stored.port, 1);
        assert.match(String(stored.clientSecret), /^sha256:[0-9a-f]{64}$/);
        assert.equal(stored.sharedSecret, stored.clientSecret);
        assert.notEqual(redactBody({ clientSecret: "other" }).clientSecret, stored.clientSecret);
    });

    it("the digest is sha256 of the value (`printf %s abc | sha256sum`)", () => {
        assert.equal(redactBody({ clientSecret: "abc" }).clientSecret, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    });

    it("a secret field that is not a string (cleared) is kept as it is", () => {
        assert.deepEqual(redactBody({ clientSecret: null }), { clientSecret: null });
    });
});

describe("stableJson", () => {
    it("sorts keys at every depth, drops undefined, keeps array order and null", () => {
        assert.equal(stableJson({ b: 1, a: { d: [2, 1], c: null }, u: undefined }), '{"a":{"c":null,"d":[2,1]},"b":1}');
        assert.equal(stableJson([{ y: 1, x: 2 }, "s", 3, true]), '[{"x":2,"y":1},"s",3,true]');
        assert.equal(stableJson(null), "null");
        assert.equal(stableJson('a"b'), '"a\\"b"');
    });
});

describe("what authentik holds, shaped like what was applied", () => {
    it("takes authentik's value for each applied field, nested by the applied keys; a field it does not return counts as unchanged", () => {
        const applied = { name: "a", nested: { x: 1, y: 2 }, gone: "kept", list: [{ k: 1 }] };
        const remote = { name: "b", nested: { x: 1, y: 3, extra: 9 }, list: [{ k: 2, more: 1 }], other: "ignored" };
        assert.deepEqual(project(applied, remote), { name: "b", nested: { x: 1, y: 3 }, gone: "kept", list: [{ k: 2 }] });
    });

    it("a list of another length is authentik's whole list", () => {
        assert.deepEqual(project({ l: [1, 2] }, { l: [1, 2, 3] }), { l: [1, 2, 3] });
    });

    it("hashes a secret field authentik returns, so it compares with the stored hash", () => {
        const observed = project(redactBody({ clientSecret: "abc" }), { clientSecret: "abc" }) as Record<string, unknown>;
        assert.equal(observed.clientSecret, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert.deepEqual(project({ clientSecret: null }, { clientSecret: null }), { clientSecret: null });
    });

    it("an object authentik answers for a scalar applied, or a scalar for an object, is authentik's", () => {
        assert.deepEqual(project({ a: "x" }, { a: { pk: 1 } }), { a: { pk: 1 } });
        assert.deepEqual(project({ a: { b: 1 } }, { a: "x" }), { a: "x" });
        assert.deepEqual(project({ a: { b: 1 } }, { a: [1] }), { a: [1] });
    });
});

describe("drift", () => {
    const kind = { setFields: ["redirectUris"] };

    it("names each field that differs, sorted", () => {
        assert.deepEqual(driftOf(kind, { port: 1, mode: "proxy", name: "a" }, { port: 2, mode: "proxy", name: "b" }), ["name", "port"]);
    });

    it("a cleared field: null, undefined and the empty string are the same", () => {
        assert.deepEqual(driftOf(kind, { cookieDomain: "", upstream: null }, { cookieDomain: null, upstream: "" }), []);
        assert.deepEqual(driftOf(kind, { cookieDomain: "" }, { cookieDomain: "example.com" }), ["cookieDomain"]);
    });

    it("a set-valued field ignores order but not membership; a list field keeps order", () => {
        assert.deepEqual(driftOf(kind, { redirectUris: ["a", "b"] }, { redirectUris: ["b", "a"] }), []);
        assert.deepEqual(driftOf(kind, { redirectUris: ["a", "b"] }, { redirectUris: ["a", "c"] }), ["redirectUris"]);
        assert.deepEqual(driftOf(kind, { redirectUris: ["a", "b"] }, { redirectUris: ["a"] }), ["redirectUris"]);
        assert.deepEqual(driftOf({}, { redirectUris: ["a", "b"] }, { redirectUris: ["b", "a"] }), ["redirectUris"]);
        assert.deepEqual(driftOf(kind, { redirectUris: [null, "a"] }, { redirectUris: ["a", ""] }), [], "members compared cleared-equal too");
    });

    it("a field authentik does not return is no drift; a secret changed in authentik is", () => {
        assert.deepEqual(driftOf(kind, { name: "a", writeOnly: "x" }, { name: "a" }), []);
        assert.deepEqual(driftOf(kind, redactBody({ clientSecret: "abc" }), { clientSecret: "abc" }), []);
        assert.deepEqual(driftOf(kind, redactBody({ clientSecret: "abc" }), { clientSecret: "typed-in-the-ui" }), ["clientSecret"]);
    });
});

function outputs(kind: string, spec: Record<string, unknown>, extra: Partial<ObjectOutputs> = {}): ObjectOutputs {
    const applied = { name: "n" };
    return {
        kind,
        apiUrl: "https://auth.example",
        apiToken: "token-1",
        policy: { deadlineMs: 1, baseDelayMs: 1, maxDelayMs: 1, requestTimeoutMs: 1 },
        spec,
        adopt: false,
        engineVersion: ENGINE_VERSION,
        pk: "7",
        applied,
        appliedDigest: "d",
        observedDigest: "d",
        drift: [],
        ...extra,
    };
}
const inputsOf = (o: ObjectOutputs, change: Partial<ObjectInputs> = {}): ObjectInputs => ({
    kind: o.kind,
    apiUrl: o.apiUrl,
    apiToken: o.apiToken,
    policy: o.policy,
    spec: o.spec,
    adopt: o.adopt,
    engineVersion: o.engineVersion,
    ...change,
});

describe("what a refresh hands back", () => {
    it("each drifted field's value as authentik holds it, in the spec; secrets and references only as changed", () => {
        const props = outputs(
            "OAuth2Provider",
            { name: "g", clientSecret: "s", authorizationFlow: "flow-slug", scopes: ["openid"], untouched: 1 },
            {
                applied: { name: "g", clientSecret: "sha256:x", authorizationFlow: "uuid-1", propertyMappings: ["pm-1"] },
            },
        );
        const remote = { name: "renamed", clientSecret: "typed", authorizationFlow: "uuid-2", propertyMappings: ["pm-2"] };
        const refreshed = refreshedInputs(props, ["authorizationFlow", "clientSecret", "name", "propertyMappings", DUPLICATES], remote);
        assert.deepEqual(refreshed.spec, {
            name: "renamed",
            clientSecret: "(changed in authentik)",
            authorizationFlow: '(changed in authentik: "uuid-2")',
            scopes: '(changed in authentik: ["pm-2"])',
            untouched: 1,
        });
        assert.deepEqual(
            Object.keys(refreshed).sort(),
            ["adopt", "apiToken", "apiUrl", "engineVersion", "kind", "policy", "spec"],
            "the inputs only, no outputs",
        );
        assert.equal(refreshed.apiToken, "token-1");
        assert.equal(props.spec.name, "g", "the state's spec is not changed in place");
    });

    it("every reference field is shown as changed, not as a pk", () => {
        for (const field of ["invalidationFlow", "signingKey", "serviceConnection"]) {
            const refreshed = refreshedInputs(outputs("X", {}, { applied: { [field]: "a" } }), [field], { [field]: "b" });
            assert.deepEqual(refreshed.spec, { [field]: '(changed in authentik: "b")' }, field);
        }
    });
});

describe("diff", () => {
    it("no change when nothing differs", async () => {
        const o = outputs("Group", { name: "g" });
        assert.deepEqual(await p.diff!("7", o, inputsOf(o)), { changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("an update when the spec, the URL or the engine changes, or when the last read found drift", async () => {
        const o = outputs("Group", { name: "g" });
        assert.equal((await p.diff!("7", o, inputsOf(o, { spec: { name: "h" } }))).changes, true);
        assert.equal((await p.diff!("7", o, inputsOf(o, { apiUrl: "https://other.example" }))).changes, true);
        assert.equal((await p.diff!("7", o, inputsOf(o, { engineVersion: "next" }))).changes, true);
        assert.equal((await p.diff!("7", { ...o, drift: ["name"] }, inputsOf(o))).changes, true);
        assert.equal((await p.diff!("7", { ...o, observedDigest: "other" }, inputsOf(o))).changes, true);
        assert.equal((await p.diff!("7", { ...o, drift: undefined }, inputsOf(o))).changes, false);
    });

    it("a rotated token is a change (state must hold it); adopt or the retry policy alone are not", async () => {
        const o = outputs("Group", { name: "g" });
        assert.equal((await p.diff!("7", o, inputsOf(o, { apiToken: "token-2" }))).changes, true);
        assert.equal((await p.diff!("7", o, inputsOf(o, { adopt: true }))).changes, false);
        assert.equal((await p.diff!("7", o, inputsOf(o, { policy: { ...o.policy, deadlineMs: 9 } }))).changes, false);
    });

    it("a create-only field is no change", async () => {
        const o = outputs("Outpost", { name: "o", initialProviders: ["a"] });
        assert.equal((await p.diff!("7", o, inputsOf(o, { spec: { name: "o", initialProviders: ["a", "b"] } }))).changes, false);
        assert.equal((await p.diff!("7", o, inputsOf(o, { spec: { name: "p", initialProviders: ["a"] } }))).changes, true);
    });

    it("a refused token stops the diff with what to do, unless it was rotated", async () => {
        const o = outputs("Group", { name: "g" }, { authRefused: true });
        await assert.rejects(
            p.diff!("7", o, inputsOf(o)),
            /^PermanentError: Group: authentik refused the API token \(revoked or expired\)\. Give the stack a valid one .*the objects are untouched$/,
        );
        assert.equal((await p.diff!("7", o, inputsOf(o, { apiToken: "token-2" }))).changes, true);
    });

    it("names the field that replaces; an application's slug deletes first, a binding's target does not", async () => {
        const app = outputs("Application", { name: "A", slug: "a" });
        assert.deepEqual(await p.diff!("7", app, inputsOf(app, { spec: { name: "A", slug: "b" } })), {
            changes: true,
            replaces: ["spec.slug"],
            deleteBeforeReplace: true,
        });
        assert.deepEqual((await p.diff!("7", app, inputsOf(app, { spec: { name: "B", slug: "a" } }))).replaces, []);
        const binding = outputs("PolicyBinding", { target: "t1", group: "g", order: 0 });
        assert.deepEqual(await p.diff!("7", binding, inputsOf(binding, { spec: { target: "t2", group: "g", order: 0 } })), {
            changes: true,
            replaces: ["spec.target"],
            deleteBeforeReplace: false,
        });
        const member = outputs("OutpostMember", { outpost: "o", provider: "p" });
        assert.deepEqual((await p.diff!("7", member, inputsOf(member, { spec: { outpost: "o", provider: "q" } }))).replaces, ["spec.provider"]);
        assert.deepEqual((await p.diff!("7", member, inputsOf(member, { spec: { outpost: "o2", provider: "p" } }))).replaces, ["spec.outpost"]);
        const account = outputs("ServiceAccount", { username: "automation" });
        assert.deepEqual((await p.diff!("7", account, inputsOf(account, { spec: { username: "robot" } }))).replaces, ["spec.username"]);
    });

    it("another kind replaces", async () => {
        const o = outputs("Group", { name: "g" });
        assert.deepEqual((await p.diff!("7", o, inputsOf(o, { kind: "Role" }))).replaces, ["kind"]);
        const retired = outputs("RetiredKind", { name: "g" }); // a kind an older engine had
        assert.deepEqual(await p.diff!("7", retired, inputsOf(retired, { kind: "Group" })), { changes: true, replaces: ["kind"], deleteBeforeReplace: false });
    });
});

describe("check", () => {
    it("an unknown kind fails on its property, before anything is asked of authentik", async () => {
        const o = outputs("Gizmo", { name: "g" });
        assert.deepEqual((await p.check!(inputsOf(o), inputsOf(o))).failures, [{ property: "kind", reason: "unknown authentik kind Gizmo" }]);
        await assert.rejects(p.read!("7", o), /^PermanentError: unknown authentik kind Gizmo$/, "a read asks nothing either");
        const ok = outputs("Group", { name: "g" });
        assert.deepEqual((await p.check!(inputsOf(ok), inputsOf(ok))).failures, []);
    });
});

describe("the client", () => {
    it("addresses the API under /api/v3 of the base URL, whatever slashes end it", () => {
        for (const url of ["https://auth.example", "https://auth.example/", "https://auth.example//"]) {
            const api = apisFor({ url, token: "t", policy: { deadlineMs: 1, baseDelayMs: 1, maxDelayMs: 1, requestTimeoutMs: 1 } });
            assert.equal((api.core as unknown as { configuration: { basePath: string } }).configuration.basePath, "https://auth.example/api/v3", url);
            assert.equal(api.baseUrl, url);
        }
    });
});
