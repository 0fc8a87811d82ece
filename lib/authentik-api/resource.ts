/**
 * authentik objects as Pulumi resources: `pulumi-nodejs:dynamic/authentik:<Kind>` (so plans and
 * policies can tell the kinds apart), all served by the one generic provider.
 */
import * as pulumi from "@pulumi/pulumi";
import { kinds } from "./kinds";
import { ENGINE_VERSION, authentikProvider } from "./provider";
import type { RetryPolicy } from "./retry";

export type KindName = keyof typeof kinds;

export interface AuthentikConnection {
    url: pulumi.Input<string>;
    /** The API token; kept secret in inputs and state. */
    token: pulumi.Input<string>;
    /** How calls to authentik's API are timed out and retried. */
    policy: RetryPolicy;
}

export interface AuthentikObjectArgs {
    /** Where and as whom the engine reaches authentik's API (URL, token). */
    connection: AuthentikConnection;
    /** Kind-specific desired state (see kinds.ts); flows, mappings and certificates by slug/name. */
    spec: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
    /** Take over an existing object with the same natural key (migration). */
    adopt?: boolean;
    /**
     * The role that owns the object (a scoped token's), and the admin credential that hands it an
     * object its token did not create (adopted or authentik's own); `sharedWith` roles (consuming
     * stacks') get change on it (an outpost their apps attach to). Unset for a superuser token.
     */
    grant?: { role?: string; adminToken?: pulumi.Input<string>; sharedWith?: string[] };
}

export class AuthentikObject extends pulumi.dynamic.Resource {
    /** authentik's primary key. */
    declare readonly pk: pulumi.Output<string>;
    /** Applications: their uuid (what bindings target). */
    declare readonly uuid: pulumi.Output<string | undefined>;
    /** OAuth2 providers: the client id. */
    declare readonly clientId: pulumi.Output<string | undefined>;

    constructor(kind: KindName, name: string, args: AuthentikObjectArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            authentikProvider,
            name,
            {
                kind,
                apiUrl: args.connection.url,
                apiToken: pulumi.secret(args.connection.token),
                policy: args.connection.policy,
                spec: args.spec,
                adopt: args.adopt ?? false,
                engineVersion: ENGINE_VERSION,
                ...(args.grant
                    ? {
                          ...(args.grant.role ? { grantTo: args.grant.role } : {}),
                          adminToken: pulumi.secret(args.grant.adminToken ?? ""),
                          ...(args.grant.sharedWith?.length ? { sharedWith: args.grant.sharedWith } : {}),
                      }
                    : {}),
                pk: undefined,
                uuid: undefined,
                clientId: undefined,
                applied: undefined,
                appliedDigest: undefined,
                observedDigest: undefined,
            },
            { ...opts, additionalSecretOutputs: ["applied"] },
            "authentik",
            kind,
        );
    }
}
