/** authentik's own objects (groups, apps, outposts), the stacks that add their own, and how the program reaches the API. */
import { bool, int, list, obj, oneOf, optional, str } from "./schema";
import { displayName, dnsName, link, quantity } from "./fields";

export const objectFields = {
    api: obj(
        {
            url: optional(
                str({
                    doc: "Where the program reaches authentik's API; default the authentik URL (https://<authentik.host>).",
                    pattern: /^https?:\/\/[^\s/]+\/?$/,
                    patternText: "a base URL such as https://auth.example.com",
                }),
            ),
            token: oneOf(["scoped", "bootstrap", "apiToken"] as const, {
                doc: "scoped: a service account whose role holds exactly the permissions the managed objects need, with an expiring token that renews itself (made with api.admin); bootstrap: the bootstrap superuser token for everything; apiToken: credentials.apiToken for everything.",
                default: "scoped",
            }),
            admin: oneOf(["bootstrap", "apiToken", "none"] as const, {
                doc: "With token scoped: the superuser credential that creates the service account and its role and issues their first token: the bootstrap token (a new install), credentials.apiToken (an instance without one), or none once they exist: the program then holds no superuser credential and the token renews itself.",
                default: "bootstrap",
            }),
            automation: obj(
                {
                    account: dnsName("Username of the service account, and name of its role.", "authentik-platform-automation"),
                    rotateAfterPercent: int({
                        doc: "Rotate the token once this share of its lifetime has passed (authentik sets the lifetime: System > Settings > Default token duration, one day unless changed). Run pulumi up before the token expires, or keep api.admin set.",
                        default: 50,
                        min: 10,
                        max: 90,
                    }),
                    maxSelfRenewalDays: int({
                        doc: "How long the token may renew itself after the admin credential last issued one (api.admin). After that the next pulumi up needs api.admin set: it issues a new token and deletes every other token of the account, so a stolen token cannot keep itself alive. Applies to consumer tokens too.",
                        default: 90,
                        min: 1,
                        max: 3650,
                    }),
                },
                { doc: "The scoped automation account (api.token: scoped)." },
            ),
            readyTimeoutSeconds: int({
                doc: "How long API operations wait for /-/health/ready/ (bounded exponential backoff).",
                default: 600,
                min: 10,
                max: 3600,
            }),
            requestTimeoutSeconds: int({ doc: "Timeout of one API request.", default: 30, min: 1, max: 300 }),
        },
        { doc: "How the program reaches authentik's API (for groups, apps and outposts)." },
    ),
    consumers: list(
        obj(
            {
                name: dnsName("The consuming stack, e.g. wiki: its service account is authentik-platform-consumer-<name>."),
            },
            { doc: "A stack that protects its own apps with ProtectedApp." },
        ),
        {
            doc: "Stacks that protect their own apps with @authentik-platform/protected-app: each gets a service account whose role holds what ProtectedApp needs, and an expiring token rotated by the platform's up, in the secret output consumerTokens (by name). Made with api.admin.",
        },
    ),
    groups: list(
        obj(
            {
                name: displayName("Group name (unique)."),
                superuser: bool({ doc: "Members are superusers.", default: false }),
                adopt: bool({ doc: "Take over an existing group of this name (migration).", default: false }),
            },
            { doc: "A group." },
        ),
        { doc: "authentik groups managed by this stack; apps grant access to them." },
    ),
    apps: list(
        obj(
            {
                name: displayName("Application (and provider) name; provider names are unique across all provider kinds."),
                slug: dnsName("Application slug."),
                mode: oneOf(["forward_single", "forward_domain", "proxy", "oidc"] as const, { doc: "How the app is protected." }),
                host: str({
                    doc: "External host (for forward_domain: the authentik host used as auth URL).",
                    pattern: /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/,
                    patternText: "a fully qualified host name",
                }),
                upstream: optional(
                    str({
                        doc: "Internal URL (mode proxy), e.g. http://wiki.wiki.svc.cluster.local:8080.",
                        pattern: /^https?:\/\/\S+$/,
                        patternText: "an http(s) URL",
                    }),
                ),
                cookieDomain: optional(str({ doc: "Cookie domain (mode forward_domain), e.g. example.com." })),
                groups: list(str({ doc: "group" }), { doc: "Groups allowed in (bindings); empty means every user." }),
                outpost: oneOf(["embedded", "proxy"] as const, {
                    doc: "Outpost serving a proxy-mode app: the embedded one or the dedicated proxy outpost.",
                    default: "embedded",
                }),
                redirectUris: list(str({ doc: "uri" }), { doc: "OIDC redirect URIs (strict match; prefix with regex: for a regex)." }),
                clientId: optional(str({ doc: "OIDC client id; default the slug." })),
                clientType: oneOf(["confidential", "public"] as const, { doc: "OIDC client type.", default: "confidential" }),
                scopes: list(str({ doc: "scope" }), { doc: "OIDC scopes (managed scope mappings).", default: ["openid", "email", "profile"] }),
                launchUrl: optional(link("Launch URL in the user's library; default https://<host>/.", ["blank://blank"])),
                icon: optional(link("Icon URL, or a Font Awesome icon (fa://fa-…).", ["fa://"])),
                description: optional(str({ doc: "Description." })),
                authorizationFlow: str({ doc: "Authorization flow slug.", default: "default-provider-authorization-implicit-consent" }),
                adopt: bool({ doc: "Take over existing provider/application/bindings of this name and slug (migration from Terraform).", default: false }),
                renamedFrom: list(dnsName("A previous slug."), {
                    doc: "Slugs this app had before (oldest first): its objects are updated in place under the new slug instead of colliding with the old ones. Keep an entry until an up with it has run.",
                }),
            },
            { doc: "A protected app." },
        ),
        { doc: "Protected apps: each becomes a provider, an application, group bindings and an outpost membership." },
    ),
    outposts: obj(
        {
            namespace: dnsName(
                "Namespace of the outposts authentik deploys (proxy, RADIUS): apart from the database credentials and keys in authentik's, with the worker allowed to deploy only there. Set it to the namespace setting to keep them together (the chart's wider Role). Moving it leaves the old ak-outpost-* objects behind: delete them.",
                "authentik-outposts",
            ),
            shmSizeLimit: quantity("Size of the memory-backed /dev/shm of outposts and authentik server pods (the seeds' ENOSPC fix).", "64Mi"),
            proxy: obj(
                {
                    enabled: bool({ doc: "A dedicated proxy outpost for apps with outpost: proxy.", default: false }),
                    name: displayName("Outpost name (its Deployment is ak-outpost-<name>).", "homelab-proxy"),
                    replicas: int({ doc: "Replicas.", default: 2, min: 1, max: 10 }),
                    adopt: bool({ doc: "Take over an existing outpost of this name (migration); providers already on it stay attached.", default: false }),
                },
                { doc: "Dedicated proxy outpost on the local Kubernetes service connection." },
            ),
            radius: optional(
                obj(
                    {
                        name: displayName("Outpost, provider and application name.", "radius"),
                        clientNetworks: list(str({ doc: "CIDR" }), { doc: "Networks allowed to send RADIUS requests (your NAS/APs)." }),
                        groups: list(str({ doc: "group" }), { doc: "Groups allowed to authenticate over RADIUS." }),
                        authenticationFlow: str({ doc: "Flow users authenticate with.", default: "default-authentication-flow" }),
                        replicas: int({ doc: "Replicas (two, so a node drain never stops RADIUS).", default: 2, min: 1, max: 10 }),
                        adopt: bool({
                            doc: "Take over an existing RADIUS provider, application, bindings and outpost of this name (migration).",
                            default: false,
                        }),
                    },
                    { doc: "A RADIUS provider and outpost (LoadBalancer service); its shared secret is credential radiusSharedSecret." },
                ),
            ),
        },
        { doc: "Outposts." },
    ),
};
