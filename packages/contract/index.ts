/**
 * @authentik-platform/contract: the stack-output contract of the authentik platform stack, for
 * other Pulumi stacks to read through a StackReference. Dependency-light on purpose: types, the
 * version check and `readPlatformOutputs`; `@pulumi/pulumi` is its only (peer) dependency.
 * Fields are only ever added; a breaking change bumps `contractVersion`.
 *
 * ```ts
 * import { readPlatformOutputs } from "@authentik-platform/contract";
 * const platform = readPlatformOutputs(new pulumi.StackReference("org/authentik-platform/homelab"));
 * const dbHost = platform.pgbouncer.apply((p) => p.host);     // plain
 * const secret = platform.oidcClientSecrets.apply((s) => s.grafana); // secret
 * ```
 */
import * as pulumi from "@pulumi/pulumi";

export const CONTRACT_VERSION = 1;

export interface ConnectionBudget {
    /** Client connections authentik opens: one per web thread and per worker thread, surge pods included. */
    serverClients: number;
    workerClients: number;
    totalClients: number;
    /** max_client_conn of one PgBouncer pod. */
    maxClientConn: number;
    /** Server connections one PgBouncer pod opens at most (default_pool_size + reserve_pool_size). */
    poolPerPod: number;
    /** PgBouncer pods the clients spread over in the worst allowed case (the PDB's minimum). */
    spreadPods: number;
    /** default_pool_size each of those pods needs so no client waits, with 99.9% confidence (random spread). */
    poolNeededPerPod: number;
    /** The chance, with the configured default_pool_size, that a pod there gets more clients than its pool. */
    overflowRisk: number;
    /** Server connections all PgBouncer pods open at most, surge pod included. */
    serverConnections: number;
    /** What PostgreSQL offers: max_connections − superuser reserve − operator connections. */
    databaseAvailable: number;
}

export interface MemoryBudget {
    serverNeedMiB: number;
    serverLimitMiB: number;
    workerNeedMiB: number;
    workerLimitMiB: number;
}

/** The capacity model the platform's plan checked. */
export interface Capacity {
    connections: ConnectionBudget;
    memory: MemoryBudget;
}

/** One protected app, as exported under `apps.<slug>`. */
export interface AppOutputs {
    mode: string;
    url: string;
    /** Proxy modes: the provider's pk and the outpost serving it. */
    providerId?: string;
    outpost?: string;
    /** OIDC: client id and endpoints (the secret is in oidcClientSecrets). */
    clientId?: string;
    issuer?: string;
    discovery?: string;
}

export interface PlatformOutputs {
    /** Bumped only on a breaking change of this interface. */
    contractVersion: number;
    namespace: string;
    database: {
        /** CNPG Cluster name. */
        cluster: string;
        /** Read-write service FQDN: `<cluster>-rw.<namespace>.svc.cluster.local`. */
        host: string;
        port: number;
        database: string;
        user: string;
        /** Secret (kubernetes.io/basic-auth) with the role's username and password. */
        credentialsSecret: string;
        /** What backs the data up, or "NO BACKUP: …". */
        backup: string;
    };
    pgbouncer: {
        /** `pgbouncer.<namespace>.svc.cluster.local` */
        host: string;
        port: number;
        poolMode: "session" | "transaction";
    };
    authentik: {
        /** Public URL, e.g. https://auth.example.com */
        url: string;
        host: string;
        /** In-cluster URL of the server Service (FQDN). */
        serverService: string;
        releaseName: string;
        chartVersion: string;
    };
    /** The capacity model the plan checked: connection and memory budgets. */
    capacity: Capacity;
    /** Protected apps by slug: mode, URL; proxy modes: providerId, outpost; OIDC: clientId, issuer, discovery. */
    apps: Record<string, AppOutputs>;
    /** OIDC client secrets by app slug (a secret output). */
    oidcClientSecrets: Record<string, string>;
    /** API tokens of the consuming stacks (config `consumers`), by name (a secret output): for ProtectedApp. */
    consumerTokens: Record<string, string>;
    /** The RADIUS endpoint (in-cluster Service of the outpost, a LoadBalancer), or null. */
    radius: { host: string; port: number } | null;
}

/** Every top-level key of the contract, for consumers that validate what they read. */
export const OUTPUT_KEYS: readonly (keyof PlatformOutputs)[] = [
    "contractVersion",
    "namespace",
    "database",
    "pgbouncer",
    "authentik",
    "capacity",
    "apps",
    "oidcClientSecrets",
    "consumerTokens",
    "radius",
];

/** The keys the platform exports as secrets; every other key is plain. */
export const SECRET_OUTPUT_KEYS: readonly (keyof PlatformOutputs)[] = ["oidcClientSecrets", "consumerTokens"];

/** Each output of the platform stack on its own, so a plain one stays plain and a secret one secret. */
export type PlatformOutputRefs = { [K in keyof PlatformOutputs]: pulumi.Output<PlatformOutputs[K]> };

/**
 * Reads the platform's outputs from another stack, each as its own Output (secret exactly when the
 * platform exported it as a secret), each checked against the contract version this code reads.
 */
export function readPlatformOutputs(ref: pulumi.StackReference): PlatformOutputRefs {
    const version = pulumi.all([ref.name, ref.requireOutput("contractVersion")]).apply(([name, v]) => checkContractVersion(name, v));
    const read = <K extends keyof PlatformOutputs>(key: K) =>
        // The version is plain, so combining with it keeps each value's own secretness.
        pulumi.all([version, ref.requireOutput(key)]).apply(([, value]) => value as PlatformOutputs[K]);
    // Each output is required only when read: a consumer depends on the keys it uses, nothing more.
    const refs = {} as PlatformOutputRefs;
    for (const key of OUTPUT_KEYS) {
        let value: pulumi.Output<unknown> | undefined;
        Object.defineProperty(refs, key, { enumerable: true, get: () => (value ??= read(key)) });
    }
    return refs;
}

/** The contract version of stack `name`, if it is the one this code reads. */
export function checkContractVersion(name: string, version: unknown): number {
    if (version !== CONTRACT_VERSION) {
        throw new Error(`stack ${name} exports contract version ${version}, this code reads version ${CONTRACT_VERSION}`);
    }
    return version;
}

/** The outputs of stack `name`, typed, if they are of the contract version this code reads. */
export function checkContract(name: string, outputs: Record<string, unknown>): PlatformOutputs {
    checkContractVersion(name, outputs.contractVersion);
    return outputs as unknown as PlatformOutputs;
}
