/** Where each credential comes from, and 1Password as a source. */
import { bool, obj, oneOf, optional, str } from "./schema";
import { credential, dnsName } from "./fields";

export const credentialFields = {
    onepassword: obj(
        {
            mode: oneOf(["none", "provider", "external-secrets"] as const, {
                doc: "none; provider (@1password/pulumi-onepassword reads items, Pulumi writes Kubernetes Secrets); external-secrets (ExternalSecret objects: values never pass through Pulumi state).",
                default: "none",
            }),
            vault: optional(str({ doc: "Vault UUID (provider mode)." })),
            clusterSecretStore: dnsName("ClusterSecretStore name (external-secrets mode).", "onepassword-connect"),
            refreshInterval: str({ doc: "ExternalSecret refresh interval.", default: "1h" }),
            writeBack: bool({
                doc: "Provider mode: also write Pulumi-generated credentials to 1Password items so operators can find them.",
                default: false,
            }),
        },
        { doc: "1Password as the source of credentials." },
    ),
    credentials: obj(
        {
            databasePassword: credential("Password of the authentik database role.", "generate"),
            secretKey: credential("authentik's secret key (signs sessions and tokens; never rotate casually).", "generate"),
            bootstrapToken: credential("authentik bootstrap API token (read on first start only).", "generate"),
            bootstrapPassword: credential("akadmin bootstrap password (read on first start only).", "generate"),
            smtpPassword: credential("SMTP password; required when authentik.email is enabled."),
            radiusSharedSecret: credential("RADIUS shared secret (used when outposts.radius is set).", "generate"),
            importSourcePassword: credential("Password of database.bootstrap.source.user (used when database.bootstrap.mode is import)."),
            apiToken: credential('authentik API token when api.token is "apiToken" (e.g. migrating an instance whose bootstrap token is gone).'),
        },
        { doc: "Where each credential comes from." },
    ),
};
