/**
 * Values for the authentik Helm chart (pinned reference: chart 2026.8.0, tools/reference.json).
 * Pure. No secret ever enters these values: credentials reach the pods as env `valueFrom`
 * secretKeyRefs into Secrets this program writes (Pulumi has shown release values in plaintext).
 * `authentik.existingSecret` is deliberately NOT used: it makes the chart skip its own Secret, which
 * silently turns the whole `authentik:` block inert (the Terraform stack's mistake).
 */
import { Rollout, rolloutAnnotations } from "../secrets/render";
import { ANYWHERE, DNS_EGRESS, fromNamespace, networkPolicy, tcp, udp } from "../lib/network";
import { CredentialName, StackConfig, credentialsInUse } from "../../stacks/config";
import { outpostsApart, workerServiceAccountName } from "./outposts";
import { DATABASE_NAME, DATABASE_OWNER } from "../database/manifests";

export const CHART = "authentik";
export const CHART_REPO = "https://charts.goauthentik.io";
/**
 * The chart versions this program was tested with, and the digest of each one's values and
 * templates (components/lib/chart.ts chartDigest): every up checks what the repository serves
 * against it before installing. tools/reference.json records the same (a test keeps them equal).
 */
export const RECORDED_CHART_DIGESTS: Readonly<Record<string, string>> = {
    "2026.8.0": "e1a5f2560fae8958bf5a5f3cfbefc285e0ea8e5943d100cf1c5b302d68099e61",
};

/** The digest the chart of this stack must have: authentik.chartDigest, else the recorded one; undefined if neither. */
export function expectedChartDigest(c: StackConfig): string | undefined {
    return c.authentik.chartDigest ?? RECORDED_CHART_DIGESTS[c.authentik.chartVersion];
}
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
            ...(a.imageTag || a.imageDigest ? { image: { ...(a.imageTag ? { tag: a.imageTag } : {}), ...(a.imageDigest ? { digest: a.imageDigest } : {}) } } : {}),
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

/** TLS secret for the authentik host: the configured one, or `<release>-tls` when cert-manager issues it. */
export function tlsSecretName(c: StackConfig): string | undefined {
    const ing = c.authentik.ingress;
    return ing.tlsSecret ?? (ing.clusterIssuer ? `${c.authentik.releaseName}-tls` : undefined);
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

/** HSTS for the login pages: a Traefik headers Middleware the release's Ingress refers to. */
export function hstsMiddlewareName(c: StackConfig): string {
    return `${c.authentik.releaseName}-hsts`;
}

/** Whether the Ingress is served by Traefik (by its class name). */
export function isTraefik(c: StackConfig): boolean {
    return /traefik/i.test(c.authentik.ingress.className ?? "");
}

/**
 * Login pages only over HTTPS. Traefik serves a router on every entrypoint unless told otherwise,
 * so plain HTTP would answer too: pin the TLS entrypoint and add HSTS. ingress-nginx redirects to
 * HTTPS and sends HSTS by default once TLS is set; say it anyway.
 */
export function httpsOnlyAnnotations(c: StackConfig): Record<string, string> {
    if (!tlsSecretName(c)) return {};
    if (isTraefik(c)) {
        return {
            "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
            "traefik.ingress.kubernetes.io/router.tls": "true",
            "traefik.ingress.kubernetes.io/router.middlewares": `${c.namespace}-${hstsMiddlewareName(c)}@kubernetescrd`,
        };
    }
    if (/nginx/i.test(c.authentik.ingress.className ?? "")) return { "nginx.ingress.kubernetes.io/force-ssl-redirect": "true" };
    return {};
}

/** The Ingress's annotations as applied: the issuer, the HTTPS-only ones, then the operator's extras. */
export function ingressAnnotations(c: StackConfig): Record<string, string> {
    const ing = c.authentik.ingress;
    return { ...(ing.clusterIssuer ? { "cert-manager.io/cluster-issuer": ing.clusterIssuer } : {}), ...httpsOnlyAnnotations(c), ...ing.annotations };
}

const NGINX_REDIRECTS = ["nginx.ingress.kubernetes.io/force-ssl-redirect", "nginx.ingress.kubernetes.io/ssl-redirect"];
const TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares";

/**
 * The extra annotations (authentik.ingress.annotations) that would undo HTTPS-only, each with what
 * to write instead. An extra middleware is fine when the HSTS one stays in the list.
 */
export function httpsOnlyOverrides(c: StackConfig): { annotation: string; value: string; problem: string; fix: string }[] {
    const ours = httpsOnlyAnnotations(c);
    const extra = c.authentik.ingress.annotations;
    const plainHttp = "would let authentik's login pages answer over plain HTTP (it overrides the program's HTTPS-only annotation)";
    const out: { annotation: string; value: string; problem: string; fix: string }[] = [];
    for (const [annotation, value] of Object.entries(extra)) {
        if (annotation === TRAEFIK_MIDDLEWARES && ours[annotation]) {
            if (!value.split(",").map((m) => m.trim()).includes(ours[annotation])) {
                out.push({ annotation, value, problem: "drops the HSTS middleware the program sets, so browsers may go back to plain HTTP", fix: `keep it in the list: "${ours[annotation]},${value}"` });
            }
        } else if (ours[annotation] !== undefined && ours[annotation] !== value) {
            out.push({ annotation, value, problem: plainHttp, fix: `remove it: the program sets "${ours[annotation]}" for HTTPS only` });
        } else if (ours[annotation] === undefined && tlsSecretName(c) && NGINX_REDIRECTS.includes(annotation) && value !== "true") {
            out.push({ annotation, value, problem: plainHttp, fix: "remove it: ingress-nginx redirects to HTTPS once TLS is set" });
        }
    }
    return out;
}

/** Whether the final annotations serve the login pages over HTTPS only, and how; undefined when not. */
export function httpsOnlyBy(c: StackConfig): string | undefined {
    if (!tlsSecretName(c)) return undefined;
    const final = ingressAnnotations(c);
    if (isTraefik(c)) {
        const entrypoints = (final["traefik.ingress.kubernetes.io/router.entrypoints"] ?? "").split(",").map((e) => e.trim());
        const hsts = (final[TRAEFIK_MIDDLEWARES] ?? "").split(",").map((m) => m.trim()).includes(httpsOnlyAnnotations(c)[TRAEFIK_MIDDLEWARES]);
        return entrypoints.length === 1 && entrypoints[0] === "websecure" && final["traefik.ingress.kubernetes.io/router.tls"] === "true" && hsts ? "Traefik websecure entrypoint, HSTS" : undefined;
    }
    if (/nginx/i.test(c.authentik.ingress.className ?? "")) return NGINX_REDIRECTS.every((a) => final[a] === undefined || final[a] === "true") ? "ingress-nginx redirects to HTTPS" : undefined;
    return undefined;
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

/** The URL users reach authentik at. */
export function authentikUrl(c: StackConfig): string {
    return `${tlsSecretName(c) ? "https" : "http"}://${c.authentik.host}`;
}

/** The in-cluster URL of the server Service (what in-cluster clients use; FQDN). */
export function serverServiceUrl(c: StackConfig): string {
    return `http://${c.authentik.releaseName}-server.${c.namespace}.svc.cluster.local`;
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
    const policy = (name: string, podSelector: Record<string, string>, ingress: { from: object[]; ports: object[] }[], egress: object[], namespace = c.namespace) =>
        networkPolicy({ name: `${c.authentik.releaseName}-${name}`, namespace, labels, podSelector, ingress, egress });
    const radius = c.outposts.radius;
    // Outposts reach authentik at authentik_host: through the ingress controller, or the server directly.
    const toAuthentik = [DNS_EGRESS, { to: [fromNamespace(n.ingressNamespace)] }, { to: [fromNamespace(c.namespace, podSelector(c.authentik.releaseName, "server"))], ports: web }, { to: ANYWHERE, ports: [tcp(443)] }];
    return [
        policy(
            "server",
            podSelector(c.authentik.releaseName, "server"),
            [{ from: [fromNamespace(n.ingressNamespace), fromNamespace(c.outposts.namespace, MANAGED_OUTPOST_LABELS), ...n.apiClientNamespaces.map((ns) => fromNamespace(ns))], ports: web }, metrics],
            anywhere,
        ),
        policy("worker", podSelector(c.authentik.releaseName, "worker"), [metrics], anywhere),
        // A proxy outpost forwards to each app's upstream, wherever it runs.
        policy("proxy-outposts", { ...MANAGED_OUTPOST_LABELS, "goauthentik.io/outpost-type": "proxy" }, [{ from: [fromNamespace(n.ingressNamespace)], ports: web }, metrics], anywhere, c.outposts.namespace),
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
