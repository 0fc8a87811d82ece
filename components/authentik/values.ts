/**
 * Values for the authentik Helm chart (pinned reference: chart 2026.8.0, tools/reference.json).
 * Pure. No secret ever enters these values: credentials reach the pods as env `valueFrom`
 * secretKeyRefs into Secrets this program writes (Pulumi has shown release values in plaintext).
 * `authentik.existingSecret` is deliberately NOT used: it makes the chart skip its own Secret, which
 * silently turns the whole `authentik:` block inert (the Terraform stack's mistake).
 */
import { Rollout, rolloutAnnotations } from "../secrets/render";
import { ANYWHERE, DNS_EGRESS, fromNamespace, networkPolicy, tcp, udp } from "../../lib/network";
import { CredentialName, StackConfig, credentialsInUse, hstsMiddlewareName, ingressAnnotations, tlsSecretName } from "../../config";
import { outpostsApart, workerServiceAccountName } from "./outposts";
import { DATABASE_NAME, DATABASE_OWNER } from "../database/manifests";

export const CHART = "authentik";
export const CHART_REPO = "https://charts.goauthentik.io";
export const HTTP_PORT = 9000;
export const METRICS_PORT = 9300;
export const MEDIA_PATH = "/data";
export const OUTPOST_PATH = "/outpost.goauthentik.io";

/** Credentials authentik's pods read. */
export type PodCredential = "secretKey" | "databasePassword" | "bootstrapToken" | "bootstrapPassword" | "smtpPassword";

/** The env variable each pod credential is read from. */
export const CREDENTIAL_ENV: Record<PodCredential, string> = {
    secretKey: "AUTHENTIK_SECRET_KEY",
    databasePassword: "AUTHENTIK_POSTGRESQL__PASSWORD",
    bootstrapToken: "AUTHENTIK_BOOTSTRAP_TOKEN",
    bootstrapPassword: "AUTHENTIK_BOOTSTRAP_PASSWORD",
    smtpPassword: "AUTHENTIK_EMAIL__PASSWORD",
};

/** The chart's selector labels for a component's pods (charts/authentik/templates/_helpers.tpl). */
export function podSelector(releaseName: string, component: "server" | "worker"): Record<string, string> {
    return {
        "app.kubernetes.io/name": CHART,
        "app.kubernetes.io/instance": releaseName,
        "app.kubernetes.io/component": component,
    };
}

/** The credentials authentik's pods read: those of the stack's credentials in use that they have an env for. */
export function authentikCredentials(c: StackConfig): PodCredential[] {
    const inUse = new Set<CredentialName>(credentialsInUse(c));
    // In the env table's order: a reordered env list would roll every authentik pod for nothing.
    return (Object.keys(CREDENTIAL_ENV) as PodCredential[]).filter((name) => inUse.has(name));
}

/** Rolling server and worker when a Secret they read changes: pod and Deployment annotations (global). */
function annotationsOf(rollout: Rollout[]) {
    const { pod, deployment } = rolloutAnnotations(rollout);
    return { ...(Object.keys(pod).length ? { podAnnotations: pod } : {}), ...(Object.keys(deployment).length ? { deploymentAnnotations: deployment } : {}) };
}

export interface ValuesInput {
    config: StackConfig;
    /** PgBouncer's Service FQDN and port. */
    databaseHost: string;
    databasePort: number;
    /** Which Kubernetes Secret holds each credential (key = credential name). */
    credentialSecrets: Partial<Record<CredentialName, string>>;
    /** How changes of those Secrets roll the pods (the chart's checksum covers only its own Secret). */
    rollout?: Rollout[];
}

export function releaseValues(i: ValuesInput) {
    const c = i.config;
    const a = c.authentik;
    const env = [
        ...authentikCredentials(c).map((name) => ({
            name: CREDENTIAL_ENV[name],
            valueFrom: { secretKeyRef: { name: requireSecret(i, name), key: name } },
        })),
        ...(a.bootstrapEmail ? [{ name: "AUTHENTIK_BOOTSTRAP_EMAIL", value: a.bootstrapEmail }] : []),
    ];
    const startupFailures = Math.ceil(a.startupProbeSeconds / 10);
    const media = a.media
        ? {
              volumes: [{ name: "media", persistentVolumeClaim: { claimName: mediaClaimName(a.releaseName) } }],
              volumeMounts: [{ name: "media", mountPath: MEDIA_PATH }],
          }
        : { volumes: [], volumeMounts: [] };
    // The embedded outpost runs in the server pods: its /dev/shm is a size-limited memory volume there.
    const shm = {
        volumes: [...media.volumes, { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: c.outposts.shmSizeLimit } }],
        volumeMounts: [...media.volumeMounts, { name: "dshm", mountPath: "/dev/shm" }],
    };
    const spread = (component: "server" | "worker") => [
        {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: podSelector(a.releaseName, component) },
        },
    ];
    const rolling = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    const containerSecurityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
    // Pod Security "restricted": the image runs as authentik (uid/gid 1000: adduser --uid 1000, USER 1000).
    const securityContext = AUTHENTIK_POD_SECURITY;
    const httpProbe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 3 });

    return {
        global: {
            ...(a.imageTag || a.imageDigest
                ? { image: { ...(a.imageTag ? { tag: a.imageTag } : {}), ...(a.imageDigest ? { digest: a.imageDigest } : {}) } }
                : {}),
            env,
            ...annotationsOf(i.rollout ?? []),
        },
        authentik: {
            log_level: a.logLevel,
            error_reporting: { enabled: false },
            postgresql: {
                host: i.databaseHost,
                port: i.databasePort,
                name: DATABASE_NAME,
                user: DATABASE_OWNER,
                conn_max_age: a.database.connMaxAge,
                conn_health_checks: a.database.connHealthChecks,
                ...(a.database.usePgbouncer ? { use_pgbouncer: true } : {}),
                ...(a.database.disableServerSideCursors ? { disable_server_side_cursors: true } : {}),
            },
            cache: { timeout_flows: a.cache.timeoutFlows, timeout_policies: a.cache.timeoutPolicies },
            web: { workers: a.web.workers, threads: a.web.threads },
            worker: { processes: a.worker.processes, threads: a.worker.threads },
            sessions: { unauthenticated_age: a.unauthenticatedSessionAge },
            ...(a.email
                ? {
                      email: {
                          host: a.email.host,
                          port: a.email.port,
                          username: a.email.username,
                          from: a.email.from,
                          use_tls: a.email.useTls,
                          use_ssl: a.email.useSsl,
                          timeout: a.email.timeout,
                      },
                  }
                : {}),
            ...(a.media ? { storage: { file: { path: MEDIA_PATH } } } : {}),
        },
        server: {
            replicas: a.server.replicas,
            pdb: { enabled: true, minAvailable: a.server.minAvailable },
            resources: resourcesOf(a.server.resources),
            deploymentStrategy: rolling,
            topologySpreadConstraints: spread("server"),
            securityContext,
            containerSecurityContext,
            // The server never calls the Kubernetes API (the worker deploys outposts): no token in its pods.
            serviceAccountName: serverServiceAccountName(a.releaseName),
            automountServiceAccountToken: false,
            livenessProbe: { ...httpProbe("/-/health/live/"), failureThreshold: 3 },
            readinessProbe: { ...httpProbe("/-/health/ready/"), failureThreshold: 3 },
            startupProbe: { ...httpProbe("/-/health/live/"), initialDelaySeconds: 5, failureThreshold: startupFailures },
            ingress: ingressValues(c),
            ...shm,
        },
        worker: {
            replicas: a.worker.replicas,
            pdb: { enabled: true, maxUnavailable: a.worker.maxUnavailable },
            resources: resourcesOf(a.worker.resources),
            deploymentStrategy: rolling,
            topologySpreadConstraints: spread("worker"),
            securityContext,
            containerSecurityContext,
            startupProbe: {
                exec: { command: ["ak", "healthcheck"] },
                initialDelaySeconds: 30,
                periodSeconds: 10,
                timeoutSeconds: 3,
                failureThreshold: startupFailures,
            },
            ...(a.media ? media : {}),
            ...(outpostsApart(c) ? { serviceAccountName: workerServiceAccountName(a.releaseName) } : {}),
        },
        // This program writes its own PrometheusRule (validated, visible in plans); the chart's stays off.
        prometheus: { rules: { enabled: false } },
        // Outposts apart: the worker runs as its own account (outposts.ts), not the chart's, whose
        // Role covers authentik's namespace (Secrets included).
        ...(outpostsApart(c) ? { serviceAccount: { create: false } } : {}),
    };
}

/** Pod security context of server and worker (Pod Security Standard "restricted"). */
export const AUTHENTIK_POD_SECURITY = {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    fsGroup: 1000,
    seccompProfile: { type: "RuntimeDefault" },
} as const;

/** The server pods' own service account: no API access, no token mounted. */
export function serverServiceAccountName(releaseName: string): string {
    return `${releaseName}-server`;
}

function requireSecret(i: ValuesInput, name: CredentialName): string {
    const secret = i.credentialSecrets[name];
    if (!secret) throw new Error(`credential ${name} is not in any Secret, but authentik reads it`);
    return secret;
}

function resourcesOf(r: { cpuRequest: string; memoryRequest: string; memoryLimit: string }) {
    return { requests: { cpu: r.cpuRequest, memory: r.memoryRequest }, limits: { memory: r.memoryLimit } };
}

export function mediaClaimName(releaseName: string): string {
    return `${releaseName}-media`;
}

function ingressValues(c: StackConfig) {
    const ing = c.authentik.ingress;
    if (!ing.enabled) return { enabled: false };
    const tls = tlsSecretName(c);
    return {
        enabled: true,
        ...(ing.className ? { ingressClassName: ing.className } : {}),
        annotations: ingressAnnotations(c),
        hosts: [c.authentik.host],
        // "/" already covers the outpost path; it is listed so a reader (and a path-based router) sees it.
        paths: ["/", OUTPOST_PATH],
        pathType: "Prefix",
        tls: tls ? [{ secretName: tls, hosts: [c.authentik.host] }] : [],
    };
}

/** The Traefik Middleware that sets HSTS (a year, subdomains included). */
export function hstsMiddlewareManifest(c: StackConfig) {
    return {
        apiVersion: "traefik.io/v1alpha1",
        kind: "Middleware",
        metadata: { name: hstsMiddlewareName(c), namespace: c.namespace },
        spec: { headers: { stsSeconds: 31536000, stsIncludeSubdomains: true, forceSTSHeader: true } },
    };
}

/** Helm's budget for an install or upgrade: startup probe plus time for migrations and rollout. */
export function releaseTimeoutSeconds(c: StackConfig): number {
    return c.authentik.startupProbeSeconds * 2 + 300;
}

/** authentik's ports: the server's HTTP and HTTPS, and the metrics of server, worker and outposts. */
export const AUTHENTIK_PORTS = { http: 9000, https: 9443, metrics: 9300, radius: 1812 } as const;
/** Labels authentik puts on the outposts it deploys (outposts/controllers/k8s). */
export const MANAGED_OUTPOST_LABELS = { "app.kubernetes.io/managed-by": "goauthentik.io" } as const;

/**
 * Who reaches authentik: the server from the ingress controller, the outposts it deploys and any
 * namespace named in networkPolicies.apiClientNamespaces; the worker from nobody but Prometheus;
 * proxy outposts from the ingress controller, RADIUS outposts from the RADIUS client networks
 * (the LoadBalancer keeps their address); every metrics port from the monitoring namespace.
 */
export function authentikNetworkPolicies(c: StackConfig) {
    const n = c.networkPolicies;
    const labels = { "app.kubernetes.io/part-of": "authentik-platform", "app.kubernetes.io/managed-by": "pulumi" };
    const metrics = { from: [fromNamespace(n.monitoringNamespace)], ports: [tcp(AUTHENTIK_PORTS.metrics)] };
    const web = [tcp(AUTHENTIK_PORTS.http), tcp(AUTHENTIK_PORTS.https)];
    // authentik talks to whatever it integrates with (SMTP, LDAP, SCIM, webhooks, OAuth sources, the
    // Kubernetes API for outposts): its egress stays open, and what it must not reach admits only its own clients.
    const anywhere = [{ to: ANYWHERE }];
    const policy = (
        name: string,
        podSelector: Record<string, string>,
        ingress: { from: object[]; ports: object[] }[],
        egress: object[],
        namespace = c.namespace,
    ) => networkPolicy({ name: `${c.authentik.releaseName}-${name}`, namespace, labels, podSelector, ingress, egress });
    const radius = c.outposts.radius;
    // Outposts reach authentik at authentik_host: through the ingress controller, or the server directly.
    const toAuthentik = [
        DNS_EGRESS,
        { to: [fromNamespace(n.ingressNamespace)] },
        { to: [fromNamespace(c.namespace, podSelector(c.authentik.releaseName, "server"))], ports: web },
        { to: ANYWHERE, ports: [tcp(443)] },
    ];
    return [
        policy(
            "server",
            podSelector(c.authentik.releaseName, "server"),
            [
                {
                    from: [
                        fromNamespace(n.ingressNamespace),
                        fromNamespace(c.outposts.namespace, MANAGED_OUTPOST_LABELS),
                        ...n.apiClientNamespaces.map((ns) => fromNamespace(ns)),
                    ],
                    ports: web,
                },
                metrics,
            ],
            anywhere,
        ),
        policy("worker", podSelector(c.authentik.releaseName, "worker"), [metrics], anywhere),
        // A proxy outpost forwards to each app's upstream, wherever it runs.
        policy(
            "proxy-outposts",
            { ...MANAGED_OUTPOST_LABELS, "goauthentik.io/outpost-type": "proxy" },
            [{ from: [fromNamespace(n.ingressNamespace)], ports: web }, metrics],
            anywhere,
            c.outposts.namespace,
        ),
        ...(radius
            ? [
                  policy(
                      "radius-outposts",
                      { ...MANAGED_OUTPOST_LABELS, "goauthentik.io/outpost-type": "radius" },
                      [{ from: radius.clientNetworks.map((cidr) => ({ ipBlock: { cidr } })), ports: [udp(AUTHENTIK_PORTS.radius)] }, metrics],
                      toAuthentik,
                      c.outposts.namespace,
                  ),
              ]
            : []),
    ];
}
