/**
 * What each kind sends authentik, field by field, and how look-ups page: the request bodies are
 * what a user's objects become (defaults written on create, cleared fields sent cleared, references
 * resolved to pks). The references come from a stub of the client's list methods; the suite through
 * the real client and the schema-validating fake (authentik-api.test.ts) covers the same end to end.
 */
import { beforeEach, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { appPasswordIdentifier, kinds, listAll, resetEngineCache } from "../lib/authentik-api/kinds";
import type { Apis } from "../lib/authentik-api/client";

type Params = Record<string, unknown>;
const page = (results: unknown[]) => ({ pagination: { next: 0 }, results });

/** List methods answering what a seeded authentik holds (`answers` replace some); everything else is empty. */
function stubApis(answers: Record<string, (params: Params) => unknown> = {}): Apis {
    return recordingApis({
        flowsInstancesList: ({ slug }) => page([{ pk: `flow-pk-of-${slug}`, slug }]),
        propertymappingsProviderScopeList: ({ managed }) =>
            page([...(managed as string[])].reverse().map((m) => ({ pk: `pm-${m.split("scope-")[1]}`, managed: m }))),
        cryptoCertificatekeypairsList: ({ name }) => page([{ pk: "cert-pk", name: `${name}` }]),
        coreGroupsList: ({ name }) =>
            page([
                { pk: "other", name: `${name} (2)` },
                { pk: `group-pk-of-${name}`, name },
            ]),
        outpostsServiceConnectionsKubernetesList: ({ name }) => page([{ pk: "sc-pk", name }]),
        outpostsInstancesList: ({ nameIexact }) => page([{ pk: `outpost-uuid-of-${nameIexact}`, name: nameIexact }]),
        ...answers,
    }).api;
}

const flows = { authorizationFlow: "default-provider-authorization-implicit-consent", invalidationFlow: "default-provider-invalidation-flow" };
const resolvedFlows = {
    authorizationFlow: "flow-pk-of-default-provider-authorization-implicit-consent",
    invalidationFlow: "flow-pk-of-default-provider-invalidation-flow",
};

describe("what each kind sends authentik", () => {
    let api: Apis;
    beforeEach(() => {
        resetEngineCache();
        api = stubApis();
    });

    it("proxy provider: mode always, cleared hosts and cookie domain sent as empty strings", async () => {
        assert.deepEqual(await kinds.ProxyProvider.body(api, { name: "sonarr", mode: "forward_single", externalHost: "https://sonarr.example", ...flows }), {
            name: "sonarr",
            ...resolvedFlows,
            mode: "forward_single",
            externalHost: "https://sonarr.example",
            internalHost: "",
            cookieDomain: "",
        });
        const proxy = await kinds.ProxyProvider.body(api, {
            name: "x",
            mode: "proxy",
            externalHost: "e",
            internalHost: "http://svc:80",
            cookieDomain: "example.com",
            ...flows,
        });
        assert.equal(proxy.internalHost, "http://svc:80");
        assert.equal(proxy.cookieDomain, "example.com");
    });

    it("OAuth2 provider: scopes as mapping pks in the scopes' order, signing key by name, unset fields left out", async () => {
        const spec = {
            name: "grafana",
            ...flows,
            clientType: "confidential",
            clientId: "grafana",
            clientSecret: "s",
            redirectUris: [{ matching_mode: "strict", url: "https://g/cb" }],
            scopes: ["openid", "email"],
            signingKey: "authentik Self-signed Certificate",
        };
        assert.deepEqual(await kinds.OAuth2Provider.body(api, spec), {
            name: "grafana",
            ...resolvedFlows,
            clientType: "confidential",
            clientId: "grafana",
            clientSecret: "s",
            redirectUris: [{ matching_mode: "strict", url: "https://g/cb" }],
            propertyMappings: ["pm-openid", "pm-email"],
            signingKey: "cert-pk",
        });
        assert.deepEqual(await kinds.OAuth2Provider.body(api, { name: "public", ...flows, clientType: "public", clientId: "p" }), {
            name: "public",
            ...resolvedFlows,
            clientType: "public",
            clientId: "p",
            propertyMappings: [],
        });
        assert.deepEqual(kinds.OAuth2Provider.outputs!({ pk: 1, clientId: "grafana", clientSecret: "s" }), { clientId: "grafana" }, "the secret is no output");
    });

    it("RADIUS and LDAP providers", async () => {
        assert.deepEqual(await kinds.RadiusProvider.body(api, { name: "wifi", ...flows, clientNetworks: "10.0.0.0/8", sharedSecret: "k" }), {
            name: "wifi",
            ...resolvedFlows,
            clientNetworks: "10.0.0.0/8",
            sharedSecret: "k",
        });
        assert.deepEqual(
            await kinds.LdapProvider.body(api, { name: "ldap", ...flows, baseDn: "dc=ldap,dc=goauthentik,dc=io", searchMode: "cached", bindMode: "direct" }),
            {
                name: "ldap",
                ...resolvedFlows,
                baseDn: "dc=ldap,dc=goauthentik,dc=io",
                searchMode: "cached",
                bindMode: "direct",
            },
        );
    });

    it("application: no provider is null, optional texts cleared, policy engine mode any unless set, publisher only when given", async () => {
        assert.deepEqual(await kinds.Application.body(api, { name: "Sonarr", slug: "sonarr" }), {
            name: "Sonarr",
            slug: "sonarr",
            provider: null,
            metaLaunchUrl: "",
            metaIcon: "",
            metaDescription: "",
            group: "",
            policyEngineMode: "any",
        });
        assert.deepEqual(
            await kinds.Application.body(api, {
                name: "S",
                slug: "s",
                provider: "12",
                metaLaunchUrl: "https://s",
                metaIcon: "i",
                metaDescription: "d",
                group: "Media",
                policyEngineMode: "all",
                metaPublisher: "pulumi:org/p/s",
            }),
            {
                name: "S",
                slug: "s",
                provider: 12,
                metaLaunchUrl: "https://s",
                metaIcon: "i",
                metaDescription: "d",
                group: "Media",
                policyEngineMode: "all",
                metaPublisher: "pulumi:org/p/s",
            },
        );
        const cleared = await kinds.Application.body(api, {
            name: "S",
            slug: "s",
            provider: null,
            metaLaunchUrl: null,
            metaIcon: null,
            metaDescription: null,
            group: null,
        });
        assert.deepEqual([cleared.provider, cleared.metaLaunchUrl, cleared.metaIcon, cleared.metaDescription, cleared.group], [null, "", "", "", ""]);
        assert.equal(kinds.Application.naturalKey({ name: "S", slug: "s" }), "s");
        assert.equal(kinds.Application.idOf({ pk: "uuid-1", slug: "s" }), "s", "addressed by slug");
        assert.deepEqual(kinds.Application.outputs!({ pk: "uuid-1", slug: "s" }), { uuid: "uuid-1" });
    });

    it("group: not a superuser unless asked, attributes only when given", async () => {
        assert.deepEqual(await kinds.Group.body(api, { name: "admins" }), { name: "admins", isSuperuser: false });
        assert.deepEqual(await kinds.Group.body(api, { name: "admins", isSuperuser: true, attributes: { a: 1 } }), {
            name: "admins",
            isSuperuser: true,
            attributes: { a: 1 },
        });
    });

    it("policy binding: enabled, not negated, 30 s timeout; the group by pk or by its exact name", async () => {
        assert.deepEqual(await kinds.PolicyBinding.body(api, { target: "app-uuid", group: "g-pk", order: 0 }), {
            target: "app-uuid",
            group: "g-pk",
            order: 0,
            enabled: true,
            negate: false,
            timeout: 30,
        });
        assert.equal((await kinds.PolicyBinding.body(api, { target: "t", groupName: "Media", order: 1 })).group, "group-pk-of-Media");
        assert.equal(kinds.PolicyBinding.naturalKey({ target: "t", group: "g" }), "t/g");
        assert.equal(kinds.PolicyBinding.naturalKey({ target: "t", groupName: "Media" }), "t/Media");
    });

    it("outpost: its service connection by name, only the config keys given, no providers", async () => {
        assert.deepEqual(
            await kinds.Outpost.body(api, {
                name: "radius",
                type: "radius",
                serviceConnection: "Local Kubernetes Cluster",
                config: { log_level: "info" },
                initialProviders: [1],
            }),
            {
                name: "radius",
                type: "radius",
                serviceConnection: "sc-pk",
                config: { log_level: "info" },
            },
        );
        assert.deepEqual(await kinds.Outpost.body(api, { name: "embedded", managed: "goauthentik.io/outposts/embedded", type: "proxy" }), {
            name: "embedded",
            type: "proxy",
        });
        assert.equal(kinds.Outpost.naturalKey({ name: "embedded", managed: "goauthentik.io/outposts/embedded" }), "goauthentik.io/outposts/embedded");
        assert.equal(kinds.Outpost.naturalKey({ name: "radius" }), "radius");
    });

    it("outpost member: the outpost by uuid or by its name, the provider as a number", async () => {
        assert.deepEqual(await kinds.OutpostMember.body(api, { outpost: "uuid-1", provider: "7" }), { outpost: "uuid-1", provider: 7 });
        assert.deepEqual(await kinds.OutpostMember.body(api, { outpostName: "ldap", provider: 7 }), { outpost: "outpost-uuid-of-ldap", provider: 7 });
        assert.equal(kinds.OutpostMember.naturalKey({ outpost: "uuid-1", provider: 7 }), "provider 7 on outpost uuid-1");
        assert.equal(kinds.OutpostMember.naturalKey({ outpostName: "ldap", provider: 7 }), "provider 7 on outpost ldap");
    });

    it("service account: no group of its own, an expiring account", async () => {
        assert.deepEqual(await kinds.ServiceAccount.body(api, { username: "pulumi-automation" }), {
            name: "pulumi-automation",
            createGroup: false,
            expiring: true,
        });
        assert.equal(kinds.ServiceAccount.naturalKey({ username: "pulumi-automation" }), "pulumi-automation");
    });

    it("role: its permissions sorted (the spec left as it was), its member by pk", async () => {
        const permissions = ["authentik_core.view_group", "authentik_core.add_application"];
        const initialPermissions = ["authentik_core.delete_application", "authentik_core.change_application"];
        assert.deepEqual(await kinds.Role.body(api, { name: "automation", permissions, initialPermissions, user: "5" }), {
            name: "automation",
            permissions: ["authentik_core.add_application", "authentik_core.view_group"],
            initialPermissions: ["authentik_core.change_application", "authentik_core.delete_application"],
            user: 5,
        });
        assert.deepEqual(permissions, ["authentik_core.view_group", "authentik_core.add_application"]);
        assert.deepEqual(initialPermissions, ["authentik_core.delete_application", "authentik_core.change_application"]);
        assert.deepEqual((await kinds.Role.body(api, { name: "r", user: 1 })).permissions, []);
        assert.deepEqual((await kinds.Role.body(api, { name: "r", user: 1 })).initialPermissions, []);
    });

    it("a missing outpost or scope mapping is named, with what to do", async () => {
        const noOutpost = stubApis({ outpostsInstancesList: () => page([]) });
        await assert.rejects(
            kinds.OutpostMember.body(noOutpost, { outpostName: "ldap", provider: 7 }),
            /^PermanentError: outpost "ldap" does not exist in authentik: use the outpost name the platform stack publishes \(its apps output\)$/,
        );
        const noScope = stubApis({
            propertymappingsProviderScopeList: () => page([{ pk: "pm-openid", managed: "goauthentik.io/providers/oauth2/scope-openid" }]),
        });
        await assert.rejects(
            kinds.OAuth2Provider.body(noScope, { name: "o", ...flows, clientType: "public", clientId: "o", scopes: ["openid", "email"] }),
            /^PermanentError: scope mapping goauthentik\.io\/providers\/oauth2\/scope-email: expected one match in authentik, found 0 \(it does not exist, or the token may not view it\)$/,
        );
    });

    it("a client without the method a kind calls says which (an @goauthentik/api upgrade renamed it)", async () => {
        const api = { ...stubApis(), providers: {} } as unknown as Apis;
        await assert.rejects(kinds.ProxyProvider.find(api, { name: "sonarr" }), /^PermanentError: @goauthentik\/api has no providers\.providersProxyList$/);
    });

    it("a reference authentik holds twice, or not at all, is an error that says how many", async () => {
        const twice = stubApis({
            flowsInstancesList: () =>
                page([
                    { pk: "a", slug: "f" },
                    { pk: "b", slug: "f" },
                ]),
        });
        await assert.rejects(
            kinds.RadiusProvider.body(twice, { name: "r", authorizationFlow: "f", invalidationFlow: "f" }),
            /^PermanentError: flow "f": expected one match in authentik, found 2$/,
        );
        resetEngineCache();
        const none = stubApis({ coreGroupsList: () => page([]) });
        await assert.rejects(
            kinds.PolicyBinding.body(none, { target: "t", groupName: "Media", order: 0 }),
            (e: Error & { status?: number; gone?: boolean }) => {
                assert.equal(
                    e.message,
                    "group \"Media\" does not exist in authentik: create it first (the platform stack's groups config), or remove it from the app's groups",
                );
                assert.equal(e.status, 404);
                assert.equal(e.gone, true);
                return true;
            },
        );
    });

    it("what each kind compares as a set, creates only once, and replaces on", () => {
        assert.deepEqual(kinds.OAuth2Provider.setFields, ["propertyMappings", "redirectUris"]);
        assert.deepEqual(kinds.Role.setFields, ["permissions", "initialPermissions"]);
        assert.deepEqual(kinds.ProxyProvider.createOnly, ["application"], "the app a provider serves only tells its predecessor in a kind change");
        assert.deepEqual(kinds.Outpost.createOnly, ["initialProviders"]);
        assert.deepEqual(kinds.ServiceAccount.replaceOn, ["username"]);
        assert.equal(kinds.ServiceAccount.existingIsOwn, true);
        assert.equal(kinds.Role.existingIsOwn, true);
        assert.equal(kinds.OutpostMember.existingIsOwn, true);
        assert.equal(kinds.Group.existingIsOwn, undefined, "a group someone made is only taken over with adopt");
    });
});

describe("look-ups follow every page", () => {
    it("asks 100 per page, follows next, stops at 0 or a page that does not move forward", async () => {
        const asked: unknown[] = [];
        const pages: Record<number, { next: number }> = { 1: { next: 2 }, 2: { next: 5 }, 5: { next: 0 } };
        const all = await listAll("x", async (p) => {
            asked.push(p);
            return { pagination: pages[p.page], results: [p.page] };
        });
        assert.deepEqual(all, [1, 2, 5]);
        assert.deepEqual(asked, [
            { page: 1, pageSize: 100 },
            { page: 2, pageSize: 100 },
            { page: 5, pageSize: 100 },
        ]);
        const backwards = await listAll("x", async (p) => ({ pagination: { next: p.page }, results: [p.page] }));
        assert.deepEqual(backwards, [1], "a server answering the same page again ends the look-up");
        assert.deepEqual(await listAll("x", async () => ({ results: ["only"] }) as never), ["only"], "an answer without pagination is one page");
    });

    it("refuses to read more than 200 pages", async () => {
        let calls = 0;
        await assert.rejects(
            listAll("users", async (p) => {
                calls++;
                return { pagination: { next: p.page + 1 }, results: [] };
            }),
            /^PermanentError: users: more than 200 pages of results; narrow the look-up$/,
        );
        assert.equal(calls, 200);
    });
});

describe("the app password authentik issues with a service account", () => {
    it("is named the way Django's slugify names it", () => {
        assert.equal(appPasswordIdentifier("pulumi-automation"), "service-account-pulumi-automation-password");
        assert.equal(appPasswordIdentifier("Grafana  Bot"), "service-account-grafana-bot-password");
        assert.equal(appPasswordIdentifier("Zoë.ci"), "service-account-zoeci-password");
        assert.equal(appPasswordIdentifier("a_b"), "service-account-a_b-password");
        assert.equal(appPasswordIdentifier("x--"), "service-account-x-password");
    });
});

/** Every client method answers from `answers` (an empty page otherwise) and is recorded with its parameters. */
function recordingApis(answers: Record<string, (params: Params) => unknown> = {}) {
    const calls: [string, Params][] = [];
    const group = new Proxy(
        {},
        {
            get: (_target, name: string) => async (params: Params) => {
                calls.push([name, params]);
                return answers[name] ? answers[name](params) : page([]);
            },
        },
    );
    const api = { baseUrl: "https://auth.example", policy: { deadlineMs: 1, baseDelayMs: 1, maxDelayMs: 1, requestTimeoutMs: 1 } } as Record<string, unknown>;
    for (const g of ["core", "providers", "policies", "outposts", "flows", "propertyMappings", "crypto", "rbac"]) api[g] = group;
    return { api: api as unknown as Apis, calls, names: () => calls.map(([n]) => n) };
}
const first = { page: 1, pageSize: 100 };

describe("what each kind asks authentik", () => {
    beforeEach(() => resetEngineCache());

    it("looks objects up with the filter authentik declares, and matches the name exactly", async () => {
        const listed = page([
            { pk: 1, name: "sonarr", username: "sonarr", managed: "sonarr" },
            { pk: 2, name: "Sonarr", username: "Sonarr", managed: "Sonarr" },
        ]);
        const cases: [string, Params, string, Params][] = [
            ["ProxyProvider", { name: "Sonarr" }, "providersProxyList", { nameIexact: "Sonarr" }],
            ["OAuth2Provider", { name: "Sonarr" }, "providersOauth2List", { name: "Sonarr" }],
            ["RadiusProvider", { name: "Sonarr" }, "providersRadiusList", { nameIexact: "Sonarr" }],
            ["Group", { name: "Sonarr" }, "coreGroupsList", { name: "Sonarr", includeUsers: false }],
            ["Outpost", { name: "Sonarr" }, "outpostsInstancesList", { nameIexact: "Sonarr" }],
            ["Outpost", { name: "x", managed: "Sonarr" }, "outpostsInstancesList", { managedIexact: "Sonarr" }],
            ["ServiceAccount", { username: "Sonarr" }, "coreUsersList", { username: "Sonarr" }],
            ["Role", { name: "Sonarr" }, "rbacRolesList", { name: "Sonarr" }],
        ];
        for (const [kind, spec, method, filter] of cases) {
            const { api, calls } = recordingApis({ [method]: () => listed });
            const found = await kinds[kind].find(api, spec);
            assert.deepEqual(calls, [[method, { ...filter, ...first }]], kind);
            assert.equal(found?.pk, 2, `${kind}: the exact match, not the first case-insensitive one`);
        }
    });

    it("an application by its address; authentik's 404 is none, any other failure is not", async () => {
        const gone = Object.assign(new Error("404"), {
            response: { status: 404, headers: { get: () => "application/json" }, text: async () => '{"detail":"Not found."}' },
        });
        const { api, calls } = recordingApis({ coreApplicationsRetrieve: () => Promise.reject(gone) });
        assert.equal(await kinds.Application.find(api, { slug: "wiki" }), undefined);
        assert.deepEqual(calls, [["coreApplicationsRetrieve", { slug: "wiki" }]]);
        const broken = recordingApis({
            coreApplicationsRetrieve: () => Promise.reject(Object.assign(new Error("503"), { response: { status: 503, text: async () => "" } })),
        });
        await assert.rejects(kinds.Application.find(broken.api, { slug: "wiki" }), /503/);
    });

    it("a binding: found by target and group, the same order first; duplicates are the group's others of that order", async () => {
        const bindings = [
            { pk: "b1", target: "t", group: "g", order: 5 },
            { pk: "b2", target: "t", group: "other", order: 0 },
            { pk: "b3", target: "t", group: "g", order: 0 },
            { pk: "b4", target: "t", group: "g", order: 0 },
        ];
        const { api, calls } = recordingApis({ policiesBindingsList: () => page(bindings) });
        assert.equal((await kinds.PolicyBinding.find(api, { target: "t", group: "g", order: 0 }))?.pk, "b3");
        assert.deepEqual(calls[0], ["policiesBindingsList", { target: "t", ...first }]);
        assert.equal((await kinds.PolicyBinding.find(api, { target: "t", group: "g", order: 7 }))?.pk, "b1", "another order: the group's first binding");
        assert.equal(await kinds.PolicyBinding.find(api, { target: "t", group: "none", order: 0 }), undefined);
        assert.deepEqual(await kinds.PolicyBinding.duplicates!(api, { target: "t", group: "g", order: 0 }, "b3"), ["b4"]);
        assert.deepEqual(await kinds.PolicyBinding.readWithDuplicates!(api, "b4", { target: "t", group: "g", order: 0 }), {
            remote: bindings[3],
            duplicates: ["b3"],
        });
        assert.deepEqual(await kinds.PolicyBinding.readWithDuplicates!(api, "b1", { target: "t", group: "g", order: 5 }), {
            remote: bindings[0],
            duplicates: [],
        });
        await assert.rejects(
            kinds.PolicyBinding.readWithDuplicates!(api, "b9", { target: "t", group: "g", order: 0 }),
            (e: Error & { gone?: boolean; status?: number }) => {
                assert.equal(e.message, "policy binding b9 is gone from its target t");
                assert.equal(e.gone, true);
                assert.equal(e.status, 404);
                return true;
            },
        );
    });

    it("an outpost member is there when the outpost lists the provider", async () => {
        const { api, calls } = recordingApis({ outpostsInstancesRetrieve: () => ({ pk: "uuid-1", name: "ldap", providers: [3, 7] }) });
        assert.deepEqual(await kinds.OutpostMember.find(api, { outpost: "uuid-1", provider: "7" }), { pk: "uuid-1/7" });
        assert.equal(await kinds.OutpostMember.find(api, { outpost: "uuid-1", provider: 8 }), undefined);
        assert.deepEqual(calls[0], ["outpostsInstancesRetrieve", { uuid: "uuid-1" }]);
        assert.deepEqual(await kinds.OutpostMember.retrieve(api, "uuid-1/7"), { pk: "uuid-1/7", outpost: "uuid-1", provider: 7 });
        await assert.rejects(kinds.OutpostMember.retrieve(api, "uuid-1/8"), (e: Error & { gone?: boolean }) => {
            assert.equal(e.message, "provider 8 is no longer attached to outpost ldap");
            assert.equal(e.gone, true);
            return true;
        });
    });

    it("a role as authentik holds it: permissions as app.codename sorted, its member only while a member", async () => {
        const answers = {
            rbacRolesRetrieve: () => ({ pk: "r1", name: "automation" }),
            rbacPermissionsList: () =>
                page([
                    { appLabel: "authentik_core", codename: "view_group" },
                    { appLabel: "authentik_core", codename: "add_application" },
                ]),
            rbacRolesList: () => page([{ pk: "r1" }]),
            rbacInitialPermissionsList: () =>
                page([
                    {
                        pk: 3,
                        name: "automation",
                        permissionsObj: [
                            { appLabel: "authentik_core", codename: "delete_application" },
                            { appLabel: "authentik_core", codename: "change_application" },
                        ],
                    },
                ]),
        };
        const member = recordingApis(answers);
        assert.deepEqual(await kinds.Role.retrieve(member.api, "r1", { user: "5" }), {
            pk: "r1",
            name: "automation",
            permissions: ["authentik_core.add_application", "authentik_core.view_group"],
            initialPermissions: ["authentik_core.change_application", "authentik_core.delete_application"],
            user: 5,
        });
        assert.deepEqual(member.calls.slice(1), [
            ["rbacPermissionsList", { role: "r1", ...first }],
            ["rbacRolesList", { users: 5, ...first }],
            ["rbacInitialPermissionsList", { name: "automation", ...first }],
        ]);
        const none = recordingApis({
            ...answers,
            rbacInitialPermissionsList: () => page([{ pk: 4, name: "automation-other", permissionsObj: [{ appLabel: "a", codename: "b" }] }]),
        });
        assert.deepEqual((await kinds.Role.retrieve(none.api, "r1")).initialPermissions, [], "only the one named after the role counts");
        const removed = recordingApis({ ...answers, rbacRolesList: () => page([{ pk: "another-role" }]) });
        assert.equal((await kinds.Role.retrieve(removed.api, "r1", { user: 5 })).user, null, "a removed member is drift");
        const noUser = recordingApis(answers);
        assert.equal((await kinds.Role.retrieve(noUser.api, "r1")).user, null);
        assert.ok(!noUser.names().includes("rbacRolesList"));
    });

    it("a service account and a role are deleted by their ids", async () => {
        const { api, calls } = recordingApis();
        await kinds.ServiceAccount.destroy(api, "12", {});
        await kinds.Role.destroy(api, "r1", {});
        assert.deepEqual(calls, [
            ["coreUsersDestroy", { id: 12 }],
            ["rbacRolesDestroy", { uuid: "r1" }],
        ]);
    });

    it("a look-up that never ends names what it was looking for", async () => {
        const endless = async (p: Params) => ({ pagination: { next: (p.page as number) + 1 }, results: [] });
        const cases: [string, () => Promise<unknown>][] = [
            ['user "robot"', () => kinds.ServiceAccount.find(recordingApis({ coreUsersList: endless }).api, { username: "robot" })],
            ['role "automation"', () => kinds.Role.find(recordingApis({ rbacRolesList: endless }).api, { name: "automation" })],
            [
                "permissions of role automation",
                () =>
                    kinds.Role.retrieve(recordingApis({ rbacRolesRetrieve: () => ({ pk: "r1", name: "automation" }), rbacPermissionsList: endless }).api, "r1"),
            ],
            [
                "roles of user 5",
                () =>
                    kinds.Role.retrieve(recordingApis({ rbacRolesRetrieve: () => ({ pk: "r1", name: "automation" }), rbacRolesList: endless }).api, "r1", {
                        user: 5,
                    }),
            ],
            ["providersProxy look-up", () => kinds.ProxyProvider.find(recordingApis({ providersProxyList: endless }).api, { name: "sonarr" })],
            [
                "scope mappings",
                () =>
                    kinds.OAuth2Provider.body(
                        recordingApis({ flowsInstancesList: ({ slug }) => page([{ pk: "f", slug }]), propertymappingsProviderScopeList: endless }).api,
                        { name: "o", ...flows, clientType: "public", clientId: "o", scopes: ["openid"] },
                    ),
            ],
        ];
        for (const [what, run] of cases) {
            resetEngineCache();
            await assert.rejects(run(), (e: Error) => e.message === `${what}: more than 200 pages of results; narrow the look-up`, what);
        }
    });

    it("a role update writes only what differs: its name, the missing and the extra permissions, its member", async () => {
        const answers = (name: string, held: string[], members: string[], initial?: string[]) => ({
            rbacRolesRetrieve: () => ({ pk: "r1", name }),
            rbacPermissionsList: (q: Params) =>
                q.role
                    ? page(held.map((p) => ({ appLabel: p.split(".")[0], codename: p.split(".")[1] })))
                    : page([{ id: q.codename === "change_x" ? 41 : 42, appLabel: q.contentTypeAppLabel, codename: q.codename }]),
            rbacRolesList: () => page(members.map((pk) => ({ pk }))),
            rbacInitialPermissionsList: () =>
                page(initial ? [{ pk: 7, name, permissionsObj: initial.map((p) => ({ appLabel: p.split(".")[0], codename: p.split(".")[1] })) }] : []),
        });
        const body = { name: "automation", permissions: ["a.add", "a.view"], initialPermissions: ["a.change_x", "a.delete_x"], user: 5 };
        const same = recordingApis(answers("automation", ["a.view", "a.add"], ["r1"], ["a.delete_x", "a.change_x"]));
        assert.deepEqual(await kinds.Role.update(same.api, "r1", body), { pk: "r1", ...body });
        assert.deepEqual(same.names(), ["rbacRolesRetrieve", "rbacPermissionsList", "rbacRolesList", "rbacInitialPermissionsList"], "nothing written");
        const differs = recordingApis(answers("old-name", ["a.view", "a.delete"], []));
        await kinds.Role.update(differs.api, "r1", body);
        assert.deepEqual(
            differs.calls.slice(4).filter(([n]) => !n.endsWith("List")),
            [
                ["rbacRolesPartialUpdate", { uuid: "r1", patchedRoleRequest: { name: "automation" } }],
                ["rbacPermissionsAssignedByRolesAssign", { uuid: "r1", permissionAssignRequest: { permissions: ["a.add"] } }],
                ["rbacPermissionsAssignedByRolesUnassignPartialUpdate", { uuid: "r1", patchedPermissionAssignRequest: { permissions: ["a.delete"] } }],
                ["rbacInitialPermissionsCreate", { initialPermissionsRequest: { name: "automation", role: "r1", permissions: [41, 42] } }],
                ["rbacRolesAddUserCreate", { uuid: "r1", userAccountSerializerForRoleRequest: { pk: 5 } }],
            ],
        );
        const stale = recordingApis(answers("automation", ["a.view", "a.add"], ["r1"], ["a.change_x"]));
        await kinds.Role.update(stale.api, "r1", body);
        assert.deepEqual(
            stale.calls.filter(([n]) => n === "rbacInitialPermissionsPartialUpdate"),
            [["rbacInitialPermissionsPartialUpdate", { id: 7, patchedInitialPermissionsRequest: { role: "r1", permissions: [41, 42] } }]],
        );
    });

    it("references are remembered per name: two certificates, groups, outposts or scope sets in one process stay apart", async () => {
        const { api, calls } = recordingApis({
            cryptoCertificatekeypairsList: ({ name }) => page([{ pk: `cert-${name}`, name }]),
            coreGroupsList: ({ name }) => page([{ pk: `group-${name}`, name }]),
            outpostsInstancesList: ({ nameIexact }) => page([{ pk: `outpost-${nameIexact}`, name: nameIexact }]),
            outpostsServiceConnectionsKubernetesList: ({ name }) => page([{ pk: `sc-${name}`, name }]),
            flowsInstancesList: ({ slug }) => page([{ pk: `flow-${slug}`, slug }]),
            propertymappingsProviderScopeList: ({ managed }) => page((managed as string[]).map((m) => ({ pk: `pm-${m.split("scope-")[1]}`, managed: m }))),
        });
        const oauth = (signingKey: string, scopes: string[]) =>
            kinds.OAuth2Provider.body(api, { name: "o", authorizationFlow: "f", invalidationFlow: "f", signingKey, scopes });
        assert.equal((await oauth("A", ["openid"])).signingKey, "cert-A");
        assert.equal((await oauth("B", ["email"])).signingKey, "cert-B");
        assert.deepEqual((await oauth("A", ["email", "openid"])).propertyMappings, ["pm-email", "pm-openid"]);
        for (const name of ["A", "B"]) {
            assert.equal((await kinds.PolicyBinding.body(api, { target: "t", groupName: name, order: 0 })).group, `group-${name}`);
            assert.equal((await kinds.OutpostMember.body(api, { outpostName: name, provider: 1 })).outpost, `outpost-${name}`);
            assert.equal((await kinds.Outpost.body(api, { name: "o", type: "ldap", serviceConnection: name })).serviceConnection, `sc-${name}`);
        }
        assert.deepEqual(
            calls.filter(([n]) => n === "coreGroupsList").map(([, p]) => p),
            [
                { name: "A", includeUsers: false, ...first },
                { name: "B", includeUsers: false, ...first },
            ],
        );
        const before = calls.length;
        await oauth("A", ["openid"]);
        assert.equal(calls.length, before, "asked once per process");
    });

    it("no scopes, no request", async () => {
        const { api, names } = recordingApis({ flowsInstancesList: ({ slug }) => page([{ pk: `flow-${slug}`, slug }]) });
        assert.deepEqual((await kinds.OAuth2Provider.body(api, { name: "o", authorizationFlow: "f", invalidationFlow: "f", scopes: [] })).propertyMappings, []);
        assert.ok(!names().includes("propertymappingsProviderScopeList"));
    });
});

describe("outpost membership: one provider attached or detached, every other member left alone", () => {
    beforeEach(() => resetEngineCache());
    const EMBEDDED = "goauthentik.io/outposts/embedded";
    /** An outpost whose provider list reads as `reads` in turn (the last one repeated). */
    function outpost(reads: number[][], managed?: string) {
        let n = 0;
        return recordingApis({
            outpostsInstancesRetrieve: () => ({ pk: "uuid-1", name: "ldap", type: "ldap", managed, providers: reads[Math.min(n++, reads.length - 1)] }),
        });
    }
    const writes = (calls: [string, Params][]) => calls.filter(([n]) => n === "outpostsInstancesPartialUpdate").map(([, p]) => p);

    it("attaches by writing the list read plus the provider, then reads it back", async () => {
        const { api, calls } = outpost([[3], [3, 7]]);
        assert.deepEqual(await kinds.OutpostMember.create(api, { outpost: "uuid-1", provider: 7 }, {}), { pk: "uuid-1/7", outpost: "uuid-1", provider: 7 });
        assert.deepEqual(writes(calls), [{ uuid: "uuid-1", patchedOutpostRequest: { type: "ldap", providers: [3, 7] } }]);
        assert.equal(calls.length, 3);
    });

    it("detaches by writing the list without it", async () => {
        const { api, calls } = outpost([[3, 7], [3]]);
        await kinds.OutpostMember.destroy(api, "uuid-1/7", {});
        assert.deepEqual(writes(calls), [{ uuid: "uuid-1", patchedOutpostRequest: { type: "ldap", providers: [3] } }]);
    });

    it("leaves the last provider on a dedicated outpost (authentik refuses an empty one); the embedded one may be emptied", async () => {
        const dedicated = outpost([[7]]);
        await kinds.OutpostMember.destroy(dedicated.api, "uuid-1/7", {});
        assert.deepEqual(writes(dedicated.calls), []);
        const embedded = outpost([[7], []], EMBEDDED);
        await kinds.OutpostMember.destroy(embedded.api, "uuid-1/7", {});
        assert.deepEqual(writes(embedded.calls), [{ uuid: "uuid-1", patchedOutpostRequest: { type: "ldap", providers: [] } }]);
    });

    it("writes again when another writer's stale list dropped it, and gives up after 8 rounds saying why", async () => {
        const again = outpost([[3], [3], [3, 7]]);
        await kinds.OutpostMember.create(again.api, { outpost: "uuid-1", provider: 7 }, {});
        assert.equal(writes(again.calls).length, 2);
        const never = outpost([[3]]);
        await assert.rejects(
            kinds.OutpostMember.create(never.api, { outpost: "uuid-1", provider: 7 }, {}),
            /^PermanentError: provider 7 on outpost uuid-1: could not attach it in 8 rounds: another writer keeps replacing the outpost's provider list \(stop it, then run pulumi up again\)$/,
        );
        assert.equal(writes(never.calls).length, 8);
        const stuck = outpost([[3, 7]], EMBEDDED);
        await assert.rejects(kinds.OutpostMember.destroy(stuck.api, "uuid-1/7", {}), /could not detach it in 8 rounds/);
    });
});
