import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
    backupPortOf,
    backupSummary,
    clusterManifest,
    clusterNetworkPolicyManifest,
    podMonitorManifest,
    preUpgradeBackupManifest,
    postgresParameters,
    readWriteHost,
    scheduledBackupManifest,
} from "../components/database/manifests";
import { validateObject } from "../tools/schemas";
import { homelab, parse, set } from "./support/helpers";

const config = parse(homelab());
const cluster = clusterManifest({ namespace: "authentik", db: config.database, credentialsSecret: "authentik-db-app", labels: {} });

describe("CNPG Cluster", () => {
    it("carries the homelab numbers", () => {
        assert.equal(cluster.spec.instances, 3);
        assert.equal(cluster.spec.postgresql.parameters.max_connections, "200");
        assert.equal(cluster.spec.postgresql.parameters.shared_buffers, "768MB");
        assert.deepEqual(cluster.spec.resources.limits, { memory: "3Gi" });
        assert.deepEqual(cluster.spec.storage, { size: "20Gi", storageClass: "longhorn" });
    });

    it("enables pg_stat_statements through its parameters (CNPG preloads the library)", () => {
        const params = postgresParameters(config.database);
        assert.equal(params["pg_stat_statements.max"], "10000");
        assert.equal(params["pg_stat_statements.track"], "all");
        const off = parse(set(homelab(), "database.pgStatStatements", false));
        assert.ok(!Object.keys(postgresParameters(off.database)).some((k) => k.startsWith("pg_stat_statements")));
    });

    it("lets operators override parameters", () => {
        const c = parse(set(homelab(), "database.parameters", { work_mem: "8MB", max_connections: "250" }));
        assert.equal(postgresParameters(c.database).work_mem, "8MB");
        assert.equal(postgresParameters(c.database).max_connections, "250");
    });

    it("refuses any connection without TLS (pg_hba after CNPG's own rules)", () => {
        assert.deepEqual(cluster.spec.postgresql.pg_hba, ["hostnossl all all all reject"]);
    });

    it("encrypts backups and reaches the store over HTTPS with its CA; the summary says when not", () => {
        const store = (cluster.spec as unknown as { backup: { barmanObjectStore: Record<string, unknown> & { data: object; wal: object } } }).backup
            .barmanObjectStore;
        assert.deepEqual(store.endpointCA, { name: "minio-ca", key: "ca.crt" });
        assert.deepEqual(
            [store.data, store.wal],
            [
                { compression: "gzip", encryption: "AES256" },
                { compression: "gzip", encryption: "AES256" },
            ],
        );
        assert.ok(backupSummary(config.database).ok);
        const weak = parse(
            set(
                set(homelab(), "database.backup.objectStore.endpointURL", "http://minio.minio.svc.cluster.local:9000"),
                "database.backup.objectStore.encryption",
                "none",
            ),
        );
        const summary = backupSummary(weak.database);
        assert.equal(summary.ok, false);
        assert.match(summary.text, /PLAIN HTTP.*NOT ENCRYPTED/);
    });

    it("keeps instances on different hosts", () => {
        assert.deepEqual(cluster.spec.affinity, { enablePodAntiAffinity: true, podAntiAffinityType: "required", topologyKey: "kubernetes.io/hostname" });
    });

    it("bootstraps database authentik owned by authentik from the credentials Secret", () => {
        assert.deepEqual(cluster.spec.bootstrap.initdb, { database: "authentik", owner: "authentik", secret: { name: "authentik-db-app" } });
    });

    it("exposes the -rw service FQDN", () => {
        assert.equal(readWriteHost("authentik-db", "authentik"), "authentik-db-rw.authentik.svc.cluster.local");
    });
});

describe("backups", () => {
    it("reach the object store on its endpoint's port, HTTPS without one, and nowhere without an object store", () => {
        const db = (backup: unknown) => parse(set(homelab(), "database.backup", backup)).database;
        const store = (endpointURL?: string) => ({
            method: "objectStore",
            objectStore: { destinationPath: "s3://b/a", credentialsSecret: "s", ...(endpointURL ? { endpointURL } : {}) },
        });
        assert.equal(backupPortOf(config.database), 9000, "the homelab's MinIO");
        assert.equal(backupPortOf(db(store())), 443, "AWS S3");
        assert.equal(backupPortOf(db(store("https://s3.example.com"))), 443);
        assert.equal(backupPortOf(db(store("http://minio.minio.svc.cluster.local"))), 80);
        assert.equal(backupPortOf(db(undefined)), undefined);
        assert.equal(backupPortOf(db({ method: "volumeSnapshot", volumeSnapshotClass: "csi" })), undefined);
    });

    it("configures the object store and a daily ScheduledBackup", () => {
        const store = (cluster.spec as { backup?: { barmanObjectStore?: { destinationPath: string }; retentionPolicy?: string } }).backup;
        assert.equal(store?.barmanObjectStore?.destinationPath, "s3://homelab-backups/authentik");
        assert.equal(store?.retentionPolicy, "30d");
        const scheduled = scheduledBackupManifest({ namespace: "authentik", db: config.database, labels: {} });
        assert.equal(scheduled?.spec.method, "barmanObjectStore");
        assert.equal(scheduled?.spec.cluster.name, "authentik-db");
        assert.ok(backupSummary(config.database).ok);
    });

    it("supports volume snapshots", () => {
        const c = parse(set(homelab(), "database.backup", { method: "volumeSnapshot", volumeSnapshotClass: "longhorn-snap" }));
        const m = clusterManifest({ namespace: "a", db: c.database, credentialsSecret: "s", labels: {} });
        assert.deepEqual((m.spec as { backup?: unknown }).backup, { volumeSnapshot: { className: "longhorn-snap" } });
        assert.equal(scheduledBackupManifest({ namespace: "a", db: c.database, labels: {} })?.spec.method, "volumeSnapshot");
        assert.deepEqual(backupSummary(c.database), { ok: true, text: 'volume snapshots (longhorn-snap) on "0 0 3 * * *"; prune old snapshots yourself' });
    });

    it("says clearly when there is no backup", () => {
        const c = parse(set(homelab(), "database.backup", undefined));
        assert.equal(scheduledBackupManifest({ namespace: "a", db: c.database, labels: {} }), undefined);
        assert.ok(!("backup" in clusterManifest({ namespace: "a", db: c.database, credentialsSecret: "s", labels: {} }).spec));
        const summary = backupSummary(c.database);
        assert.equal(summary.ok, false);
        assert.match(summary.text, /^NO BACKUP/);
    });
});

describe("PodMonitor", () => {
    it("selects the cluster's pods and is a valid monitoring.coreos.com/v1 object", async () => {
        const m = podMonitorManifest({ namespace: "authentik", cluster: "authentik-db", labels: {} });
        assert.deepEqual(m.spec.selector.matchLabels, { "cnpg.io/cluster": "authentik-db" });
        assert.deepEqual(await validateObject("kubernetes:monitoring.coreos.com/v1:PodMonitor", m), []);
    });
});

describe("what operators rely on in each manifest, spelled out", () => {
    const labels = { "app.kubernetes.io/part-of": "authentik-platform" };
    const store = () =>
        (cluster.spec as unknown as { backup: { barmanObjectStore: Record<string, unknown> & { data: object; wal: object } } }).backup.barmanObjectStore;

    it("requests the CPU and memory the scheduler reserves for each instance", () => {
        assert.deepEqual(cluster.spec.resources.requests, { cpu: "500m", memory: "3Gi" });
    });

    it("reaches the object store at its endpoint with the credentials Secret's two keys", () => {
        assert.equal(store().endpointURL, "https://minio.minio.svc.cluster.local:9000");
        assert.deepEqual(store().s3Credentials, {
            accessKeyId: { name: "authentik-db-backup-s3", key: "ACCESS_KEY_ID" },
            secretAccessKey: { name: "authentik-db-backup-s3", key: "ACCESS_SECRET_KEY" },
        });
        const none = clusterManifest({
            namespace: "authentik",
            db: parse(set(homelab(), "database.backup.objectStore.encryption", "none")).database,
            credentialsSecret: "authentik-db-app",
            labels: {},
        });
        const plain = (none.spec as unknown as { backup: { barmanObjectStore: { data: object; wal: object } } }).backup.barmanObjectStore;
        assert.deepEqual(
            [plain.data, plain.wal],
            [{ compression: "gzip" }, { compression: "gzip" }],
            "encryption none sets no encryption key (the bucket's policy applies)",
        );
    });

    it("says in one line how the data is protected, and each weakness separated", () => {
        assert.equal(backupSummary(config.database).text, 'object store s3://homelab-backups/authentik on "0 0 3 * * *", retention 30d, AES256 encryption');
        const weak = parse(
            set(set(homelab(), "database.backup.objectStore.endpointURL", "http://minio:9000"), "database.backup.objectStore.encryption", "none"),
        );
        assert.equal(
            backupSummary(weak.database).text,
            'object store s3://homelab-backups/authentik on "0 0 3 * * *", retention 30d, bucket-policy encryption; PLAIN HTTP to the object store (set an https:// endpointURL, with endpointCA for a private CA); NOT ENCRYPTED by the program (encryption: none leaves it to the bucket\'s policy)',
        );
    });

    it("takes the daily backup as a ScheduledBackup named after the cluster, and one right away", () => {
        const scheduled = scheduledBackupManifest({ namespace: "authentik", db: config.database, labels });
        assert.equal(scheduled?.apiVersion, "postgresql.cnpg.io/v1");
        assert.equal(scheduled?.kind, "ScheduledBackup");
        assert.deepEqual(scheduled?.metadata, { name: "authentik-db-daily", namespace: "authentik", labels });
        assert.equal(scheduled?.spec.immediate, true);
    });

    it("names the backup before an upgrade after the chart version, in a name Kubernetes accepts", () => {
        const backup = preUpgradeBackupManifest({ namespace: "authentik", db: config.database, chartVersion: "2026.10.0-RC1", labels });
        assert.equal(backup?.metadata.name, "authentik-db-before-authentik-2026-10-0-rc1");
    });

    it("scrapes every instance's metrics port, with the monitoring stack's labels", () => {
        const monitor = podMonitorManifest({ namespace: "authentik", cluster: "authentik-db", labels });
        assert.deepEqual(monitor.metadata, { name: "authentik-db", namespace: "authentik", labels });
        assert.deepEqual(monitor.spec.podMetricsEndpoints, [{ port: "metrics" }]);
    });

    it("names the instances' NetworkPolicy after the cluster", () => {
        const np = clusterNetworkPolicyManifest({
            namespace: "authentik",
            cluster: "authentik-db",
            labels,
            clients: {},
            operatorNamespace: "cnpg-system",
            monitoringNamespace: "monitoring",
        });
        assert.equal(np.metadata.name, "authentik-db-instances");
    });
});
