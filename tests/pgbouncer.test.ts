import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
    PGBOUNCER_PORT,
    USERLIST_TEMPLATE,
    checksum,
    deploymentManifest,
    labels,
    networkPolicyManifest,
    pgbouncerContainer,
    podDisruptionBudgetManifest,
    renderIni,
    serviceManifest,
} from "../components/pgbouncer/manifests";
import { selectorMatches } from "../components/lib/k8s";
import { validateObject } from "../tools/schemas";
import { homelab, parse, set, writeStack } from "./helpers";
import { planStack } from "../tools/plan";

const config = parse(homelab());
const ini = renderIni({ pgbouncer: config.pgbouncer, databaseHost: "authentik-db-rw.authentik.svc.cluster.local", databasePort: 5432, database: "authentik" });
const deployment = deploymentManifest({ namespace: "authentik", pgbouncer: config.pgbouncer, configMapName: "pgbouncer-config", secretName: "pgbouncer-auth", caSecretName: "authentik-db-ca", configChecksum: checksum(ini) });
const pod = deployment.spec.template.spec;
const container = pgbouncerContainer(config.pgbouncer);

function iniValue(text: string, key: string): string | undefined {
    return new RegExp(`^${key} = (.*)$`, "m").exec(text)?.[1];
}

describe("pgbouncer.ini", () => {
    it("targets the CNPG -rw service by FQDN", () => {
        assert.match(ini, /^authentik = host=authentik-db-rw\.authentik\.svc\.cluster\.local port=5432 dbname=authentik$/m);
    });

    it("uses session pooling and the configured pool sizes", () => {
        assert.equal(iniValue(ini, "pool_mode"), "session");
        assert.equal(iniValue(ini, "max_client_conn"), "400");
        assert.equal(iniValue(ini, "default_pool_size"), "45");
        assert.equal(iniValue(ini, "reserve_pool_size"), "3");
        assert.equal(iniValue(ini, "server_idle_timeout"), "600");
        assert.equal(iniValue(ini, "client_idle_timeout"), "0", "never closes a connection authentik holds");
        assert.equal(iniValue(ini, "listen_port"), String(PGBOUNCER_PORT));
    });

    it("holds no credential: authentication comes from the mounted Secret", () => {
        assert.doesNotMatch(ini, /password/i);
        assert.equal(iniValue(ini, "auth_file"), "/etc/pgbouncer/auth/userlist.txt");
        assert.match(USERLIST_TEMPLATE, /^"authentik" "\{\{databasePassword\|userlist\}\}"$/);
    });

    it("follows the configured pool mode", () => {
        const block = set(set(homelab(), "pgbouncer.poolMode", "transaction"), "authentik.database.usePgbouncer", true);
        const c = parse(set(block, "authentik.database.connMaxAge", 0));
        assert.equal(iniValue(renderIni({ pgbouncer: c.pgbouncer, databaseHost: "h", databasePort: 5432, database: "authentik" }), "pool_mode"), "transaction");
    });
});

describe("PgBouncer Deployment", () => {
    it("is a valid apps/v1 Deployment", async () => {
        assert.deepEqual(await validateObject("kubernetes:apps/v1:Deployment", deployment), []);
    });

    it("runs the PgBouncer container first", () => {
        assert.deepEqual(pod.containers[0], container);
    });

    it("runs 3 pinned, non-root, read-only replicas with all capabilities dropped", () => {
        assert.equal(deployment.spec.replicas, 3);
        assert.equal(container.image, "edoburu/pgbouncer:v1.24.1-p1");
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    });

    it("never overrides the image's command, only args", () => {
        assert.ok(!("command" in container));
        assert.deepEqual(container.args, ["/usr/bin/pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]);
    });

    it("sizes resources as configured", () => {
        assert.deepEqual(container.resources, { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } });
    });

    it("probes TCP 6432: readiness every 10s, liveness every 30s after 30s", () => {
        assert.deepEqual(container.readinessProbe.tcpSocket, { port: 6432 });
        assert.equal(container.readinessProbe.periodSeconds, 10);
        assert.deepEqual(container.livenessProbe.tcpSocket, { port: 6432 });
        assert.equal(container.livenessProbe.periodSeconds, 30);
        assert.equal(container.livenessProbe.initialDelaySeconds, 30);
    });

    it("spreads with selectors that match its own pods (the Terraform stack's matched nothing)", () => {
        const podLabels = deployment.spec.template.metadata.labels;
        assert.ok(selectorMatches(deployment.spec.selector.matchLabels, podLabels));
        for (const c of pod.topologySpreadConstraints) assert.ok(selectorMatches(c.labelSelector.matchLabels, podLabels));
        for (const t of pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution) {
            assert.ok(selectorMatches(t.podAffinityTerm.labelSelector.matchLabels, podLabels));
        }
        assert.ok(!selectorMatches({ app: "pgbouncer" }, podLabels), "a foreign label must not match");
    });

    it("rolls without dipping below the desired replicas, so the PDB keeps its headroom", () => {
        assert.deepEqual(deployment.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
        assert.ok(3 - deployment.spec.strategy.rollingUpdate.maxUnavailable > 2, "3 replicas stay above the PDB's 2 during a rollout");
    });

    it("rolls pods when the config changes, and only then (checksum annotation, as the component computes it)", async () => {
        const annotation = async (block: ReturnType<typeof homelab>) =>
            ((await planStack(writeStack(block))).plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "pgbouncer")!.inputs as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations["checksum/config"];
        const base = await annotation(homelab());
        assert.match(base, /^[0-9a-f]{64}$/);
        assert.notEqual(await annotation(set(homelab(), "pgbouncer.serverIdleTimeout", 601)), base, "server_idle_timeout is in the ini");
        assert.notEqual(await annotation(set(homelab(), "pgbouncer.image", "edoburu/pgbouncer:v1.24.2")), base, "so is the image");
        assert.equal(await annotation(set(homelab(), "authentik.logLevel", "debug")), base, "authentik's settings are not");
    });

    it("mounts the ini from the ConfigMap and credentials from the Secret", () => {
        assert.deepEqual(pod.volumes.find((v) => v.name === "config")?.configMap, { name: "pgbouncer-config" });
        assert.equal(pod.volumes.find((v) => v.name === "auth")?.secret?.secretName, "pgbouncer-auth");
    });
});

describe("PgBouncer Service, PDB and NetworkPolicy", () => {
    it("exposes service pgbouncer on 6432 selecting its pods", async () => {
        const svc = serviceManifest("authentik");
        assert.equal(svc.metadata.name, "pgbouncer");
        assert.equal(svc.spec.ports[0].port, 6432);
        assert.ok(selectorMatches(svc.spec.selector, labels.all));
        assert.deepEqual(await validateObject("kubernetes:core/v1:Service", svc), []);
    });

    it("keeps 2 pods available", async () => {
        const pdb = podDisruptionBudgetManifest("authentik", parse(homelab()).pgbouncer.minAvailable);
        assert.equal(pdb.spec.minAvailable, 2, "the homelab's PDB minimum");
        assert.equal(pdb.metadata.name, "pgbouncer");
        assert.ok(selectorMatches(pdb.spec.selector.matchLabels, labels.all));
        assert.deepEqual(await validateObject("kubernetes:policy/v1:PodDisruptionBudget", pdb), []);
    });

    it("lets only authentik in and only the database and DNS out", async () => {
        const np = networkPolicyManifest({ namespace: "authentik", clientSelector: { "app.kubernetes.io/name": "authentik" }, databaseCluster: "authentik-db", databasePort: 5432 });
        assert.deepEqual(np.spec.ingress[0].from, [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "authentik" } } }]);
        assert.deepEqual(np.spec.egress[0].to, [{ podSelector: { matchLabels: { "cnpg.io/cluster": "authentik-db" } } }]);
        assert.deepEqual(np.spec.egress[0].ports, [{ port: 5432, protocol: "TCP" }]);
        assert.deepEqual(await validateObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", np), []);
    });
});

describe("PgBouncer rolls when its auth Secret changes", () => {
    const pgbouncerOf = async (block: ReturnType<typeof homelab>) => (await planStack(writeStack(block))).plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "pgbouncer")!;
    type Deployment = { metadata: { annotations: Record<string, string> }; spec: { template: { metadata: { annotations: Record<string, string> } } } };

    it("a digest of the Pulumi-held password in the pod template, that changes with it", async () => {
        const digest = async (secure: string) =>
            ((await pgbouncerOf(set(set(homelab(), "credentials.databasePassword", "config"), "databasePassword", { secure }))).inputs as unknown as Deployment).spec.template.metadata.annotations["authentik-platform/credentials-digest"];
        const v1 = await digest("v1");
        assert.match(v1, /^[0-9a-f]{64}$/);
        assert.notEqual(await digest("v2"), v1);
    });

    it("Reloader's annotation when External Secrets writes the Secret", async () => {
        const d = (await pgbouncerOf(set(homelab(), "credentials.databasePassword", { onepassword: { item: "authentik-db", field: "password" } }))).inputs as unknown as Deployment;
        assert.equal(d.metadata.annotations["secret.reloader.stakater.com/reload"], "pgbouncer-auth,authentik-db-ca", "and CNPG's CA, which PgBouncer verifies the server with");
        assert.equal(d.spec.template.metadata.annotations["authentik-platform/credentials-digest"], undefined);
    });
});
