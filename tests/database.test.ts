import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
    backupSummary,
    clusterManifest,
    podMonitorManifest,
    postgresParameters,
    readWriteHost,
    scheduledBackupManifest,
} from "../components/database/manifests";
import { validateObject } from "../tools/schemas";
import { homelab, parse, set } from "./helpers";

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
        const store = (cluster.spec as unknown as { backup: { barmanObjectStore: Record<string, unknown> & { data: object; wal: object } } }).backup.barmanObjectStore;
        assert.deepEqual(store.endpointCA, { name: "minio-ca", key: "ca.crt" });
        assert.deepEqual([store.data, store.wal], [{ compression: "gzip", encryption: "AES256" }, { compression: "gzip", encryption: "AES256" }]);
        assert.ok(backupSummary(config.database).ok);
        const weak = parse(set(set(homelab(), "database.backup.objectStore.endpointURL", "http://minio.minio.svc.cluster.local:9000"), "database.backup.objectStore.encryption", "none"));
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
