/**
 * The wired graph, run through Pulumi's real runtime with mocks: parents, dependencies, protection,
 * secrets, schemas and the stack-output contract, for the homelab stack and its variants.
 */
import { before, describe, it } from "node:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as assert from "node:assert/strict";
import { PlanOutcome, planStack } from "../tools/plan";
import { Plan, PlanResource, SECRET, SECRET_PLACEHOLDER_PREFIX, runProgram } from "../tools/harness";
import { checkBaseline, checkNoPlaintextSecrets, checkStatefulProtected } from "../tools/checks";
import { checkKubernetesSchemas } from "../tools/schemas";
import { readStackFile } from "../tools/stackfile";
import { OUTPUT_KEYS } from "../packages/contract";
import { HOMELAB_FILE, ROOT, homelab, set, writeStack } from "./support/helpers";
import { conformanceReferences } from "./support/tools";
import { conformance } from "../tools/conformance";

const find = (plan: Plan, type: string, name: string): PlanResource => {
    const r = plan.resources.find((x) => x.type === type && x.name === name);
    assert.ok(r, `${type} ${name} is not in the plan`);
    return r;
};
const CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";
const SECRET_TYPE = "kubernetes:core/v1:Secret";
const EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret";

describe("homelab graph", () => {
    let outcome: PlanOutcome;
    let plan: Plan;
    before(async () => {
        outcome = await planStack(HOMELAB_FILE);
        plan = outcome.plan;
    });

    it("passes every plan check", () => {
        for (const c of outcome.checks.filter((x) => x.severity === "fail")) assert.deepEqual(c.findings, [], c.name);
        assert.ok(outcome.ok);
    });

    it("labels the namespace to enforce Pod Security restricted", () => {
        const ns = plan.resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
        const labels = (ns.inputs.metadata as { labels: Record<string, string> }).labels;
        assert.equal(labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert.equal(labels["pod-security.kubernetes.io/warn"], "restricted");
    });

    it("parents every resource: nothing but components and the namespace hangs off the stack", () => {
        const stack = plan.resources.find((r) => r.type === "pulumi:pulumi:Stack")!;
        for (const r of plan.resources.filter((x) => x !== stack)) {
            assert.ok(r.parent, `${r.name} has no parent`);
            if (r.parent === stack.urn) {
                assert.ok(
                    r.type.startsWith("authentik-platform:") || ["kubernetes:core/v1:Namespace", "pulumi:providers:kubernetes"].includes(r.type),
                    `${r.type} ${r.name} is not inside a component`,
                );
            }
        }
    });

    it("updates ConfigMaps and Secrets in place: the provider would replace them, and a fixed name cannot be created twice", () => {
        const provider = find(plan, "pulumi:providers:kubernetes", "kubernetes");
        assert.equal(provider.inputs.enableConfigMapMutable, "true");
        assert.equal(provider.inputs.enableSecretMutable, "true");
    });

    it("uses engine URNs that chain every ancestor's type", () => {
        const secret = find(plan, SECRET_TYPE, "authentik-db-credentials");
        assert.equal(
            secret.urn,
            "urn:pulumi:homelab::authentik-platform::authentik-platform:database:Database$authentik-platform:secrets:CredentialSecret$kubernetes:core/v1:Secret::authentik-db-credentials",
        );
        assert.equal(plan.resources.filter((r) => r.urn === secret.urn).length, 1);
    });

    it("starts PgBouncer after the database and its credentials", () => {
        const deployment = find(plan, "kubernetes:apps/v1:Deployment", "pgbouncer");
        const cluster = find(plan, CLUSTER, "authentik-db");
        const dbSecret = find(plan, SECRET_TYPE, "authentik-db-credentials");
        const auth = find(plan, SECRET_TYPE, "pgbouncer-auth");
        for (const dep of [cluster, dbSecret, auth]) assert.ok(deployment.dependsOn.includes(dep.urn), `Deployment does not wait for ${dep.name}`);
    });

    it("creates the Cluster after its credentials and namespace", () => {
        const cluster = find(plan, CLUSTER, "authentik-db");
        assert.ok(cluster.dependsOn.includes(find(plan, SECRET_TYPE, "authentik-db-credentials").urn));
        assert.ok(cluster.dependsOn.includes(find(plan, "kubernetes:core/v1:Namespace", "namespace").urn));
    });

    it("protects and retains the database, its credentials, generated secrets and the namespace", () => {
        for (const r of [
            find(plan, CLUSTER, "authentik-db"),
            find(plan, SECRET_TYPE, "authentik-db-credentials"),
            find(plan, "kubernetes:core/v1:Namespace", "namespace"),
            find(plan, "random:index/randomPassword:RandomPassword", "credentials-databasePassword"),
        ]) {
            assert.equal(r.protect, true, `${r.name} is not protected`);
            assert.equal(r.retainOnDelete, true, `${r.name} is not retained`);
        }
        assert.equal(find(plan, "kubernetes:apps/v1:Deployment", "pgbouncer").protect, false, "stateless objects stay freely updatable");
    });

    it("keeps secret values secret in inputs and outputs", () => {
        assert.equal(find(plan, SECRET_TYPE, "authentik-db-credentials").inputs.stringData, SECRET);
        assert.equal(find(plan, SECRET_TYPE, "pgbouncer-auth").inputs.stringData, SECRET);
        assert.ok(!JSON.stringify(plan).includes(SECRET_PLACEHOLDER_PREFIX));
    });

    it("keeps credentials out of the PgBouncer ConfigMap", () => {
        const ini = (find(plan, "kubernetes:core/v1:ConfigMap", "pgbouncer-config").inputs.data as Record<string, string>)["pgbouncer.ini"];
        assert.match(ini, /host=authentik-db-rw\.authentik\.svc\.cluster\.local/);
        assert.doesNotMatch(ini, /password/i);
    });

    it("exports the stack-output contract", () => {
        assert.deepEqual(Object.keys(plan.outputs).sort(), [...OUTPUT_KEYS].sort());
        assert.deepEqual(plan.outputs.database, {
            backup: 'object store s3://homelab-backups/authentik on "0 0 3 * * *", retention 30d, AES256 encryption',
            cluster: "authentik-db",
            credentialsSecret: "authentik-db-app",
            database: "authentik",
            host: "authentik-db-rw.authentik.svc.cluster.local",
            port: 5432,
            user: "authentik",
        });
        assert.deepEqual(plan.outputs.pgbouncer, { host: "pgbouncer.authentik.svc.cluster.local", port: 6432, poolMode: "session" });
    });

    it("passes the upstream conformance check (CNPG CRDs, the chart's values, authentik's configuration keys)", (t) => {
        const references = conformanceReferences(t);
        if (!references) return;
        // The Cluster, ScheduledBackup and Backup against their CRDs, and the authentik release.
        assert.deepEqual(conformance(plan.resources, references), { checked: 4, failures: [] });
    });

    it("creates every namespaced object after its namespace (an empty cluster converges in one up)", () => {
        const ns = find(plan, "kubernetes:core/v1:Namespace", "namespace");
        const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
        const waitsFor = (r: PlanResource, target: string, seen = new Set<string>()): boolean =>
            r.dependsOn.some((d) => d === target || (!seen.has(d) && (seen.add(d), waitsFor(byUrn.get(d)!, target, seen))));
        const namespaced = plan.resources.filter(
            (r) => (r.inputs.metadata as { namespace?: string } | undefined)?.namespace === "authentik" || r.inputs.namespace === "authentik",
        );
        const early = namespaced.filter((r) => !waitsFor(r, ns.urn)).map((r) => `${r.type} ${r.name}`);
        assert.deepEqual(early, []);
        assert.ok(namespaced.length > 15);
    });

    it("plans identically twice (deterministic): the same resources with the same inputs, and byte for byte from two runs of npm run plan", async () => {
        // In one process a dynamic provider's code is serialized once and then cached, which moves
        // those registrations; so the same process compares by URN, and the JSON contract is
        // compared as users get it, from two fresh runs.
        const byUrn = (p: typeof plan) => JSON.stringify([...p.resources].sort((a, b) => a.urn.localeCompare(b.urn)));
        assert.equal(byUrn((await planStack(HOMELAB_FILE)).plan), byUrn(plan));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twice-"));
        const runs = ["a.json", "b.json"].map((name) => {
            const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "tools", "plan.js"), "--json", path.join(dir, name)], {
                cwd: ROOT,
                encoding: "utf8",
            });
            assert.equal(r.status, 0, r.stderr);
            return fs.readFileSync(path.join(dir, name), "utf8");
        });
        assert.equal(runs[0], runs[1]);
    });
});

describe("authentik release in the graph", () => {
    let plan: Plan;
    before(async () => {
        plan = (await planStack(HOMELAB_FILE)).plan;
    });
    const RELEASE = "kubernetes:helm.sh/v3:Release";

    it("waits for the database, PgBouncer and every Secret it reads", () => {
        const release = find(plan, RELEASE, "authentik");
        for (const [type, name] of [
            [CLUSTER, "authentik-db"],
            [SECRET_TYPE, "authentik-db-credentials"],
            ["kubernetes:apps/v1:Deployment", "pgbouncer"],
            ["kubernetes:core/v1:Service", "pgbouncer"],
            [SECRET_TYPE, "authentik-credentials"],
            [EXTERNAL_SECRET, "authentik-credentials-1password"],
        ]) {
            assert.ok(release.dependsOn.includes(find(plan, type, name).urn), `the release does not wait for ${name}`);
        }
    });

    it("is atomic with a pinned chart from the authentik repository", () => {
        const i = find(plan, RELEASE, "authentik").inputs;
        assert.equal(i.chart, "authentik");
        assert.equal(i.version, "2026.8.0");
        assert.deepEqual(i.repositoryOpts, { repo: "https://charts.goauthentik.io" });
        assert.equal(i.atomic, true);
        assert.equal(i.namespace, "authentik");
    });

    it("holds no secret in its inputs, not even a redacted one", () => {
        const text = JSON.stringify(find(plan, RELEASE, "authentik").inputs);
        assert.doesNotMatch(text, /\[secret\]/);
        assert.doesNotMatch(text, new RegExp(SECRET_PLACEHOLDER_PREFIX));
    });

    it("protects the media volume", () => {
        const pvc = find(plan, "kubernetes:core/v1:PersistentVolumeClaim", "authentik-media");
        assert.ok(pvc.protect && pvc.retainOnDelete);
        assert.deepEqual((pvc.inputs.spec as { accessModes: string[] }).accessModes, ["ReadWriteMany"]);
    });

    it("exports the authentik URL and the capacity model", () => {
        assert.deepEqual(plan.outputs.authentik, {
            chartVersion: "2026.8.0",
            host: "auth.homelab.example",
            releaseName: "authentik",
            serverService: "http://authentik-server.authentik.svc.cluster.local",
            url: "https://auth.homelab.example",
        });
        assert.equal((plan.outputs.capacity as { connections: { totalClients: number } }).connections.totalClients, 64);
    });

    it("switches observability off", async () => {
        const block = set(homelab(), "observability", { authentikPodMonitor: false, pgbouncerExporter: { enabled: false }, rules: false });
        const off = (await planStack(writeStack(block))).plan;
        assert.ok(!off.resources.some((r) => r.type.includes("monitoring.coreos.com") && r.name.startsWith("observability")));
        const deployment = find(off, "kubernetes:apps/v1:Deployment", "pgbouncer");
        const containers = (deployment.inputs.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers;
        assert.deepEqual(
            containers.map((c) => c.name),
            ["pgbouncer"],
        );
    });
});

describe("plan checks can fail", () => {
    it("spots a plaintext secret, an unprotected database and an invalid object", async () => {
        const { plan } = await planStack(HOMELAB_FILE);
        const broken: Plan = structuredClone(plan);
        const cluster = broken.resources.find((r) => r.type === CLUSTER)!;
        cluster.protect = false;
        const deployment = broken.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
        (deployment.inputs.spec as Record<string, unknown>).replicas = "three";
        broken.resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!.inputs.data = { leak: `${SECRET_PLACEHOLDER_PREFIX}x` };
        assert.equal(checkNoPlaintextSecrets(broken).findings.length, 1);
        assert.match(checkStatefulProtected(broken).findings.join(), /authentik-db: protect=false/);
        assert.match((await checkKubernetesSchemas(broken)).findings.join(), /replicas must be integer/);
    });
});

describe("stateful replacement against a baseline", () => {
    let baseline: Plan;
    before(async () => {
        baseline = (await planStack(HOMELAB_FILE)).plan;
    });

    it("passes for the same config", async () => {
        assert.deepEqual(checkBaseline(baseline, (await planStack(HOMELAB_FILE)).plan).findings, []);
    });

    it("fails a renamed database, a renamed namespace and shrunk storage, explaining each", async () => {
        const renamed = (await planStack(writeStack(set(homelab(), "database.name", "authentik-pg"), "homelab"))).plan;
        assert.match(
            checkBaseline(baseline, renamed).findings.join("\n"),
            /Cluster authentik-db would be REPLACED: authentik\/authentik-db → authentik\/authentik-pg/,
        );
        const moved = (await planStack(writeStack(set(homelab(), "namespace", "identity"), "homelab"))).plan;
        assert.match(checkBaseline(baseline, moved).findings.join("\n"), /Namespace namespace would be REPLACED/);
        const shrunk = (await planStack(writeStack(set(homelab(), "database.storage.size", "10Gi"), "homelab"))).plan;
        assert.match(checkBaseline(baseline, shrunk).findings.join("\n"), /storage 20Gi → 10Gi: volumes cannot shrink/);
    });

    it("refuses a baseline of another stack instead of reporting everything deleted", async () => {
        const other = (await planStack(writeStack(homelab(), "staging"))).plan;
        assert.deepEqual(checkBaseline(baseline, other).findings, ["the baseline is a plan of authentik-platform/homelab, not authentik-platform/staging"]);
    });

    it("fails when the baseline's database leaves the graph", async () => {
        const gone = structuredClone(baseline);
        gone.resources = gone.resources.filter((r) => r.type !== CLUSTER);
        assert.match(checkBaseline(baseline, gone).findings.join(), /would be DELETED/);
    });
});

describe("1Password modes", () => {
    it("external-secrets: database credentials come from an ExternalSecret, still protected", async () => {
        const block = set(homelab(), "credentials.databasePassword", { onepassword: { item: "authentik-db", field: "password" } });
        const { plan, ok } = await planStack(writeStack(block));
        assert.ok(ok);
        const creds = find(plan, EXTERNAL_SECRET, "authentik-db-credentials");
        assert.equal(creds.protect, true);
        assert.deepEqual((creds.inputs.spec as { data: unknown }).data, [
            { secretKey: "databasePassword", remoteRef: { key: "authentik-db", property: "password" } },
        ]);
        const auth = find(plan, EXTERNAL_SECRET, "pgbouncer-auth").inputs.spec as {
            data: unknown;
            target: { name: string; template: { data: Record<string, string> } };
        };
        assert.equal(auth.target.name, "pgbouncer-auth");
        assert.deepEqual(auth.data, [{ secretKey: "databasePassword", remoteRef: { key: "authentik-db", property: "password" } }]);
        assert.equal(
            auth.target.template.data["userlist.txt"],
            '"authentik" "{{ .databasePassword | replace "\\"" "\\"\\"" }}"\n"pgbouncer_stats" ""\n',
            "the 1Password value lands in the userlist, quoted for it",
        );
        assert.ok(!plan.resources.some((r) => r.name === "credentials-databasePassword"), "no password is generated");
    });

    it("provider: items are read through the provider, wrapped secret, and written back when asked", async () => {
        const block = set(set(homelab(), "onepassword", { mode: "provider", vault: "vault-uuid", writeBack: true }), "onepassword:serviceAccountToken", {
            secure: "ops_token",
        });
        set(block, "credentials.databasePassword", { onepassword: { item: "authentik-db", field: "password" } });
        const { plan, ok, checks } = await planStack(writeStack(block));
        assert.ok(ok, JSON.stringify(checks));
        assert.equal(find(plan, SECRET_TYPE, "authentik-db-credentials").inputs.stringData, SECRET);
        const item = find(plan, "onepassword:index/item:Item", "credentials-bootstrapToken-1password");
        assert.equal(item.inputs.password, SECRET);
        assert.equal(item.inputs.vault, "vault-uuid");
    });
});

describe("operator and optional parts", () => {
    it("installs the CNPG operator when asked and creates the Cluster after it", async () => {
        const { plan } = await planStack(writeStack(set(homelab(), "cnpgOperator.install", true)));
        const release = find(plan, "kubernetes:helm.sh/v3:Release", "cnpg-operator");
        assert.equal(release.inputs.chart, "cloudnative-pg");
        assert.ok(find(plan, CLUSTER, "authentik-db").dependsOn.includes(release.urn));
    });

    it("warns when there is no backup, and leaves out what is switched off", async () => {
        const block = set(set(set(homelab(), "database.backup", undefined), "database.podMonitor", false), "networkPolicies.enabled", false);
        const { plan, checks, ok } = await planStack(writeStack(block));
        assert.ok(ok, "no backup is a warning, not a failure");
        assert.match(checks.find((c) => c.name === "database backups")!.findings.join(), /NO BACKUP: database authentik\/authentik-db/);
        for (const type of ["kubernetes:postgresql.cnpg.io/v1:ScheduledBackup", "kubernetes:networking.k8s.io/v1:NetworkPolicy"]) {
            assert.ok(!plan.resources.some((r) => r.type === type), `${type} should be absent`);
        }
        assert.ok(!plan.resources.some((r) => r.name === "authentik-db-podmonitor"), "the CNPG PodMonitor should be absent");
        assert.match(String((plan.outputs.database as { backup: string }).backup), /^NO BACKUP/);
    });
});

describe("the program itself refuses a bad config", () => {
    it("throws before registering any resource, naming the key", async () => {
        const stack = readStackFile(writeStack(set(homelab(), "pgbouncer.minAvailable", 3)));
        await assert.rejects(runProgram(stack), /pgbouncer\.minAvailable = 3: must be below pgbouncer\.replicas/);
    });
});
