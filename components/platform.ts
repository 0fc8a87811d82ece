/**
 * The whole platform as one dependency graph: namespace → credentials → database → PgBouncer.
 * Later layers (the authentik release, its API objects) hang off the same graph.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { StackConfig } from "../stacks/config";
import type { LoadedConfig } from "../stacks/load";
import { CONTRACT_VERSION, PlatformOutputs } from "../stacks/outputs";
import { Credentials } from "./secrets";
import { CnpgOperator, Database } from "./database";
import { backupSummary, readWriteHost } from "./database/manifests";
import { PgBouncer } from "./pgbouncer";
import { appLabels } from "./lib/k8s";

/** authentik's pods carry these labels (the chart's); the PgBouncer NetworkPolicy lets them in. */
export const AUTHENTIK_POD_SELECTOR = { "app.kubernetes.io/name": "authentik" };

type Outputs = { [K in keyof PlatformOutputs]: pulumi.Input<PlatformOutputs[K]> };

export function createPlatform({ config, configValues }: LoadedConfig): Outputs {
    const ns = config.namespace;
    const externalSecrets = externalSecretsOf(config);
    const prerequisites: pulumi.Resource[] = [];

    if (config.createNamespace) {
        // Deleting a namespace deletes the database in it: never by accident.
        prerequisites.push(
            new k8s.core.v1.Namespace(
                "namespace",
                { metadata: { name: ns, labels: appLabels("authentik-platform", "namespace").all } },
                { protect: true, retainOnDelete: true },
            ),
        );
    }
    if (config.cnpgOperator.install) {
        prerequisites.push(
            new CnpgOperator("cnpg-operator", {
                namespace: config.cnpgOperator.namespace,
                chartVersion: config.cnpgOperator.chartVersion,
            }).release,
        );
    }

    const credentials = new Credentials("credentials", {
        sources: config.credentials,
        onepassword: config.onepassword,
        configValues,
    });
    const databasePassword = credentials.values.databasePassword!;

    const database = new Database("authentik-db", {
        namespace: ns,
        config: config.database,
        password: databasePassword,
        externalSecrets,
        dependsOn: prerequisites,
    });

    const pgbouncer = new PgBouncer("pgbouncer", {
        namespace: ns,
        config: config.pgbouncer,
        database: { host: readWriteHost(config.database.name, ns), port: database.port, name: database.database, cluster: config.database.name },
        password: databasePassword,
        externalSecrets,
        clientSelector: AUTHENTIK_POD_SELECTOR,
        dependsOn: [database.cluster, database.credentials.resource],
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
    };
}

function externalSecretsOf(config: StackConfig) {
    return config.onepassword.mode === "external-secrets"
        ? { store: config.onepassword.clusterSecretStore, refreshInterval: config.onepassword.refreshInterval }
        : undefined;
}
