/**
 * The stack configuration: one typed object, parsed and validated once at the edge.
 * `parseStackConfig` is pure: it takes Pulumi's flat config map (`project:key` → string) and the
 * names of the keys that are secret, and returns the typed config or throws a ConfigError that
 * lists every problem with its key, its value and the fix. Secret values never enter this object:
 * it only records that they exist; components read them as `pulumi.secret` Outputs.
 */
import { parsePgMemory, parseQuantity, quantityHint, formatBytes } from "../components/lib/units";
import { capacityProblems } from "../components/authentik/capacity";
import { IMPORTABLE_KINDS, IMPORT_ENTRY } from "../components/lib/imports";
import { IMAGE_DIGEST, isPinnedImage } from "../components/lib/images";
import { KubernetesTarget, checkOnePasswordProvider, parseKubernetes } from "./providers";
import {
    ConfigError,
    IssueLog,
    Infer,
    Spec,
    bool,
    custom,
    int,

    obj,
    oneOf,
    list,
    optional,
    record,
    str,
} from "./schema";

export const PROJECT = "authentik-platform";

// ---------------------------------------------------------------------------------------------
// Field helpers
// ---------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsName = (doc: string, def?: string) =>
    str({ doc, default: def, pattern: DNS_LABEL, patternText: "a DNS label (lower case letters, digits, '-')" });

const quantity = (doc: string, def?: string) =>
    custom<string>("a Kubernetes quantity (e.g. 512Mi, 3Gi, 500m)", { doc, default: def, hint: quantityHint }, (v) =>
        parseQuantity(v) === undefined ? undefined : (v as string),
    );

const image = (doc: string, def: string) =>
    custom<string>("an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)", { doc, default: def }, (v) =>
        typeof v === "string" && isPinnedImage(v) ? v : undefined,
    );

const resources = (doc: string, def: { cpuRequest: string; memoryRequest: string; memoryLimit: string }) =>
    obj(
        {
            cpuRequest: quantity("CPU request.", def.cpuRequest),
            memoryRequest: quantity("Memory request.", def.memoryRequest),
            memoryLimit: quantity("Memory limit (the container is OOM-killed above it).", def.memoryLimit),
        },
        { doc },
    );
export type Resources = Infer<ReturnType<typeof resources>>;

// ---------------------------------------------------------------------------------------------
// Credentials: where each secret comes from
// ---------------------------------------------------------------------------------------------

/** Where a credential's value comes from. */
export type CredentialSource =
    | { kind: "generate" }
    | { kind: "config" }
    | { kind: "onepassword"; item: string; field: string };

const CREDENTIAL_TYPE =
    '"generate" (random, kept in Pulumi state as a secret), "config" (the secure stack key of the same name), or {onepassword: {item, field}}';

function credential(doc: string, def?: "generate"): Spec<CredentialSource | undefined> {
    return {
        type: CREDENTIAL_TYPE,
        doc,
        required: false,
        defaultText: def ? JSON.stringify(def) : "unset",
        parse(value, key, log) {
            if (value === undefined || value === null) return def ? { kind: def } : undefined;
            if (value === "generate" || value === "config") return { kind: value };
            if (typeof value === "object" && !Array.isArray(value)) {
                const op = (value as Record<string, unknown>).onepassword as Record<string, unknown> | undefined;
                const extra = Object.keys(value).filter((k) => k !== "onepassword");
                if (op && typeof op === "object" && extra.length === 0) {
                    const item = op.item;
                    const field = op.field;
                    const unknown = Object.keys(op).filter((k) => k !== "item" && k !== "field");
                    if (typeof item === "string" && item && typeof field === "string" && field && unknown.length === 0) {
                        return { kind: "onepassword", item, field };
                    }
                }
            }
            // A string here may be the password itself, put in the wrong place: never echo it.
            log.add(key, typeof value === "string" ? "[redacted]" : value, "is not a credential source", `use ${CREDENTIAL_TYPE}`);
            return undefined;
        },
    };
}

/** Every credential the platform uses. The same names are the secure stack keys for source "config". */
export const CREDENTIAL_NAMES = [
    "databasePassword",
    "secretKey",
    "bootstrapToken",
    "bootstrapPassword",
    "smtpPassword",
    "radiusSharedSecret",
    "apiToken",
    "importSourcePassword",
] as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

const REDIS_GONE =
    "authentik has no Redis since 2025.10: cache, tasks and sessions live in PostgreSQL (expect more database connections instead)";

export const schema = obj(
    {
        namespace: dnsName("Namespace for the database, PgBouncer and authentik.", "authentik"),
        createNamespace: bool({
            doc: "Create (and protect) the namespace. False when it is managed elsewhere.",
            default: true,
        }),
        podSecurity: oneOf(["restricted", "baseline", "privileged"] as const, {
            doc: "Pod Security Standard the namespace enforces (pod-security.kubernetes.io/enforce, when the program creates it). Every pod here meets restricted, managed outposts through their patches.",
            default: "restricted",
        }),
        import: list(
            str({
                doc: "an object",
                pattern: IMPORT_ENTRY,
                patternText: `<Kind>/<namespace>/<name> (or Namespace/<name>), Kind one of ${IMPORTABLE_KINDS.join(", ")}`,
            }),
            {
                doc: "Kubernetes objects that already exist (made by the Terraform stack) and are taken over by the first `pulumi up` instead of created: each gets Pulumi's import option. Names must be the ones this program gives them; the plan shows each as `import`.",
            },
        ),
        cnpgOperator: obj(
            {
                install: bool({
                    doc: "Install the CloudNativePG operator from its Helm chart. False when the cluster already runs it (the usual case).",
                    default: false,
                }),
                chartVersion: str({ doc: "cloudnative-pg chart version (pinned).", default: "0.26.1" }),
                namespace: dnsName("Namespace for the operator.", "cnpg-system"),
            },
            { doc: "The CloudNativePG operator (a prerequisite for the database)." },
        ),
        database: obj(
            {
                name: dnsName(
                    "CNPG Cluster name. Immutable after the first `pulumi up`: a new name is a new, empty database.",
                    "authentik-db",
                ),
                instances: int({ doc: "PostgreSQL instances (1 primary + replicas).", default: 3, min: 1, max: 9 }),
                imageName: image(
                    "PostgreSQL image. Changing the major version needs a planned major upgrade.",
                    "ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie",
                ),
                storage: obj(
                    {
                        size: quantity("Volume size per instance. It can grow, never shrink.", "20Gi"),
                        storageClass: optional(str({ doc: "StorageClass; unset for the cluster default." })),
                    },
                    { doc: "Data volumes." },
                ),
                resources: resources("Resources of each PostgreSQL pod.", {
                    cpuRequest: "500m",
                    memoryRequest: "3Gi",
                    memoryLimit: "3Gi",
                }),
                maxConnections: int({ doc: "PostgreSQL max_connections.", default: 200, min: 20, max: 10000 }),
                superuserReservedConnections: int({
                    doc: "PostgreSQL superuser_reserved_connections (kept free for the operator and replication).",
                    default: 3,
                    min: 0,
                    max: 100,
                }),
                sharedBuffers: custom<string>(
                    "a PostgreSQL size with unit (e.g. 768MB, 1GB)",
                    { doc: "PostgreSQL shared_buffers; must fit well inside the memory limit.", default: "768MB" },
                    (v) => (parsePgMemory(v) === undefined ? undefined : (v as string)),
                ),
                pgStatStatements: bool({
                    doc: "Enable pg_stat_statements (CNPG preloads the library when its parameters are set).",
                    default: true,
                }),
                parameters: record(str({ doc: "value" }), {
                    doc: "Extra PostgreSQL parameters (strings), merged over the computed ones.",
                }),
                antiAffinity: oneOf(["required", "preferred"] as const, {
                    doc: "Keep instances on different hosts: required (never co-locate) or preferred.",
                    default: "required",
                }),
                podMonitor: bool({ doc: "Create a PodMonitor for the CNPG metrics exporter.", default: true }),
                backup: optional(
                    obj(
                        {
                            method: oneOf(["objectStore", "volumeSnapshot"] as const, {
                                doc: "Backup target: an S3-compatible object store (barman) or CSI volume snapshots.",
                            }),
                            schedule: str({
                                doc: "ScheduledBackup cron (six fields, seconds first).",
                                default: "0 0 3 * * *",
                            }),
                            retention: str({
                                doc: "Retention policy, e.g. 30d.",
                                default: "30d",
                                pattern: /^[1-9][0-9]*[dwm]$/,
                                patternText: "a retention like 30d, 4w or 3m",
                            }),
                            objectStore: optional(
                                obj(
                                    {
                                        destinationPath: str({ doc: "e.g. s3://bucket/authentik" }),
                                        endpointURL: optional(str({ doc: "S3 endpoint for non-AWS stores." })),
                                        credentialsSecret: dnsName("Secret holding the S3 keys."),
                                        accessKeyIdKey: str({ doc: "Key of the access key id.", default: "ACCESS_KEY_ID" }),
                                        secretAccessKeyKey: str({
                                            doc: "Key of the secret access key.",
                                            default: "ACCESS_SECRET_KEY",
                                        }),
                                        endpointCA: optional(
                                            obj(
                                                {
                                                    secret: dnsName("Secret holding the CA bundle."),
                                                    key: str({ doc: "Key of the CA bundle in it.", default: "ca.crt" }),
                                                },
                                                { doc: "CA that signed the object store's certificate (a self-signed MinIO, say)." },
                                            ),
                                        ),
                                        encryption: oneOf(["AES256", "aws:kms", "none"] as const, {
                                            doc: "Server-side encryption of base backups and WAL: the backups hold signing keys and password hashes. none leaves it to the bucket's policy (the plan says so).",
                                            default: "AES256",
                                        }),
                                    },
                                    { doc: "Object store settings (method objectStore)." },
                                ),
                            ),
                            volumeSnapshotClass: optional(
                                str({ doc: "VolumeSnapshotClass (method volumeSnapshot)." }),
                            ),
                            beforeUpgrade: bool({
                                doc: "Take an on-demand Backup (named after the chart version) before the authentik release is installed or upgraded; the release waits for it to complete.",
                                default: true,
                            }),
                        },
                        { doc: "Backups. Unset means NO backup: the plan says so." },
                    ),
                ),
                bootstrap: obj(
                    {
                        mode: oneOf(["initdb", "import", "recovery"] as const, {
                            doc: "How a NEW cluster starts (CNPG reads it only when it creates the cluster): initdb (empty), import (copy the authentik database from another PostgreSQL, e.g. the Terraform stack's: CNPG's microservice import), recovery (restore from this stack's object-store backups: disaster recovery).",
                            default: "initdb",
                        }),
                        source: optional(
                            obj(
                                {
                                    host: str({ doc: "Host of the PostgreSQL to import from (in-cluster: the FQDN)." }),
                                    port: int({ doc: "Port.", default: 5432, min: 1, max: 65535 }),
                                    database: str({ doc: "Database to import.", default: "authentik" }),
                                    user: str({ doc: "User that can read it (its password is credential importSourcePassword).", default: "authentik" }),
                                    sslMode: oneOf(["require", "verify-ca", "verify-full", "prefer", "disable"] as const, { doc: "libpq sslmode towards the source.", default: "require" }),
                                },
                                { doc: "The PostgreSQL to import from (mode import)." },
                            ),
                        ),
                        recovery: obj(
                            {
                                serverName: optional(dnsName("The backed-up cluster's name in the object store; default database.name.")),
                                targetTime: optional(str({ doc: "Point in time to recover to (RFC 3339, e.g. 2026-12-01T03:00:00Z); unset for the latest." })),
                            },
                            { doc: "Recovery from database.backup's object store (mode recovery)." },
                        ),
                    },
                    { doc: "How the cluster is first populated: empty, imported from the old database, or recovered from backups." },
                ),
            },
            { doc: "authentik's PostgreSQL cluster (CloudNativePG)." },
        ),
        pgbouncer: obj(
            {
                image: image("PgBouncer image.", "edoburu/pgbouncer:v1.24.1-p1"),
                replicas: int({ doc: "PgBouncer pods.", default: 3, min: 1, max: 20 }),
                minAvailable: int({
                    doc: "PodDisruptionBudget minAvailable; must be below replicas so a node can drain.",
                    default: 2,
                    min: 0,
                }),
                poolMode: oneOf(["session", "transaction"] as const, {
                    doc: "session (authentik's persistent connections need it) or transaction (only with authentik.database.usePgbouncer).",
                    default: "session",
                }),
                maxClientConn: int({ doc: "max_client_conn per PgBouncer pod.", default: 400, min: 1 }),
                defaultPoolSize: int({
                    doc: "default_pool_size: server connections per pod for the authentik database/user, the ones that serve without waiting. 45 holds authentik's default concurrency (64 clients) spread at random over the PDB minimum of 2 pods with a 99.9% chance (the capacity model).",
                    default: 45,
                    min: 1,
                }),
                reservePoolSize: int({ doc: "reserve_pool_size per pod: extra connections for clients that waited reserve_pool_timeout (5 s).", default: 3, min: 0 }),
                serverIdleTimeout: int({ doc: "server_idle_timeout (seconds): closes server connections no client holds.", default: 600, min: 1 }),
                serverTls: oneOf(["verify-full", "require"] as const, {
                    doc: "server_tls_sslmode towards PostgreSQL: verify-full checks the server's certificate against CNPG's CA (<cluster>-ca, only ca.crt mounted) and host name; require only encrypts. A renewed CA rolls PgBouncer through stakater Reloader.",
                    default: "verify-full",
                }),
                clientIdleTimeout: int({
                    doc: "client_idle_timeout (seconds): closes client connections idle this long; 0 never. In session pooling this, not server_idle_timeout, is what closes a connection authentik holds.",
                    default: 0,
                    min: 0,
                }),
                resources: resources("Resources of each PgBouncer container.", {
                    cpuRequest: "50m",
                    memoryRequest: "128Mi",
                    memoryLimit: "512Mi",
                }),
            },
            {
                doc: "The PgBouncer pool between authentik and PostgreSQL.",
                retired: { networkPolicy: "moved to networkPolicies.enabled: one switch for the policies of every tier" },
            },
        ),
        networkPolicies: obj(
            {
                enabled: bool({
                    doc: "NetworkPolicies for every tier: PgBouncer (only authentik in; only the database and DNS out), the CNPG instances (PgBouncer, each other, the operator), authentik (the ingress controller and outposts), managed outposts (the ingress controller, RADIUS clients), and every metrics port from the monitoring namespace only.",
                    default: true,
                }),
                ingressNamespace: dnsName("Namespace of the ingress controller (Traefik on k3s: kube-system).", "kube-system"),
                monitoringNamespace: dnsName("Namespace Prometheus scrapes from.", "monitoring"),
                apiClientNamespaces: list(dnsName("A namespace."), {
                    doc: "Namespaces whose pods may call authentik's server directly (a self-hosted CI runner using the in-cluster api.url); through the ingress needs none.",
                }),
            },
            { doc: "Who may reach what, inside the cluster." },
        ),
        observability: obj(
            {
                labels: record(str({ doc: "value" }), {
                    doc: "Labels on every monitor and rule, so your Prometheus selects them (e.g. release: kube-prometheus-stack).",
                }),
                authentikPodMonitor: bool({ doc: "PodMonitor for authentik server and worker metrics (port 9300).", default: true }),
                pgbouncerExporter: obj(
                    {
                        enabled: bool({ doc: "pgbouncer-exporter sidecar and its ServiceMonitor.", default: true }),
                        image: image("Exporter image.", "prometheuscommunity/pgbouncer-exporter:v0.11.0"),
                    },
                    { doc: "PgBouncer metrics." },
                ),
                rules: bool({ doc: "PrometheusRule with the platform's alerts and recording rules.", default: true }),
            },
            { doc: "Prometheus Operator objects (ServiceMonitor/PodMonitor/PrometheusRule)." },
        ),
        api: obj(
            {
                url: optional(str({ doc: "Where the program reaches authentik's API; default the authentik URL (https://<authentik.host>).", pattern: /^https?:\/\/[^\s/]+\/?$/, patternText: "a base URL such as https://auth.example.com" })),
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
                    },
                    { doc: "The scoped automation account (api.token: scoped)." },
                ),
                readyTimeoutSeconds: int({ doc: "How long API operations wait for /-/health/ready/ (bounded exponential backoff).", default: 600, min: 10, max: 3600 }),
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
                    name: str({ doc: "Group name (unique)." }),
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
                    name: str({ doc: "Application (and provider) name; provider names are unique across all provider kinds." }),
                    slug: dnsName("Application slug."),
                    mode: oneOf(["forward_single", "forward_domain", "proxy", "oidc"] as const, { doc: "How the app is protected." }),
                    host: str({ doc: "External host (for forward_domain: the authentik host used as auth URL).", pattern: /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, patternText: "a fully qualified host name" }),
                    upstream: optional(str({ doc: "Internal URL (mode proxy), e.g. http://wiki.wiki.svc.cluster.local:8080.", pattern: /^https?:\/\/\S+$/, patternText: "an http(s) URL" })),
                    cookieDomain: optional(str({ doc: "Cookie domain (mode forward_domain), e.g. example.com." })),
                    groups: list(str({ doc: "group" }), { doc: "Groups allowed in (bindings); empty means every user." }),
                    outpost: oneOf(["embedded", "proxy"] as const, { doc: "Outpost serving a proxy-mode app: the embedded one or the dedicated proxy outpost.", default: "embedded" }),
                    redirectUris: list(str({ doc: "uri" }), { doc: "OIDC redirect URIs (strict match; prefix with regex: for a regex)." }),
                    clientId: optional(str({ doc: "OIDC client id; default the slug." })),
                    clientType: oneOf(["confidential", "public"] as const, { doc: "OIDC client type.", default: "confidential" }),
                    scopes: list(str({ doc: "scope" }), { doc: "OIDC scopes (managed scope mappings).", default: ["openid", "email", "profile"] }),
                    launchUrl: optional(str({ doc: "Launch URL in the user's library; default https://<host>/." })),
                    icon: optional(str({ doc: "Icon URL." })),
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
                        name: str({ doc: "Outpost name (its Deployment is ak-outpost-<name>).", default: "homelab-proxy" }),
                        replicas: int({ doc: "Replicas.", default: 2, min: 1, max: 10 }),
                        adopt: bool({ doc: "Take over an existing outpost of this name (migration); providers already on it stay attached.", default: false }),
                    },
                    { doc: "Dedicated proxy outpost on the local Kubernetes service connection." },
                ),
                radius: optional(
                    obj(
                        {
                            name: str({ doc: "Outpost, provider and application name.", default: "radius" }),
                            clientNetworks: list(str({ doc: "CIDR" }), { doc: "Networks allowed to send RADIUS requests (your NAS/APs)." }),
                            groups: list(str({ doc: "group" }), { doc: "Groups allowed to authenticate over RADIUS." }),
                            authenticationFlow: str({ doc: "Flow users authenticate with.", default: "default-authentication-flow" }),
                            replicas: int({ doc: "Replicas (two, so a node drain never stops RADIUS).", default: 2, min: 1, max: 10 }),
                            adopt: bool({ doc: "Take over an existing RADIUS provider, application, bindings and outpost of this name (migration).", default: false }),
                        },
                        { doc: "A RADIUS provider and outpost (LoadBalancer service); its shared secret is credential radiusSharedSecret." },
                    ),
                ),
            },
            { doc: "Outposts." },
        ),
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
        authentik: obj(
            {
                chartVersion: str({
                    doc: "authentik Helm chart version (https://charts.goauthentik.io), pinned. Upgrade one minor at a time, after a database backup.",
                    default: "2026.8.0",
                    pattern: /^\d+\.\d+\.\d+$/,
                    patternText: "an exact chart version such as 2026.8.0",
                }),
                releaseName: dnsName("Helm release name (also the chart's app.kubernetes.io/instance label).", "authentik"),
                host: str({
                    doc: "Public host name of authentik, e.g. auth.example.com.",
                    pattern: /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/,
                    patternText: "a fully qualified host name such as auth.example.com",
                }),
                imageTag: optional(
                    str({
                        doc: "authentik image tag; unset uses the chart's appVersion (pinned by chartVersion).",
                        pattern: /^v?\d+\.\d+[A-Za-z0-9_.-]*$/,
                        patternText: "an exact release tag such as 2026.8.3 (never latest or a bare major)",
                    }),
                ),
                imageDigest: optional(
                    str({
                        doc: "authentik image digest (sha256:…), applied to server, worker and managed outposts (the chart's global.image.digest): the exact image, whatever a registry does with tags.",
                        pattern: IMAGE_DIGEST,
                        patternText: "sha256: and 64 hex digits (crane digest ghcr.io/goauthentik/server:<version>)",
                    }),
                ),
                logLevel: oneOf(["debug", "info", "warning", "error"] as const, { doc: "authentik log_level.", default: "info" }),
                bootstrapEmail: optional(str({ doc: "akadmin's email on first start (AUTHENTIK_BOOTSTRAP_EMAIL)." })),
                bootstrapCredentials: bool({
                    doc: "Generate the bootstrap token and password and hand them to the pods (authentik reads them on first start). false after the first install with api.token scoped and api.admin none: neither is kept in state, in a Secret or in the pods (revoke authentik-bootstrap-token in authentik too: it does not expire).",
                    default: true,
                }),
                server: obj(
                    {
                        replicas: int({ doc: "Server pods.", default: 3, min: 1, max: 20 }),
                        minAvailable: int({ doc: "Server PodDisruptionBudget minAvailable (below replicas).", default: 2, min: 0 }),
                        resources: resources("Server container resources (web workers preload ~500Mi each).", {
                            cpuRequest: "200m",
                            memoryRequest: "1536Mi",
                            memoryLimit: "2Gi",
                        }),
                    },
                    { doc: "authentik server pods." },
                ),
                worker: obj(
                    {
                        replicas: int({ doc: "Worker pods.", default: 3, min: 1, max: 20 }),
                        maxUnavailable: int({ doc: "Worker PodDisruptionBudget maxUnavailable (below replicas).", default: 1, min: 1 }),
                        processes: int({ doc: "authentik worker.processes per pod.", default: 1, min: 1, max: 16 }),
                        threads: int({ doc: "authentik worker.threads per process.", default: 4, min: 1, max: 64 }),
                        resources: resources("Worker container resources.", {
                            cpuRequest: "100m",
                            memoryRequest: "1Gi",
                            memoryLimit: "2Gi",
                        }),
                    },
                    {
                        doc: "authentik worker pods and their task concurrency.",
                        retired: { concurrency: "worker.concurrency was renamed to worker.threads in authentik 2025.8" },
                    },
                ),
                web: obj(
                    {
                        workers: int({ doc: "authentik web.workers (processes per server pod).", default: 3, min: 1, max: 16 }),
                        threads: int({ doc: "authentik web.threads per web worker.", default: 4, min: 1, max: 64 }),
                    },
                    { doc: "authentik's web server concurrency." },
                ),
                cache: obj(
                    {
                        timeoutFlows: int({ doc: "cache.timeout_flows seconds.", default: 1800, min: 0 }),
                        timeoutPolicies: int({ doc: "cache.timeout_policies seconds.", default: 900, min: 0 }),
                    },
                    { doc: "authentik's cache (in PostgreSQL since 2025.10)." },
                ),
                unauthenticatedSessionAge: str({
                    doc: "sessions.unauthenticated_age (authentik timedelta syntax).",
                    default: "hours=2",
                    pattern: /^(\w+=\d+;?)+$/,
                    patternText: "an authentik timedelta such as hours=2 or days=1;hours=2",
                }),
                startupProbeSeconds: int({
                    doc: "How long a pod may take to start (first-boot migrations on a homelab take minutes).",
                    default: 300,
                    min: 60,
                    max: 3600,
                }),
                email: optional(
                    obj(
                        {
                            host: str({ doc: "SMTP host." }),
                            port: int({ doc: "SMTP port.", default: 587, min: 1, max: 65535 }),
                            username: str({ doc: "SMTP user name." }),
                            from: str({ doc: "Sender address, e.g. authentik@example.com." }),
                            useTls: bool({ doc: "STARTTLS.", default: true }),
                            useSsl: bool({ doc: "Implicit TLS.", default: false }),
                            timeout: int({ doc: "Seconds.", default: 30, min: 1 }),
                        },
                        { doc: "Outgoing email; the password is credential smtpPassword." },
                    ),
                ),
                media: optional(
                    obj(
                        {
                            size: quantity("Volume size.", "5Gi"),
                            accessMode: oneOf(["ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"] as const, {
                                doc: "Must be ReadWriteMany: server and worker pods on different nodes mount it.",
                                default: "ReadWriteMany",
                            }),
                            storageClass: optional(str({ doc: "StorageClass with ReadWriteMany support (e.g. NFS, CephFS, Longhorn RWX)." })),
                        },
                        { doc: "Persistent file storage (storage.file.path /data) shared by server and worker." },
                    ),
                ),
                ingress: obj(
                    {
                        enabled: bool({ doc: "Ingress for the authentik host (paths / and /outpost.goauthentik.io).", default: true }),
                        className: optional(str({ doc: "IngressClass." })),
                        tlsSecret: optional(dnsName("TLS Secret name; defaults to <release>-tls when an issuer is set.")),
                        clusterIssuer: optional(str({ doc: "cert-manager ClusterIssuer that issues the certificate." })),
                        annotations: record(str({ doc: "value" }), { doc: "Extra Ingress annotations." }),
                    },
                    { doc: "How users reach authentik." },
                ),
                database: obj(
                    {
                        usePgbouncer: bool({
                            doc: "authentik postgresql.use_pgbouncer (needed for transaction pooling).",
                            default: false,
                        }),
                        disableServerSideCursors: bool({
                            doc: "authentik postgresql.disable_server_side_cursors (needed for transaction pooling).",
                            default: false,
                        }),
                        connMaxAge: int({
                            doc: "postgresql.conn_max_age seconds (persistent connections; session pooling only, below PgBouncer client_idle_timeout when that is set).",
                            default: 60,
                            min: 0,
                        }),
                        connHealthChecks: bool({ doc: "postgresql.conn_health_checks.", default: true }),
                    },
                    { doc: "How authentik talks to PostgreSQL (through PgBouncer)." },
                ),
            },
            { doc: "authentik itself.", retired: { redis: REDIS_GONE } },
        ),
    },
    { doc: "Stack configuration.", retired: { redis: REDIS_GONE } },
);

export type StackConfig = Infer<typeof schema> & {
    /** Credential names whose source is "config" and whose secure key is set. */
    readonly secretConfigKeys: readonly CredentialName[];
    /** Where every Kubernetes object goes (`kubernetes:context`). */
    readonly kubernetes: KubernetesTarget;
};

/** Keys of this project's namespace that hold secrets rather than settings. */
const SECRET_KEYS = new Set<string>(CREDENTIAL_NAMES);

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/** Decodes a config string the way `pulumi.Config.getObject` does for structured values. */
function decode(text: string): unknown {
    const t = text.trim();
    if (t.startsWith("{") || t.startsWith("[") || t === "true" || t === "false" || /^-?\d+(\.\d+)?$/.test(t)) {
        try {
            return JSON.parse(t);
        } catch {
            return text;
        }
    }
    return text;
}

/**
 * Parses and validates the stack configuration.
 * @param raw Pulumi's config map: `project:key` → string (structured values as JSON).
 * @param secretKeys the full keys (`project:key`) whose values are secret (`secure:`).
 */
export function parseStackConfig(raw: Record<string, string>, secretKeys: Iterable<string>, env: Record<string, string | undefined> = {}): StackConfig {
    const log = new IssueLog();
    const secret = new Set(secretKeys);
    const prefix = `${PROJECT}:`;
    const settings: Record<string, unknown> = {};
    const presentSecrets = new Set<string>();
    for (const [fullKey, text] of Object.entries(raw)) {
        if (!fullKey.startsWith(prefix)) continue; // other namespaces belong to providers
        const key = fullKey.slice(prefix.length);
        if (SECRET_KEYS.has(key)) {
            if (!secret.has(fullKey)) {
                log.add(fullKey, "[redacted]", "holds a credential in plain text", `pulumi config set --secret ${key} <value>`);
            }
            presentSecrets.add(key);
            continue;
        }
        if (secret.has(fullKey)) {
            // A setting stored as a secret: never echo it (it may be a credential in the wrong key), never use it.
            log.add(fullKey, "[secret]", "is stored as a secret, but it is a setting, not a credential (settings are plain, credentials go under credentials)", `pulumi config set ${key} <value> (without --secret), or move a credential to its own key`);
            continue;
        }
        settings[key] = decode(text);
    }
    const parsed = schema.parse(settings, prefix, log);
    const config: StackConfig = {
        ...parsed,
        secretConfigKeys: CREDENTIAL_NAMES.filter((n) => presentSecrets.has(n)),
        kubernetes: parseKubernetes(raw, log),
    };
    for (const name of presentSecrets) unreadSecret(config, name as CredentialName, log);
    if (config.onepassword.mode === "provider") checkOnePasswordProvider(raw, env, log);
    // Rules run even when some fields failed, so every problem is reported at once; a rule is not
    // reported for a key that already failed (it would be judging the fallback, not the user's value).
    const failedKeys = new Set(log.issues.map((i) => i.key));
    const rules = new IssueLog();
    validateRules(config, rules);
    log.issues.push(...rules.issues.filter((i) => !failedKeys.has(i.key)));
    if (log.issues.length > 0) throw new ConfigError(log.issues);
    return config;
}

/** A secure key no credential reads (e.g. `bootstrapToken` set while its source is "generate"). */
function unreadSecret(c: StackConfig, name: CredentialName, log: IssueLog): void {
    const source = c.credentials[name];
    if (!credentialsInUse(c).includes(name)) {
        log.add(key(name), "[secret]", `is set, but this stack uses no ${name} (see credentials.${name} in the configuration reference)`, `pulumi config rm ${name}`);
    } else if (source?.kind !== "config") {
        const from = source?.kind === "onepassword" ? "1Password" : (source?.kind ?? "unset");
        log.add(key(name), "[secret]", `is set, but credentials.${name} is ${JSON.stringify(from)}, so nothing reads it`, `set credentials.${name}: config to use this value, or pulumi config rm ${name}`);
    }
}

const key = (path: string) => `${PROJECT}:${path}`;

/** Rules across fields. Each names the key, the value and the fix. */
function validateRules(c: StackConfig, log: IssueLog): void {
    const pg = c.pgbouncer;
    if (pg.minAvailable >= pg.replicas) {
        log.add(
            key("pgbouncer.minAvailable"),
            pg.minAvailable,
            `must be below pgbouncer.replicas (${pg.replicas}), or no PgBouncer pod can ever be evicted and node drains hang`,
            `set pgbouncer.minAvailable to at most ${pg.replicas - 1}, or raise pgbouncer.replicas`,
        );
    }

    for (const [path, r] of [
        ["database.resources", c.database.resources],
        ["pgbouncer.resources", pg.resources],
        ["authentik.server.resources", c.authentik.server.resources],
        ["authentik.worker.resources", c.authentik.worker.resources],
    ] as const) {
        if (parseQuantity(r.memoryRequest)! > parseQuantity(r.memoryLimit)!) {
            log.add(
                key(`${path}.memoryRequest`),
                r.memoryRequest,
                `is above the memory limit ${r.memoryLimit}`,
                `set ${path}.memoryRequest to at most ${r.memoryLimit}`,
            );
        }
    }

    const buffers = parsePgMemory(c.database.sharedBuffers)!;
    const limit = parseQuantity(c.database.resources.memoryLimit)!;
    if (buffers >= limit) {
        log.add(
            key("database.sharedBuffers"),
            c.database.sharedBuffers,
            `is not below the PostgreSQL memory limit ${c.database.resources.memoryLimit}: the instance would be OOM-killed`,
            `set database.sharedBuffers to about 25% of the limit (${formatBytes(Math.floor(limit / 4))}B in PostgreSQL units is ${Math.floor(limit / 4 / 2 ** 20)}MB), or raise database.resources.memoryLimit`,
        );
    }

    if (pg.poolMode === "transaction" && !(c.authentik.database.usePgbouncer || c.authentik.database.disableServerSideCursors)) {
        log.add(
            key("pgbouncer.poolMode"),
            pg.poolMode,
            "transaction pooling breaks authentik's server-side cursors and persistent connections",
            "keep poolMode session, or set authentik.database.usePgbouncer: true (authentik then disables server-side cursors)",
        );
    }

    const backup = c.database.backup;
    if (backup?.method === "objectStore" && !backup.objectStore) {
        log.add(key("database.backup.objectStore"), undefined, "is required for method objectStore", "set destinationPath and credentialsSecret");
    }
    if (backup?.method === "volumeSnapshot" && !backup.volumeSnapshotClass) {
        log.add(
            key("database.backup.volumeSnapshotClass"),
            undefined,
            "is required for method volumeSnapshot",
            "set it to a VolumeSnapshotClass of your CSI driver",
        );
    }

    const boot = c.database.bootstrap;
    if (boot.mode === "import") {
        if (!boot.source) log.add(key("database.bootstrap.source"), undefined, "is required for mode import", "set host (and port, database, user, sslMode) of the PostgreSQL to import from");
        if (!c.credentials.importSourcePassword) {
            log.add(key("credentials.importSourcePassword"), undefined, "is required for database.bootstrap.mode import", 'set it to "config" (pulumi config set --secret importSourcePassword …) or {onepassword: {item, field}}');
        }
    }
    if (boot.mode !== "import" && boot.source) log.add(key("database.bootstrap.source"), boot.source, `is only used by mode import, not ${boot.mode}`, "remove it, or set database.bootstrap.mode: import");
    if (boot.mode === "recovery" && backup?.method !== "objectStore") {
        log.add(
            key("database.bootstrap.mode"),
            "recovery",
            "recovers from the object store of database.backup, and there is none",
            "configure database.backup with method objectStore (the store the old cluster backed up to)",
        );
    }

    validateAuthentik(c, log);
    validateApps(c, log);
    validateCredentials(c, log);
    for (const p of capacityProblems(c)) log.add(key(p.key), p.value, p.problem, p.fix);
}

function validateAuthentik(c: StackConfig, log: IssueLog): void {
    const a = c.authentik;
    if (a.server.minAvailable >= a.server.replicas) {
        log.add(
            key("authentik.server.minAvailable"),
            a.server.minAvailable,
            `must be below authentik.server.replicas (${a.server.replicas}), or node drains hang`,
            `set it to at most ${a.server.replicas - 1}, or raise authentik.server.replicas`,
        );
    }
    if (a.worker.maxUnavailable >= a.worker.replicas) {
        log.add(
            key("authentik.worker.maxUnavailable"),
            a.worker.maxUnavailable,
            `lets every worker (${a.worker.replicas}) be evicted at once: background tasks and outpost syncs stop`,
            a.worker.replicas > 1 ? `set it to at most ${a.worker.replicas - 1}` : "raise authentik.worker.replicas to 2 or more",
        );
    }
    const db = a.database;
    if (c.pgbouncer.poolMode === "transaction" && db.connMaxAge > 0) {
        log.add(
            key("authentik.database.connMaxAge"),
            db.connMaxAge,
            "persistent connections are only safe with session pooling; in transaction pooling each query may land on another server connection",
            "set authentik.database.connMaxAge to 0, or use pgbouncer.poolMode session",
        );
    }
    // In session pooling server_idle_timeout never closes a connection a client holds; an idle client
    // connection is closed by client_idle_timeout, and authentik must drop it first.
    const idle = c.pgbouncer.clientIdleTimeout;
    if (idle > 0 && db.connMaxAge >= idle) {
        log.add(
            key("authentik.database.connMaxAge"),
            db.connMaxAge,
            `must be below PgBouncer's client_idle_timeout (${idle}s), or PgBouncer closes connections authentik still holds and its next query on one fails`,
            `set it below ${idle}, e.g. ${Math.max(1, Math.min(60, idle - 1))}, or raise pgbouncer.clientIdleTimeout (0 disables it)`,
        );
    }
    if (a.media && a.media.accessMode !== "ReadWriteMany") {
        log.add(
            key("authentik.media.accessMode"),
            a.media.accessMode,
            "the media volume is mounted by server and worker pods on different nodes: anything but ReadWriteMany ends in Multi-Attach errors and stuck pods",
            "set it to ReadWriteMany with a StorageClass that supports it (authentik.media.storageClass)",
        );
    }
    if (a.email && !c.credentials.smtpPassword) {
        log.add(
            key("credentials.smtpPassword"),
            undefined,
            "is required when authentik.email is set",
            'set credentials.smtpPassword to "config" (with pulumi config set --secret smtpPassword …) or {onepassword: {item, field}}',
        );
    }
}

function duplicates(values: string[]): string[] {
    return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

function validateApps(c: StackConfig, log: IssueLog): void {
    const consumers = c.consumers.map((x) => x.name);
    for (const d of duplicates(consumers)) log.add(key(`consumers[${consumers.lastIndexOf(d)}].name`), d, "is listed twice", "list each consuming stack once");
    const groups = new Set(c.groups.map((g) => g.name));
    for (const d of duplicates(c.groups.map((g) => g.name))) log.add(key("groups"), d, "names a group twice", "keep one entry per group");
    const radiusName = c.outposts.radius?.name;
    const providerNames = [...c.apps.map((a) => a.name), ...(radiusName ? [radiusName] : [])];
    for (const d of duplicates(providerNames)) {
        log.add(key("apps"), d, "is used by two apps (or an app and the RADIUS provider); provider names are unique across all provider kinds in authentik", "give each app its own name");
    }
    for (const d of duplicates([...c.apps.map((a) => a.slug), ...(radiusName ? [radiusName] : [])])) log.add(key("apps"), d, "is the slug of two applications", "give each app its own slug");
    c.apps.forEach((a, i) => {
        const at = (field: string) => key(`apps[${i}].${field}`);
        if (a.mode === "proxy" && !a.upstream) log.add(at("upstream"), undefined, "is required for mode proxy (authentik forwards to it)", "set it to the app's in-cluster URL, e.g. http://app.ns.svc.cluster.local:8080");
        if (a.mode !== "proxy" && a.upstream) log.add(at("upstream"), a.upstream, `is only used by mode proxy, not ${a.mode}`, "remove it, or use mode proxy");
        if (a.mode === "forward_domain" && !a.cookieDomain) log.add(at("cookieDomain"), undefined, "is required for mode forward_domain", "set it to the parent domain of the protected hosts, e.g. example.com");
        if (a.mode === "forward_domain" && a.cookieDomain && !a.host.endsWith(`.${a.cookieDomain}`)) {
            log.add(at("host"), a.host, `is not inside the cookie domain ${a.cookieDomain}, so the session cookie would not reach it`, `use a host under ${a.cookieDomain}`);
        }
        if (a.mode === "oidc" && a.redirectUris.length === 0) log.add(at("redirectUris"), [], "is required for mode oidc", "list the app's callback URLs, e.g. https://grafana.example.com/login/generic_oauth");
        if (a.mode !== "oidc" && a.redirectUris.length > 0) log.add(at("redirectUris"), a.redirectUris, `is only used by mode oidc, not ${a.mode}`, "remove it");
        if (a.mode !== "oidc" && a.outpost === "proxy" && !c.outposts.proxy.enabled) log.add(at("outpost"), a.outpost, "uses the dedicated proxy outpost, which is not enabled", "set outposts.proxy.enabled: true, or outpost: embedded");
        if (a.renamedFrom.includes(a.slug)) log.add(at("renamedFrom"), a.slug, "lists the app's current slug", "list only slugs the app had before");
        for (const old of a.renamedFrom) {
            if (c.apps.some((other) => other !== a && other.slug === old)) log.add(at("renamedFrom"), old, "is the slug of another app in this stack", "a slug belongs to one app: remove it here, or rename the other app");
        }
        for (const g of a.groups) if (!groups.has(g)) log.add(at("groups"), g, "is not a group of this stack", `add {name: ${g}} to groups, or remove it here`);
    });
    if (c.outposts.proxy.enabled && !c.apps.some((a) => outpostOfApp(a) === "proxy")) {
        log.add(
            key("outposts.proxy.enabled"),
            true,
            "enables the dedicated proxy outpost, but no app is on it (authentik refuses an outpost without providers: \"This list may not be empty.\")",
            "set outposts.proxy.enabled: false (the outpost is then deleted), or give an app outpost: proxy",
        );
    }
    const radius = c.outposts.radius;
    if (radius) {
        if (radius.clientNetworks.length === 0) log.add(key("outposts.radius.clientNetworks"), [], "is empty: no client could reach RADIUS", "list your NAS/access point networks, e.g. 10.0.10.0/24");
        for (const net of radius.clientNetworks) {
            if (net === "0.0.0.0/0" || net === "::/0") log.add(key("outposts.radius.clientNetworks"), net, "lets every network on earth talk to RADIUS (the seeds' mistake)", "list only your NAS/access point networks");
        }
        for (const g of radius.groups) if (!groups.has(g)) log.add(key("outposts.radius.groups"), g, "is not a group of this stack", `add {name: ${g}} to groups`);
    }
    if (usesApi(c) && c.api.url?.startsWith("http://") && !/^http:\/\/[^/:]+\.svc\.cluster\.local(:\d+)?\/?$/.test(c.api.url)) {
        log.add(
            key("api.url"),
            c.api.url,
            "sends authentik's API tokens unencrypted over the network",
            "use https://, or the in-cluster service URL (http://<release>-server.<namespace>.svc.cluster.local) from a runner inside the cluster",
        );
    }
    const admin = adminCredential(c);
    if (!c.authentik.bootstrapCredentials && admin === "bootstrapToken") {
        log.add(
            key("authentik.bootstrapCredentials"),
            false,
            `drops the bootstrap token, which the program still uses (api.token: ${c.api.token}${c.api.token === "scoped" ? `, api.admin: ${c.api.admin}` : ""})`,
            "after one pulumi up with api.token: scoped, set api.admin: none as well (or api.admin: apiToken with credentials.apiToken), or keep bootstrapCredentials: true",
        );
    }
    if (admin) {
        const source = c.credentials[admin];
        const chosenBy = c.api.token === "scoped" ? `api.admin is ${c.api.admin}` : `api.token is ${c.api.token}`;
        if (!source) {
            log.add(key(`credentials.${admin}`), undefined, `is required: ${chosenBy}`, 'set it to "config" or {onepassword: {item, field}}');
        } else if (source.kind === "onepassword" && c.onepassword.mode === "external-secrets") {
            log.add(
                key(`credentials.${admin}`),
                source,
                "is resolved only inside the cluster (external-secrets mode), but the program needs it to call authentik's API",
                'use "generate"/"config" for it, or onepassword.mode: provider',
            );
        }
    }
}

/** The outpost that serves an app's provider: OIDC needs none. */
export function outpostOfApp(app: { mode: string; outpost: "embedded" | "proxy" }): "embedded" | "proxy" | undefined {
    return app.mode === "oidc" ? undefined : app.outpost;
}

/** The credentials this stack actually uses (only these are generated or read). */
export function credentialsInUse(c: StackConfig): CredentialName[] {
    return CREDENTIAL_NAMES.filter((name) => {
        if (name === "smtpPassword") return c.authentik.email !== undefined;
        if (name === "radiusSharedSecret") return c.outposts.radius !== undefined;
        if (name === "importSourcePassword") return c.database.bootstrap.mode === "import";
        if (name === "apiToken") return adminCredential(c) === "apiToken";
        if (name === "bootstrapToken" || name === "bootstrapPassword") return c.authentik.bootstrapCredentials || adminCredential(c) === "bootstrapToken";
        return true;
    });
}

/**
 * The superuser credential the program holds for authentik's API: the one it uses for everything
 * (api.token bootstrap or apiToken), or the one that makes the scoped account (api.admin); none
 * when the stack manages no authentik objects or the scoped account renews its own token.
 */
export function adminCredential(c: StackConfig): "bootstrapToken" | "apiToken" | undefined {
    if (!usesApi(c)) return undefined;
    const source = c.api.token === "scoped" ? c.api.admin : c.api.token;
    return source === "bootstrap" ? "bootstrapToken" : source === "apiToken" ? "apiToken" : undefined;
}

/** Whether the stack manages objects through authentik's API. */
export function usesApi(c: StackConfig): boolean {
    return c.apps.length > 0 || c.groups.length > 0 || c.consumers.length > 0 || c.outposts.radius !== undefined || c.outposts.proxy.enabled;
}

function validateCredentials(c: StackConfig, log: IssueLog): void {
    for (const name of CREDENTIAL_NAMES) {
        const source = c.credentials[name];
        if (!source) continue;
        if (source.kind === "config" && !c.secretConfigKeys.includes(name)) {
            log.add(
                key(name),
                undefined,
                `is missing: credentials.${name} says "config" but the secure key is not set`,
                `pulumi config set --secret ${name} <value>`,
            );
        }
        if (source.kind === "onepassword" && c.onepassword.mode === "none") {
            log.add(
                key(`credentials.${name}`),
                source,
                "comes from 1Password but onepassword.mode is none",
                'set onepassword.mode to "provider" or "external-secrets"',
            );
        }
    }
    if (c.onepassword.mode === "provider" && !c.onepassword.vault) {
        log.add(key("onepassword.vault"), undefined, "is required in provider mode", "set it to the vault's UUID (op vault list)");
    }
    if (c.onepassword.writeBack && c.onepassword.mode !== "provider") {
        log.add(
            key("onepassword.writeBack"),
            true,
            "needs onepassword.mode provider (writing items goes through the 1Password provider)",
            "set onepassword.mode: provider, or writeBack: false",
        );
    }
}

export { ConfigError };
