/**
 * Pure manifests for authentik's CloudNativePG database: the Cluster, its ScheduledBackup and its
 * PodMonitor. Checked against the upstream CRD schemas by `npm run conformance` (tools/conformance.ts).
 */
import type { StackConfig } from "../../config";
import { serviceFqdn } from "../../lib/k8s";
import { ANYWHERE, DNS_EGRESS, KUBE_API_EGRESS, fromNamespace, networkPolicy, tcp } from "../../lib/network";

export type DatabaseConfig = StackConfig["database"];

export const DATABASE_NAME = "authentik";
export const DATABASE_OWNER = "authentik";
export const POSTGRES_PORT = 5432;
/** How long an up waits for the backup taken before an authentik upgrade (a whole database to object storage). */
export const UPGRADE_BACKUP_TIMEOUT_MINUTES = 60;
/** How long an up waits for the CloudNativePG operator's Helm release. */
export const OPERATOR_TIMEOUT_SECONDS = 600;

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

/** pg_hba rules added after CNPG's: a client that does not use TLS is refused. */
export const PG_HBA = ["hostnossl all all all reject"];

export function clusterManifest(args: { namespace: string; db: DatabaseConfig; credentialsSecret: string; labels: Record<string, string> }) {
    const { db } = args;
    return {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: db.name, namespace: args.namespace, labels: args.labels },
        spec: {
            instances: db.instances,
            imageName: db.imageName,
            primaryUpdateStrategy: "unsupervised",
            // CNPG's own rules come first; after them, nothing may connect without TLS.
            postgresql: { parameters: postgresParameters(db), pg_hba: PG_HBA },
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
        barmanObjectStore: {
            ...objectStoreSpec(backup.objectStore!),
            wal: { compression: "gzip", ...encryptionOf(backup.objectStore!) },
            data: { compression: "gzip", ...encryptionOf(backup.objectStore!) },
        },
    };
}

type ObjectStore = NonNullable<NonNullable<DatabaseConfig["backup"]>["objectStore"]>;

function encryptionOf(store: ObjectStore) {
    return store.encryption === "none" ? {} : { encryption: store.encryption };
}

/** Where barman finds the object store: the same for backups and for a recovery from them. */
function objectStoreSpec(store: ObjectStore) {
    return {
        destinationPath: store.destinationPath,
        ...(store.endpointURL ? { endpointURL: store.endpointURL } : {}),
        ...(store.endpointCA ? { endpointCA: { name: store.endpointCA.secret, key: store.endpointCA.key } } : {}),
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
    const store = b.objectStore!;
    const weak = [
        store.endpointURL?.startsWith("http://") ? "PLAIN HTTP to the object store (set an https:// endpointURL, with endpointCA for a private CA)" : "",
        store.encryption === "none" ? "NOT ENCRYPTED by the program (encryption: none leaves it to the bucket's policy)" : "",
    ].filter(Boolean);
    const text = `object store ${store.destinationPath} on "${b.schedule}", retention ${b.retention}, ${store.encryption === "none" ? "bucket-policy encryption" : `${store.encryption} encryption`}`;
    return { ok: weak.length === 0, text: weak.length ? `${text}; ${weak.join("; ")}` : text };
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

/** Ports of a CNPG instance: PostgreSQL, the instance manager (the operator's), metrics. */
export const CNPG_PORTS = { postgres: POSTGRES_PORT, instanceManager: 8000, metrics: 9187 } as const;

/**
 * Who reaches the CNPG instances: PostgreSQL from PgBouncer and the other instances (replication)
 * and the operator; the instance manager from the operator; metrics from the monitoring namespace.
 * Ingress only: the instances call the API server and the backup store.
 */
export function clusterNetworkPolicyManifest(args: {
    namespace: string;
    cluster: string;
    labels: Record<string, string>;
    clients: Record<string, string>;
    operatorNamespace: string;
    monitoringNamespace: string;
    /** The object store's port, when backups go to one (WAL archiving and base backups). */
    backupPort?: number;
}) {
    const instances = { "cnpg.io/cluster": args.cluster };
    return networkPolicy({
        name: `${args.cluster}-instances`,
        namespace: args.namespace,
        labels: args.labels,
        // The instances and CNPG's jobs (initdb, join), which carry the cluster's label too.
        podSelector: instances,
        ingress: [
            {
                from: [{ podSelector: { matchLabels: args.clients } }, { podSelector: { matchLabels: instances } }, fromNamespace(args.operatorNamespace)],
                ports: [tcp(CNPG_PORTS.postgres)],
            },
            { from: [fromNamespace(args.operatorNamespace)], ports: [tcp(CNPG_PORTS.instanceManager)] },
            { from: [fromNamespace(args.monitoringNamespace)], ports: [tcp(CNPG_PORTS.metrics)] },
        ],
        egress: [
            // Replication (and a join job's copy) from the primary.
            { to: [{ podSelector: { matchLabels: instances } }], ports: [tcp(CNPG_PORTS.postgres)] },
            DNS_EGRESS,
            // The instance manager watches the Cluster through the API server.
            KUBE_API_EGRESS,
            ...(args.backupPort ? [{ to: ANYWHERE, ports: [tcp(args.backupPort)] }] : []),
        ],
    });
}

/** The port backups reach the object store on: the endpoint URL's, else HTTPS (AWS S3). Undefined without an object store. */
export function backupPortOf(db: DatabaseConfig): number | undefined {
    const store = db.backup?.method === "objectStore" ? db.backup.objectStore : undefined;
    if (!store) return undefined;
    if (!store.endpointURL) return 443;
    const url = new URL(store.endpointURL);
    return url.port ? Number(url.port) : url.protocol === "http:" ? 80 : 443;
}
