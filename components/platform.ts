/**
 * The whole platform as one dependency graph: namespace → credentials → database → PgBouncer →
 * authentik release → authentik's own objects (through its API) and the monitoring.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { StackConfig, adminCredential, credentialsInUse, usesApi } from "../config";
import { AutomationAccess, BootstrapTokenRevocation } from "./authentik-access";
import { outpostsApart } from "./authentik/outposts";
import { automationInitialPermissions, automationPermissions, consumerInitialPermissions, consumerPermissions } from "./authentik-access/model";
import { AuthentikObjects } from "./authentik-objects";
import { retryPolicyOf } from "./authentik-objects/model";
import type { LoadedConfig } from "../config/load";
import { CONTRACT_VERSION, PlatformOutputs } from "../packages/contract";
import { CredentialValue, Credentials } from "./secrets";
import { CnpgOperator, Database } from "./database";
import { backupSummary, readWriteHost } from "./database/manifests";
import { PgBouncer } from "./pgbouncer";
import { labels as pgbouncerLabels } from "./pgbouncer/manifests";
import { AuthentikRelease } from "./authentik";
import { Observability } from "./observability";
import { capacityOf } from "../config/capacity";
import { CHART } from "./authentik/values";
import { authentikUrl, serverServiceUrl } from "../config";
import { appLabels, podSecurityLabels } from "../lib/k8s";
import { defaultDenyPolicy } from "../lib/network";
import { importTransformation } from "../lib/imports";

type Outputs = { [K in keyof PlatformOutputs]: pulumi.Input<PlatformOutputs[K]> };

export function createPlatform({ config, configValues }: LoadedConfig): Outputs {
    // Every Kubernetes object goes through one provider built from the validated context: a typo in
    // the stack file fails validation instead of deploying to whatever context is current.
    const kubernetes = new k8s.Provider("kubernetes", {
        context: config.kubernetes.context,
        ...(config.kubernetes.kubeconfig ? { kubeconfig: new pulumi.Config("kubernetes").requireSecret("kubeconfig") } : {}),
        // A ConfigMap's or Secret's new data updates it in place (the pods roll on its checksum).
        // Otherwise the provider replaces it, creating the new one first, which fails for our
        // fixed names ("already exists"): no PgBouncer setting or credential could ever change.
        enableConfigMapMutable: true,
        enableSecretMutable: true,
    });
    pulumi.runtime.registerStackTransformation(({ type, props, opts }) =>
        type.startsWith("kubernetes:") && !opts.provider ? { props, opts: { ...opts, provider: kubernetes } } : undefined,
    );
    const imported = new Set<string>();
    if (config.import.length > 0) pulumi.runtime.registerStackTransformation(importTransformation(config.import, imported));
    const outputs = buildPlatform(config, configValues);
    // Every resource registered synchronously above: an entry nothing matched names no object of ours.
    const unmatched = config.import.filter((entry) => !imported.has(entry));
    if (unmatched.length > 0) {
        throw new pulumi.RunError(
            `invalid stack configuration: authentik-platform:import lists ${unmatched.map((e) => `"${e}"`).join(", ")}, which this program does not create` +
                ` (fix: use the kind, namespace and name the plan shows for the object — npm run plan — or remove the entry)`,
        );
    }
    return outputs;
}

function buildPlatform(config: StackConfig, configValues: LoadedConfig["configValues"]): Outputs {
    const ns = config.namespace;
    const externalSecrets = externalSecretsOf(config);
    const prerequisites: pulumi.Resource[] = [];

    if (config.createNamespace) {
        // Deleting a namespace deletes the database in it: never by accident.
        prerequisites.push(
            new k8s.core.v1.Namespace(
                "namespace",
                { metadata: { name: ns, labels: { ...appLabels("authentik-platform", "namespace").all, ...podSecurityLabels(config.podSecurity) } } },
                { protect: true, retainOnDelete: true },
            ),
        );
    }
    // The outposts authentik deploys. Only what is placed in it (the worker's Role, the outposts'
    // NetworkPolicies) waits for it; like every namespace, never deleted by accident.
    const outpostsNamespace =
        config.createNamespace && outpostsApart(config)
            ? [
                  new k8s.core.v1.Namespace(
                      "outposts-namespace",
                      {
                          metadata: {
                              name: config.outposts.namespace,
                              labels: { ...appLabels("authentik-platform", "outposts").all, ...podSecurityLabels(config.podSecurity) },
                          },
                      },
                      { protect: true, retainOnDelete: true },
                  ),
              ]
            : [];
    if (config.cnpgOperator.install) {
        prerequisites.push(
            new CnpgOperator("cnpg-operator", {
                namespace: config.cnpgOperator.namespace,
                chartVersion: config.cnpgOperator.chartVersion,
            }).release,
        );
    }

    const credentials = new Credentials("credentials", {
        sources: Object.fromEntries(credentialsInUse(config).map((name) => [name, config.credentials[name]])),
        onepassword: config.onepassword,
        configValues,
    });
    const databasePassword = credentials.values.databasePassword!;

    const database = new Database("authentik-db", {
        namespace: ns,
        config: config.database,
        password: databasePassword,
        externalSecrets,
        monitorLabels: config.observability.labels,
        importSourcePassword: credentials.values.importSourcePassword,
        networkPolicy: config.networkPolicies.enabled
            ? {
                  clients: pgbouncerLabels.selector,
                  operatorNamespace: config.cnpgOperator.namespace,
                  monitoringNamespace: config.networkPolicies.monitoringNamespace,
              }
            : undefined,
        chartVersion: config.authentik.chartVersion,
        dependsOn: prerequisites,
    });

    const pgbouncer = new PgBouncer("pgbouncer", {
        namespace: ns,
        config: config.pgbouncer,
        database: { host: readWriteHost(config.database.name, ns), port: database.port, name: database.database, cluster: config.database.name },
        password: databasePassword,
        rolloutKey: credentials.rolloutKey,
        externalSecrets,
        // authentik's server and worker pods (the chart's labels) are PgBouncer's only clients.
        clientSelector: { "app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": config.authentik.releaseName },
        exporterImage: config.observability.pgbouncerExporter.enabled ? config.observability.pgbouncerExporter.image : undefined,
        networkPolicies: config.networkPolicies.enabled ? { monitoringNamespace: config.networkPolicies.monitoringNamespace } : undefined,
        dependsOn: [database.cluster, database.credentials.resource],
    });

    const authentik = new AuthentikRelease("authentik", {
        config,
        credentials: credentials.values,
        rolloutKey: credentials.rolloutKey,
        externalSecrets,
        database: { host: pgbouncer.host, port: pgbouncer.port },
        // The release installs or upgrades only after the Backup of this chart version completed.
        dependsOn: [
            database.cluster,
            database.credentials.resource,
            pgbouncer.deployment,
            pgbouncer.service,
            ...outpostsNamespace,
            ...(database.upgradeBackup ? [database.upgradeBackup] : []),
        ],
    });

    const api = usesApi(config) ? authentikObjects(config, credentials, authentik) : undefined;
    const objects = api?.objects;

    if (config.networkPolicies.enabled) {
        // Each namespace the program owns denies what no tier's policy allows. Made last, once every
        // tier's own policy exists, so taking over a running namespace never cuts a flow it needs.
        const owned = [
            ...(config.createNamespace ? [{ name: ns, resource: prerequisites[0] }] : []),
            ...outpostsNamespace.map((resource) => ({ name: config.outposts.namespace, resource })),
        ];
        for (const namespace of owned) {
            const { metadata, spec } = defaultDenyPolicy(namespace.name, appLabels("authentik-platform", "network").all);
            new k8s.networking.v1.NetworkPolicy(
                `${namespace.name}-default-deny`,
                { metadata, spec },
                { parent: namespace.resource, protect: false, dependsOn: [database, pgbouncer, authentik] },
            );
        }
    }

    new Observability("observability", {
        observability: config.observability,
        namespace: config.namespace,
        releaseName: config.authentik.releaseName,
        outpostsNamespace: config.outposts.namespace,
        pgbouncerPoolSize: config.pgbouncer.defaultPoolSize,
        databaseMonitor: config.database.podMonitor ? config.database.name : undefined,
        pgbouncerSelector: pgbouncer.serviceSelector,
        dependsOn: [authentik.release],
    });

    return {
        contractVersion: CONTRACT_VERSION,
        namespace: ns,
        database: pulumi.all([database.host, database.credentialsSecretName]).apply(([host, credentialsSecret]) => ({
            cluster: config.database.name,
            host,
            port: database.port,
            database: database.database,
            user: database.user,
            credentialsSecret,
            backup: backupSummary(config.database).text,
        })),
        pgbouncer: pgbouncer.host.apply((host) => ({ host, port: pgbouncer.port, poolMode: config.pgbouncer.poolMode })),
        authentik: authentik.status.apply(() => ({
            url: authentikUrl(config),
            host: config.authentik.host,
            serverService: serverServiceUrl(config),
            releaseName: config.authentik.releaseName,
            chartVersion: config.authentik.chartVersion,
        })),
        capacity: capacityOf(config),
        apps: objects?.apps ?? {},
        oidcClientSecrets: objects?.oidcClientSecrets ?? pulumi.secret({}),
        consumerTokens: api?.consumerTokens ?? pulumi.secret({}),
        radius: objects?.radius ?? null,
    };
}

/**
 * authentik's objects, through its API, once `dependsOn` (the release) is ready: with the scoped
 * automation account's token by default, else with the superuser token the config names. No token
 * ever leaves Pulumi's secrets. Exported for the end-to-end stack, which runs it under the real
 * engine against an authentik stand-in.
 */
export function authentikObjectsFor(
    config: StackConfig,
    args: { adminToken?: pulumi.Output<string>; radiusSharedSecret?: CredentialValue; dependsOn: pulumi.Resource[]; consumers?: ConsumerAccess },
): AuthentikObjects {
    const token =
        config.api.token === "scoped"
            ? scopedAccess(config, args, "automation", config.api.automation.account, automationPermissions(), automationInitialPermissions()).token
            : args.adminToken!;
    return new AuthentikObjects("authentik-objects", {
        config,
        connection: { url: apiUrlOf(config), token, policy: retryPolicyOf(config) },
        adminConnection: args.adminToken === undefined ? undefined : { url: apiUrlOf(config), token: args.adminToken, policy: retryPolicyOf(config) },
        grant: { role: config.api.token === "scoped" ? config.api.automation.account : undefined, adminToken: args.adminToken },
        consumers: args.consumers,
        authentikUrl: authentikUrl(config),
        radiusSharedSecret: args.radiusSharedSecret,
        dependsOn: args.dependsOn,
    });
}

/**
 * Once nothing relies on the bootstrap token (api.admin apiToken or none), it is revoked in authentik,
 * after everything `after` holds has talked to authentik. Exported for the end-to-end stack.
 */
export function bootstrapRevocationFor(
    config: StackConfig,
    args: { bootstrapToken?: pulumi.Output<string>; adminToken?: pulumi.Output<string>; after: pulumi.Resource[] },
): BootstrapTokenRevocation | undefined {
    if (adminCredential(config) === "bootstrapToken") return undefined;
    return new BootstrapTokenRevocation("bootstrap-token-revocation", {
        apiUrl: apiUrlOf(config),
        bootstrapToken: args.bootstrapToken,
        adminToken: args.adminToken,
        policy: retryPolicyOf(config),
        dependsOn: args.after,
    });
}

/** The consuming stacks' accounts: their roles (by name), what makes them, and their tokens (secret, by consumer name). */
export interface ConsumerAccess {
    roles: string[];
    made: pulumi.Resource[];
    tokens: pulumi.Output<Record<string, string>>;
}

/**
 * One scoped service account per consuming stack (config `consumers`), holding what ProtectedApp
 * needs, with an expiring token the platform's `up` rotates. Their roles are handed change on the
 * outposts ProtectedApps attach to (authentikObjectsFor's `consumers`).
 */
export function consumerAccessFor(config: StackConfig, args: { adminToken?: pulumi.Output<string>; dependsOn: pulumi.Resource[] }): ConsumerAccess {
    const accounts = config.consumers.map((consumer) => {
        const account = consumerAccount(consumer.name);
        return {
            name: consumer.name,
            account,
            access: scopedAccess(config, args, `consumer-${consumer.name}`, account, consumerPermissions(), consumerInitialPermissions()),
        };
    });
    return {
        roles: accounts.map((a) => a.account),
        made: accounts.map((a) => a.access),
        tokens: pulumi.secret(pulumi.all(Object.fromEntries(accounts.map((a) => [a.name, a.access.token])))),
    };
}

/** A consuming stack's service account, and its role's name. */
const consumerAccount = (name: string) => `authentik-platform-consumer-${name}`;

/** Where the program reaches authentik's API. */
function apiUrlOf(config: StackConfig): string {
    return config.api.url ?? authentikUrl(config);
}

/** A scoped service account with `permissions`, made with the admin credential; its rotating token. */
function scopedAccess(
    config: StackConfig,
    args: { adminToken?: pulumi.Output<string>; dependsOn: pulumi.Resource[] },
    name: string,
    account: string,
    permissions: string[],
    initialPermissions: string[],
): AutomationAccess {
    return new AutomationAccess(name, {
        apiUrl: apiUrlOf(config),
        adminToken: args.adminToken,
        account,
        permissions,
        initialPermissions,
        rotateAfter: config.api.automation.rotateAfterPercent / 100,
        maxSelfRenewalDays: config.api.automation.maxSelfRenewalDays,
        policy: retryPolicyOf(config),
        dependsOn: args.dependsOn,
    });
}

function authentikObjects(
    config: StackConfig,
    credentials: Credentials,
    authentik: AuthentikRelease,
): { objects: AuthentikObjects; consumerTokens: pulumi.Output<Record<string, string>> } {
    const admin = adminCredential(config);
    const held = admin ? credentials.values[admin] : undefined;
    if (admin && held?.kind !== "value") throw new Error(`the API token (${admin}) must be held by Pulumi`);
    const adminToken = held?.kind === "value" ? held.value : undefined;
    const consumers = consumerAccessFor(config, { adminToken, dependsOn: [authentik.release] });
    const objects = authentikObjectsFor(config, {
        adminToken,
        radiusSharedSecret: credentials.values.radiusSharedSecret,
        dependsOn: [authentik.release],
        consumers,
    });
    const bootstrap = credentials.values.bootstrapToken;
    bootstrapRevocationFor(config, {
        bootstrapToken: bootstrap?.kind === "value" ? bootstrap.value : undefined,
        adminToken,
        after: [objects, ...consumers.made],
    });
    return { objects, consumerTokens: consumers.tokens };
}

function externalSecretsOf(config: StackConfig) {
    return config.onepassword.mode === "external-secrets"
        ? { store: config.onepassword.clusterSecretStore, refreshInterval: config.onepassword.refreshInterval }
        : undefined;
}
