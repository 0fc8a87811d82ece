/**
 * PgBouncer between authentik and PostgreSQL: ConfigMap (no credentials), auth Secret, Deployment,
 * Service, PodDisruptionBudget and an optional NetworkPolicy.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CredentialSecret, CredentialValue, ExternalSecretsSettings } from "../secrets";
import { serviceFqdn } from "../../lib/k8s";
import {
    PGBOUNCER_PORT,
    HBA_FILE,
    PgBouncerConfig,
    SERVICE_NAME,
    authTemplates,
    checksum,
    deploymentManifest,
    labels,
    networkPolicyManifest,
    podDisruptionBudgetManifest,
    renderHba,
    renderIni,
    serviceManifest,
} from "./manifests";

export interface PgBouncerArgs {
    /** Namespace of PgBouncer's Deployment, Service and Secrets. */
    namespace: string;
    /** The `pgbouncer` section of the stack config. */
    config: PgBouncerConfig;
    /** The database it pools: the CNPG `-rw` FQDN, port and database name. */
    database: { host: string; port: number; name: string; cluster: string };
    /** The authentik role's password (for userlist.txt). */
    password: CredentialValue;
    /** Key of the pods' rollout digest of that password (`Credentials.rolloutKey`). */
    rolloutKey: pulumi.Input<string>;
    /** External Secrets settings when the password is a 1Password reference. */
    externalSecrets?: ExternalSecretsSettings;
    /** Label selector of the pods allowed in by the NetworkPolicy (authentik's). */
    clientSelector: Record<string, string>;
    /** NetworkPolicy settings; unset creates none. */
    networkPolicies?: { monitoringNamespace: string };
    /** pgbouncer-exporter sidecar image; unset runs no exporter. */
    exporterImage?: string;
    /** PgBouncer starts after these (the database Cluster and its credentials). */
    dependsOn?: pulumi.Resource[];
}

export class PgBouncer extends pulumi.ComponentResource {
    /** `pgbouncer.<namespace>.svc.cluster.local` */
    readonly host: pulumi.Output<string>;
    readonly port: number = PGBOUNCER_PORT;
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;
    /** Labels of the Service, for a ServiceMonitor. */
    readonly serviceSelector: Record<string, string> = labels.selector;

    constructor(name: string, args: PgBouncerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:pgbouncer:PgBouncer", name, {}, opts);
        const ns = args.namespace;
        const childOpts = { parent: this, dependsOn: args.dependsOn };

        const ini = renderIni({
            pgbouncer: args.config,
            databaseHost: args.database.host,
            databasePort: args.database.port,
            database: args.database.name,
        });
        const hba = renderHba();
        const configMap = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            { metadata: { name: `${SERVICE_NAME}-config`, namespace: ns, labels: labels.all }, data: { "pgbouncer.ini": ini, [HBA_FILE]: hba } },
            childOpts,
        );
        const auth = new CredentialSecret(
            `${name}-auth`,
            {
                namespace: ns,
                secretName: `${SERVICE_NAME}-auth`,
                labels: labels.all,
                templates: authTemplates(),
                credentials: { databasePassword: args.password },
                externalSecrets: args.externalSecrets,
                rolloutKey: args.rolloutKey,
                dependsOn: args.dependsOn,
            },
            { parent: this },
        );

        const manifest = (digest: string | undefined) =>
            deploymentManifest({
                namespace: ns,
                pgbouncer: args.config,
                configMapName: `${SERVICE_NAME}-config`,
                secretName: `${SERVICE_NAME}-auth`,
                caSecretName: `${args.database.cluster}-ca`,
                configChecksum: checksum(ini, hba, args.config.image),
                rollout: { digest, reloadSecrets: auth.reloadSecrets },
                exporterImage: args.exporterImage,
            });
        this.deployment = new k8s.apps.v1.Deployment(
            name,
            // Metadata stays plain (imports match on it); the pod template carries the auth digest.
            { metadata: manifest(undefined).metadata, spec: auth.digest.apply((d) => manifest(d).spec) },
            { parent: this, dependsOn: [...(args.dependsOn ?? []), configMap, auth.resource] },
        );
        const service = serviceManifest(ns, args.exporterImage !== undefined);
        this.service = new k8s.core.v1.Service(name, { metadata: service.metadata, spec: service.spec }, childOpts);
        const pdb = podDisruptionBudgetManifest(ns, args.config.minAvailable);
        new k8s.policy.v1.PodDisruptionBudget(name, { metadata: pdb.metadata, spec: pdb.spec }, childOpts);
        if (args.networkPolicies) {
            const np = networkPolicyManifest({
                namespace: ns,
                clientSelector: args.clientSelector,
                databaseCluster: args.database.cluster,
                databasePort: args.database.port,
                monitoringNamespace: args.exporterImage !== undefined ? args.networkPolicies.monitoringNamespace : undefined,
            });
            new k8s.networking.v1.NetworkPolicy(name, { metadata: np.metadata, spec: np.spec }, childOpts);
        }

        this.host = this.service.metadata.name.apply((svc) => serviceFqdn(svc, ns));
        this.registerOutputs({ host: this.host, port: this.port });
    }
}
