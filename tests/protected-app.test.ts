/**
 * What ProtectedApp relies on in the engine, against the stand-in: objects that reference the
 * platform's groups and outpost by name, an owner recorded on the application, several stacks
 * attaching to one outpost, a missing group said at preview, a refused operation naming the
 * permission. Then the package itself, built the way another repository installs it.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ENGINE_VERSION, ObjectInputs, ObjectOutputs, authentikProvider as p } from "../lib/authentik-api/provider";
import { resetEngineCache } from "../lib/authentik-api/kinds";
import { consumerInitialPermissions, consumerPermissions } from "../components/authentik-access/model";
import { ADMIN_TOKEN, FakeAuthentik, SEED, useFakeAuthentik } from "./support/fake-authentik";
import { protectedAppProject } from "./support/packages";
import { PUBLISHED_OUTPUTS } from "./support/helpers";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

let fake: FakeAuthentik;
useFakeAuthentik((started) => (fake = started));
const policy = { deadlineMs: 4000, baseDelayMs: 5, maxDelayMs: 40, requestTimeoutMs: 400 };
const EMBEDDED = "authentik Embedded Outpost";
const flows = { authorizationFlow: SEED.flows[0], invalidationFlow: "default-provider-invalidation-flow" };
const object = (kind: string, spec: Record<string, unknown>, token = ADMIN_TOKEN): ObjectInputs => ({
    kind,
    apiUrl: fake.url,
    apiToken: token,
    policy,
    spec,
    adopt: false,
    engineVersion: ENGINE_VERSION,
});
async function create(i: ObjectInputs) {
    const r = await p.create!(i);
    return { id: r.id, outs: r.outs as ObjectOutputs };
}

/** What one consuming stack's ProtectedApp creates for a forward-auth app (the same kinds and specs). */
async function consumer(slug: string, owner: string, groups: string[] = ["users"]) {
    const provider = await create(object("ProxyProvider", { name: slug, mode: "forward_single", externalHost: `https://${slug}.example.com`, ...flows }));
    const app = await create(
        object("Application", { name: slug, slug, provider: provider.outs.pk, metaPublisher: owner, metaLaunchUrl: `https://${slug}.example.com/` }),
    );
    const bindings = [];
    for (const [order, groupName] of groups.entries()) bindings.push(await create(object("PolicyBinding", { target: app.outs.uuid, groupName, order })));
    const member = await create(object("OutpostMember", { outpostName: EMBEDDED, provider: provider.outs.pk }));
    return { provider, app, bindings, member, all: [member, ...bindings, app, provider] };
}
const attached = () => fake.embedded().providers as number[];

/**
 * A consuming stack's account as the platform makes it: its role with consumerPermissions and
 * initial permissions (through the engine's Role kind), the embedded outpost shared with it, and
 * its token.
 */
async function consumerAccount(name: string) {
    const user = fake.addUser(`authentik-platform-consumer-${name}`, { type: "service_account" });
    const role = `authentik-platform-consumer-${name}`;
    await create(object("Role", { name: role, permissions: consumerPermissions(), initialPermissions: consumerInitialPermissions(), user: user.pk }));
    return { role, token: fake.issueToken(user.pk) };
}

describe("objects of another stack, by name", () => {
    it("bind the platform's group by its name, and attach to the outpost by its name", async () => {
        await create(object("Group", { name: "users" }));
        const c = await consumer("grafana", "pulumi:grafana/prod");
        const group = fake.objects("core_groups").find((g) => g.name === "users")!;
        assert.equal(fake.objects("policies_bindings").find((b) => b.target === c.app.outs.uuid)!.group, group.pk);
        assert.deepEqual(attached(), [Number(c.provider.outs.pk)]);
        for (const o of c.all) assert.deepEqual(((await p.read!(o.id, o.outs)).props as ObjectOutputs).drift, [], "reads back unchanged");
    });

    it("three stacks attach to one outpost at once and all end attached; one leaving detaches only itself", async () => {
        await create(object("Group", { name: "users" }));
        const [a, b, c] = await Promise.all([consumer("a", "pulumi:a/prod"), consumer("b", "pulumi:b/prod"), consumer("c", "pulumi:c/prod")]);
        assert.deepEqual([...attached()].sort(), [a, b, c].map((x) => Number(x.provider.outs.pk)).sort());
        resetEngineCache(); // b's `pulumi destroy` is a process of its own
        for (const o of b.all) await p.delete!(o.id, o.outs);
        assert.deepEqual([...attached()].sort(), [a, c].map((x) => Number(x.provider.outs.pk)).sort());
        assert.deepEqual(
            fake
                .objects("core_applications")
                .map((x) => x.slug)
                .sort(),
            ["a", "c"],
        );
        assert.equal(fake.objects("policies_bindings").length, 2, "b's binding went with it, the others stay");
    });

    it("a slug another stack uses is refused, naming that stack; nothing is written", async () => {
        await create(object("Group", { name: "users" }));
        await consumer("wiki", "pulumi:wiki/prod");
        const writes = fake.writes.length;
        await assert.rejects(
            create(object("Application", { name: "wiki", slug: "wiki", metaPublisher: "pulumi:intruder/dev" })),
            /Application wiki already exists in authentik .*it belongs to pulumi:wiki\/prod; set adopt: true/,
        );
        assert.equal(fake.writes.length, writes);
        // A provider name another stack's app uses: the owner is told through the app it serves.
        await assert.rejects(
            create(object("ProxyProvider", { name: "wiki", mode: "forward_single", externalHost: "https://wiki2.example.com", ...flows })),
            /ProxyProvider wiki already exists in authentik .*serves application "wiki" and is not managed by this stack; it belongs to pulumi:wiki\/prod/,
        );
        assert.equal(fake.writes.length, writes);
    });

    it("a group that does not exist fails the preview (check) with its name", async () => {
        const check = await p.check!({} as ObjectInputs, object("PolicyBinding", { target: "x", groupName: "no-such-group", order: 0 }));
        assert.deepEqual(check.failures, [
            {
                property: "spec.groupName",
                reason: "group \"no-such-group\" does not exist in authentik: create it first (the platform stack's groups config), or remove it from the app's groups",
            },
        ]);
        await create(object("Group", { name: "users" }));
        assert.deepEqual((await p.check!({} as ObjectInputs, object("PolicyBinding", { target: "x", groupName: "users", order: 0 }))).failures, []);
    });

    it("a newer package (engine) updates the objects it made, never replaces them", async () => {
        await create(object("Group", { name: "users" }));
        const c = await consumer("wiki", "pulumi:wiki/prod");
        for (const o of c.all) {
            const older = { ...o.outs, engineVersion: "1" };
            const diff = await p.diff!(o.id, older, { ...object(String(o.outs.kind), o.outs.spec as Record<string, unknown>) });
            assert.equal(diff.changes, true, `${o.outs.kind}: re-applied`);
            assert.deepEqual(diff.replaces, [], `${o.outs.kind}: not replaced`);
        }
    });

    it("a consumer token changes only what its own ProtectedApps made, and attaches only to the outposts shared with it", async () => {
        const wiki = await consumerAccount("wiki");
        const radarr = await consumerAccount("radarr");
        await create(object("Group", { name: "users" }));
        // The platform adopts its outposts, sharing the embedded one with the consumers (admin credential).
        const embedded = fake.embedded();
        await create({
            ...object("Outpost", { name: EMBEDDED, type: "proxy", managed: SEED.embeddedOutpost, config: {} }),
            adopt: true,
            adminToken: ADMIN_TOKEN,
            sharedWith: [wiki.role, radarr.role],
        });
        const platformApp = await create(object("Application", { name: "platform", slug: "platform" }));
        const radius = await create(object("RadiusProvider", { name: "wifi", clientNetworks: "10.0.0.0/24", sharedSecret: "r".repeat(32), ...flows }));
        await create(
            object("Outpost", { name: "wifi", type: "radius", serviceConnection: SEED.serviceConnection, initialProviders: [radius.outs.pk], config: {} }),
        );

        const as = (token: string) => (i: ObjectInputs) => ({ ...i, apiToken: token });
        const mine = as(wiki.token);
        const provider = await create(
            mine(object("ProxyProvider", { name: "wiki", mode: "forward_single", externalHost: "https://wiki.example.com", ...flows })),
        );
        const app = await create(mine(object("Application", { name: "wiki", slug: "wiki", provider: provider.outs.pk, metaPublisher: "pulumi:wiki/prod" })));
        const binding = await create(mine(object("PolicyBinding", { target: app.outs.uuid, groupName: "users", order: 0 })));
        const member = await create(mine(object("OutpostMember", { outpostName: EMBEDDED, provider: provider.outs.pk })));
        assert.deepEqual(attached(), [Number(provider.outs.pk)], "attached to the shared outpost");
        await p.update!(
            app.id,
            app.outs,
            mine(object("Application", { name: "Wiki", slug: "wiki", provider: provider.outs.pk, metaPublisher: "pulumi:wiki/prod" })),
        );

        const call = (token: string, method: string, path: string, body?: unknown) => fake.status(token, method, path, body);
        const refused: [string, number][] = [
            [
                "the platform's application",
                await call(wiki.token, "PATCH", `/core/applications/${platformApp.id}/`, { meta_launch_url: "https://evil.example/" }),
            ],
            ["another consumer's binding", await call(radarr.token, "DELETE", `/policies/bindings/${binding.id}/`)],
            [
                "another consumer's provider",
                await call(radarr.token, "PATCH", `/providers/proxy/${provider.id}/`, { mode: "forward_single", external_host: "https://evil.example" }),
            ],
            [
                "an outpost not shared with it",
                await call(wiki.token, "PATCH", `/outposts/instances/${fake.objects("outposts_instances").find((o) => o.name === "wifi")!.pk}/`, {
                    config: { kubernetes_json_patches: {} },
                }),
            ],
            ["a group", await call(wiki.token, "PATCH", `/core/groups/${fake.objects("core_groups")[0].pk}/`, { users: [1] })],
        ];
        assert.deepEqual(
            refused.filter(([, status]) => status !== 403),
            [],
            "every one answered 403",
        );
        assert.equal(fake.collections.core_applications.items.get("wiki")!.name, "Wiki", "its own it changed");
        for (const o of [member, binding, app, provider]) await p.delete!(o.id, mine(o.outs as ObjectInputs) as ObjectOutputs);
        assert.deepEqual(attached(), [], "and removed");
        assert.equal(embedded.name, EMBEDDED);
    });

    it("a token without a permission is refused with the permission named", async () => {
        const account = fake.addUser("consumer", { type: "service_account" });
        const token = fake.issueToken(account.pk);
        const provider = object("ProxyProvider", { name: "x", mode: "forward_single", externalHost: "https://x.example.com", ...flows }, token);
        // authentik lists only what one may view (ObjectFilter): a token without view_flow finds no flow.
        await assert.rejects(
            create(provider),
            /flow "default-provider-authorization-implicit-consent": expected one match in authentik, found 0 \(it does not exist, or the token may not view it\)/,
        );
        fake.rolePermissions.set("consumer-role", new Set(["authentik_flows.view_flow"]));
        fake.roleUsers.set("consumer-role", new Set([account.pk]));
        resetEngineCache();
        // Without view the look-up finds nothing (authentik's ObjectFilter shows only what one may view), so it tries to create.
        await assert.rejects(create(provider), /the token lacks the permission authentik_providers_proxy\.add_proxyprovider\)/);
    });
});

describe("examples/protected-app against the packaged ProtectedApp", () => {
    it("compiles in a directory of its own and registers the provider, application, binding and membership from the platform's outputs", async () => {
        const dir = protectedAppProject();
        assert.ok(fs.existsSync(path.join(dir, "bin", "index.js")));
        const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                    if (args.type === "pulumi:pulumi:StackReference") {
                        return {
                            id: String(args.inputs.name),
                            state: { ...args.inputs, outputs: PUBLISHED_OUTPUTS, secretOutputNames: ["oidcClientSecrets", "consumerTokens"] },
                        };
                    }
                    return { id: `${args.name}-id`, state: { ...args.inputs, pk: `${args.name}-pk`, uuid: `${args.name}-uuid` } };
                },
                call: () => ({}),
            },
            "wiki-protected-app",
            "dev",
        );
        pulumi.runtime.setAllConfig({ "wiki-protected-app:platformStack": "org/authentik-platform/homelab" });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require(path.join(dir, "bin", "index.js")) as Record<string, pulumi.Output<unknown>>;
        const auth = await new Promise<Record<string, unknown>>((resolve) => program.wikiAuth.apply((v) => resolve(v as Record<string, unknown>)));
        assert.deepEqual(auth, {
            mode: "forward_single",
            url: "https://wiki.homelab.example/",
            providerId: "wiki-provider-pk",
            outpost: "authentik Embedded Outpost",
        });
        // Registrations whose inputs wait for the provider's pk come after the outputs above.
        for (let i = 0; i < 100 && registered.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/")).length < 4; i++)
            await new Promise((r) => setTimeout(r, 20));
        const dynamic = registered.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/authentik:")).map((r) => `${r.type.split(":").pop()} ${r.name}`);
        assert.deepEqual(dynamic.sort(), [
            "Application wiki-application",
            "OutpostMember wiki-on-outpost",
            "PolicyBinding wiki-allow-homelab-users",
            "ProxyProvider wiki-provider",
        ]);
        const application = registered.find((r) => r.name === "wiki-application")!;
        assert.equal((application.inputs.spec as Record<string, unknown>).metaPublisher, "pulumi:wiki-protected-app/dev");
        assert.equal(application.inputs.apiUrl as string, "https://auth.example.com", "the platform's authentik URL, from the StackReference");
        // The token the platform issued it (consumerTokens.wiki), registered as a secret.
        assert.deepEqual(application.inputs.apiToken, { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "wiki-t0ken" });
        const binding = registered.find((r) => r.name === "wiki-allow-homelab-users")!;
        assert.deepEqual(binding.inputs.spec, { target: "wiki-application-uuid", groupName: "homelab-users", order: 0 });
        assert.deepEqual(registered.find((r) => r.name === "wiki-on-outpost")!.inputs.spec, {
            outpostName: "authentik Embedded Outpost",
            provider: "wiki-provider-pk",
        });
        // A mode change is a provider of another kind under the same name: its app tells the engine which provider steps aside.
        assert.equal((registered.find((r) => r.name === "wiki-provider")!.inputs.spec as Record<string, unknown>).application, "wiki");
    });
});
