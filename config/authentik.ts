/** authentik itself: the chart, its pods, concurrency, email, media, ingress and database settings. */
import { IMAGE_DIGEST } from "../lib/images";
import { bool, int, obj, oneOf, optional, record, str } from "./schema";
import { dnsName, quantity, releaseTag, resources } from "./fields";

export const REDIS_GONE = "authentik has no Redis since 2025.10: cache, tasks and sessions live in PostgreSQL (expect more database connections instead)";

export const authentik = obj(
    {
        chartVersion: str({
            doc: "authentik Helm chart version (https://charts.goauthentik.io), pinned. Upgrade one minor at a time, after a database backup.",
            default: "2026.8.0",
            pattern: /^\d+\.\d+\.\d+$/,
            patternText: "an exact chart version such as 2026.8.0",
        }),
        chartDigest: optional(
            str({
                doc: "The digest of the chart version's values and templates, for a chartVersion this program has none recorded for: `helm pull authentik --repo https://charts.goauthentik.io --version <v> --untar`, then `(echo authentik/values.yaml; find authentik/templates -type f) | LC_ALL=C sort | xargs sha256sum | sha256sum`. Every up checks the chart the repository serves against it (or the recorded one) before installing.",
                pattern: /^[a-f0-9]{64}$/,
                patternText: "64 hex digits (the sha256 of the chart's values.yaml and templates)",
            }),
        ),
        releaseName: dnsName("Helm release name (also the chart's app.kubernetes.io/instance label).", "authentik"),
        host: str({
            doc: "Public host name of authentik, e.g. auth.example.com.",
            pattern: /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/,
            patternText: "a fully qualified host name such as auth.example.com",
        }),
        imageTag: optional(
            releaseTag(
                "authentik image tag; unset uses the chart's appVersion (pinned by chartVersion).",
                "an exact release tag such as 2026.8.3 (never latest, a bare major or a channel such as 2026.8-latest)",
            ),
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
            doc: "Generate the bootstrap token and password and hand them to the pods (authentik reads them on first start). false after the first install with api.token scoped and api.admin none: neither is kept in state, in a Secret or in the pods. Set api.admin none one up earlier: that up revokes authentik-bootstrap-token in authentik with the token itself (it never expires).",
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
);
