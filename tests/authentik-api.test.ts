/**
 * The dynamic provider through the real @goauthentik/api client against FakeAuthentik, which
 * validates every request and response against the schema.yml shipped in @goauthentik/api.
 */
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ENGINE_VERSION, ObjectInputs, ObjectOutputs, authentikProvider as p } from "../components/authentik-api/provider";
import { backoffMs, isTransient } from "../components/authentik-api/retry";
import { FakeAuthentik, SEED } from "./support/fake-authentik";
import { ROOT } from "./helpers";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";

let fake: FakeAuthentik;
const policy = { deadlineMs: 4000, baseDelayMs: 5, maxDelayMs: 40, requestTimeoutMs: 400 };

function inputs(kind: string, spec: Record<string, unknown>, extra: Partial<ObjectInputs> = {}): ObjectInputs {
    return { kind, apiUrl: fake.url, apiToken: "test-token", policy, spec, adopt: false, engineVersion: ENGINE_VERSION, ...extra };
}
const flows = { authorizationFlow: "default-provider-authorization-implicit-consent", invalidationFlow: "default-provider-invalidation-flow" };
const proxySpec = (name = "sonarr") => ({ name, mode: "forward_single", externalHost: `https://${name}.example.com`, ...flows });

async function create(i: ObjectInputs) {
    const r = await p.create!(i);
    return { id: r.id, outs: r.outs as ObjectOutputs };
}

before(async () => {
    fake = await FakeAuthentik.start();
});
after(async () => fake.stop());
beforeEach(() => fake.reset());
afterEach(() => assert.deepEqual(fake.violations, [], "every request and response matches authentik's schema"));

describe("the fake authentik", () => {
    it("rejects and records a request that does not match the schema", async () => {
        const res = await fetch(`${fake.url}/api/v3/core/groups/`, {
            method: "POST",
            headers: { authorization: "Bearer test-token", "content-type": "application/json" },
            body: JSON.stringify({ is_superuser: "yes" }),
        });
        assert.equal(res.status, 400);
        assert.match(fake.violations.join(), /request core_groups_create: .*name/);
        fake.violations.length = 0;
    });
});

describe("proxy provider lifecycle", () => {
    it("creates, reads, detects drift, updates and deletes", async () => {
        const i = inputs("ProxyProvider", proxySpec());
        const { id, outs } = await create(i);
        const [stored] = fake.objects("providers_proxy");
        assert.equal(String(stored.pk), id);
        assert.equal(stored.mode, "forward_single");
        assert.equal(stored.authorization_flow, fake.flowPk(flows.authorizationFlow), "flow slugs are resolved to pks");
        assert.equal(stored.invalidation_flow, fake.flowPk(flows.invalidationFlow));
        assert.equal(outs.pk, id);

        const clean = (await p.read!(id, outs)).props as ObjectOutputs;
        assert.equal((await p.diff!(id, clean, i)).changes, false);

        stored.external_host = "https://changed.example.com"; // drift made in the UI
        const drifted = (await p.read!(id, clean)).props as ObjectOutputs;
        assert.equal((await p.diff!(id, drifted, i)).changes, true);
        await p.update!(id, drifted, i);
        assert.equal(fake.objects("providers_proxy")[0].external_host, "https://sonarr.example.com");
        assert.ok(fake.calls.some((c) => /^PUT providers_proxy_update 200$/.test(c)), "updates replace whole (PUT), never PATCH");

        await p.delete!(id, outs);
        assert.equal(fake.objects("providers_proxy").length, 0);
        assert.equal((await p.read!(id, outs)).id, undefined, "deleted outside Pulumi reads as gone, so it is created again");
        await p.delete!(id, outs); // already gone: fine
    });

    it("sends mode on every write (a PATCH without it is rejected by authentik)", async () => {
        const { id, outs } = await create(inputs("ProxyProvider", proxySpec()));
        await p.update!(id, outs, inputs("ProxyProvider", { ...proxySpec(), externalHost: "https://sonarr2.example.com" }));
        assert.equal(fake.objects("providers_proxy")[0].mode, "forward_single");
    });

    it("supports forward_domain with a cookie domain and proxy with an upstream", async () => {
        await create(inputs("ProxyProvider", { name: "domain", mode: "forward_domain", externalHost: "https://auth.example.com", cookieDomain: "example.com", ...flows }));
        await create(inputs("ProxyProvider", { name: "wiki", mode: "proxy", externalHost: "https://wiki.example.com", internalHost: "http://wiki.wiki.svc.cluster.local", ...flows }));
        assert.deepEqual(fake.objects("providers_proxy").map((o) => o.mode), ["forward_domain", "proxy"]);
    });
});

describe("other kinds", () => {
    it("OAuth2: redirect URIs as objects, scopes by managed mapping, signing key by name, secret kept as a hash", async () => {
        const spec = {
            name: "grafana",
            ...flows,
            clientType: "confidential",
            clientId: "grafana",
            clientSecret: "s3cret",
            redirectUris: [{ matchingMode: "strict", url: "https://grafana.example.com/login/generic_oauth" }],
            scopes: ["openid", "email", "profile"],
            signingKey: SEED.certificate,
        };
        const { id, outs } = await create(inputs("OAuth2Provider", spec));
        const [stored] = fake.objects("providers_oauth2");
        assert.deepEqual(stored.redirect_uris, [{ matching_mode: "strict", url: "https://grafana.example.com/login/generic_oauth" }]);
        assert.equal((stored.property_mappings as string[]).length, 3);
        assert.equal(stored.client_secret, "s3cret");
        assert.equal(outs.clientId, "grafana");
        assert.match(String(outs.applied.clientSecret), /^sha256:/);
        assert.ok(!JSON.stringify(outs.applied).includes("s3cret"));
        const read = (await p.read!(id, outs)).props as ObjectOutputs;
        assert.equal(read.observedDigest, read.appliedDigest, "no false drift from authentik's extra fields");
    });

    it("RADIUS and LDAP providers", async () => {
        await create(inputs("RadiusProvider", { name: "radius", ...flows, clientNetworks: "10.0.0.0/8", sharedSecret: "radius-secret" }));
        await create(inputs("LdapProvider", { name: "ldap", ...flows, baseDn: "dc=ldap,dc=goauthentik,dc=io" }));
        assert.equal(fake.objects("providers_radius")[0].client_networks, "10.0.0.0/8");
        assert.equal(fake.objects("providers_ldap")[0].base_dn, "dc=ldap,dc=goauthentik,dc=io");
    });

    it("application, group and group → application binding, then removal in reverse", async () => {
        const provider = await create(inputs("ProxyProvider", proxySpec()));
        const app = await create(inputs("Application", { name: "Sonarr", slug: "sonarr", provider: provider.outs.pk, metaLaunchUrl: "https://sonarr.example.com" }));
        const group = await create(inputs("Group", { name: "media-admins" }));
        const binding = await create(inputs("PolicyBinding", { target: app.outs.uuid, group: group.outs.pk, order: 0 }));
        assert.equal(app.id, "sonarr");
        assert.equal(fake.objects("core_applications")[0].provider, Number(provider.outs.pk));
        assert.deepEqual(
            fake.objects("policies_bindings").map((b) => [b.target, b.group]),
            [[app.outs.uuid, group.outs.pk]],
        );
        for (const [r, kind] of [[binding, "PolicyBinding"], [group, "Group"], [app, "Application"], [provider, "ProxyProvider"]] as const) {
            await p.delete!(r.id, { ...r.outs, kind });
        }
        for (const c of ["policies_bindings", "core_groups", "core_applications", "providers_proxy"]) assert.equal(fake.objects(c).length, 0, c);
    });

    it("replaces an application whose slug changes, deleting first (a provider serves one application)", async () => {
        const i = inputs("Application", { name: "A", slug: "a" });
        const { id, outs } = await create(i);
        const diff = await p.diff!(id, outs, inputs("Application", { name: "A", slug: "b" }));
        assert.deepEqual([diff.replaces, diff.deleteBeforeReplace], [["spec"], true]);
    });
});

describe("outposts", () => {
    it("adopts the embedded outpost, sets its providers and hands it back empty on delete", async () => {
        const a = await create(inputs("ProxyProvider", proxySpec("a")));
        const b = await create(inputs("ProxyProvider", proxySpec("b")));
        const spec = { name: "authentik Embedded Outpost", type: "proxy", managed: SEED.embeddedOutpost, providers: [a.outs.pk, b.outs.pk], config: { authentik_host: "https://auth.example.com" } };
        const embedded = await create(inputs("Outpost", spec, { adopt: true }));
        const [stored] = fake.objects("outposts_instances");
        assert.deepEqual(stored.providers, [Number(a.outs.pk), Number(b.outs.pk)]);
        assert.equal((stored.config as Record<string, unknown>).authentik_host, "https://auth.example.com");
        assert.equal((stored.config as Record<string, unknown>).object_naming_template, "ak-outpost-%(name)s", "config is sent whole, seeded from the defaults");

        await p.update!(embedded.id, embedded.outs, inputs("Outpost", { ...spec, providers: [b.outs.pk] }, { adopt: true }));
        assert.deepEqual(fake.objects("outposts_instances")[0].providers, [Number(b.outs.pk)], "providers are replaced, not merged");

        await p.delete!(embedded.id, embedded.outs);
        assert.equal(fake.objects("outposts_instances").length, 1, "the embedded outpost is never deleted");
        assert.deepEqual(fake.objects("outposts_instances")[0].providers, []);
    });

    it("creates a dedicated outpost on the local Kubernetes service connection with /dev/shm patches", async () => {
        const a = await create(inputs("ProxyProvider", proxySpec("a")));
        const patches = { deployment: [{ op: "add", path: "/spec/template/spec/volumes", value: [{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } }] }] };
        await create(inputs("Outpost", { name: "homelab-proxy", type: "proxy", providers: [a.outs.pk], serviceConnection: SEED.serviceConnection, config: { kubernetes_replicas: 2, kubernetes_json_patches: patches } }));
        const outpost = fake.objects("outposts_instances").find((o) => o.name === "homelab-proxy")!;
        assert.ok(outpost.service_connection);
        assert.equal((outpost.config as Record<string, unknown>).kubernetes_replicas, 2);
        assert.deepEqual((outpost.config as Record<string, unknown>).kubernetes_json_patches, patches);
    });

    it("fails at once when a provider does not match the outpost type, with authentik's message", async () => {
        const radius = await create(inputs("RadiusProvider", { name: "radius", ...flows }));
        await assert.rejects(create(inputs("Outpost", { name: "x", type: "proxy", providers: [radius.outs.pk] })), /HTTP 400: .*does not match provider type/);
    });
});

describe("adoption and conflicts", () => {
    it("refuses to take over an existing object unless adopt is set, then takes it over in place", async () => {
        const existing = await create(inputs("Group", { name: "admins" }));
        await assert.rejects(create(inputs("Group", { name: "admins", isSuperuser: true })), /already exists in authentik .* set adopt: true/);
        const adopted = await create(inputs("Group", { name: "admins", isSuperuser: true }, { adopt: true }));
        assert.equal(adopted.id, existing.id);
        assert.equal(fake.objects("core_groups").length, 1);
        assert.equal(fake.objects("core_groups")[0].is_superuser, true);
    });

    it("matches names exactly: an existing \"sonarr\" is not our \"Sonarr\" (authentik names are case-sensitive)", async () => {
        await create(inputs("ProxyProvider", proxySpec("sonarr")));
        const ours = await create(inputs("ProxyProvider", proxySpec("Sonarr")));
        assert.deepEqual(fake.objects("providers_proxy").map((o) => o.name), ["sonarr", "Sonarr"]);
        assert.equal(String(fake.objects("providers_proxy")[1].pk), ours.id);
    });

    it("fails at once on a 4xx (provider names are unique across kinds) with authentik's body", async () => {
        await create(inputs("ProxyProvider", proxySpec("shared")));
        fake.calls.length = 0;
        await assert.rejects(create(inputs("RadiusProvider", { name: "shared", ...flows })), /HTTP 400: \{"name":\["Provider with this name already exists\."\]\}/);
        assert.equal(fake.calls.filter((c) => c.startsWith("POST")).length, 1, "no retry of a validation error");
    });
});

describe("faults", () => {
    it("waits for authentik to become ready", async () => {
        fake.notReadyFor = 5;
        await create(inputs("Group", { name: "g" }));
        assert.equal(fake.objects("core_groups").length, 1);
    });

    for (const kind of ["503", "429", "reset"] as const) {
        it(`retries a burst of ${kind} on create without duplicates`, async () => {
            fake.inject({ match: /^POST core_groups_create$/, kind, times: 3 });
            await create(inputs("Group", { name: "g" }));
            assert.equal(fake.objects("core_groups").length, 1);
        });
    }

    it("takes over a create that committed but whose answer was lost (connection reset)", async () => {
        fake.inject({ match: /^POST providers_proxy_create$/, kind: "commit-then-reset", times: 1 });
        const { id } = await create(inputs("ProxyProvider", proxySpec()));
        assert.equal(fake.objects("providers_proxy").length, 1, "no duplicate");
        assert.equal(String(fake.objects("providers_proxy")[0].pk), id);
    });

    it("takes over a create that committed but answered after the client timed out", async () => {
        fake.inject({ match: /^POST core_applications_create$/, kind: "slow", delayMs: 800, times: 1 });
        await create(inputs("Application", { name: "Slow", slug: "slow" }));
        assert.equal(fake.objects("core_applications").length, 1);
    });

    it("retries 5xx on reads, updates and deletes too", async () => {
        const { id, outs } = await create(inputs("Group", { name: "g" }));
        fake.inject({ match: /^(GET|PUT|DELETE) core_groups_/, kind: "503", times: 2 });
        await p.read!(id, outs);
        fake.inject({ match: /^PUT core_groups_update$/, kind: "503", times: 2 });
        await p.update!(id, outs, inputs("Group", { name: "g2" }));
        fake.inject({ match: /^DELETE core_groups_destroy$/, kind: "reset", times: 2 });
        await p.delete!(id, outs);
        assert.equal(fake.objects("core_groups").length, 0, "nothing lost, nothing left");
    });

    it("gives up at the deadline with a clear error", async () => {
        fake.inject({ match: /^POST core_groups_create$/, kind: "503", times: 1000 });
        await assert.rejects(create(inputs("Group", { name: "g" }, { policy: { ...policy, deadlineMs: 200 } })), /HTTP 503.*gave up after \d+ attempts/);
    });
});

describe("retry policy", () => {
    it("classifies failures", () => {
        assert.ok(isTransient({ name: "FetchError" }));
        assert.ok(isTransient({ name: "TimeoutError" }));
        assert.ok(isTransient({ response: { status: 502, text: async () => "" } }));
        assert.ok(isTransient({ response: { status: 429, text: async () => "" } }));
        assert.ok(!isTransient({ response: { status: 400, text: async () => "" } }));
        assert.ok(!isTransient({ response: { status: 404, text: async () => "" } }));
    });

    it("backs off exponentially with jitter, capped", () => {
        const pol = { deadlineMs: 1, baseDelayMs: 100, maxDelayMs: 1000, requestTimeoutMs: 1 };
        assert.deepEqual([1, 2, 3, 4, 5, 10].map((n) => backoffMs(n, pol, () => 1)), [100, 200, 400, 800, 1000, 1000]);
        assert.deepEqual([1, 2, 3].map((n) => backoffMs(n, pol, () => 0)), [50, 100, 200]);
    });
});

describe("cost", () => {
    it("reports the API calls one forward-auth app costs on create", async (t) => {
        const group = await create(inputs("Group", { name: "users" }));
        fake.calls.length = 0;
        const provider = await create(inputs("ProxyProvider", proxySpec("app")));
        const app = await create(inputs("Application", { name: "App", slug: "app", provider: provider.outs.pk }));
        await create(inputs("PolicyBinding", { target: app.outs.uuid, group: group.outs.pk, order: 0 }));
        const perApp = fake.calls.length;
        // Attaching it to the embedded outpost is one more write shared by every app in the same up.
        t.diagnostic(`API calls per forward-auth app: ${perApp} (${fake.calls.map((c) => c.split(" ")[1]).join(", ")})`);
        assert.ok(perApp <= 9, `one app took ${perApp} calls`);
        assert.ok(fake.calls.every((c) => / 20[01]$/.test(c)), "no failed call");
    });
});

describe("serialization", () => {
    it("works after Pulumi serializes it into state, run in a fresh process as the dynamic-provider host runs it", async () => {
        const pulumi = await import("@pulumi/pulumi");
        const { text } = await pulumi.runtime.serializeFunction(() => p, { allowSecrets: true });
        assert.doesNotMatch(text, /test-token/, "no secret is captured in the provider code");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynamic-provider-"));
        fs.writeFileSync(path.join(dir, "provider.js"), text);
        // The host loads the text as a module and calls handler(); nothing of this process is shared.
        const script = `const p = require(${JSON.stringify(path.join(dir, "provider.js"))}).handler();
            p.create(JSON.parse(process.argv[1])).then((r) => console.log(JSON.stringify({ id: r.id })), (e) => { console.error(e.message); process.exit(1); });`;
        // Asynchronous: the fake authentik answers from this process's event loop.
        const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
            execFile(
                process.execPath,
                ["-e", script, JSON.stringify(inputs("Group", { name: "from-state" }))],
                { env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") } },
                (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
        });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(JSON.parse(run.stdout).id, fake.objects("core_groups")[0].pk);
        assert.equal(fake.objects("core_groups")[0].name, "from-state");
    });
});

describe("diff", () => {
    it("updates on engine or spec changes, not on a token rotation", async () => {
        const i = inputs("Group", { name: "g" });
        const { id, outs } = await create(i);
        assert.equal((await p.diff!(id, outs, { ...i, apiToken: "rotated" })).changes, false);
        assert.equal((await p.diff!(id, outs, { ...i, engineVersion: "next" })).changes, true);
        assert.equal((await p.diff!(id, outs, inputs("Group", { name: "h" }))).changes, true);
    });
});
