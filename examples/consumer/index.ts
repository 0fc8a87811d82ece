/**
 * A second stack that depends on the platform: Grafana's generic OAuth settings from the
 * platform's outputs, read through a StackReference with @authentik-platform/contract.
 * Plain values (URLs, the client id) stay plain; the client secret stays a secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { readPlatformOutputs } from "@authentik-platform/contract";

const config = new pulumi.Config();
const platform = readPlatformOutputs(new pulumi.StackReference(config.require("platformStack")));
const app = config.get("app") ?? "grafana";

/** Grafana's [auth.generic_oauth] settings as environment variables (GF_AUTH_GENERIC_OAUTH_*). */
export const grafanaEnv = pulumi.all([platform.apps, platform.authentik]).apply(([apps, authentik]) => {
    const oidc = apps[app];
    if (!oidc?.clientId) throw new Error(`the platform stack has no OIDC app "${app}" (apps: ${Object.keys(apps).join(", ") || "none"})`);
    return {
        GF_AUTH_GENERIC_OAUTH_ENABLED: "true",
        GF_AUTH_GENERIC_OAUTH_NAME: "authentik",
        GF_AUTH_GENERIC_OAUTH_CLIENT_ID: oidc.clientId,
        GF_AUTH_GENERIC_OAUTH_SCOPES: "openid email profile offline_access",
        GF_AUTH_GENERIC_OAUTH_AUTH_URL: `${authentik.url}/application/o/authorize/`,
        GF_AUTH_GENERIC_OAUTH_TOKEN_URL: `${authentik.url}/application/o/token/`,
        GF_AUTH_GENERIC_OAUTH_API_URL: `${authentik.url}/application/o/userinfo/`,
        GF_AUTH_SIGNOUT_REDIRECT_URL: `${oidc.issuer}end-session/`,
        GF_AUTH_GENERIC_OAUTH_USE_PKCE: "true",
    };
});

/** The client secret, for a Kubernetes Secret of the Grafana release: secret end to end. */
export const grafanaClientSecret = platform.oidcClientSecrets.apply((secrets) => {
    const secret = secrets[app];
    if (!secret) throw new Error(`the platform stack has no client secret for "${app}" (is it a public client?)`);
    return secret;
});

/** Where Grafana's own database could live: the platform's PgBouncer (plain). */
export const pgbouncerHost = platform.pgbouncer.apply((p) => `${p.host}:${p.port}`);
