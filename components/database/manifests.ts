/**
 * Pure manifests for authentik's CloudNativePG database: the Cluster, its ScheduledBackup and its
 * PodMonitor. Checked against the upstream CRD schemas by ../shared/tools/conformance.mjs.
 */
import type { StackConfig } from "../../stacks/config";
import { serviceFqdn } from "../lib/k8s";

export type DatabaseConfig = StackConfig["database"];

export const DATABASE_NAME = "authentik";
export const DATABASE_OWNER = "authentik";
export const POSTGRES_PORT = 5432;

/** Where clients connect: the CNPG read-write Service, by FQDN. */
export function readWriteHost(cluster: string, namespace: string): string {
    return serviceFqdn(`${cluster}-rw`, namespace);
}

/** PostgreSQL parameters: the tuned ones, pg_stat_statements when enabled, then operator overrides. */
export function postgresParameters(db: DatabaseConfig): Record<string, string> {
    return {
        max_connections: String(db.maxConnections),
        superuser_reserved_connections: String(db.superuserReservedConnections),
        shared_buffers: db.sharedBuffers,
        // CNPG adds pg_stat_statements to shared_preload_libraries when any of its parameters is set.
        ...(db.pgStatStatements ? { "pg_stat_statements.max": "10000", "pg_stat_statements.track": "all" } : {}),
        ...db.parameters,
    };
}

/** The Secret holding the import source's password (mode import). */
export function importSourceSecretName(cluster: string): string {
    return `${cluster}-import-source`;
}

/** Name of the externalClusters entry a bootstrap reads from. */
const SOURCE = { import: "import-source", recovery: "backup-source" } as const;

/**
 * How a new cluster is populated (CNPG reads `bootstrap` only when it creates the cluster):
 * initdb (empty), initdb + microservice import from another PostgreSQL, or recovery from this
 * stack's object-store backups.
 */
export function bootstrapSpec(db: DatabaseConfig, credentialsSecret: string) {
    const owner = { database: DATABASE_NAME, owner: DATABASE_OWNER, secret: { name: credentialsSecret } };
    const boot = db.bootstrap;
    if (boot.mode === "import") {
        const src = boot.source!;
        return {
            bootstrap: { initdb: { ...owner, import: { type: "microservice", databases: [src.database], source: { externalCluster: SOURCE.import } } } },
            externalClusters: [
                {
                    name: SOURCE.import,
                    connectionParameters: { host: src.host, port: String(src.port), user: src.user, dbname: src.database, sslmode: src.sslMode },
                    password: { name: importSourceSecretName(db.name), key: "password" },
                },
            ],
        };
    }
    if (boot.mode === "recovery") {
        const target = boot.recovery.targetTime ? { recoveryTarget: { targetTime: boot.recovery.targetTime } } : {};
        return {
            bootstrap: { recovery: { source: SOURCE.recovery, ...owner, ...target } },
            externalClusters: [
                { name: SOURCE.recovery, barmanObjectStore: { ...objectStoreSpec(db.backup!.objectStore!), serverName: boot.recovery.serverName ?? db.name } },
            ],
        };
    }
    return { bootstrap: { initdb: owner } };
}

export function clusterManifest(args: {
    namespace: string;
    db: DatabaseConfig;
    credentialsSecret: string;
    labels: Record<string, string>;
}) {
    const { db } = args;
    return {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: db.name, namespace: args.namespace, labels: args.labels },
        spec: {
            instances: db.instances,
            imageName: db.imageName,
            primaryUpdateStrategy: "unsupervised",
            postgresql: { parameters: postgresParameters(db) },
            ...bootstrapSpec(db, args.credentialsSecret),
            storage: { size: db.storage.size, ...(db.storage.storageClass ? { storageClass: db.storage.storageClass } : {}) },
            resources: {
                requests: { cpu: db.resources.cpuRequest, memory: db.resources.memoryRequest },
                limits: { memory: db.resources.memoryLimit },
            },
            affinity: {
                enablePodAntiAffinity: true,
                podAntiAffinityType: db.antiAffinity,
                topologyKey: "kubernetes.io/hostname",
            },
            ...(db.backup ? { backup: backupSpec(db.backup) } : {}),
        },
    };
}

function backupSpec(backup: NonNullable<DatabaseConfig["backup"]>) {
    if (backup.method === "volumeSnapshot") {
        return { volumeSnapshot: { className: backup.volumeSnapshotClass! } };
    }
    return {
        retentionPolicy: backup.retention,
        barmanObjectStore: { ...objectStoreSpec(backup.objectStore!), wal: { compression: "gzip" }, data: { compression: "gzip" } },
    };
}

/** Where barman finds the object store: the same for backups and for a recovery from them. */
function objectStoreSpec(store: NonNullable<NonNullable<DatabaseConfig["backup"]>["objectStore"]>) {
    return {
        destinationPath: store.destinationPath,
        ...(store.endpointURL ? { endpointURL: store.endpointURL } : {}),
        s3Credentials: {
            accessKeyId: { name: store.credentialsSecret, key: store.accessKeyIdKey },
            secretAccessKey: { name: store.credentialsSecret, key: store.secretAccessKeyKey },
        },
    };
}

/** CNPG's method name for a backup config. */
function backupMethod(backup: NonNullable<DatabaseConfig["backup"]>) {
    return backup.method === "objectStore" ? "barmanObjectStore" : "volumeSnapshot";
}

/**
 * An on-demand Backup before the authentik release installs or upgrades to `chartVersion`: named
 * after the version, so each new version takes one and the release waits for it (Pulumi's
 * `pulumi.com/waitFor` on the Backup's phase). Undefined when backups are off or not wanted.
 */
export function preUpgradeBackupManifest(args: { namespace: string; db: DatabaseConfig; chartVersion: string; labels: Record<string, string> }) {
    const backup = args.db.backup;
    if (!backup?.beforeUpgrade) return undefined;
    return {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Backup",
        metadata: {
            name: `${args.db.name}-before-authentik-${args.chartVersion.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
            namespace: args.namespace,
            labels: args.labels,
            annotations: { "pulumi.com/waitFor": "jsonpath={.status.phase}=completed" },
        },
        spec: { cluster: { name: args.db.name }, method: backupMethod(backup) },
    };
}

/** The ScheduledBackup for a configured backup, or undefined (the plan reports "no backup"). */
export function scheduledBackupManifest(args: { namespace: string; db: DatabaseConfig; labels: Record<string, string> }) {
    const backup = args.db.backup;
    if (!backup) return undefined;
    return {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "ScheduledBackup",
        metadata: { name: `${args.db.name}-daily`, namespace: args.namespace, labels: args.labels },
        spec: {
            schedule: backup.schedule,
            cluster: { name: args.db.name },
            method: backupMethod(backup),
            backupOwnerReference: "self",
            immediate: true,
        },
    };
}

/** One line for the plan: what protects this data, or a loud warning that nothing does. */
export function backupSummary(db: DatabaseConfig): { ok: boolean; text: string } {
    const b = db.backup;
    if (!b) return { ok: false, text: `NO BACKUP: database ${db.name} has no backup configured (set database.backup)` };
    if (b.method === "volumeSnapshot") {
        return { ok: true, text: `volume snapshots (${b.volumeSnapshotClass}) on "${b.schedule}"; prune old snapshots yourself` };
    }
    return { ok: true, text: `object store ${b.objectStore!.destinationPath} on "${b.schedule}", retention ${b.retention}` };
}

/** PodMonitor for CNPG's exporter (port "metrics" on every instance). */
export function podMonitorManifest(args: { namespace: string; cluster: string; labels: Record<string, string> }) {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { name: args.cluster, namespace: args.namespace, labels: args.labels },
        spec: {
            selector: { matchLabels: { "cnpg.io/cluster": args.cluster } },
            podMetricsEndpoints: [{ port: "metrics" }],
        },
    };
}
