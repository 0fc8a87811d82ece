/**
 * The stack-output contract: what this stack exports for other stacks to read through a
 * StackReference. Fields are only ever added; a breaking change bumps `contractVersion`.
 *
 * ```ts
 * const platform = readPlatformOutputs(new pulumi.StackReference("org/authentik-platform/homelab"));
 * const dbHost = platform.apply((p) => p.pgbouncer.host);
 * ```
 */
import * as pulumi from "@pulumi/pulumi";
import type { Capacity } from "../components/authentik/capacity";
import type { AppOutputs } from "../components/authentik-objects";

export const CONTRACT_VERSION = 1;

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
    /** The RADIUS endpoint (in-cluster Service of the outpost, a LoadBalancer), or null. */
    radius: { host: string; port: number } | null;
}

/** Every top-level key of the contract, for consumers that validate what they read. */
export const OUTPUT_KEYS: readonly (keyof PlatformOutputs)[] = ["contractVersion", "namespace", "database", "pgbouncer", "authentik", "capacity", "apps", "oidcClientSecrets", "radius"];

/** Reads this stack's outputs from another stack, checking the contract version. */
export function readPlatformOutputs(ref: pulumi.StackReference): pulumi.Output<PlatformOutputs> {
    return pulumi
        .all([ref.name, pulumi.all(OUTPUT_KEYS.map((k) => ref.requireOutput(k)))])
        .apply(([name, values]) => checkContract(name, Object.fromEntries(OUTPUT_KEYS.map((k, i) => [k, values[i]]))));
}

/** The outputs of stack `name`, typed, if they are of the contract version this code reads. */
export function checkContract(name: string, outputs: Record<string, unknown>): PlatformOutputs {
    if (outputs.contractVersion !== CONTRACT_VERSION) {
        throw new Error(`stack ${name} exports contract version ${outputs.contractVersion}, this code reads version ${CONTRACT_VERSION}`);
    }
    return outputs as unknown as PlatformOutputs;
}
