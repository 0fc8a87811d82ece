/**
 * Values for the authentik Helm chart (pinned reference: chart 2026.8.0, ../shared/reference).
 * Pure. No secret ever enters these values: credentials reach the pods as env `valueFrom`
 * secretKeyRefs into Secrets this program writes (Pulumi has shown release values in plaintext).
 * `authentik.existingSecret` is deliberately NOT used: it makes the chart skip its own Secret, which
 * silently turns the whole `authentik:` block inert (the Terraform stack's mistake).
 */
import { Rollout, rolloutAnnotations } from "../secrets/render";
import { CredentialName, StackConfig, credentialsInUse } from "../../stacks/config";
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
    const httpProbe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 3 });

    return {
        global: {
            ...(a.imageTag ? { image: { tag: a.imageTag } } : {}),
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
            containerSecurityContext,
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
            containerSecurityContext,
            startupProbe: {
                exec: { command: ["ak", "healthcheck"] },
                initialDelaySeconds: 30,
                periodSeconds: 10,
                timeoutSeconds: 3,
                failureThreshold: startupFailures,
            },
            ...(a.media ? media : {}),
        },
        // This program writes its own PrometheusRule (validated, visible in plans); the chart's stays off.
        prometheus: { rules: { enabled: false } },
    };
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
        annotations: { ...(ing.clusterIssuer ? { "cert-manager.io/cluster-issuer": ing.clusterIssuer } : {}), ...ing.annotations },
        hosts: [c.authentik.host],
        // "/" already covers the outpost path; it is listed so a reader (and a path-based router) sees it.
        paths: ["/", OUTPOST_PATH],
        pathType: "Prefix",
        tls: tls ? [{ secretName: tls, hosts: [c.authentik.host] }] : [],
    };
}

/** The URL users reach authentik at. */
export function authentikUrl(c: StackConfig): string {
    return `${tlsSecretName(c) ? "https" : "http"}://${c.authentik.host}`;
}

/** The in-cluster URL of the server Service (what in-cluster clients use; FQDN). */
export function serverServiceUrl(c: StackConfig): string {
    return `http://${c.authentik.releaseName}-server.${c.namespace}.svc.cluster.local`;
}
