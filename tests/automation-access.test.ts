/**
 * The least-privilege path against FakeAuthentik, which enforces authentik's RBAC (global
 * permissions through roles, 403 without them, tokens owned by their user, API tokens expiring
 * after the default token duration): the service account, its role, its self-renewing token, and
 * every kind the engine manages driven with that token alone.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { ENGINE_VERSION, ObjectInputs, ObjectOutputs, authentikProvider as p } from "../lib/authentik-api/provider";
import { resetEngineCache } from "../lib/authentik-api/kinds";
import { accessSummary, automationInitialPermissions, automationPermissions, rotationDue, tokenIdentifier } from "../components/authentik-access/model";
import { TOKEN_ENGINE_VERSION, TokenInputs, TokenOutputs, automationTokenProvider as tp } from "../components/authentik-access/token";
import { REVOCATION_ENGINE_VERSION, RevocationInputs, RevocationOutputs, bootstrapRevocationProvider as rp } from "../components/authentik-access/bootstrap";
import { ADMIN_TOKEN, FakeAuthentik, SEED, useFakeAuthentik } from "./support/fake-authentik";
import { SKIP_UNDER_MUTATION, createFromState } from "./support/serialized";

let fake: FakeAuthentik;
const policy = { deadlineMs: 4000, baseDelayMs: 5, maxDelayMs: 40, requestTimeoutMs: 400 };
const ACCOUNT = "authentik-platform-automation";
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const SEED_FLOWS = { authorizationFlow: SEED.flows[0], invalidationFlow: "default-provider-invalidation-flow" };

/** An object as the platform declares it: with a scoped token, owned by the account's role and handed over with the admin credential (`admin`, "" when none is held). */
const object = (kind: string, spec: Record<string, unknown>, token: string, adopt = false, admin = ADMIN_TOKEN): ObjectInputs => ({
    kind,
    apiUrl: fake.url,
    apiToken: token,
    policy,
    spec,
    adopt,
    engineVersion: ENGINE_VERSION,
    ...(token === ADMIN_TOKEN ? {} : { grantTo: ACCOUNT, adminToken: admin }),
});
async function create(i: ObjectInputs) {
    const r = await p.create!(i);
    return { id: r.id, outs: r.outs as ObjectOutputs, inputs: i };
}
const tokenInputs = (user: string, adminToken = ADMIN_TOKEN): TokenInputs => ({
    apiUrl: fake.url,
    adminToken,
    account: ACCOUNT,
    user,
    rotateAfter: 0.5,
    maxSelfRenewalMs: 90 * DAY,
    policy,
    engineVersion: TOKEN_ENGINE_VERSION,
});
/** A token as state holds it `hours` into its 24-hour life. */
const aged = (t: TokenOutputs, hours: number): TokenOutputs => ({
    ...t,
    issued: new Date(Date.now() - hours * HOUR).toISOString(),
    expires: new Date(Date.now() + (24 - hours) * HOUR).toISOString(),
});
/** 200 when authentik accepts the token (listing one's own tokens needs no permission), 403 when it refuses it. */
const works = async (key: string) => (await fetch(`${fake.url}/api/v3/core/tokens/`, { headers: { authorization: `Bearer ${key}` } })).status;

/** The account, its role with `permissions` (and `initialPermissions` on what it creates), and a token issued with the admin credential. */
async function automation(permissions: string[], initialPermissions = automationInitialPermissions()) {
    const account = await create(object("ServiceAccount", { username: ACCOUNT }, ADMIN_TOKEN));
    const role = await create(object("Role", { name: ACCOUNT, permissions, initialPermissions, user: account.outs.pk }, ADMIN_TOKEN));
    const token = (await tp.create!(tokenInputs(account.outs.pk))).outs as TokenOutputs;
    return { account, role, token };
}

/** Everything the platform does to authentik, with one token: create every kind, read, change, delete. */
async function everyKind(token: string, opts: { superuserGroup?: boolean } = {}) {
    const flows = { authorizationFlow: SEED.flows[0], invalidationFlow: "default-provider-invalidation-flow" };
    // Groups are the admin credential's (ADMIN_WRITES); the token binds them.
    const group = await create(object("Group", { name: "admins", isSuperuser: opts.superuserGroup ?? false }, ADMIN_TOKEN));
    const proxy = await create(object("ProxyProvider", { name: "wiki", mode: "forward_single", externalHost: "https://wiki.example.com", ...flows }, token));
    const oidc = await create(
        object(
            "OAuth2Provider",
            {
                name: "grafana",
                clientType: "confidential",
                clientId: "grafana",
                clientSecret: "s".repeat(40),
                redirectUris: [],
                scopes: ["openid"],
                signingKey: SEED.certificate,
                ...flows,
            },
            token,
        ),
    );
    const radius = await create(object("RadiusProvider", { name: "wifi", clientNetworks: "10.0.0.0/24", sharedSecret: "r".repeat(32), ...flows }, token));
    const ldap = await create(
        object("LdapProvider", { name: "directory", baseDn: "dc=example,dc=com", searchMode: "direct", bindMode: "direct", ...flows }, token),
    );
    const app = await create(object("Application", { name: "Wiki", slug: "wiki", provider: proxy.outs.pk }, token));
    const binding = await create(object("PolicyBinding", { target: app.outs.uuid, group: group.outs.pk, order: 0 }, token));
    const outpost = await create(
        object("Outpost", { name: "wifi", type: "radius", serviceConnection: SEED.serviceConnection, initialProviders: [radius.outs.pk], config: {} }, token),
    );
    const embedded = fake.embedded();
    // authentik's own outpost is adopted: the admin credential hands the role change on it.
    const ownOutpost = await create(
        object(
            "Outpost",
            { name: embedded.name, type: "proxy", managed: SEED.embeddedOutpost, config: { authentik_host: "https://auth.example.com" } },
            token,
            true,
        ),
    );
    const member = await create(object("OutpostMember", { outpost: embedded.pk, outpostName: embedded.name, provider: proxy.outs.pk }, token));
    const all = [group, proxy, oidc, radius, ldap, app, binding, outpost, ownOutpost, member];
    for (const o of all) {
        const read = (await p.read!(o.id, o.outs)).props as ObjectOutputs;
        assert.deepEqual([read.authRefused, read.drift], [false, []], `${o.inputs.kind} reads back unchanged`);
    }
    // Once the admin credential is gone (api.admin: none), the token reads the groups.
    const groupRead = (await p.read!(group.id, { ...group.outs, apiToken: token })).props as ObjectOutputs;
    assert.deepEqual([groupRead.authRefused, groupRead.drift], [false, []], "a group reads back with the token");
    // Drift corrected (every kind is written back whole), and a changed spec.
    for (const o of all) await p.update!(o.id, { ...o.outs, drift: ["(changed in the UI)"] }, o.inputs);
    await p.update!(app.id, app.outs, { ...app.inputs, spec: { ...app.inputs.spec, metaDescription: "the wiki" } });
    // A second run finds the app by its slug (a scoped token cannot list applications it may not use).
    resetEngineCache();
    await create(object("Application", { name: "Wiki", slug: "wiki", provider: proxy.outs.pk }, token, true, ""));
    for (const o of [...all].reverse()) await p.delete!(o.id, o.outs);
}

useFakeAuthentik((started) => (fake = started));

describe("the automation role's permissions", () => {
    it("are view on what the program manages or references and add on what it writes: no global change or delete", () => {
        const granted = automationPermissions();
        for (const model of [
            "authentik_core.application",
            "authentik_policies.policybinding",
            "authentik_outposts.outpost",
            "authentik_providers_proxy.proxyprovider",
        ]) {
            const [app, name] = model.split(".");
            for (const verb of ["view", "add"]) assert.ok(granted.includes(`${app}.${verb}_${name}`), `${verb} ${model}`);
        }
        for (const viewOnly of [
            "authentik_core.view_group",
            "authentik_flows.view_flow",
            "authentik_providers_oauth2.view_scopemapping",
            "authentik_crypto.view_certificatekeypair",
            "authentik_outposts.view_kubernetesserviceconnection",
        ]) {
            assert.ok(granted.includes(viewOnly), viewOnly);
        }
        assert.equal(granted.length, 19, "view on 8 managed models + add on the 7 it writes + view on 4 referenced models");
        assert.ok(
            !granted.some((perm) => /_user$|_token|_role$|superuser|add_flow|change_flow|\.(change|delete)_|add_group$/.test(perm)),
            "no users, tokens, roles, flows, superuser status, group writes, or global change/delete",
        );
    });

    it("change and delete come object by object: on what its token creates (initial permissions)", () => {
        assert.deepEqual(automationInitialPermissions(), [
            "authentik_core.change_application",
            "authentik_core.delete_application",
            "authentik_outposts.change_outpost",
            "authentik_outposts.delete_outpost",
            "authentik_policies.change_policybinding",
            "authentik_policies.delete_policybinding",
            "authentik_providers_ldap.change_ldapprovider",
            "authentik_providers_ldap.delete_ldapprovider",
            "authentik_providers_oauth2.change_oauth2provider",
            "authentik_providers_oauth2.delete_oauth2provider",
            "authentik_providers_proxy.change_proxyprovider",
            "authentik_providers_proxy.delete_proxyprovider",
            "authentik_providers_radius.change_radiusprovider",
            "authentik_providers_radius.delete_radiusprovider",
        ]);
    });
});

describe("rotation timing", () => {
    const issued = "2026-12-01T00:00:00.000Z";
    const expires = "2026-12-02T00:00:00.000Z";
    it("is due once half the lifetime has passed, not before", () => {
        assert.equal(rotationDue({ issued, expires }, new Date("2026-12-01T11:59:59Z")), false);
        assert.equal(rotationDue({ issued, expires }, new Date("2026-12-01T12:00:00Z")), true);
        assert.equal(rotationDue({ issued, expires }, new Date("2026-12-01T17:00:00Z"), 0.75), false);
        assert.equal(rotationDue({ issued, expires }, new Date("2026-12-01T18:00:00Z"), 0.75), true);
    });
    it("never for a token authentik made non-expiring (the summary flags it instead of rotating every run)", () => {
        assert.equal(rotationDue({ issued, expires: null }, new Date("2030-01-01T00:00:00Z")), false);
    });
    it("is due when the recorded times cannot be read (a state written by hand): a new token is safe", () => {
        assert.equal(rotationDue({ issued: "yesterday", expires }, new Date("2026-12-01T01:00:00Z")), true);
        assert.equal(rotationDue({ issued, expires: "soon" }, new Date("2026-12-01T01:00:00Z")), true);
    });
    it("names tokens the way authentik accepts identifiers", () => {
        assert.match(tokenIdentifier(ACCOUNT, new Date(issued)), /^authentik-platform-automation-[0-9]+$/);
    });
});

describe("the plan's line on API access", () => {
    const scoped = {
        token: "scoped" as const,
        admin: "bootstrap" as const,
        account: ACCOUNT,
        rotateAfterPercent: 50,
        maxSelfRenewalDays: 90,
        superuserGroups: [] as string[],
        bootstrapCredentials: true,
        managesObjects: true,
    };
    it("names the account, its permission count, the rotation and who made it", () => {
        assert.equal(
            accessSummary(scoped),
            "API token: service account authentik-platform-automation's: 19 global permissions (view; add on what it writes), change and delete only on the objects its role owns (those its token created, and those the admin credential handed it); groups are written only with the admin credential (a token that may change a group may change its members); expires after authentik's default token duration, rotated after 50% of it; made with the bootstrap token (api.admin; set none after this install: the bootstrap token is then revoked in authentik); the token renews itself for at most 90 days after the admin credential last issued it, deleting every other token of the account at each rotation; bootstrap token and password still handed to the pods (authentik.bootstrapCredentials)",
        );
    });
    it("says that groups are the admin credential's, and plainly that managing a superuser group is superuser power", () => {
        assert.match(
            accessSummary({ ...scoped, superuserGroups: ["admins"] }),
            /handed it\); groups are written only with the admin credential, and admins is a superuser group: managing it is superuser power;/,
        );
        assert.match(accessSummary({ ...scoped, superuserGroups: ["a", "b"] }), /a, b are superuser groups: managing them is superuser power/);
    });
    it("says when no superuser credential is held and the pods have no bootstrap credentials", () => {
        const line = accessSummary({ ...scoped, admin: "none", bootstrapCredentials: false });
        assert.match(
            line,
            /no superuser credential held \(api\.admin: none\): the token renews itself for at most 90 days after the admin credential last issued it, deleting every other token of the account at each rotation, then needs api\.admin for one up; authentik-bootstrap-token is revoked in authentik; no bootstrap credentials in the pods \(generated ones from an earlier up: pulumi state unprotect them first/,
        );
        assert.match(
            accessSummary({ ...scoped, admin: "apiToken", maxSelfRenewalDays: 30 }),
            /made with credentials\.apiToken \(api\.admin; set none after this install\); authentik-bootstrap-token is revoked in authentik; the token renews itself for at most 30 days/,
        );
    });
    it("calls a superuser token what it is, and says when there is none", () => {
        assert.match(accessSummary({ ...scoped, token: "bootstrap" }), /^API token: the bootstrap token: a superuser token that never expires/);
        assert.match(accessSummary({ ...scoped, token: "apiToken" }), /^API token: credentials\.apiToken: its permissions and expiry are as you created it/);
        assert.equal(accessSummary({ ...scoped, managesObjects: false }), "API token: none (the stack manages no authentik objects)");
    });
});

describe("the service account, its role and its token", () => {
    it("are made with the admin credential, and the account keeps no app password", async () => {
        const { account, token } = await automation(automationPermissions());
        const user = fake.users.get(Number(account.outs.pk))!;
        assert.equal(user.type, "service_account");
        assert.equal(user.isSuperuser, false);
        assert.deepEqual(
            [...fake.tokens.values()].filter((t) => t.user === user.pk).map((t) => t.intent),
            ["api"],
            "the app password authentik issues with the account is deleted",
        );
        assert.equal(await works(token.key), 200);
        assert.ok(token.expires && Date.parse(token.expires) - Date.now() <= 24 * HOUR, "it expires, after authentik's default duration");
        assert.equal((await p.read!(account.id, account.outs)).id, account.id);
    });

    it("a role reads back its permissions and member, and a removed permission is drift that the update restores", async () => {
        const permissions = automationPermissions();
        const { role } = await automation(permissions);
        assert.deepEqual([...fake.rolePermissions.get(role.id)!].sort(), permissions);
        fake.rolePermissions.get(role.id)!.delete("authentik_core.add_application");
        fake.rolePermissions.get(role.id)!.add("authentik_core.add_user");
        const read = (await p.read!(role.id, role.outs)).props as ObjectOutputs;
        assert.deepEqual(read.drift, ["permissions"]);
        await p.update!(role.id, read, role.inputs);
        assert.deepEqual([...fake.rolePermissions.get(role.id)!].sort(), permissions, "missing one granted, extra one revoked");
        fake.roleUsers.get(role.id)!.clear();
        assert.deepEqual(((await p.read!(role.id, role.outs)).props as ObjectOutputs).drift, ["user"], "a removed member is drift too");
    });

    it("a token with exactly these permissions does everything the platform does", async () => {
        const { token } = await automation(automationPermissions());
        await everyKind(token.key);
        assert.deepEqual(
            fake.calls.filter((c) => / 403$/.test(c)),
            ["PATCH outposts_instances_partial_update 403"],
            "nothing refused but the first write of authentik's own outpost, which the admin credential then hands over",
        );
    });

    /** The permissions of `all` without which everything the platform does still succeeds (`grant` makes the account holding the rest). */
    async function unneeded(all: string[], grant: (held: string[]) => Promise<{ token: TokenOutputs }>): Promise<string[]> {
        const spare: string[] = [];
        for (const dropped of all) {
            fake.reset();
            resetEngineCache();
            const { token } = await grant(all.filter((perm) => perm !== dropped));
            try {
                await everyKind(token.key);
                spare.push(dropped);
            } catch {
                // refused, as it should be
            }
        }
        return spare;
    }

    it("each permission is needed: without any one of them, something the platform does is refused", { timeout: 120_000 }, async () => {
        assert.deepEqual(await unneeded(automationPermissions(), (held) => automation(held)), []);
    });

    it("the token cannot make itself superuser, nor touch any group's members: groups are the admin credential's", async () => {
        const { account, token } = await automation(automationPermissions());
        const admins = fake.addUser("alice", {});
        const superusers = {
            pk: "3f1d2c4b-0000-4000-8000-0000000000b1",
            name: "authentik Admins",
            is_superuser: true,
            attributes: {},
            parents: [],
            users: [admins.pk],
            roles: [],
        };
        fake.collections.core_groups.items.set(superusers.pk, superusers);
        const call = (method: string, path: string, body: unknown) => fake.status(token.key, method, path, body);
        // The one request that made the scoped token superuser on a real 2026.2.2 server.
        assert.equal(await call("PATCH", `/core/groups/${superusers.pk}/`, { users: [Number(account.outs.pk)] }), 403);
        assert.equal(await call("POST", "/core/groups/", { name: "mine", users: [Number(account.outs.pk)], parents: [superusers.pk] }), 403);
        assert.deepEqual(superusers.users, [admins.pk], "alice is still the only admin");
        assert.equal(fake.users.get(Number(account.outs.pk))!.isSuperuser, false);
        // Through the engine the refusal says what to do.
        const ours = await create(object("Group", { name: "media" }, ADMIN_TOKEN));
        await assert.rejects(
            p.update!(ours.id, ours.outs, object("Group", { name: "media-2" }, token.key)),
            /lacks the permission authentik_core\.change_group; a Group is written only with the admin credential: set api\.admin to bootstrap or apiToken for this run/,
        );
        await everyKind(token.key, { superuserGroup: true });
    });

    it("each initial permission is needed: without any one, the token cannot change or delete something it made", { timeout: 120_000 }, async () => {
        assert.deepEqual(await unneeded(automationInitialPermissions(), (held) => automation(automationPermissions(), held)), []);
    });

    it("refuses the token everything the stack does not own: others' objects, flows, users, roles, permissions (403)", async () => {
        const { account, token } = await automation(automationPermissions());
        fake.populate(1); // Terraform's: a provider, its application, a binding, on the embedded outpost
        const [legacyApp] = fake.objects("core_applications");
        const [legacyProvider] = fake.objects("providers_proxy");
        const [legacyBinding] = fake.objects("policies_bindings");
        const call = (method: string, path: string, body?: unknown) => fake.status(token.key, method, path, body);
        const refused: [string, number][] = [
            ["an application", await call("PATCH", `/core/applications/${legacyApp.slug}/`, { meta_launch_url: "https://evil.example/" })],
            ["a provider", await call("PATCH", `/providers/proxy/${legacyProvider.pk}/`, { mode: "forward_single", external_host: "https://evil.example" })],
            ["a binding (removing it opens the app to everyone)", await call("DELETE", `/policies/bindings/${legacyBinding.pk}/`)],
            [
                "an outpost not handed over",
                await call("PATCH", `/outposts/instances/${fake.embedded().pk}/`, { config: { kubernetes_json_patches: { deployment: [] } } }),
            ],
            ["a flow", await call("PATCH", `/flows/instances/default-authentication-flow/`, { title: "x" })],
            ["a user", await call("PATCH", `/core/users/1/`, { is_active: false })],
            ["a role", await call("PATCH", `/rbac/roles/${fake.objects("rbac_roles")[0].pk}/`, { name: "x" })],
            // A role cannot grant itself anything: assign needs assign_role_permissions on the role.
            [
                "its own role's permissions",
                await call("POST", `/rbac/permissions/assigned_by_roles/${fake.objects("rbac_roles")[0].pk}/assign/`, {
                    permissions: ["authentik_core.change_application"],
                }),
            ],
        ];
        assert.deepEqual(
            refused.filter(([, status]) => status !== 403),
            [],
            "every one answered 403",
        );
        assert.equal(legacyApp.meta_launch_url, "https://legacy-001.example.com/", "nothing changed");
        assert.equal(fake.objects("policies_bindings").length, 1);
        assert.equal(fake.users.get(Number(account.outs.pk))!.isSuperuser, false);
    });

    it("adopting hands the object to the role with the admin credential; without one it says to set api.admin", async () => {
        const { token } = await automation(automationPermissions());
        fake.populate(1);
        const spec = {
            name: "legacy-001",
            slug: "legacy-001",
            provider: fake.objects("providers_proxy")[0].pk,
            metaLaunchUrl: "https://legacy-001.example.com/",
        };
        await assert.rejects(
            create(object("Application", spec, token.key, true, "")),
            /the automation role holds no permission on it \(its token did not create it\), and only the admin credential can hand it over: set api\.admin to bootstrap or apiToken for this run/,
        );
        const adopted = await create(object("Application", { ...spec, metaDescription: "ours now" }, token.key, true));
        assert.equal(adopted.outs.grantedTo, ACCOUNT);
        assert.equal(fake.objects("core_applications")[0].meta_description, "ours now");
        assert.equal(
            fake.writes
                .filter((w) => w.op.startsWith("PATCH core_applications"))
                .map((w) => w.user)
                .join(),
            ACCOUNT,
            "the token writes it once handed over",
        );
        assert.equal(
            fake.calls.filter((c) => / 403$/.test(c) && c.includes("core_applications_partial_update")).length,
            2,
            "refused before each hand-over: the token tries first",
        );
    });

    it("an object made before roles held object permissions is handed over on the first run with the admin credential, and only then", async () => {
        const { token } = await automation(automationPermissions());
        const before = await create(object("Application", { name: "Wiki", slug: "wiki" }, ADMIN_TOKEN)); // as the superuser-era engine left it
        const state = { ...before.outs, apiToken: token.key };
        delete (state as Partial<ObjectOutputs>).grantedTo;
        const steady = object("Application", { name: "Wiki", slug: "wiki" }, token.key, false, "");
        assert.equal((await p.diff!(before.id, state, steady)).changes, false, "api.admin: none: nothing to do, nothing refused");
        const withAdmin = object("Application", { name: "Wiki", slug: "wiki" }, token.key);
        assert.equal((await p.diff!(before.id, state, withAdmin)).changes, true);
        const handed = (await p.update!(before.id, state, withAdmin)).outs as ObjectOutputs;
        assert.equal(handed.grantedTo, ACCOUNT);
        await p.update!(before.id, handed, { ...withAdmin, spec: { name: "Wiki 2", slug: "wiki" } });
        assert.equal(fake.objects("core_applications")[0].name, "Wiki 2", "the token may now change it");
        const dropped = await p.diff!(before.id, handed, steady);
        assert.equal(dropped.changes, true, "api.admin: none drops the admin credential from state: an update that writes nothing");
        const writes = fake.writes.length;
        const steadyState = (await p.update!(before.id, handed, steady)).outs as ObjectOutputs;
        assert.deepEqual(
            [steadyState.adminToken, steadyState.grantedTo, fake.writes.length],
            ["", ACCOUNT, writes],
            "no superuser token left in state, nothing written",
        );
        assert.equal((await p.diff!(before.id, steadyState, steady)).changes, false, "handed over once");
    });

    it("a refusal says what to do: an object it does not own names api.admin's hand-over; a group, the admin credential", async () => {
        const { token } = await automation(automationPermissions());
        const theirs = await create(object("Application", { name: "Theirs", slug: "theirs" }, ADMIN_TOKEN));
        await assert.rejects(
            p.update!(theirs.id, { ...theirs.outs, apiToken: token.key }, object("Application", { name: "Mine", slug: "theirs" }, token.key, false, "")),
            /\(the token lacks the permission authentik_core\.change_application; a scoped token changes and deletes only the objects its role owns: those it created, or was handed with api\.admin\)$/,
        );
        await assert.rejects(
            p.delete!(theirs.id, { ...theirs.outs, apiToken: token.key }),
            /lacks the permission authentik_core\.delete_application; a scoped token changes and deletes only/,
        );
        await assert.rejects(
            create(object("Group", { name: "new" }, token.key)),
            /lacks the permission authentik_core\.add_group; a Group is written only with the admin credential/,
        );
        // Adopting a group with the token is not handed over (groups are the admin's): its refusal stands.
        await create(object("Group", { name: "existing" }, ADMIN_TOKEN));
        fake.calls.length = 0;
        await assert.rejects(
            create({ ...object("Group", { name: "existing" }, token.key, true), grantTo: ACCOUNT, adminToken: ADMIN_TOKEN }),
            /lacks the permission authentik_core\.change_group; a Group is written only/,
        );
        // Only a refusal (403) hands an object over: authentik refusing the body (400) is said as it is.
        await create(object("ProxyProvider", { name: "own", mode: "forward_single", externalHost: "https://own.example.com", ...SEED_FLOWS }, token.key));
        await assert.rejects(
            create(object("ProxyProvider", { name: "own", mode: "proxy", externalHost: "https://own.example.com", ...SEED_FLOWS }, token.key, true)),
            /HTTP 400: \{"internal_host"/,
        );
        assert.ok(!fake.calls.some((c) => c.startsWith("POST rbac_permissions_assigned_by_roles_assign")), "nothing handed over");
    });

    it("shares a new outpost with the consumer roles on creation, once; without the admin credential on the next run that has it", async () => {
        const { token } = await automation(automationPermissions());
        fake.collections.rbac_roles.items.set("consumer-role-uuid", { pk: "consumer-role-uuid", name: "authentik-platform-consumer-wiki" });
        const radius = await create(
            object("RadiusProvider", { name: "wifi", clientNetworks: "10.0.0.0/24", sharedSecret: "r".repeat(32), ...SEED_FLOWS }, token.key),
        );
        const spec = { name: "wifi", type: "radius", serviceConnection: SEED.serviceConnection, initialProviders: [radius.outs.pk], config: {} };
        const shared = { sharedWith: ["authentik-platform-consumer-wiki"] };
        const made = await create({ ...object("Outpost", spec, token.key, false, ""), ...shared });
        assert.deepEqual(made.outs.sharedGranted, [], "no admin credential: not shared yet");
        const later = { ...object("Outpost", spec, token.key), ...shared };
        assert.equal((await p.diff!(made.id, made.outs, later)).changes, true, "the next run with the admin credential shares it");
        const handed = (await p.update!(made.id, made.outs, later)).outs as ObjectOutputs;
        assert.deepEqual(handed.sharedGranted, ["authentik-platform-consumer-wiki"]);
        assert.ok(fake.roleObjectPermissions.get("consumer-role-uuid")?.has(`authentik_outposts.change_outpost@${made.id}`), "change on that outpost");
        assert.equal((await p.diff!(made.id, handed, later)).changes, false, "once");
        const second = { ...later, sharedWith: ["authentik-platform-consumer-wiki", "authentik-platform-consumer-radarr"] };
        fake.collections.rbac_roles.items.set("radarr-role-uuid", { pk: "radarr-role-uuid", name: "authentik-platform-consumer-radarr" });
        const both = (await p.update!(made.id, handed, second)).outs as ObjectOutputs;
        assert.deepEqual(
            both.sharedGranted,
            ["authentik-platform-consumer-wiki", "authentik-platform-consumer-radarr"],
            "a consumer added later is shared too, the first kept",
        );
        const direct = await create({ ...object("Outpost", { ...spec, name: "wifi-2" }, token.key), ...shared });
        assert.deepEqual(direct.outs.sharedGranted, ["authentik-platform-consumer-wiki"], "with the admin credential: shared on creation");
    });

    it("finds an application that already exists by its slug, even one the account may not use", async () => {
        fake.populate(3);
        const { token } = await automation(automationPermissions());
        const legacy = fake.objects("core_applications").find((a) => a.slug === "legacy-002")!;
        await create(
            object(
                "Application",
                { name: "legacy-002", slug: "legacy-002", provider: legacy.provider, metaLaunchUrl: "https://legacy-002.example.com/" },
                token.key,
                true,
            ),
        );
        assert.equal(fake.objects("core_applications").filter((a) => a.slug === "legacy-002").length, 1, "taken over, not created twice");
    });
});

describe("the token renews itself", () => {
    it("is not rotated while young, and no change is reported", async () => {
        const { account, token } = await automation([]);
        assert.equal((await tp.diff!(account.id, token, tokenInputs(account.outs.pk))).changes, false);
    });

    it("past half its life, without any admin credential: a new token, the previous kept valid, the one before deleted", async () => {
        const { account, token } = await automation([]);
        const noAdmin = tokenInputs(account.outs.pk, "");
        const first = aged(token, 13);
        assert.equal((await tp.diff!(account.id, first, noAdmin)).changes, true);
        const second = (await tp.update!(account.id, first, noAdmin)).outs as TokenOutputs;
        assert.notEqual(second.key, token.key);
        assert.equal(await works(second.key), 200);
        assert.equal(await works(token.key), 200, "the previous token stays valid (objects of a failed run still hold it)");
        assert.equal(second.previous, token.identifier);
        assert.equal(fake.tokens.get(second.identifier)!.user, Number(account.outs.pk), "issued by the account to itself");

        await new Promise((r) => setTimeout(r, 5)); // a later run: a distinct identifier
        const third = (await tp.update!(account.id, aged(second, 13), noAdmin)).outs as TokenOutputs;
        assert.equal(await works(token.key), 403, "the one before the previous is deleted");
        assert.equal(await works(second.key), 200);
        assert.equal(await works(third.key), 200);
    });

    it("expired, with no admin credential: the refresh reads it as refused and the update says exactly what to do", async () => {
        const { account, token } = await automation([]);
        fake.clockOffsetMs = 25 * HOUR;
        const read = (await tp.read!(account.id, token)).props as TokenOutputs;
        assert.equal(read.refused, true);
        assert.equal((await tp.diff!(account.id, read, tokenInputs(account.outs.pk, ""))).changes, true);
        await assert.rejects(
            tp.update!(account.id, read, tokenInputs(account.outs.pk, "")),
            /refuses it .*api\.admin is none.*Set api\.admin to bootstrap or apiToken/,
        );
    });

    it("expired, with the admin credential: a new one is issued and the dead ones removed", async () => {
        const { account, token } = await automation([]);
        fake.clockOffsetMs = 25 * HOUR;
        const read = (await tp.read!(account.id, token)).props as TokenOutputs;
        const renewed = (await tp.update!(account.id, read, tokenInputs(account.outs.pk))).outs as TokenOutputs;
        assert.equal(await works(renewed.key), 200);
        assert.equal(renewed.refused, false);
        assert.equal(fake.tokens.has(token.identifier), false);
    });

    it("every rotation deletes the tokens a stolen key minted for the account; the previous one stays", async () => {
        const { account, token } = await automation([]);
        // authentik lets any user create its own API tokens and read their keys (authentik/core/api/tokens.py).
        const asAccount = { authorization: `Bearer ${token.key}`, "content-type": "application/json" };
        assert.equal(
            (
                await fetch(`${fake.url}/api/v3/core/tokens/`, {
                    method: "POST",
                    headers: asAccount,
                    body: JSON.stringify({ identifier: "minted-by-a-thief", intent: "api" }),
                })
            ).status,
            201,
        );
        const minted = ((await (await fetch(`${fake.url}/api/v3/core/tokens/minted-by-a-thief/view_key/`, { headers: asAccount })).json()) as { key: string })
            .key;
        assert.equal(await works(minted), 200);
        const second = (await tp.update!(account.id, aged(token, 13), tokenInputs(account.outs.pk, ""))).outs as TokenOutputs;
        assert.equal(await works(minted), 403, "deleted by the rotation");
        assert.equal(await works(token.key), 200, "the previous token stays valid");
        assert.equal(await works(second.key), 200);
        assert.equal(fake.tokens.get("authentik-bootstrap-token")?.user, 1, "another user's token is not the account's to sweep");
    });

    it("renews itself only maxSelfRenewalDays after the admin credential issued the chain; then only the admin issues, keeping no other token", async () => {
        const { account, token } = await automation([]);
        assert.equal(token.chainStarted, token.issued, "the admin credential starts a chain");
        const chainAt = (days: number) => new Date(Date.now() - days * DAY).toISOString();
        // Day 89: a self-renewal keeps the chain's start.
        const day89 = chainAt(89);
        const renewed = (await tp.update!(account.id, { ...aged(token, 13), chainStarted: day89 }, tokenInputs(account.outs.pk, ""))).outs as TokenOutputs;
        assert.equal(renewed.chainStarted, day89, "unchanged by a self-renewal");
        assert.equal(renewed.previous, token.identifier);
        // Day 91: due however young the token is, and refused without the admin credential.
        const over = { ...aged(renewed, 1), chainStarted: chainAt(91) };
        assert.equal((await tp.diff!(account.id, over, tokenInputs(account.outs.pk, ""))).changes, true);
        await assert.rejects(
            tp.update!(account.id, over, tokenInputs(account.outs.pk, "")),
            /it has renewed itself for 90 days since the admin credential last issued it \(api\.automation\.maxSelfRenewalDays\), and api\.admin is none/,
        );
        assert.equal(await works(renewed.key), 200, "a refused renewal touches nothing");
        const fresh = (await tp.update!(account.id, over, tokenInputs(account.outs.pk))).outs as TokenOutputs;
        assert.equal(fresh.chainStarted, fresh.issued, "a new chain");
        assert.equal(fresh.previous, undefined);
        assert.equal(await works(fresh.key), 200);
        assert.equal(await works(renewed.key), 403, "a new chain keeps no token a stolen key could have read");
        assert.equal(await works(token.key), 403);
        assert.equal(fake.tokens.get(fresh.identifier)!.viewers.length, 0, "issued by the admin credential");
    });

    it("a token in state from before chains were counted starts its chain at its own issue time", async () => {
        const { account, token } = await automation([]);
        const before = { ...aged(token, 13), chainStarted: undefined, issued: new Date(Date.now() - 95 * DAY).toISOString() };
        await assert.rejects(tp.update!(account.id, before, tokenInputs(account.outs.pk, "")), /renewed itself for 90 days/);
        const young = { ...aged(token, 13), chainStarted: undefined };
        assert.equal(((await tp.update!(account.id, young, tokenInputs(account.outs.pk, ""))).outs as TokenOutputs).chainStarted, young.issued);
    });

    it("cannot be created without the admin credential, and says so", async () => {
        await assert.rejects(tp.create!(tokenInputs("7", "")), /there is none yet.*api\.admin is none/);
    });

    it("on delete, removes the current and the previous token", async () => {
        const { account, token } = await automation([]);
        const second = (await tp.update!(account.id, aged(token, 13), tokenInputs(account.outs.pk, ""))).outs as TokenOutputs;
        await tp.delete!(account.id, second);
        assert.deepEqual(
            [...fake.tokens.values()].filter((t) => t.user === Number(account.outs.pk)).map((t) => t.identifier),
            [],
        );
    });
});

describe("the bootstrap token is revoked once nothing relies on it", () => {
    const revocation = (bootstrapToken: string, adminToken = ""): RevocationInputs => ({
        apiUrl: fake.url,
        bootstrapToken,
        adminToken,
        policy,
        engineVersion: REVOCATION_ENGINE_VERSION,
    });
    const revoke = async (i: RevocationInputs) => (await rp.create!(i)).outs as RevocationOutputs;

    it("deletes itself while the stack holds it (a user may delete its own token), and keeps no credential in state", async () => {
        const outs = await revoke(revocation(ADMIN_TOKEN));
        assert.deepEqual({ ...outs, at: undefined }, { apiUrl: fake.url, revoked: true, by: "itself", at: undefined });
        assert.equal(fake.tokens.has("authentik-bootstrap-token"), false);
        assert.equal(await works(ADMIN_TOKEN), 403, "the superuser token no longer authenticates");
        assert.ok(!JSON.stringify(outs).includes(ADMIN_TOKEN));
        assert.deepEqual(
            { ...(await revoke(revocation(ADMIN_TOKEN))), at: undefined },
            { apiUrl: fake.url, revoked: true, by: "itself", at: undefined },
            "already revoked (403): nothing to do",
        );
    });

    it("with credentials.apiToken once the stack no longer holds the bootstrap token; a token already deleted in the UI is fine", async () => {
        const apiToken = fake.issueToken(1, { identifier: "admin-api", expiring: false });
        assert.equal((await revoke(revocation("", apiToken))).by, "admin");
        assert.equal(await works(ADMIN_TOKEN), 403);
        assert.equal(await works(apiToken), 200, "the admin's own token stays");
        assert.equal((await revoke(revocation("", apiToken))).revoked, true, "404: already gone");
    });

    it("a refusal of the admin credential is an error, not a revocation", async () => {
        await assert.rejects(revoke(revocation("", "not-a-token")), /authentik-bootstrap-token: delete/);
        assert.equal(await works(ADMIN_TOKEN), 200);
    });

    it("without either credential it records that it is not revoked, and tries again on the run that has one; once revoked nothing is work", async () => {
        const none = await revoke(revocation(""));
        assert.deepEqual(none, { apiUrl: fake.url, revoked: false });
        assert.equal(await works(ADMIN_TOKEN), 200);
        assert.equal((await rp.diff!("authentik-bootstrap-token", none, revocation(""))).changes, false);
        assert.equal((await rp.diff!("authentik-bootstrap-token", none, revocation(ADMIN_TOKEN))).changes, true);
        const done = (await rp.update!("authentik-bootstrap-token", none, revocation(ADMIN_TOKEN))).outs as RevocationOutputs;
        assert.equal(done.revoked, true);
        assert.deepEqual(await rp.diff!("authentik-bootstrap-token", done, revocation(ADMIN_TOKEN, "x")), {
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        assert.deepEqual(await rp.diff!("authentik-bootstrap-token", none, revocation("", "x")), { changes: true, replaces: [], deleteBeforeReplace: false });
        assert.equal(REVOCATION_ENGINE_VERSION, "1");
        assert.deepEqual(await rp.check!(none as never, revocation("")), { inputs: revocation(""), failures: [] });
        assert.deepEqual((await rp.read!("authentik-bootstrap-token", done)).props, done);
        await rp.delete!("authentik-bootstrap-token", done);
        assert.equal(fake.tokens.has("authentik-bootstrap-token"), false, "deleting the resource brings nothing back");
    });
});

describe("the token resource's diff, read and update", () => {
    it("a changed input is a change, the young token kept; only a new account replaces it", async () => {
        const { account, token } = await automation([]);
        const same = tokenInputs(account.outs.pk);
        for (const [key, value] of Object.entries({
            apiUrl: "https://other.example",
            adminToken: "another-admin",
            account: "other-account",
            user: "99",
            rotateAfter: 0.75,
            engineVersion: "0",
        })) {
            const diff = await tp.diff!(account.id, token, { ...same, [key]: value });
            assert.equal(diff.changes, true, `${key} changed`);
            assert.deepEqual(diff.replaces, key === "account" ? ["account"] : [], key);
            assert.equal(diff.deleteBeforeReplace, false);
        }
        assert.equal((await tp.diff!(account.id, { ...token, refused: true }, same)).changes, true, "a refused token is a change");
        const updated = (await tp.update!(account.id, token, { ...same, adminToken: "rotated-admin" })).outs as TokenOutputs;
        assert.equal(updated.key, token.key, "a new admin credential does not replace a young token");
        assert.equal(updated.adminToken, "rotated-admin", "but is stored");
        const moved = (await tp.update!(account.id, token, { ...same, apiUrl: fake.url + "/" })).outs as TokenOutputs;
        assert.notEqual(moved.key, token.key, "another authentik URL: a token issued there");
    });

    it("says the account is unknown when a token must be issued by the admin and no account pk is known", async () => {
        const { account, token } = await automation([]);
        await assert.rejects(
            tp.update!(account.id, { ...token, refused: true }, tokenInputs("", ADMIN_TOKEN)),
            /the account's pk is unknown \(api\.admin is none\); set api\.admin for one run/,
        );
    });

    it("describes the tokens it issues, and keeps them expiring", async () => {
        const { token } = await automation([]);
        const issued = fake.tokens.get(token.identifier)!;
        assert.equal(issued.description, "authentik-platform automation (issued and rotated by pulumi up)");
        assert.equal(issued.expiring, true);
    });

    it("reads the expiry authentik holds, and null for a token authentik made non-expiring", async () => {
        const { account, token } = await automation([]);
        const later = new Date(Date.now() + 3 * HOUR).toISOString();
        fake.tokens.get(token.identifier)!.expires = later;
        assert.equal(((await tp.read!(account.id, token)).props as TokenOutputs).expires, later);
        fake.tokens.get(token.identifier)!.expiring = false;
        assert.equal(((await tp.read!(account.id, token)).props as TokenOutputs).expires, null);
        // The account's tokens made non-expiring: what it issues itself says so too.
        fake.users.get(Number(account.outs.pk))!.attributes["goauthentik.io/user/token-expires"] = false;
        const rotated = (await tp.update!(account.id, aged(token, 13), tokenInputs(account.outs.pk, ""))).outs as TokenOutputs;
        assert.equal(rotated.expires, null);
    });

    it("a refresh fails at once, saying so, when authentik cannot be reached", { timeout: 20_000 }, async () => {
        const { account, token } = await automation([]);
        resetEngineCache();
        // A port nothing listens on any more: connection refused.
        const closed = await new Promise<number>((resolve) => {
            const server = net.createServer().listen(0, "127.0.0.1", () => {
                const { port } = server.address() as net.AddressInfo;
                server.close(() => resolve(port));
            });
        });
        await assert.rejects(tp.read!(account.id, { ...token, apiUrl: `http://127.0.0.1:${closed}` }), /cannot be reached from here/);
    });

    it("a rotation tolerates a previous token already deleted in authentik", async () => {
        const { account, token } = await automation([]);
        const second = (await tp.update!(account.id, aged(token, 13), tokenInputs(account.outs.pk, ""))).outs as TokenOutputs;
        fake.tokens.delete(token.identifier); // the previous one, removed in the UI
        await new Promise((r) => setTimeout(r, 5));
        const third = (await tp.update!(account.id, aged(second, 13), tokenInputs(account.outs.pk, ""))).outs as TokenOutputs;
        assert.equal(await works(third.key), 200);
    });

    it("a token that works again (a refusal was transient) reads as not refused", async () => {
        const { account, token } = await automation([]);
        assert.equal(((await tp.read!(account.id, { ...token, refused: true })).props as TokenOutputs).refused, false);
    });

    it("a rotation stops when the previous token cannot be deleted (authentik failing), rather than losing track of it", { timeout: 20_000 }, async () => {
        const { account, token } = await automation([]);
        const second = (await tp.update!(account.id, aged(token, 13), tokenInputs(account.outs.pk, ""))).outs as TokenOutputs;
        fake.inject({ match: /^DELETE core_tokens_destroy$/, kind: "503", times: 10_000 });
        await new Promise((r) => setTimeout(r, 5));
        await assert.rejects(
            tp.update!(account.id, aged(second, 13), tokenInputs(account.outs.pk, "")),
            /automation token .*: delete: authentik answered HTTP 503/,
        );
        fake.faults.length = 0;
    });

    it("an expired token with no admin says how to stop it recurring", async () => {
        const { account, token } = await automation([]);
        await assert.rejects(
            tp.update!(account.id, { ...token, refused: true }, tokenInputs(account.outs.pk, "")),
            /raise System > Settings > Default token duration/,
        );
    });
});

describe("serialization", () => {
    it("the token provider works after Pulumi serializes it into state, in a fresh process", { skip: SKIP_UNDER_MUTATION }, async () => {
        const account = await create(object("ServiceAccount", { username: ACCOUNT }, ADMIN_TOKEN));
        const run = await createFromState(tp, tokenInputs(account.outs.pk));
        assert.doesNotMatch(run.text, new RegExp(ADMIN_TOKEN), "no secret is captured in the provider code");
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.id, ACCOUNT);
        assert.equal([...fake.tokens.values()].filter((t) => t.user === Number(account.outs.pk) && t.intent === "api").length, 1);
    });
});
