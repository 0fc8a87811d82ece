/** authentik's PostgreSQL: the CloudNativePG operator and cluster, backups and how the cluster is first populated. */
import { parsePgMemory } from "../lib/units";
import { bool, custom, int, obj, oneOf, optional, record, str } from "./schema";
import { dnsName, image, quantity, resources } from "./fields";

export const databaseFields = {
    cnpgOperator: obj(
        {
            install: bool({
                doc: "Install the CloudNativePG operator from its Helm chart. False when the cluster already runs it (the usual case).",
                default: false,
            }),
            chartVersion: str({ doc: "cloudnative-pg chart version (pinned).", default: "0.26.1" }),
            namespace: dnsName("Namespace for the operator.", "cnpg-system"),
        },
        { doc: "The CloudNativePG operator (a prerequisite for the database)." },
    ),
    database: obj(
        {
            name: dnsName("CNPG Cluster name. Immutable after the first `pulumi up`: a new name is a new, empty database.", "authentik-db"),
            instances: int({ doc: "PostgreSQL instances (1 primary + replicas).", default: 3, min: 1, max: 9 }),
            imageName: image(
                "PostgreSQL image. Changing the major version needs a planned major upgrade.",
                "ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie",
            ),
            storage: obj(
                {
                    size: quantity("Volume size per instance. It can grow, never shrink.", "20Gi"),
                    storageClass: optional(str({ doc: "StorageClass; unset for the cluster default." })),
                },
                { doc: "Data volumes." },
            ),
            resources: resources("Resources of each PostgreSQL pod.", {
                cpuRequest: "500m",
                memoryRequest: "3Gi",
                memoryLimit: "3Gi",
            }),
            maxConnections: int({ doc: "PostgreSQL max_connections.", default: 200, min: 20, max: 10000 }),
            superuserReservedConnections: int({
                doc: "PostgreSQL superuser_reserved_connections (kept free for the operator and replication).",
                default: 3,
                min: 0,
                max: 100,
            }),
            sharedBuffers: custom<string>(
                "a PostgreSQL size with unit (e.g. 768MB, 1GB)",
                { doc: "PostgreSQL shared_buffers; must fit well inside the memory limit.", default: "768MB" },
                (v) => (parsePgMemory(v) === undefined ? undefined : (v as string)),
            ),
            pgStatStatements: bool({
                doc: "Enable pg_stat_statements (CNPG preloads the library when its parameters are set).",
                default: true,
            }),
            parameters: record(str({ doc: "value" }), {
                doc: "Extra PostgreSQL parameters (strings), merged over the computed ones.",
            }),
            antiAffinity: oneOf(["required", "preferred"] as const, {
                doc: "Keep instances on different hosts: required (never co-locate) or preferred.",
                default: "required",
            }),
            podMonitor: bool({ doc: "Create a PodMonitor for the CNPG metrics exporter.", default: true }),
            backup: optional(
                obj(
                    {
                        method: oneOf(["objectStore", "volumeSnapshot"] as const, {
                            doc: "Backup target: an S3-compatible object store (barman) or CSI volume snapshots.",
                        }),
                        schedule: str({
                            doc: "ScheduledBackup cron (six fields, seconds first).",
                            default: "0 0 3 * * *",
                        }),
                        retention: str({
                            doc: "Retention policy, e.g. 30d.",
                            default: "30d",
                            pattern: /^[1-9][0-9]*[dwm]$/,
                            patternText: "a retention like 30d, 4w or 3m",
                        }),
                        objectStore: optional(
                            obj(
                                {
                                    destinationPath: str({ doc: "e.g. s3://bucket/authentik" }),
                                    endpointURL: optional(str({ doc: "S3 endpoint for non-AWS stores." })),
                                    credentialsSecret: dnsName("Secret holding the S3 keys."),
                                    accessKeyIdKey: str({ doc: "Key of the access key id.", default: "ACCESS_KEY_ID" }),
                                    secretAccessKeyKey: str({
                                        doc: "Key of the secret access key.",
                                        default: "ACCESS_SECRET_KEY",
                                    }),
                                    endpointCA: optional(
                                        obj(
                                            {
                                                secret: dnsName("Secret holding the CA bundle."),
                                                key: str({ doc: "Key of the CA bundle in it.", default: "ca.crt" }),
                                            },
                                            { doc: "CA that signed the object store's certificate (a self-signed MinIO, say)." },
                                        ),
                                    ),
                                    encryption: oneOf(["AES256", "aws:kms", "none"] as const, {
                                        doc: "Server-side encryption of base backups and WAL: the backups hold signing keys and password hashes. none leaves it to the bucket's policy (the plan says so).",
                                        default: "AES256",
                                    }),
                                },
                                { doc: "Object store settings (method objectStore)." },
                            ),
                        ),
                        volumeSnapshotClass: optional(str({ doc: "VolumeSnapshotClass (method volumeSnapshot)." })),
                        beforeUpgrade: bool({
                            doc: "Take an on-demand Backup (named after the chart version) before the authentik release is installed or upgraded; the release waits for it to complete.",
                            default: true,
                        }),
                    },
                    { doc: "Backups. Unset means NO backup: the plan says so." },
                ),
            ),
            bootstrap: obj(
                {
                    mode: oneOf(["initdb", "import", "recovery"] as const, {
                        doc: "How a NEW cluster starts (CNPG reads it only when it creates the cluster): initdb (empty), import (copy the authentik database from another PostgreSQL, e.g. the Terraform stack's: CNPG's microservice import), recovery (restore from this stack's object-store backups: disaster recovery).",
                        default: "initdb",
                    }),
                    source: optional(
                        obj(
                            {
                                host: str({ doc: "Host of the PostgreSQL to import from (in-cluster: the FQDN)." }),
                                port: int({ doc: "Port.", default: 5432, min: 1, max: 65535 }),
                                database: str({ doc: "Database to import.", default: "authentik" }),
                                user: str({ doc: "User that can read it (its password is credential importSourcePassword).", default: "authentik" }),
                                sslMode: oneOf(["require", "verify-ca", "verify-full", "prefer", "disable"] as const, {
                                    doc: "libpq sslmode towards the source.",
                                    default: "require",
                                }),
                            },
                            { doc: "The PostgreSQL to import from (mode import)." },
                        ),
                    ),
                    recovery: obj(
                        {
                            serverName: optional(dnsName("The backed-up cluster's name in the object store; default database.name.")),
                            targetTime: optional(str({ doc: "Point in time to recover to (RFC 3339, e.g. 2026-12-01T03:00:00Z); unset for the latest." })),
                        },
                        { doc: "Recovery from database.backup's object store (mode recovery)." },
                    ),
                },
                { doc: "How the cluster is first populated: empty, imported from the old database, or recovered from backups." },
            ),
        },
        { doc: "authentik's PostgreSQL cluster (CloudNativePG)." },
    ),
};
