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
    renderHba,
    renderIni,
    serviceManifest,
} from "../components/pgbouncer/manifests";
import { selectorMatches } from "../lib/k8s";
import { validateObject } from "../tools/schemas";
import { homelab, parse, set, writeStack } from "./support/helpers";
import { planStack } from "../tools/plan";

const config = parse(homelab());
const ini = renderIni({ pgbouncer: config.pgbouncer, databaseHost: "authentik-db-rw.authentik.svc.cluster.local", databasePort: 5432, database: "authentik" });
const deployment = deploymentManifest({
    namespace: "authentik",
    pgbouncer: config.pgbouncer,
    configMapName: "pgbouncer-config",
    secretName: "pgbouncer-auth",
    caSecretName: "authentik-db-ca",
    configChecksum: checksum(ini),
});
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
            (
                (await planStack(writeStack(block))).plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "pgbouncer")!
                    .inputs as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }
            ).spec.template.metadata.annotations["checksum/config"];
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
        const np = networkPolicyManifest({
            namespace: "authentik",
            clientSelector: { "app.kubernetes.io/name": "authentik" },
            databaseCluster: "authentik-db",
            databasePort: 5432,
        });
        assert.deepEqual(np.spec.ingress[0].from, [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "authentik" } } }]);
        assert.deepEqual(np.spec.egress[0].to, [{ podSelector: { matchLabels: { "cnpg.io/cluster": "authentik-db" } } }]);
        assert.deepEqual(np.spec.egress[0].ports, [{ port: 5432, protocol: "TCP" }]);
        assert.deepEqual(await validateObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", np), []);
    });
});

describe("PgBouncer rolls when its auth Secret changes", () => {
    const pgbouncerOf = async (block: ReturnType<typeof homelab>) =>
        (await planStack(writeStack(block))).plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "pgbouncer")!;
    type Deployment = { metadata: { annotations: Record<string, string> }; spec: { template: { metadata: { annotations: Record<string, string> } } } };

    it("a digest of the Pulumi-held password in the pod template, that changes with it", async () => {
        const digest = async (secure: string) =>
            ((await pgbouncerOf(set(set(homelab(), "credentials.databasePassword", "config"), "databasePassword", { secure }))).inputs as unknown as Deployment)
                .spec.template.metadata.annotations["authentik-platform/credentials-digest"];
        const v1 = await digest("v1");
        assert.match(v1, /^[0-9a-f]{64}$/);
        assert.notEqual(await digest("v2"), v1);
    });

    it("Reloader's annotation when External Secrets writes the Secret", async () => {
        const d = (await pgbouncerOf(set(homelab(), "credentials.databasePassword", { onepassword: { item: "authentik-db", field: "password" } })))
            .inputs as unknown as Deployment;
        assert.equal(
            d.metadata.annotations["secret.reloader.stakater.com/reload"],
            "pgbouncer-auth,authentik-db-ca",
            "and CNPG's CA, which PgBouncer verifies the server with",
        );
        assert.equal(d.spec.template.metadata.annotations["authentik-platform/credentials-digest"], undefined);
    });
});

// Found by `npm run mutate` (docs/testing.md): each of these was a change no test noticed.
describe("what the PgBouncer pod mounts, opens and reaches", () => {
    const deploy = (c: typeof config, exporterImage?: string) =>
        deploymentManifest({
            namespace: "authentik",
            pgbouncer: c.pgbouncer,
            configMapName: "pgbouncer-config",
            secretName: "pgbouncer-auth",
            caSecretName: "authentik-db-ca",
            configChecksum: "0",
            exporterImage,
        });
    const requireTls = parse(set(homelab(), "pgbouncer.serverTls", "require"));

    it("mounts the ini, the HBA, the credentials and the CA's certificate read-only, and a writable /tmp", () => {
        assert.deepEqual(container.volumeMounts, [
            { name: "config", mountPath: "/etc/pgbouncer/pgbouncer.ini", subPath: "pgbouncer.ini", readOnly: true },
            { name: "config", mountPath: "/etc/pgbouncer/pg_hba.conf", subPath: "pg_hba.conf", readOnly: true },
            { name: "auth", mountPath: "/etc/pgbouncer/auth", readOnly: true },
            { name: "database-ca", mountPath: "/etc/pgbouncer/ca", readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
        ]);
        assert.deepEqual(
            pod.volumes.find((v) => v.name === "database-ca"),
            {
                name: "database-ca",
                secret: { secretName: "authentik-db-ca", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 },
            },
            "only ca.crt of CNPG's CA Secret, never ca.key",
        );
        assert.deepEqual(
            pod.volumes.find((v) => v.name === "tmp"),
            { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
        );
    });

    it("points the ini at what is mounted: the HBA, the CA, TCP only", () => {
        assert.equal(iniValue(ini, "auth_type"), "hba");
        assert.equal(iniValue(ini, "auth_hba_file"), "/etc/pgbouncer/pg_hba.conf");
        assert.equal(iniValue(ini, "server_tls_sslmode"), "verify-full");
        assert.equal(iniValue(ini, "server_tls_ca_file"), "/etc/pgbouncer/ca/ca.crt");
        assert.equal(iniValue(ini, "listen_addr"), "0.0.0.0");
        assert.equal(iniValue(ini, "unix_socket_dir"), "", "no socket on a read-only root filesystem");
        assert.equal(iniValue(ini, "ignore_startup_parameters"), "extra_float_digits", "psycopg sends it");
    });

    it("with serverTls require: no CA file, no CA volume, no reload on the CA", () => {
        const reqIni = renderIni({ pgbouncer: requireTls.pgbouncer, databaseHost: "h", databasePort: 5432, database: "authentik" });
        assert.equal(iniValue(reqIni, "server_tls_sslmode"), "require");
        assert.equal(iniValue(reqIni, "server_tls_ca_file"), undefined);
        const d = deploy(requireTls);
        assert.deepEqual(
            d.spec.template.spec.volumes.map((v) => v.name),
            ["config", "auth", "tmp"],
        );
        assert.deepEqual(
            pgbouncerContainer(requireTls.pgbouncer).volumeMounts.map((m) => m.name),
            ["config", "config", "auth", "tmp"],
        );
        assert.deepEqual(d.metadata.annotations, { "policy.homelab.io/critical": "true" });
        assert.equal(
            (deploy(config).metadata.annotations as Record<string, string>)["secret.reloader.stakater.com/reload"],
            "authentik-db-ca",
            "a renewed CA rolls PgBouncer",
        );
    });

    it("lets the stats user in from loopback only, everyone else with SCRAM", () => {
        assert.equal(
            renderHba(),
            [
                "host pgbouncer pgbouncer_stats 127.0.0.1/32 trust",
                "host all pgbouncer_stats 0.0.0.0/0 reject",
                "host all pgbouncer_stats ::/0 reject",
                "host all all 0.0.0.0/0 scram-sha-256",
                "host all all ::/0 scram-sha-256",
                "",
            ].join("\n"),
        );
    });

    it("opens 6432 by name; the Service adds 9127 only with the exporter", () => {
        assert.deepEqual(container.ports, [{ name: "pgbouncer", containerPort: 6432, protocol: "TCP" }]);
        assert.deepEqual(serviceManifest("authentik").spec.ports, [{ name: "pgbouncer", port: 6432, targetPort: "pgbouncer", protocol: "TCP" }]);
        assert.deepEqual(serviceManifest("authentik", true).spec.ports[1], { name: "metrics", port: 9127, targetPort: "metrics", protocol: "TCP" });
        const exporter = deploy(config, "prometheuscommunity/pgbouncer-exporter:v0.11.0").spec.template.spec.containers[1];
        assert.deepEqual(exporter.ports, [{ name: "metrics", containerPort: 9127, protocol: "TCP" }]);
        assert.deepEqual((exporter.readinessProbe as { httpGet?: unknown }).httpGet, { path: "/metrics", port: "metrics" });
    });

    it("mounts no service-account token and spreads across nodes", () => {
        assert.equal(pod.automountServiceAccountToken, false);
        assert.equal(pod.topologySpreadConstraints[0].topologyKey, "kubernetes.io/hostname");
        assert.equal(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey, "kubernetes.io/hostname");
    });

    it("keeps the parts of the checksum apart", () => {
        assert.notEqual(checksum("ab", "c"), checksum("a", "bc"));
    });

    it("restricts both directions and lets DNS out on 53 over UDP and TCP", () => {
        const np = networkPolicyManifest({
            namespace: "authentik",
            clientSelector: { "app.kubernetes.io/name": "authentik" },
            databaseCluster: "authentik-db",
            databasePort: 5432,
        });
        assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
        assert.ok(selectorMatches(np.spec.podSelector.matchLabels, labels.all));
        assert.ok(Object.keys(np.spec.podSelector.matchLabels).length > 0, "an empty selector would pick every pod");
        assert.deepEqual(np.spec.egress[1], {
            to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [
                { port: 53, protocol: "UDP" },
                { port: 53, protocol: "TCP" },
            ],
        });
    });
});
