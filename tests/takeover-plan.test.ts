/**
 * The takeover plan from the Terraform stack's state: a realistic v4 state of the stack described
 * in shared/notes/prior-art.md (tests/fixtures/terraform/terraform.tfstate, attributes as the
 * hashicorp/kubernetes, hashicorp/helm, gavinbunney/kubectl and goauthentik/authentik providers
 * record them), and mutated copies of it.
 */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import YAML from "yaml";
import { planStack } from "../tools/plan";
import type { Plan } from "../tools/harness";
import { Mapping, TakeoverReport, readTerraformState, renderTakeover, takeoverReport } from "../tools/takeover";
import { HOMELAB_FILE, ROOT, homelab, writeStack } from "./support/helpers";
import type { StackConfig } from "../config";

const FIXTURE = path.join(ROOT, "tests", "fixtures", "terraform", "terraform.tfstate");
/** Every secret the fixture holds in plain text, as Terraform states do. */
const SECRETS = [
    "tf-Plaintext-DB-pass-42",
    "tf-Secret-Key-in-values-9",
    "tf-Grafana-client-secret-3",
    "tf-Radius-shared-secret-5",
    "tf-Smtp-pass-7",
    "tf-Random-result-8",
];

type State = { resources: { type: string; name: string; mode: string; instances: { attributes: Record<string, unknown> }[] }[] };
const fixture = () => JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as State;
const attrs = (s: State, type: string, name: string) => s.resources.find((r) => r.type === type && r.name === name)!.instances[0].attributes;

let plan: Plan;
let config: StackConfig;
const raw = () => (YAML.parse(fs.readFileSync(HOMELAB_FILE, "utf8")) as { config: Record<string, unknown> }).config;
const report = (state: State = fixture(), p = plan, c = config) => takeoverReport(readTerraformState(JSON.stringify(state)), p, c, raw());
const mapping = (r: TakeoverReport, address: string): Mapping => {
    const m = r.mappings.find((x) => x.terraform === address);
    assert.ok(m, `${address} is not in the report`);
    return m;
};

before(async () => {
    const outcome = await planStack(HOMELAB_FILE);
    plan = outcome.plan;
    config = outcome.config;
});

describe("takeover plan from the Terraform state", () => {
    it("imports the Kubernetes objects this program creates under the same names, with Pulumi's id format", () => {
        const r = report();
        const imported = Object.fromEntries(r.mappings.filter((m) => m.how === "import").map((m) => [m.terraform, m.detail.split(",")[0]]));
        assert.deepEqual(imported, {
            "kubernetes_namespace_v1.authentik": "import authentik",
            "kubernetes_config_map_v1.pgbouncer": "import authentik/pgbouncer-config",
            "kubernetes_secret_v1.pgbouncer_auth": "import authentik/pgbouncer-auth",
            "kubernetes_service_v1.pgbouncer": "import authentik/pgbouncer",
            "kubernetes_pod_disruption_budget_v1.pgbouncer": "import authentik/pgbouncer",
            "kubernetes_persistent_volume_claim_v1.media": "import authentik/authentik-media",
        });
    });

    it("adopts authentik objects by natural key, and leaves alone what this stack does not declare", () => {
        const r = report();
        assert.match(mapping(r, "authentik_provider_proxy.sonarr").detail, /^adopt by name "Sonarr" \(apps\[slug=sonarr\]\.adopt: true\)/);
        assert.match(mapping(r, "authentik_application.radius").detail, /outposts\.radius\.adopt/);
        assert.match(mapping(r, "authentik_policy_binding.sonarr_media").detail, /adopt by target "sonarr" and group "media-admins"/);
        assert.equal(mapping(r, "authentik_outpost.embedded").how, "adopt");
        assert.match(mapping(r, "authentik_outpost.embedded").detail, /stay attached \(Radarr\)/);
        for (const [address, why] of [
            ["authentik_provider_proxy.radarr", /no ProxyProvider named "Radarr"/],
            ["authentik_application.radarr", /no app with slug "radarr"/],
            ["authentik_policy_binding.sonarr_legacy_ops", /does not bind group "legacy-ops" to "sonarr"/],
            ["authentik_provider_ldap.ldap", /no LDAP provider/],
            ["authentik_flow.recovery", /does not manage flows/],
        ] as const) {
            const m = mapping(r, address);
            assert.equal(m.how, "none", address);
            assert.match(m.detail, why);
            assert.match(m.detail, new RegExp(`terraform destroy would delete it\\): terraform state rm ${address.replace(".", "\\.")} to keep it`));
        }
        assert.deepEqual(
            r.unknown,
            [{ terraform: "random_password.smtp", type: "random_password" }],
            "unknown types are listed, data sources are not resources",
        );
    });

    it("shows what the first up changes", () => {
        const r = report();
        assert.deepEqual(mapping(r, "kubernetes_deployment_v1.pgbouncer").differences, [
            {
                field: "selector",
                terraform: '{"app":"pgbouncer"}',
                program: '{"app.kubernetes.io/component":"database-pooler","app.kubernetes.io/name":"pgbouncer"}',
            },
            { field: "container pgbouncer image", terraform: "edoburu/pgbouncer:latest", program: "edoburu/pgbouncer:v1.24.1-p1" },
        ]);
        assert.deepEqual(mapping(r, "authentik_provider_radius.radius").differences, [
            { field: "client_networks", terraform: "0.0.0.0/0", program: "10.0.10.0/24" },
        ]);
        assert.equal(mapping(r, "authentik_application.sonarr").differences[0].field, "meta_icon");
        assert.deepEqual(mapping(r, "authentik_application.grafana").differences, [], "an unchanged app changes nothing");
    });

    it("flags the stateful and availability risks", () => {
        const r = report();
        assert.match(
            mapping(r, "kubectl_manifest.cnpg_cluster").risks.join(),
            /a database replaced: .*databases\/postgres keeps the data .* EMPTY cluster authentik\/authentik-db; set database\.bootstrap\.mode: import/,
        );
        assert.match(mapping(r, "helm_release.goauthentik").risks.join(), /set authentik\.releaseName: goauthentik/);
        assert.match(mapping(r, "authentik_provider_oauth2.grafana").risks.join(), /a secret rotated/);
        assert.match(mapping(r, "authentik_provider_radius.radius").risks.join(), /a secret rotated: .*RADIUS shared secret/);
        assert.match(
            mapping(r, "authentik_outpost.embedded").risks.join(),
            /a provider detached from an outpost: .*terraform state rm authentik_outpost\.embedded before the first up/,
        );
        assert.match(mapping(r, "kubernetes_persistent_volume_claim_v1.media").risks.join(), /a volume replaced: storage class longhorn → longhorn-rwx/);
        const pgbouncer = mapping(r, "kubernetes_deployment_v1.pgbouncer");
        assert.match(
            pgbouncer.risks.join(),
            /an import that cannot work: its selector \{"app":"pgbouncer"\} → \{"app.kubernetes.io\/component":"database-pooler","app.kubernetes.io\/name":"pgbouncer"\} cannot change on a Deployment.*kubectl -n authentik delete deployment pgbouncer/,
        );
        assert.equal(pgbouncer.how, "recreate", "not import: tooling reading the JSON must not count it as taken over in place");
        assert.match(pgbouncer.detail, /^recreate authentik\/pgbouncer/);
        const printed = renderTakeover(r, plan);
        const recreated = printed.slice(printed.indexOf("Recreated"), printed.indexOf("Adopted"));
        assert.match(recreated, /kubernetes_deployment_v1\.pgbouncer/, "printed under its own heading, not among the imports");
    });

    it("lists what the first up creates", () => {
        const created = report().creates.map((c) => c.name);
        assert.ok(created.includes("authentik-db") && created.includes("app-headlamp") && created.includes("app-sonarr-on-outpost"));
        assert.ok(!created.includes("pgbouncer-config") && !created.includes("app-sonarr"), "what is taken over is not created");
    });

    it("prints no secret of the state, anywhere", () => {
        const r = report();
        const text = renderTakeover(r, plan) + JSON.stringify(r);
        for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked`);
        assert.match(JSON.stringify(mapping(r, "kubernetes_config_map_v1.pgbouncer").differences), /sha256:[0-9a-f]{12}/, "content only as digests");
    });

    it("writes the config fragment that makes the first up a takeover: planned, it imports and adopts exactly those", async () => {
        const r = report();
        const fragment = r.configFragment as Record<string, unknown>;
        assert.ok(!(fragment["authentik-platform:import"] as string[]).includes("Deployment/authentik/pgbouncer"), "left out: its selector cannot change");
        assert.deepEqual((fragment["authentik-platform:import"] as string[]).length, 6);
        const adopted = (fragment["authentik-platform:apps"] as { slug: string; adopt?: boolean }[]).filter((a) => a.adopt).map((a) => a.slug);
        assert.deepEqual(adopted.sort(), ["grafana", "homelab-domain", "sonarr", "uptime-kuma"]);
        assert.deepEqual(fragment["authentik-platform:outposts"], {
            ...(raw()["authentik-platform:outposts"] as object),
            proxy: { enabled: true, name: "homelab-proxy", replicas: 2, adopt: true },
            radius: { name: "radius", clientNetworks: ["10.0.10.0/24"], groups: ["wifi-users"], adopt: true },
        });
        const takenOver = (await planStack(writeStack({ ...raw(), ...fragment }, "homelab"))).plan;
        // Every Kubernetes object but PgBouncer's Deployment, whose selector cannot change.
        assert.equal(takenOver.resources.filter((x) => x.import).length, 6);
        assert.equal(takenOver.resources.find((x) => x.name === "app-sonarr")?.inputs.adopt, true);
        assert.equal(takenOver.resources.find((x) => x.name === "app-headlamp")?.inputs.adopt, false, "what Terraform never had is created, not adopted");
    });
});

describe("mutated states", () => {
    it("an app renamed in the program: Terraform's application is left alone, its provider flagged by name", async () => {
        const block = homelab();
        block["authentik-platform:apps"] = (block["authentik-platform:apps"] as { slug: string }[]).map((a) =>
            a.slug === "sonarr" ? { ...a, slug: "sonarr-tv" } : a,
        );
        const outcome = await planStack(writeStack(block, "homelab"));
        const r = report(fixture(), outcome.plan, outcome.config);
        assert.equal(mapping(r, "authentik_application.sonarr").how, "none");
        assert.match(mapping(r, "authentik_provider_proxy.sonarr").detail, /apps\[slug=sonarr-tv\]/, "the provider moves with the app's name");
        assert.ok(r.creates.some((c) => c.name === "app-sonarr-tv"));
    });

    it("a provider only Terraform has is left alone, named, with how to keep it", () => {
        const state = fixture();
        const extra = structuredClone(state.resources.find((x) => x.type === "authentik_provider_proxy" && x.name === "radarr")!);
        extra.name = "jellyfin";
        extra.instances[0].attributes = { ...extra.instances[0].attributes, id: "99", name: "Jellyfin" };
        state.resources.push(extra);
        assert.match(
            mapping(report(state), "authentik_provider_proxy.jellyfin").detail,
            /no ProxyProvider named "Jellyfin".*terraform state rm authentik_provider_proxy\.jellyfin to keep it/,
        );
    });

    it("a database that would be replaced: the same cluster, larger than the program's", async () => {
        const state = fixture();
        const a = attrs(state, "kubectl_manifest", "cnpg_cluster");
        a.yaml_body = String(a.yaml_body).replace("name: postgres", "name: authentik-db").replace("namespace: databases", "namespace: authentik");
        const r = report(state);
        const m = mapping(r, "kubectl_manifest.cnpg_cluster");
        assert.equal(m.how, "import");
        assert.deepEqual(
            m.differences.find((d) => d.field === "storage.size"),
            { field: "storage.size", terraform: "40Gi", program: "20Gi" },
        );
        assert.match(m.risks.join(), /a database volume replaced: 20Gi is smaller than 40Gi/);
    });

    it("a volume claim larger than the program's, or with other access modes", () => {
        const state = fixture();
        const spec = (attrs(state, "kubernetes_persistent_volume_claim_v1", "media").spec as Record<string, unknown>[])[0];
        spec.resources = [{ requests: { storage: "50Gi" }, limits: {} }];
        spec.access_modes = ["ReadWriteOnce"];
        const risks = mapping(report(state), "kubernetes_persistent_volume_claim_v1.media").risks.join("\n");
        assert.match(risks, /a volume replaced: 5Gi is smaller than the existing 50Gi/);
        assert.match(risks, /access modes ReadWriteOnce → ReadWriteMany cannot change/);
    });
});

describe("npm run plan -- --from-terraform", () => {
    const PLAN = path.join(ROOT, "bin", "tools", "plan.js");
    const run = (...args: string[]) => spawnSync(process.execPath, [PLAN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, INIT_CWD: ROOT } });

    it("prints the takeover, adds it to the JSON and writes the fragment, printing no secret", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "takeover-"));
        const r = run("--from-terraform", FIXTURE, "--json", path.join(dir, "plan.json"), "--takeover-config", path.join(dir, "fragment.yaml"));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /Takeover from Terraform 1\.9\.8 state \(serial 212\)/);
        for (const secret of SECRETS) assert.ok(!r.stdout.includes(secret) && !fs.readFileSync(path.join(dir, "plan.json"), "utf8").includes(secret), secret);
        const json = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as { takeover: TakeoverReport };
        assert.deepEqual(Object.keys(json.takeover), ["terraformVersion", "serial", "mappings", "creates", "unknown", "configFragment"]);
        assert.match(fs.readFileSync(path.join(dir, "fragment.yaml"), "utf8"), /authentik-platform:import:\n\s+- Namespace\/authentik/);
    });

    it("refuses a file that is not a v4 state, and a fragment without a state", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "takeover-"));
        fs.writeFileSync(path.join(dir, "old.tfstate"), JSON.stringify({ version: 3, modules: [] }));
        const r = run("--from-terraform", path.join(dir, "old.tfstate"));
        assert.equal(r.status, 2);
        assert.match(r.stderr, /not a Terraform state in format version 4/);
        assert.equal(run("--takeover-config", path.join(dir, "x.yaml")).status, 2);
    });
});
