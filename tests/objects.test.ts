/** authentik objects from the stack config: the pure model, the rules, and the wired graph. */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { managedOutpostConfig, oidcUrls, providerSpec, outpostPatches } from "../components/authentik-objects/model";
import { planStack } from "../tools/plan";
import { restrictedViolations } from "../policy/rules";
import { checkBaseline } from "../tools/checks";
import { Plan, PlanResource, SECRET } from "../tools/harness";
import { HOMELAB_FILE, expectIssue, homelab, parse, set, writeStack } from "./support/helpers";
import { credentialsInUse } from "../config";

const config = parse(homelab());
const app = (slug: string) => config.apps.find((a) => a.slug === slug)!;
const DYNAMIC = "pulumi-nodejs:dynamic/authentik:";

/** Applies RFC 6902 `add` operations the way authentik does (an existing member is replaced). */
function applyAdds(doc: unknown, ops: { op: string; path: string; value: unknown }[]): unknown {
    const out = structuredClone(doc) as Record<string, unknown>;
    for (const op of ops) {
        const parts = op.path.split("/").slice(1);
        let node = out as Record<string, unknown>;
        for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
        node[parts[parts.length - 1]] = structuredClone(op.value);
    }
    return out;
}

describe("object model", () => {
    it("maps each mode to its provider", () => {
        assert.deepEqual(providerSpec(app("homelab-domain")), {
            kind: "ProxyProvider",
            spec: {
                name: "Homelab domain",
                authorizationFlow: "default-provider-authorization-implicit-consent",
                invalidationFlow: "default-provider-invalidation-flow",
                application: "homelab-domain",
                mode: "forward_domain",
                externalHost: "https://auth.homelab.example",
                cookieDomain: "homelab.example",
            },
        });
        const grafana = providerSpec(app("grafana"));
        assert.equal(grafana.kind, "OAuth2Provider");
        assert.deepEqual(grafana.spec.redirectUris, [{ matchingMode: "strict", url: "https://grafana.homelab.example/login/generic_oauth" }]);
        assert.equal(grafana.spec.clientId, "grafana");
        assert.equal(grafana.spec.signingKey, "authentik Self-signed Certificate");
        assert.equal(providerSpec(app("headlamp")).spec.clientId, "headlamp", "client id defaults to the slug");
        assert.equal(grafana.spec.application, "grafana", "both kinds name the app they serve (how a kind change finds its predecessor)");
    });

    it("supports regex redirect URIs", () => {
        const c = parse(
            set(
                set(homelab(), "apps", [{ name: "A", slug: "a", mode: "oidc", host: "a.example.com", redirectUris: ["regex:https://a\\.example\\.com/.*"] }]),
                "outposts.proxy.enabled",
                false,
            ),
        );
        assert.deepEqual(providerSpec(c.apps[0]).spec.redirectUris, [{ matchingMode: "regex", url: "https://a\\.example\\.com/.*" }]);
    });

    it("codifies /dev/shm as idempotent JSON patches (authentik re-applies them)", () => {
        const deployment = { spec: { template: { spec: { containers: [{ name: "proxy" }] } } } };
        const once = applyAdds(deployment, outpostPatches("64Mi").deployment);
        assert.deepEqual(applyAdds(once, outpostPatches("64Mi").deployment), once);
        assert.deepEqual((once as { spec: { template: { spec: { volumes: unknown } } } }).spec.template.spec.volumes, [
            { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
        ]);
        const patched = applyAdds(deployment, outpostPatches("64Mi").deployment) as {
            spec: { template: { spec: Record<string, unknown> & { containers: { name: string; securityContext: Record<string, unknown> }[] } } };
        };
        const pod = patched.spec.template.spec;
        assert.deepEqual(
            restrictedViolations(pod.securityContext as Record<string, unknown>, pod.containers),
            [],
            "an outpost meets Pod Security restricted through its patches",
        );
        assert.equal(pod.automountServiceAccountToken, false);
        const config = managedOutpostConfig({
            authentikUrl: "https://auth.example.com",
            namespace: "authentik",
            replicas: 1,
            shmSizeLimit: "64Mi",
            serviceType: "LoadBalancer",
        });
        assert.equal(config.kubernetes_service_type, "LoadBalancer");
    });

    it("derives the OIDC issuer and discovery URLs", () => {
        assert.deepEqual(
            oidcUrls("https://auth.example.com", "grafana").discovery,
            "https://auth.example.com/application/o/grafana/.well-known/openid-configuration",
        );
    });
});

describe("app rules reject bad input", () => {
    const withApp = (extra: Record<string, unknown>) => set(homelab(), "apps", [{ name: "X", slug: "x", host: "x.homelab.example", ...extra }]);
    it("forward_domain without cookie domain, or a host outside it", () => {
        expectIssue(withApp({ mode: "forward_domain" }), "apps[0].cookieDomain", /required for mode forward_domain/);
        expectIssue(withApp({ mode: "forward_domain", cookieDomain: "other.example" }), "apps[0].host", /not inside the cookie domain/);
    });
    it("proxy without upstream", () => {
        expectIssue(withApp({ mode: "proxy" }), "apps[0].upstream", /required for mode proxy/);
    });
    it("oidc without redirect URIs", () => {
        expectIssue(withApp({ mode: "oidc" }), "apps[0].redirectUris", /required for mode oidc/);
    });
    it("an unknown group", () => {
        expectIssue(withApp({ mode: "forward_single", groups: ["nobody"] }), "apps[0].groups", /not a group of this stack/);
    });
    it("the dedicated outpost when it is off", () => {
        const block = set(withApp({ mode: "forward_single", outpost: "proxy" }), "outposts.proxy.enabled", false);
        expectIssue(block, "apps[0].outpost", /not enabled/);
    });
    it("two apps with one name (provider names are unique across kinds)", () => {
        const block = set(homelab(), "apps", [
            { name: "Same", slug: "a", mode: "forward_single", host: "a.homelab.example" },
            { name: "Same", slug: "b", mode: "forward_single", host: "b.homelab.example" },
        ]);
        expectIssue(block, "apps", /unique across all provider kinds/);
    });
    it("the dedicated outpost with no app on it (authentik refuses an outpost without providers)", () => {
        const block = set(withApp({ mode: "forward_single", outpost: "embedded" }), "outposts.proxy.enabled", true);
        expectIssue(block, "outposts.proxy.enabled", /no app is on it.*This list may not be empty/);
    });
    it("a renamedFrom that names the app's own slug or another app's", () => {
        expectIssue(withApp({ mode: "forward_single", renamedFrom: ["x"] }), "apps[0].renamedFrom", /current slug/);
        const block = set(homelab(), "apps", [
            { name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", renamedFrom: ["b"] },
            { name: "B", slug: "b", mode: "forward_single", host: "b.homelab.example" },
        ]);
        expectIssue(block, "apps[0].renamedFrom", /slug of another app/);
    });
    it("an API URL that sends the token in clear text", () => {
        expectIssue(set(homelab(), "api.url", "http://auth.homelab.example"), "api.url", /unencrypted/);
        assert.doesNotThrow(() => parse(set(homelab(), "api.url", "http://authentik-server.authentik.svc.cluster.local")), "in-cluster is fine");
        assert.doesNotThrow(() => parse(set(homelab(), "api.url", "https://auth.homelab.example")));
    });
    it("dropping the bootstrap credentials while the program still uses the bootstrap token", () => {
        expectIssue(
            set(homelab(), "authentik.bootstrapCredentials", false),
            "authentik.bootstrapCredentials",
            /still uses \(api\.token: scoped, api\.admin: bootstrap\).*set api\.admin: none/,
        );
        expectIssue(
            set(set(homelab(), "api.token", "bootstrap"), "authentik.bootstrapCredentials", false),
            "authentik.bootstrapCredentials",
            /api\.token: bootstrap\)/,
        );
        assert.doesNotThrow(() => parse(set(set(homelab(), "api.admin", "none"), "authentik.bootstrapCredentials", false)));
    });
    it("by default, a scoped token made with the bootstrap token", () => {
        const c = parse(set(set(homelab(), "api.token", undefined), "api.admin", undefined));
        assert.equal(c.api.token, "scoped");
        assert.equal(c.api.admin, "bootstrap");
        assert.equal(c.api.automation.account, "authentik-platform-automation");
        assert.equal(c.api.automation.rotateAfterPercent, 50);
    });
    it("generates or reads only the credentials the API path uses", () => {
        const inUse = (block: ReturnType<typeof homelab>) => credentialsInUse(parse(block));
        assert.ok(inUse(homelab()).includes("bootstrapToken"), "the bootstrap token makes the account");
        assert.ok(!inUse(homelab()).includes("apiToken"));
        const apiAdmin = set(set(set(homelab(), "api.admin", "apiToken"), "credentials.apiToken", "config"), "apiToken", { secure: "v1" });
        assert.ok(inUse(apiAdmin).includes("apiToken"), "api.admin apiToken reads credentials.apiToken");
        const dropped = set(set(homelab(), "api.admin", "none"), "authentik.bootstrapCredentials", false);
        assert.deepEqual(
            inUse(dropped).filter((c) => /bootstrap|apiToken/.test(c)),
            [],
            "no bootstrap or admin credential at all",
        );
        assert.ok(inUse(set(homelab(), "api.admin", "none")).includes("bootstrapPassword"), "bootstrap credentials stay until bootstrapCredentials: false");
    });
    it("an admin credential that is not set", () => {
        expectIssue(set(homelab(), "api.admin", "apiToken"), "credentials.apiToken", /is required \(api\.token: scoped, api\.admin: apiToken\)/);
        expectIssue(set(homelab(), "api.token", "apiToken"), "credentials.apiToken", /is required \(api\.token: apiToken\)/);
    });
    it("RADIUS open to the world", () => {
        expectIssue(set(homelab(), "outposts.radius.clientNetworks", ["0.0.0.0/0"]), "outposts.radius.clientNetworks", /every network/);
    });
    it("an API token the program cannot read (1Password via External Secrets)", () => {
        const block = set(homelab(), "credentials.bootstrapToken", { onepassword: { item: "authentik", field: "bootstrap-token" } });
        expectIssue(block, "credentials.bootstrapToken", /only inside the cluster/);
    });
});

describe("authentik objects in the graph", () => {
    let plan: Plan;
    before(async () => {
        plan = (await planStack(HOMELAB_FILE)).plan;
    });
    const dynamic = (p: Plan) => p.resources.filter((r) => r.type.startsWith(DYNAMIC));
    const named = (p: Plan, name: string): PlanResource => {
        const r = p.resources.find((x) => x.name === name);
        assert.ok(r, `${name} is not in the plan`);
        return r;
    };

    it("uses exactly the kind names as dynamic resource types (module authentik)", () => {
        const kinds = new Set(dynamic(plan).map((r) => r.type.slice(DYNAMIC.length)));
        assert.deepEqual([...kinds].sort(), [
            "Application",
            "AutomationToken",
            "Group",
            "OAuth2Provider",
            "Outpost",
            "OutpostMember",
            "PolicyBinding",
            "ProxyProvider",
            "RadiusProvider",
            "Role",
            "ServiceAccount",
        ]);
    });

    it("creates every object after the release, with the API token secret", () => {
        const release = plan.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
        for (const r of dynamic(plan)) {
            assert.ok(r.dependsOn.includes(release.urn), `${r.name} does not wait for the release`);
            assert.equal(r.inputs.apiToken ?? r.inputs.adminToken, SECRET);
            assert.equal(r.inputs.apiUrl, "https://auth.homelab.example");
            assert.equal((r.inputs.policy as { deadlineMs: number }).deadlineMs, 600_000);
        }
    });

    it("drives every object with the scoped account's token, made with the bootstrap token after its role", () => {
        const token = named(plan, "automation-token");
        const role = named(plan, "automation-role");
        const bootstrap = named(plan, "credentials-bootstrapToken");
        assert.ok(token.dependsOn.includes(role.urn), "the role holds its permissions before the token is used");
        for (const r of [named(plan, "automation-account"), role, token])
            assert.ok(r.dependsOn.includes(bootstrap.urn), `${r.name} is made with the bootstrap token`);
        assert.equal(role.retainOnDelete, true, "dropping the admin credential leaves the role in authentik");
        assert.equal(named(plan, "automation-account").retainOnDelete, true);
        const spec = role.inputs.spec as { name: string; permissions: string[]; initialPermissions: string[] };
        assert.equal(spec.name, "authentik-platform-automation");
        assert.ok(
            !spec.permissions.includes("authentik_core.enable_group_superuser"),
            "homelab-admins is a superuser group, and still the token may not set superuser status",
        );
        assert.ok(!spec.permissions.includes("authentik_core.change_group"), "nor change any group (its members)");
        assert.ok(!spec.permissions.includes("authentik_providers_proxy.change_proxyprovider"), "no global change: another stack's provider is out of reach");
        assert.ok(spec.permissions.includes("authentik_providers_proxy.add_proxyprovider"));
        assert.ok(spec.initialPermissions.includes("authentik_providers_proxy.change_proxyprovider"), "change on each provider its token creates");
        for (const r of dynamic(plan).filter((x) => x.parent === named(plan, "authentik-objects").urn)) {
            const isGroup = r.type.endsWith(":Group");
            assert.equal(r.dependsOn.includes(token.urn), !isGroup, `${r.name} ${isGroup ? "does not use" : "uses"} the automation token`);
            assert.equal(r.inputs.grantTo, isGroup ? undefined : "authentik-platform-automation", `${r.name}: owned by the automation role, but a group`);
            assert.ok(r.dependsOn.includes(bootstrap.urn), `${r.name}: groups are written with the bootstrap token, the rest handed over with it`);
        }
    });

    it("gives each consuming stack its own account, a role with what ProtectedApp needs, and a secret token output", () => {
        const role = named(plan, "consumer-wiki-role");
        const spec = role.inputs.spec as { name: string; permissions: string[] };
        assert.equal(spec.name, "authentik-platform-consumer-wiki");
        for (const needed of [
            "authentik_core.add_application",
            "authentik_policies.add_policybinding",
            "authentik_providers_proxy.add_proxyprovider",
            "authentik_core.view_group",
            "authentik_outposts.view_outpost",
        ]) {
            assert.ok(spec.permissions.includes(needed), needed);
        }
        for (const never of [
            "authentik_core.add_group",
            "authentik_core.change_group",
            "authentik_outposts.add_outpost",
            "authentik_outposts.change_outpost",
            "authentik_outposts.delete_outpost",
            "authentik_core.change_application",
            "authentik_policies.delete_policybinding",
            "authentik_core.enable_group_superuser",
        ]) {
            assert.ok(!spec.permissions.includes(never), `${never}: not globally`);
        }
        assert.ok(
            (role.inputs.spec as { initialPermissions: string[] }).initialPermissions.includes("authentik_policies.delete_policybinding"),
            "on what its ProtectedApps create",
        );
        // The outposts its apps attach to are shared with it (change), once its role exists.
        for (const outpost of ["outpost-embedded", "outpost-proxy"]) {
            const r = named(plan, outpost);
            assert.deepEqual(r.inputs.sharedWith, ["authentik-platform-consumer-wiki"], outpost);
            assert.ok(r.dependsOn.includes(role.urn), `${outpost} waits for the consumer's role`);
        }
        assert.equal(named(plan, "outpost-radius").inputs.sharedWith, undefined, "not the RADIUS outpost");
        assert.equal(String(plan.outputs.consumerTokens), "[secret]");
        expectIssue(set(homelab(), "consumers", [{ name: "wiki" }, { name: "wiki" }]), "consumers[1].name", /is listed twice/);
    });

    it("with api.admin none: no account or role in the program, the token renews itself, no bootstrap credential anywhere", async () => {
        const block = set(set(homelab(), "api.admin", "none"), "authentik.bootstrapCredentials", false);
        const dropped = (await planStack(writeStack(block))).plan;
        const kinds = new Set(dynamic(dropped).map((r) => r.type.slice(DYNAMIC.length)));
        assert.ok(!kinds.has("ServiceAccount") && !kinds.has("Role"));
        assert.equal(named(dropped, "automation-token").inputs.user, "");
        assert.ok(!dropped.resources.some((r) => /bootstrap(Token|Password)/.test(r.name)), "nothing generates a bootstrap credential");
        const release = dropped.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
        assert.doesNotMatch(JSON.stringify(release.inputs), /AUTHENTIK_BOOTSTRAP_(TOKEN|PASSWORD)/, "the pods get no bootstrap credential");
    });

    it("revokes the bootstrap token once nothing relies on it, after everything else that talks to authentik", async () => {
        const revocation = (p: Plan) => p.resources.find((r) => r.type === `${DYNAMIC}BootstrapTokenRevocation`);
        assert.equal(revocation(plan), undefined, "api.admin bootstrap: the program still uses it");
        for (const block of [
            set(homelab(), "api.admin", "none"),
            set(
                set(set(set(homelab(), "api.admin", "apiToken"), "credentials.apiToken", "config"), "apiToken", { secure: "v1" }),
                "authentik.bootstrapCredentials",
                false,
            ),
        ]) {
            const planned = (await planStack(writeStack(block))).plan;
            const r = revocation(planned);
            assert.ok(r, "revoked when api.admin is none or apiToken");
            assert.equal(r.inputs.bootstrapToken, "[secret]");
            assert.equal(r.inputs.adminToken, "[secret]");
            // A component dependency reaches the engine as its resources'.
            // The platform's own account, role and token come before every object (the token is their input), so before this too.
            const own = planned.resources.find((x) => x.type === "authentik-platform:authentik:AutomationAccess" && x.name === "automation")!;
            const talkers = dynamic(planned).filter((x) => x !== r && x.parent !== own.urn);
            assert.ok(talkers.length > 20);
            for (const t of talkers) assert.ok(r.dependsOn.includes(t.urn), `after ${t.name}`);
            assert.ok(named(planned, "app-sonarr").dependsOn.includes(named(planned, "automation-token").urn));
        }
    });

    it("wires provider → application → bindings → outpost", () => {
        const provider = named(plan, "app-sonarr-provider");
        const application = named(plan, "app-sonarr");
        const binding = named(plan, "app-sonarr-allow-media-admins");
        assert.ok(application.dependsOn.includes(provider.urn));
        assert.equal((application.inputs.spec as { provider: string }).provider, "app-sonarr-provider-pk");
        assert.deepEqual(binding.inputs.spec, { target: "app-sonarr-uuid", group: "group-media-admins-pk", order: 0 });
        const embedded = named(plan, "outpost-embedded");
        assert.equal(embedded.inputs.adopt, true, "the embedded outpost is adopted, never created");
        assert.ok(!("providers" in (embedded.inputs.spec as object)), "the embedded outpost's provider list is never written whole");
        const member = named(plan, "app-sonarr-on-outpost");
        assert.deepEqual(member.inputs.spec, { outpost: "outpost-embedded-pk", outpostName: "authentik Embedded Outpost", provider: "app-sonarr-provider-pk" });
        assert.ok(member.dependsOn.includes(embedded.urn) && member.dependsOn.includes(provider.urn));
        const proxy = named(plan, "outpost-proxy");
        assert.deepEqual(
            (proxy.inputs.spec as { initialProviders: string[] }).initialProviders,
            ["app-uptime-kuma-provider-pk"],
            "created with its first providers",
        );
        assert.equal((named(plan, "app-uptime-kuma-on-outpost").inputs.spec as { outpost: string }).outpost, "outpost-proxy-pk");
        assert.equal(
            plan.resources.filter((r) => r.type === `${DYNAMIC}OutpostMember`).length,
            4,
            "homelab-domain, sonarr, uptime-kuma and RADIUS: OIDC apps need no outpost",
        );
    });

    it("adopts every kind from config; memberships need no adopt (an existing one is taken as is)", async () => {
        let block = homelab();
        block["authentik-platform:groups"] = (block["authentik-platform:groups"] as object[]).map((g) => ({ ...g, adopt: true }));
        block["authentik-platform:apps"] = (block["authentik-platform:apps"] as object[]).map((a) => ({ ...a, adopt: true }));
        block = set(set(block, "outposts.proxy.adopt", true), "outposts.radius.adopt", true);
        const adopted = (await planStack(writeStack(block))).plan;
        const notAdopted = dynamic(adopted)
            .filter((r) => r.inputs.adopt !== true)
            .map((r) => r.type.slice(DYNAMIC.length));
        assert.deepEqual(
            [...new Set(notAdopted)].sort(),
            ["AutomationToken", "OutpostMember", "Role", "ServiceAccount"],
            "the automation account is the stack's own: found by name, never adopted",
        );
        assert.equal(named(plan, "outpost-radius").inputs.adopt, false, "adopt defaults to off");
        assert.equal(named(adopted, "radius-radius-allow-wifi-users").inputs.adopt, true);
    });

    it("moves a renamed app's objects with Pulumi aliases (renamedFrom), and the baseline check explains a rename without it", async () => {
        const rename = (extra: object) => {
            const block = homelab();
            block["authentik-platform:apps"] = (block["authentik-platform:apps"] as { slug: string }[]).map((a) =>
                a.slug === "sonarr" ? { ...a, slug: "sonarr-tv", ...extra } : a,
            );
            return writeStack(block, "homelab");
        };
        const moved = (await planStack(rename({ renamedFrom: ["sonarr"] }))).plan;
        for (const [now, before] of [
            ["app-sonarr-tv-provider", "app-sonarr-provider"],
            ["app-sonarr-tv", "app-sonarr"],
            ["app-sonarr-tv-allow-media-admins", "app-sonarr-allow-media-admins"],
            ["app-sonarr-tv-on-outpost", "app-sonarr-on-outpost"],
        ]) {
            assert.deepEqual(named(moved, now).aliases, [named(plan, before).urn], now);
        }
        assert.deepEqual(checkBaseline(plan, moved).findings, []);
        const collided = checkBaseline(plan, (await planStack(rename({}))).plan).findings;
        assert.equal(collided.length, 1);
        assert.match(collided[0], /provider "Sonarr" would be created again as app-sonarr-tv-provider .*add renamedFrom: \[sonarr\] to the app sonarr-tv/);
    });

    it("keeps OIDC client secrets secret in inputs and outputs", () => {
        assert.equal((named(plan, "app-grafana-provider").inputs.spec as { clientSecret: string }).clientSecret, SECRET);
        assert.equal(plan.outputs.oidcClientSecrets, SECRET);
    });

    it("sets up RADIUS with a LoadBalancer outpost, its client networks and a generated secret", () => {
        const provider = named(plan, "radius-radius-provider");
        assert.equal((provider.inputs.spec as { clientNetworks: string }).clientNetworks, "10.0.10.0/24");
        assert.equal((provider.inputs.spec as { sharedSecret: string }).sharedSecret, SECRET);
        const outpost = named(plan, "outpost-radius").inputs.spec as { type: string; config: { kubernetes_service_type: string } };
        assert.deepEqual([outpost.type, outpost.config.kubernetes_service_type], ["radius", "LoadBalancer"]);
        const patches = (outpost.config as unknown as { kubernetes_json_patches: { service: unknown[] } }).kubernetes_json_patches.service;
        assert.deepEqual(
            patches,
            [
                { op: "add", path: "/spec/loadBalancerSourceRanges", value: ["10.0.10.0/24"] },
                { op: "add", path: "/spec/externalTrafficPolicy", value: "Local" },
            ],
            "only the NAS networks reach RADIUS, with their real source address",
        );
        assert.deepEqual(plan.outputs.radius, { host: "ak-outpost-radius.authentik-outposts.svc.cluster.local", port: 1812 });
    });

    it("exports per-app outputs: OIDC client id and endpoints, proxy provider and outpost", () => {
        const apps = plan.outputs.apps as Record<string, Record<string, string>>;
        assert.deepEqual(apps.grafana, {
            mode: "oidc",
            url: "https://grafana.homelab.example/",
            clientId: "grafana",
            issuer: "https://auth.homelab.example/application/o/grafana/",
            discovery: "https://auth.homelab.example/application/o/grafana/.well-known/openid-configuration",
        });
        assert.deepEqual(apps["uptime-kuma"], {
            mode: "forward_single",
            url: "https://status.homelab.example/",
            providerId: "app-uptime-kuma-provider-pk",
            outpost: "homelab-proxy",
        });
    });

    it("removes an app's provider, application, bindings and outpost attachment when it leaves the config", async () => {
        const block = homelab();
        const apps = block["authentik-platform:apps"] as { slug: string }[];
        block["authentik-platform:apps"] = apps.filter((a) => a.slug !== "sonarr");
        const without = (await planStack(writeStack(block, "homelab"))).plan;
        assert.deepEqual(
            without.resources.filter((r) => r.name.startsWith("app-sonarr")),
            [],
        );
        assert.ok(plan.resources.some((r) => r.name.startsWith("app-sonarr")));
        assert.deepEqual(
            without.resources
                .filter((r) => r.type === `${DYNAMIC}OutpostMember` && (r.inputs.spec as { outpost: string }).outpost === "outpost-embedded-pk")
                .map((r) => r.name),
            ["app-homelab-domain-on-outpost"],
            "only its own membership goes; the catch-all stays attached",
        );
        assert.ok(!("sonarr" in (without.outputs.apps as object)));
    });

    it("needs no API objects (nor API access) for a stack without apps", async () => {
        const block = set(set(set(set(homelab(), "apps", undefined), "groups", undefined), "outposts", undefined), "consumers", undefined);
        const { plan: bare, ok } = await planStack(writeStack(block));
        assert.ok(ok);
        assert.deepEqual(dynamic(bare), []);
        assert.deepEqual(bare.outputs.apps, {});
    });
});
