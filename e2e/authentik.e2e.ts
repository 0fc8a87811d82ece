/**
 * `pulumi preview` / `pulumi up` / `pulumi destroy` for real: the Pulumi CLI and engine (built from
 * their Go module where the machine has none), the program run inline through the Automation API,
 * the dynamic-provider host, a file backend with a passphrase, and the platform's authentik objects
 * (e2e/stacks/authentik: the same configuration schema and wiring as the platform) against the
 * authentik stand-in of the contract tests, served over HTTPS on loopback. Every scenario is a
 * command whose exit code and effect are checked.
 *
 * Needs E2E_BIN (the directory e2e/build-tools.sh prints; `npm run e2e` sets it) and openssl.
 */
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { ADMIN_TOKEN, FakeAuthentik } from "../tests/support/fake-authentik";
import { protectedAppProject } from "../tests/support/packages";
import { consumerPermissions } from "../components/authentik-access/model";
import { Project, homelabConfigFor, initStack, ok, project, projectIn, standInAuthentik } from "./support/pulumi";
import { program } from "./stacks/authentik";

const STACK = "e2e";
const ACCOUNT = "authentik-platform-automation";
let fake: FakeAuthentik;
let platform: Project;
/** When the first up had issued the automation token. */
let firstUpDone = 0;
const pulumi = (...args: string[]) => platform.run(...args);

/** The stack's configuration: the homelab file's, pointed at the stand-in; the admin credential a secure key. */
function stackConfig(url: string): Record<string, unknown> {
    const config = homelabConfigFor(url);
    // Nothing here generates (no random provider plugin): the e2e stack program creates no credential but the token.
    config["authentik-platform:credentials"] = { databasePassword: "generate", secretKey: "generate", bootstrapToken: "config", bootstrapPassword: "generate" };
    return config;
}

before(async () => {
    platform = project("authentik", program);
    fake = await standInAuthentik(platform);
    await initStack(platform, STACK, stackConfig(fake.url), { bootstrapToken: ADMIN_TOKEN });
});

after(async () => {
    await fake?.stop();
});

const stateText = () => platform.state(STACK);
const account = () => [...fake.users.values()].find((u) => u.username === ACCOUNT);

describe("the real engine, the platform's authentik objects, the stand-in", () => {
    it("1. preview, then up from empty: the scoped account is made with the bootstrap token, and makes everything else", async () => {
        const preview = await pulumi("preview");
        ok(preview, "preview");
        assert.match(preview.stdout, /\+ .*pulumi-nodejs:dynamic\/authentik:ServiceAccount/);
        ok(await pulumi("up", "--yes", "--skip-preview"), "up");
        firstUpDone = Date.now();
        const sa = account();
        assert.ok(sa, "the service account exists");
        assert.equal(sa.type, "service_account");
        const writers = (ops: RegExp) => [...new Set(fake.writes.filter((w) => ops.test(w.op)).map((w) => w.user))];
        assert.deepEqual(
            writers(/^(POST|PUT|PATCH) (providers|core_applications|policies_bindings|outposts)/),
            [ACCOUNT],
            "every authentik object but the groups is written by the scoped account",
        );
        assert.deepEqual(
            writers(/^(POST|PUT|PATCH) core_groups/),
            ["akadmin"],
            "groups only by the admin credential: a token that may change a group may change its members",
        );
        assert.ok(fake.objects("providers_proxy").some((p) => p.name === "Sonarr" || p.external_host === "https://sonarr.homelab.example"));
        assert.ok(fake.objects("core_applications").some((a) => a.slug === "sonarr"));
    });

    it("2. preview --expect-no-changes straight after: the real diffs are idempotent", async () => {
        ok(await pulumi("preview", "--expect-no-changes"), "preview --expect-no-changes");
    });

    it("7. the state holds no secret in plain text: neither the bootstrap token nor any token issued", async () => {
        const state = stateText();
        assert.ok(!state.includes(ADMIN_TOKEN), "the bootstrap token is encrypted in the state");
        // Every token authentik issued: the automation account's and each consuming stack's.
        const keys = [...fake.tokens.values()].filter((t) => t.key !== ADMIN_TOKEN).map((t) => t.key);
        assert.ok(keys.length >= 2, "the platform's token and the wiki consumer's");
        for (const key of keys) assert.ok(!state.includes(key), "every issued token is encrypted in the state");
        assert.match(state, /"ciphertext":/, "secrets are stored encrypted");
    });

    it("9. a change made in authentik shows as drift on the next preview, and up puts it back", async () => {
        const app = fake.objects("core_applications").find((a) => a.slug === "sonarr")!;
        const launch = app.meta_launch_url;
        app.meta_launch_url = "https://changed-in-the-ui.example";
        const preview = await pulumi("preview", "--expect-no-changes", "--diff");
        assert.notEqual(preview.code, 0, "the drift is a change");
        assert.match(preview.stdout, /metaLaunchUrl/);
        ok(await pulumi("up", "--yes", "--skip-preview"), "up");
        assert.equal(fake.objects("core_applications").find((a) => a.slug === "sonarr")!.meta_launch_url, launch);
    });

    it("10. an app switches from forward auth to OIDC and back: the real engine creates the new provider under the app's name before it deletes the old one", async () => {
        const sonarr = () => fake.collections.core_applications.items.get("sonarr")!;
        const bindings = () =>
            fake
                .objects("policies_bindings")
                .filter((b) => b.target === sonarr().pk)
                .map((b) => b.group);
        const before = { bindings: bindings(), app: sonarr().pk };
        const path = (key: string) => `authentik-platform:apps[1].${key}`; // sonarr, the second app of the homelab file
        ok(await pulumi("config", "set", "--path", path("mode"), "oidc"), "config set");
        ok(await pulumi("config", "set", "--path", path("clientType"), "public"), "config set");
        ok(await pulumi("config", "set", "--path", path("redirectUris[0]"), "https://sonarr.homelab.example/oidc/callback"), "config set");
        ok(await pulumi("config", "rm", "--path", path("outpost")), "config rm");
        ok(await pulumi("up", "--yes", "--skip-preview"), "up to OIDC");
        const oidc = fake.objects("providers_oauth2").find((o) => o.name === "Sonarr")!;
        assert.ok(oidc, "the OAuth2 provider has the app's name");
        assert.equal(sonarr().provider, oidc.pk, "the app is on it");
        assert.deepEqual([sonarr().pk, bindings()], [before.app, before.bindings], "same application, same bindings");
        assert.ok(!fake.objects("providers_proxy").some((o) => String(o.name).startsWith("Sonarr")), "the proxy provider is gone, renamed or not");
        assert.ok(
            !(fake.embedded().providers as number[]).some((pk) => !fake.objects("providers_proxy").some((o) => o.pk === pk)),
            "the outpost serves no provider that is gone",
        );
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");

        ok(await pulumi("config", "set", "--path", path("mode"), "forward_single"), "config set");
        ok(await pulumi("config", "set", "--path", path("outpost"), "embedded"), "config set");
        ok(await pulumi("config", "rm", "--path", path("clientType")), "config rm");
        ok(await pulumi("config", "rm", "--path", path("redirectUris")), "config rm");
        ok(await pulumi("up", "--yes", "--skip-preview"), "up back to forward auth");
        const proxy = fake.objects("providers_proxy").find((o) => o.name === "Sonarr")!;
        assert.equal(sonarr().provider, proxy.pk);
        assert.ok((fake.embedded().providers as number[]).includes(proxy.pk as number), "on the outpost again");
        assert.equal(fake.objects("providers_oauth2").filter((o) => String(o.name).startsWith("Sonarr")).length, 0);
        assert.deepEqual(bindings(), before.bindings);
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");
    });

    it("the token rotates itself once half its lifetime passed, and the next preview is clean again", async () => {
        const own = () => [...fake.tokens.values()].filter((t) => t.user === account()!.pk);
        const current = own();
        assert.equal(current.length, 1);
        // authentik says it expires in 10 s (an admin shortened it, or the runs are far apart): the
        // refresh learns it; the token was issued by the first scenario, over 10 s ago (waited for
        // here on a machine fast enough to get here sooner), so more than half its life has passed
        // and this up replaces it while it is still valid.
        const age = Date.now() - firstUpDone; // at least the token's age
        if (age < 11_000) await new Promise((resolve) => setTimeout(resolve, 11_000 - age));
        current[0].expires = new Date(Date.now() + 10_000).toISOString();
        ok(await pulumi("up", "--yes", "--skip-preview"), "up rotating it");
        const now = own().map((t) => t.identifier);
        assert.ok(
            now.some((id) => id !== current[0].identifier),
            "a new token was issued, by the account itself",
        );
        assert.ok(now.includes(current[0].identifier), "the previous one stays valid until the next rotation");
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");
    });

    it("6 / ProtectedApp: a stack compiled apart, with only the packages installed, protects its host beside the platform and leaves cleanly", async () => {
        const dir = protectedAppProject();
        // Its token is the one the platform issues it (consumers: [{name: wiki}]): a service
        // account whose role holds exactly what ProtectedApp needs, read through the StackReference.
        const issued = [...fake.users.values()].find((u) => u.username === "authentik-platform-consumer-wiki");
        assert.ok(issued && issued.type === "service_account", "the platform made the consumer's account");
        const role = [...fake.roleUsers].find(([, members]) => members.has(issued.pk))![0];
        assert.deepEqual([...fake.rolePermissions.get(role)!].sort(), consumerPermissions());
        // What a StackReference reads: plain values plain, secrets secret.
        const outputs = await pulumi("stack", "output", "--json");
        ok(outputs, "stack output");
        const published = JSON.parse(outputs.stdout) as { authentik: { url: string }; consumerTokens: unknown };
        assert.equal(published.authentik.url, "https://auth.homelab.example");
        assert.equal(published.consumerTokens, "[secret]");
        // Its compiled program, run inline like the platform's, against the platform's backend.
        const main = path.join(dir, "bin", "index.js");
        const consumer = projectIn(
            dir,
            async () => {
                delete require.cache[main]; // a fresh run of the program each time, as the CLI would start it
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                return require(main) as Record<string, unknown>;
            },
            { PULUMI_BACKEND_URL: platform.env.PULUMI_BACKEND_URL, NODE_EXTRA_CA_CERTS: platform.env.NODE_EXTRA_CA_CERTS },
        );
        ok(await consumer.run("stack", "init", "consumer"), "stack init");
        ok(await consumer.run("config", "set", "platformStack", `organization/authentik-platform/${STACK}`), "config set");
        ok(await consumer.run("config", "set", "authentikApiUrl", fake.url), "config set");
        ok(await consumer.run("up", "--yes", "--skip-preview"), "the consumer's up");
        const wiki = fake.objects("core_applications").find((a) => a.slug === "wiki");
        assert.equal(wiki?.meta_publisher, "pulumi:wiki-protected-app/consumer", "the application records the stack that owns it");
        const provider = fake.objects("providers_proxy").find((x) => x.name === "Wiki")!;
        assert.ok((fake.embedded().providers as number[]).includes(provider.pk as number), "attached to the platform's outpost");
        assert.ok(fake.writes.filter((w) => w.user === "authentik-platform-consumer-wiki").length >= 4, "written with the consumer's own token");
        ok(await consumer.run("preview", "--expect-no-changes"), "the consumer's preview is clean");
        ok(await pulumi("preview", "--expect-no-changes"), "the platform's preview shows no change: it keeps members it does not own");
        const before = (fake.embedded().providers as number[]).filter((x) => x !== provider.pk);
        ok(await consumer.run("destroy", "--yes", "--skip-preview"), "the consumer's destroy");
        assert.equal(
            fake.objects("core_applications").find((a) => a.slug === "wiki"),
            undefined,
        );
        assert.deepEqual(fake.embedded().providers, before, "exactly its provider is detached");
        ok(await pulumi("preview", "--expect-no-changes"), "the platform's preview still shows no change");
    });

    it("api.admin none: the bootstrap token revokes itself after the run's last call to authentik", async () => {
        ok(await pulumi("config", "set", "--path", "authentik-platform:api.admin", "none"), "config set");
        ok(await pulumi("up", "--yes", "--skip-preview"), "up without an admin credential, the bootstrap token still held");
        assert.equal(fake.tokens.has("authentik-bootstrap-token"), false, "authentik-bootstrap-token is deleted in authentik");
        assert.ok(![...fake.tokens.values()].some((t) => t.key === ADMIN_TOKEN), "no token of that key is left to authenticate with");
        assert.match(stateText(), /dynamic\/authentik:BootstrapTokenRevocation/);
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");
    });

    it("api.admin none and no bootstrap credentials: the account and role leave the program, not authentik", async () => {
        ok(await pulumi("config", "set", "--path", "authentik-platform:authentik.bootstrapCredentials", "false"), "config set");
        ok(await pulumi("config", "set", "--path", "authentik-platform:credentials.bootstrapToken", "generate"), "config set");
        ok(await pulumi("config", "rm", "authentik-platform:bootstrapToken"), "config rm");
        ok(await pulumi("up", "--yes", "--skip-preview"), "up without any admin credential");
        assert.ok(account(), "the account stays in authentik");
        assert.equal(fake.objects("rbac_roles").filter((r) => r.name === ACCOUNT).length, 1, "the role stays in authentik");
        assert.doesNotMatch(stateText(), /dynamic\/authentik:ServiceAccount/, "the account is no longer in the state");
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");
    });

    it("8. destroy (after one up with the admin credential, which alone deletes groups) removes the platform's objects and its tokens; the account and role stay", async () => {
        ok(await pulumi("config", "set", "--path", "authentik-platform:api.admin", "apiToken"), "config set");
        ok(await pulumi("config", "set", "--path", "authentik-platform:credentials.apiToken", "config"), "config set");
        // A superuser's own API token: the bootstrap token was revoked.
        const apiToken = fake.issueToken(1, { identifier: "akadmin-api", expiring: false });
        ok(await pulumi("config", "set", "--secret", "authentik-platform:apiToken", apiToken), "config set --secret");
        ok(await pulumi("up", "--yes", "--skip-preview"), "up with the admin credential");
        ok(await pulumi("destroy", "--yes", "--skip-preview"), "destroy");
        assert.equal(fake.objects("core_groups").length, 0, "the groups too");
        assert.equal(fake.objects("core_applications").length, 0);
        assert.equal(fake.objects("providers_proxy").length, 0);
        assert.deepEqual(
            [...fake.tokens.values()].filter((t) => t.user === account()!.pk).map((t) => t.identifier),
            [],
            "the automation tokens are deleted",
        );
        assert.ok(account());
    });
});
