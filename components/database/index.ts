/**
 * authentik's PostgreSQL: a CloudNativePG Cluster, its credentials Secret, an optional
 * ScheduledBackup, an on-demand Backup before each authentik chart version, a PodMonitor, and
 * (optionally) the CNPG operator itself. A new cluster starts empty, imported from another
 * PostgreSQL (the Terraform stack's), or recovered from this stack's backups.
 * The Cluster and its credentials are protected and retained: neither is ever replaced or deleted
 * by a `pulumi up`; a change that would replace them fails instead.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CredentialSecret, CredentialValue, ExternalSecretsSettings } from "../secrets";
import {
    OPERATOR_TIMEOUT_SECONDS,
    backupPortOf,
    UPGRADE_BACKUP_TIMEOUT_MINUTES,
    DATABASE_NAME,
    DATABASE_OWNER,
    DatabaseConfig,
    POSTGRES_PORT,
    clusterManifest,
    clusterNetworkPolicyManifest,
    importSourceSecretName,
    podMonitorManifest,
    preUpgradeBackupManifest,
    readWriteHost,
    scheduledBackupManifest,
} from "./manifests";
import { appLabels } from "../../lib/k8s";

export interface DatabaseArgs {
    /** Namespace of the Cluster and its Secrets. */
    namespace: string;
    /** The `database` section of the stack config. */
    config: DatabaseConfig;
    /** The authentik role's password. */
    password: CredentialValue;
    /** External Secrets settings when the password is a 1Password reference. */
    /** External Secrets settings when the password is a 1Password reference. */
    externalSecrets?: ExternalSecretsSettings;
    /** Labels for the PodMonitor, so Prometheus selects it. */
    monitorLabels?: Record<string, string>;
    /** The source database's password (bootstrap mode import). */
    importSourcePassword?: CredentialValue;
    /** The authentik chart version the release installs: a Backup is taken before each new one. */
    chartVersion: string;
    /** NetworkPolicy: PgBouncer's pod labels, the operator's and the monitoring namespace; unset creates none. */
    networkPolicy?: { clients: Record<string, string>; operatorNamespace: string; monitoringNamespace: string };
    /** Resources the Cluster must wait for (the namespace, the operator release). */
    dependsOn?: pulumi.Resource[];
}

export class Database extends pulumi.ComponentResource {
    readonly cluster: k8s.apiextensions.CustomResource;
    readonly credentials: CredentialSecret;
    /** The on-demand Backup the authentik release waits for, when backups are configured. */
    readonly upgradeBackup?: k8s.apiextensions.CustomResource;
    /** `<cluster>-rw.<namespace>.svc.cluster.local` */
    readonly host: pulumi.Output<string>;
    readonly port: number = POSTGRES_PORT;
    readonly database: string = DATABASE_NAME;
    readonly user: string = DATABASE_OWNER;
    readonly credentialsSecretName: pulumi.Output<string>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:database:Database", name, {}, opts);
        const db = args.config;
        const labels = appLabels("authentik-db", "database").all;

        this.credentials = new CredentialSecret(
            `${name}-credentials`,
            {
                namespace: args.namespace,
                secretName: `${db.name}-app`,
                labels,
                secretType: "kubernetes.io/basic-auth",
                templates: { username: DATABASE_OWNER, password: "{{databasePassword}}" },
                credentials: { databasePassword: args.password },
                externalSecrets: args.externalSecrets,
                stateful: true,
                dependsOn: args.dependsOn,
            },
            { parent: this },
        );
        this.credentialsSecretName = this.credentials.secretName;

        const sources: pulumi.Resource[] = [];
        if (db.bootstrap.mode === "import") {
            if (!args.importSourcePassword) throw new Error("database.bootstrap.mode import needs credential importSourcePassword");
            const source = new CredentialSecret(
                `${name}-import-source`,
                {
                    namespace: args.namespace,
                    secretName: importSourceSecretName(db.name),
                    labels,
                    secretType: "kubernetes.io/basic-auth",
                    templates: { username: db.bootstrap.source!.user, password: "{{importSourcePassword}}" },
                    credentials: { importSourcePassword: args.importSourcePassword },
                    externalSecrets: args.externalSecrets,
                    dependsOn: args.dependsOn,
                },
                { parent: this },
            );
            sources.push(source.resource);
        }

        this.cluster = new k8s.apiextensions.CustomResource(
            name,
            clusterManifest({ namespace: args.namespace, db, credentialsSecret: `${db.name}-app`, labels }),
            {
                parent: this,
                dependsOn: [...(args.dependsOn ?? []), this.credentials.resource, ...sources],
                protect: true,
                retainOnDelete: true,
            },
        );

        const backup = scheduledBackupManifest({ namespace: args.namespace, db, labels });
        if (backup) new k8s.apiextensions.CustomResource(`${name}-backup`, backup, { parent: this, dependsOn: [this.cluster] });
        if (args.networkPolicy) {
            const np = clusterNetworkPolicyManifest({
                namespace: args.namespace,
                cluster: db.name,
                labels,
                backupPort: backupPortOf(db),
                ...args.networkPolicy,
            });
            new k8s.networking.v1.NetworkPolicy(`${name}-network`, { metadata: np.metadata, spec: np.spec }, { parent: this, dependsOn: args.dependsOn });
        }
        const beforeUpgrade = preUpgradeBackupManifest({ namespace: args.namespace, db, chartVersion: args.chartVersion, labels });
        if (beforeUpgrade) {
            // Kept when a later version takes its place: it is the way back from that upgrade.
            this.upgradeBackup = new k8s.apiextensions.CustomResource(`${name}-before-upgrade`, beforeUpgrade, {
                parent: this,
                dependsOn: [this.cluster],
                retainOnDelete: true,
                customTimeouts: { create: `${UPGRADE_BACKUP_TIMEOUT_MINUTES}m` },
            });
        }
        if (db.podMonitor) {
            new k8s.apiextensions.CustomResource(
                `${name}-podmonitor`,
                podMonitorManifest({ namespace: args.namespace, cluster: db.name, labels: { ...labels, ...args.monitorLabels } }),
                { parent: this, dependsOn: [this.cluster] },
            );
        }

        // Clients connect once the Cluster object exists (its metadata resolves after creation).
        this.host = this.cluster.metadata.name.apply(() => readWriteHost(db.name, args.namespace));
        this.registerOutputs({
            host: this.host,
            port: this.port,
            database: this.database,
            user: this.user,
            credentialsSecretName: this.credentialsSecretName,
        });
    }
}

export interface CnpgOperatorArgs {
    /** Namespace of the operator's release. */
    namespace: string;
    /** The CloudNativePG chart version to install. */
    chartVersion: string;
}

/** The CloudNativePG operator from its Helm chart (only when the stack asks for it). */
export class CnpgOperator extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    constructor(name: string, args: CnpgOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:database:CnpgOperator", name, {}, opts);
        this.release = new k8s.helm.v3.Release(
            name,
            {
                name: "cnpg",
                chart: "cloudnative-pg",
                version: args.chartVersion,
                repositoryOpts: { repo: "https://cloudnative-pg.github.io/charts" },
                namespace: args.namespace,
                createNamespace: true,
                atomic: true,
                timeout: OPERATOR_TIMEOUT_SECONDS,
            },
            { parent: this },
        );
        this.registerOutputs({ status: this.release.status });
    }
}
