/**
 * The program's own least-privilege access to authentik: a service account, a role holding
 * exactly the permissions the managed objects need (model.ts), and the account's expiring API
 * token (token.ts), which every other authentik object then uses. The account and role are made
 * with the admin credential and kept in authentik when it is dropped (api.admin: none): from then
 * on only the token is managed, renewing itself.
 */
import * as pulumi from "@pulumi/pulumi";
import { AuthentikObject } from "../../lib/authentik-api/resource";
import type { RetryPolicy } from "../../lib/authentik-api/retry";
import { TOKEN_ENGINE_VERSION, automationTokenProvider } from "./token";
import { BOOTSTRAP_TOKEN_IDENTIFIER, REVOCATION_ENGINE_VERSION, bootstrapRevocationProvider } from "./bootstrap";

export interface AutomationAccessArgs {
    /** Where the program reaches authentik's API. */
    apiUrl: string;
    /** A superuser's API token (secret), or undefined once the stack holds none (api.admin: none). */
    adminToken?: pulumi.Input<string>;
    /** Username of the service account and name of its role. */
    account: string;
    /** The role's global permissions (automationPermissions). */
    permissions: string[];
    /** What the role gets on each object the account creates (automationInitialPermissions): authentik gives a creator nothing by itself. */
    initialPermissions: string[];
    /** Rotate once this fraction of the token's lifetime has passed. Default 0.5. */
    rotateAfter?: number;
    /** Days the token may renew itself after the admin credential last issued one; then the next up needs api.admin. Default 90. */
    maxSelfRenewalDays?: number;
    /** How calls to authentik's API are timed out and retried. */
    policy: RetryPolicy;
    /** Everything here waits for these (the release, hence a ready authentik). */
    dependsOn: pulumi.Resource[];
}

class AutomationToken extends pulumi.dynamic.Resource {
    declare readonly key: pulumi.Output<string>;
    declare readonly expires: pulumi.Output<string | null>;
    declare readonly identifier: pulumi.Output<string>;

    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts: pulumi.CustomResourceOptions) {
        super(
            automationTokenProvider,
            name,
            { ...args, key: undefined, expires: undefined, identifier: undefined },
            { ...opts, additionalSecretOutputs: ["key"] },
            "authentik",
            "AutomationToken",
        );
    }
}

export class AutomationAccess extends pulumi.ComponentResource {
    /** The service account's API token: secret. */
    readonly token: pulumi.Output<string>;
    /** When it expires (ISO 8601), as authentik set it. */
    readonly expires: pulumi.Output<string | null>;

    constructor(name: string, args: AutomationAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:authentik:AutomationAccess", name, {}, opts);
        const after: pulumi.Resource[] = [...args.dependsOn];
        let user: pulumi.Input<string> = "";
        if (args.adminToken !== undefined) {
            const admin = { url: args.apiUrl, token: args.adminToken, policy: args.policy };
            // Retained: dropping the admin credential removes them from the program, not from authentik.
            const keep = { parent: this, dependsOn: args.dependsOn, retainOnDelete: true };
            const account = new AuthentikObject("ServiceAccount", `${name}-account`, { connection: admin, spec: { username: args.account } }, keep);
            const role = new AuthentikObject(
                "Role",
                `${name}-role`,
                {
                    connection: admin,
                    spec: { name: args.account, permissions: args.permissions, initialPermissions: args.initialPermissions, user: account.pk },
                },
                keep,
            );
            user = account.pk;
            after.push(role);
        }
        const token = new AutomationToken(
            `${name}-token`,
            {
                apiUrl: args.apiUrl,
                adminToken: pulumi.secret(args.adminToken ?? ""),
                account: args.account,
                user,
                rotateAfter: args.rotateAfter ?? 0.5,
                maxSelfRenewalMs: (args.maxSelfRenewalDays ?? 90) * 86_400_000,
                policy: args.policy,
                engineVersion: TOKEN_ENGINE_VERSION,
            },
            // Its permissions are granted before anything uses it.
            { parent: this, dependsOn: after },
        );
        this.token = pulumi.secret(token.key);
        this.expires = token.expires;
        this.registerOutputs({ token: this.token, expires: this.expires });
    }
}

export interface BootstrapRevocationArgs {
    /** Where the program reaches authentik's API. */
    apiUrl: string;
    /** The bootstrap token (secret) while the stack holds it (authentik.bootstrapCredentials). */
    bootstrapToken?: pulumi.Input<string>;
    /** A superuser's API token (secret), when api.admin is apiToken. */
    adminToken?: pulumi.Input<string>;
    /** How calls to authentik's API are timed out and retried. */
    policy: RetryPolicy;
    /** Revoked only after these (everything that talks to authentik in this run). */
    dependsOn: pulumi.Resource[];
}

/**
 * Deletes authentik-bootstrap-token in authentik once the program no longer relies on it: with
 * itself while the stack holds it, else with credentials.apiToken. Without either it can only
 * record that it was not revoked, and warns.
 */
export class BootstrapTokenRevocation extends pulumi.dynamic.Resource {
    declare readonly revoked: pulumi.Output<boolean>;

    constructor(name: string, args: BootstrapRevocationArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            bootstrapRevocationProvider,
            name,
            {
                apiUrl: args.apiUrl,
                bootstrapToken: pulumi.secret(args.bootstrapToken ?? ""),
                adminToken: pulumi.secret(args.adminToken ?? ""),
                policy: args.policy,
                engineVersion: REVOCATION_ENGINE_VERSION,
                revoked: undefined,
            },
            { ...opts, dependsOn: args.dependsOn },
            "authentik",
            "BootstrapTokenRevocation",
        );
        this.revoked.apply((revoked) => {
            if (revoked === false) {
                pulumi.log.warn(
                    `${BOOTSTRAP_TOKEN_IDENTIFIER} was not revoked: this stack holds neither it (authentik.bootstrapCredentials: false) nor credentials.apiToken. It is a superuser token that never expires: delete it in authentik (Directory > Tokens and App passwords), or set api.admin: apiToken for one pulumi up`,
                    this,
                );
            }
        });
    }
}
