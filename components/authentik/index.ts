/**
 * The authentik release: the credentials Secret(s) its pods read, an optional media volume, and the
 * Helm release (server + worker) wired to PgBouncer. The release waits for the database, PgBouncer
 * and every Secret it reads; `atomic` rolls a failed upgrade back and `pulumi up` reports it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { CredentialName, StackConfig } from "../../config";
import { CredentialSecret, CredentialValue, ExternalSecretsSettings, splitBySource } from "../secrets";
import type { Rollout } from "../secrets/render";
import { appLabels } from "../../lib/k8s";
import { outpostAccessManifests } from "./outposts";
import { PROVENANCE_ENGINE_VERSION, ProvenanceInputs, chartProvenanceProvider } from "./provenance";
import {
    CHART,
    CHART_REPO,
    authentikCredentials,
    authentikNetworkPolicies,
    hstsMiddlewareManifest,
    mediaClaimName,
    releaseValues,
    serverServiceAccountName,
    releaseTimeoutSeconds,
} from "./values";
import { expectedChartDigest, httpsOnlyAnnotations, isTraefik } from "../../config";

export interface AuthentikReleaseArgs {
    /** The stack configuration: the authentik section, and the namespace, outposts, network policies and credentials its values read. */
    config: StackConfig;
    /** Every credential the stack resolved (Credentials.values); the pods read those in use. */
    credentials: Partial<Record<CredentialName, CredentialValue>>;
    /** Key of the pods' rollout digest of the Pulumi-held credentials (`Credentials.rolloutKey`). */
    rolloutKey: pulumi.Input<string>;
    /** External Secrets settings, when some credentials are 1Password references. */
    externalSecrets?: ExternalSecretsSettings;
    /** PgBouncer's Service FQDN and port. */
    database: { host: pulumi.Input<string>; port: number };
    /** The release waits for these (database, PgBouncer). */
    dependsOn: pulumi.Resource[];
}

/** The check of the chart package before it is installed (provenance.ts). */
class ChartProvenance extends pulumi.dynamic.Resource {
    constructor(name: string, args: pulumi.Inputs & { [K in keyof ProvenanceInputs]: pulumi.Input<ProvenanceInputs[K]> }, opts: pulumi.CustomResourceOptions) {
        super(chartProvenanceProvider, name, { ...args, url: undefined }, opts, "chart", "ChartProvenance");
    }
}

export class AuthentikRelease extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    /** Resolves once the release is deployed (what authentik API objects wait for). */
    readonly status: pulumi.Output<string>;

    constructor(name: string, args: AuthentikReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:authentik:AuthentikRelease", name, {}, opts);
        const c = args.config;
        const a = c.authentik;
        const ns = c.namespace;
        const labels = appLabels("authentik", "credentials").all;

        // One Secret per kind of source: Pulumi-held values, and 1Password references (ExternalSecret).
        const { values, references } = splitBySource(authentikCredentials(c), args.credentials);
        const secretOf: Partial<Record<CredentialName, string>> = {};
        const secrets: pulumi.Resource[] = [];
        const rollouts: pulumi.Output<Rollout>[] = [];
        for (const [group, suffix] of [
            [values, "credentials"],
            [references, "credentials-1password"],
        ] as const) {
            if (group.length === 0) continue;
            const secretName = `${a.releaseName}-${suffix}`;
            const secret = new CredentialSecret(
                `${name}-${suffix}`,
                {
                    namespace: ns,
                    secretName,
                    labels,
                    templates: Object.fromEntries(group.map((cred) => [cred, `{{${cred}}}`])),
                    credentials: args.credentials,
                    externalSecrets: args.externalSecrets,
                    rolloutKey: args.rolloutKey,
                    dependsOn: args.dependsOn,
                },
                { parent: this },
            );
            secrets.push(secret.resource);
            rollouts.push(secret.digest.apply((digest) => ({ digest, reloadSecrets: secret.reloadSecrets })));
            for (const cred of group) secretOf[cred] = secretName;
        }

        const volumes: pulumi.Resource[] = [];
        if (a.media) {
            volumes.push(
                new k8s.core.v1.PersistentVolumeClaim(
                    `${name}-media`,
                    {
                        metadata: { name: mediaClaimName(a.releaseName), namespace: ns, labels: appLabels("authentik", "media").all },
                        spec: {
                            accessModes: [a.media.accessMode],
                            resources: { requests: { storage: a.media.size } },
                            ...(a.media.storageClass ? { storageClassName: a.media.storageClass } : {}),
                        },
                    },
                    // Uploaded icons and files live here: never replaced or deleted by accident.
                    { parent: this, dependsOn: args.dependsOn, protect: true, retainOnDelete: true },
                ),
            );
        }

        if (c.networkPolicies.enabled) {
            for (const np of authentikNetworkPolicies(c)) {
                new k8s.networking.v1.NetworkPolicy(np.metadata.name, { metadata: np.metadata, spec: np.spec }, { parent: this, dependsOn: args.dependsOn });
            }
        }
        const edges: pulumi.Resource[] = [];
        if (isTraefik(c) && Object.keys(httpsOnlyAnnotations(c)).length) {
            edges.push(new k8s.apiextensions.CustomResource(`${name}-hsts`, hstsMiddlewareManifest(c), { parent: this, dependsOn: args.dependsOn }));
        }

        // The chart uses it only by name: the server's pods mount no token.
        const serverAccount = new k8s.core.v1.ServiceAccount(
            `${name}-server`,
            {
                metadata: { name: serverServiceAccountName(a.releaseName), namespace: ns, labels: appLabels("authentik", "server").all },
                automountServiceAccountToken: false,
            },
            { parent: this, dependsOn: args.dependsOn },
        );

        // The worker's Kubernetes access for deploying outposts (empty: the chart's own account).
        const access = outpostAccessManifests(c).map((m) => {
            const resource = `${m.kind.toLowerCase()}-${m.metadata.name}`;
            const opts = { parent: this, dependsOn: args.dependsOn };
            switch (m.kind) {
                case "ServiceAccount":
                    return new k8s.core.v1.ServiceAccount(resource, m as k8s.types.input.core.v1.ServiceAccount, opts);
                case "Role":
                    return new k8s.rbac.v1.Role(resource, m as k8s.types.input.rbac.v1.Role, opts);
                case "RoleBinding":
                    return new k8s.rbac.v1.RoleBinding(resource, m as k8s.types.input.rbac.v1.RoleBinding, opts);
                case "ClusterRole":
                    return new k8s.rbac.v1.ClusterRole(resource, m as k8s.types.input.rbac.v1.ClusterRole, opts);
                default:
                    return new k8s.rbac.v1.ClusterRoleBinding(resource, m as k8s.types.input.rbac.v1.ClusterRoleBinding, opts);
            }
        });

        const values$ = pulumi
            .all([args.database.host, pulumi.all(rollouts)])
            .apply(([host, rollout]) =>
                releaseValues({ config: c, databaseHost: host, databasePort: args.database.port, credentialSecrets: secretOf, rollout }),
            );
        const digest = expectedChartDigest(c);
        if (!digest) throw new Error(`authentik.chartVersion ${a.chartVersion} has no recorded digest (the config rules say how to set authentik.chartDigest)`);
        // Helm installs only a package whose values and templates are the ones recorded.
        const before = [...args.dependsOn, ...secrets, ...volumes, serverAccount, ...access, ...edges];
        // Right before the release, after everything else it waits for: a dynamic provider's code is
        // serialized asynchronously, and this keeps the plan's order the same on every run.
        const provenance = new ChartProvenance(
            `${name}-chart`,
            { repo: CHART_REPO, chart: CHART, version: a.chartVersion, digest: values$.apply(() => digest), engineVersion: PROVENANCE_ENGINE_VERSION },
            { parent: this, dependsOn: before },
        );
        this.release = new k8s.helm.v3.Release(
            name,
            {
                name: a.releaseName,
                chart: CHART,
                version: a.chartVersion,
                repositoryOpts: { repo: CHART_REPO },
                namespace: ns,
                values: values$,
                atomic: true,
                cleanupOnFail: true,
                waitForJobs: true,
                timeout: releaseTimeoutSeconds(c),
                maxHistory: 10,
            },
            { parent: this, dependsOn: [...before, provenance] },
        );
        this.status = this.release.status.apply((s) => s.status);
        this.registerOutputs({ status: this.status });
    }
}
