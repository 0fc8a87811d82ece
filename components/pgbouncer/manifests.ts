/**
 * Pure PgBouncer configuration and manifests. The ini carries no credential: authentication is read
 * from `userlist.txt`, mounted from a Secret.
 */
import { Rollout, rolloutAnnotations } from "../secrets/render";
import { fromNamespace, tcp } from "../../lib/network";
import { createHash } from "node:crypto";
import type { StackConfig } from "../../config";
import { CRITICAL_ANNOTATION, appLabels } from "../../lib/k8s";
import { DATABASE_OWNER } from "../database/manifests";

export type PgBouncerConfig = StackConfig["pgbouncer"];

export const PGBOUNCER_PORT = 6432;
export const SERVICE_NAME = "pgbouncer";
export const CONFIG_DIR = "/etc/pgbouncer";
export const SECRET_DIR = "/etc/pgbouncer/auth";
export const USERLIST_KEY = "userlist.txt";

export const labels = appLabels("pgbouncer", "database-pooler");

/**
 * The exporter's user: stats only (SHOW commands), from loopback only, with no password (HBA
 * `trust` for 127.0.0.1): the sidecar shares the pod's network namespace, nothing else does, and
 * the database owner's password never reaches the exporter.
 */
export const STATS_USER = "pgbouncer_stats";

/** The userlist template: filled from the database password by the secrets component. */
export const USERLIST_TEMPLATE = `"${DATABASE_OWNER}" "{{databasePassword|userlist}}"`;
/**
 * The stats user must be listed even for HBA `trust` (PgBouncer looks every user up in auth_file);
 * it has no password, and the HBA rejects it from anywhere but loopback.
 */
const STATS_USER_LINE = `"${STATS_USER}" ""`;
/** The auth Secret's templates: the userlist (the only credential PgBouncer holds). */
export function authTemplates(): Record<string, string> {
    return { [USERLIST_KEY]: `${USERLIST_TEMPLATE}\n${STATS_USER_LINE}\n` };
}

export const EXPORTER_DSN = `host=127.0.0.1 port=${PGBOUNCER_PORT} dbname=pgbouncer user=${STATS_USER} sslmode=disable`;
export const EXPORTER_PORT = 9127;
export const HBA_FILE = "pg_hba.conf";
export const CA_DIR = "/etc/pgbouncer/ca";

/** PgBouncer's HBA: the stats user from loopback without a password, everyone else with SCRAM. */
export function renderHba(): string {
    return [
        `host pgbouncer ${STATS_USER} 127.0.0.1/32 trust`,
        `host all ${STATS_USER} 0.0.0.0/0 reject`,
        `host all ${STATS_USER} ::/0 reject`,
        "host all all 0.0.0.0/0 scram-sha-256",
        "host all all ::/0 scram-sha-256",
        "",
    ].join("\n");
}

export interface IniInput {
    pgbouncer: PgBouncerConfig;
    databaseHost: string;
    databasePort: number;
    database: string;
}

/** pgbouncer.ini. Every setting is explicit so a reader sees the pool without PgBouncer's defaults. */
export function renderIni(i: IniInput): string {
    const p = i.pgbouncer;
    const settings: [string, string | number][] = [
        ["listen_addr", "0.0.0.0"],
        ["listen_port", PGBOUNCER_PORT],
        ["unix_socket_dir", ""], // read-only root filesystem: TCP only
        ["auth_type", "hba"],
        ["auth_hba_file", `${CONFIG_DIR}/${HBA_FILE}`],
        ["auth_file", `${SECRET_DIR}/${USERLIST_KEY}`],
        ["pool_mode", p.poolMode],
        ["max_client_conn", p.maxClientConn],
        ["default_pool_size", p.defaultPoolSize],
        ["reserve_pool_size", p.reservePoolSize],
        ["reserve_pool_timeout", 5],
        ["server_idle_timeout", p.serverIdleTimeout],
        ["client_idle_timeout", p.clientIdleTimeout],
        // verify-full: the server's certificate must chain to CNPG's CA and name the host we dial.
        ["server_tls_sslmode", p.serverTls],
        ...(p.serverTls === "verify-full" ? ([["server_tls_ca_file", `${CA_DIR}/ca.crt`]] as [string, string][]) : []),
        ["ignore_startup_parameters", "extra_float_digits"],
        ["stats_users", STATS_USER],
        ["log_connections", 0],
        ["log_disconnections", 0],
    ];
    return [
        "[databases]",
        `${i.database} = host=${i.databaseHost} port=${i.databasePort} dbname=${i.database}`,
        "",
        "[pgbouncer]",
        ...settings.map(([k, v]) => `${k} = ${v}`),
        "",
    ].join("\n");
}

/** Content hash for the pod template annotation, so a config change rolls the pods. */
export function checksum(...parts: string[]): string {
    return createHash("sha256").update(parts.join("\0")).digest("hex");
}

/**
 * Rolling update that never dips below `replicas` ready pods: surge one, take none down. The PDB's
 * headroom (replicas − minAvailable) then stays free for node drains during a rollout.
 */
export const ROLLING_UPDATE = { maxSurge: 1, maxUnavailable: 0 } as const;

/** The PgBouncer container: pinned image, TCP probes on 6432, non-root, read-only, no capabilities. */
export function pgbouncerContainer(p: PgBouncerConfig) {
    const tcp = { tcpSocket: { port: PGBOUNCER_PORT } };
    return {
        name: "pgbouncer",
        image: p.image,
        imagePullPolicy: "IfNotPresent",
        // Only args: the image's entrypoint stays in charge (a `command` override crashed the seeds).
        args: ["/usr/bin/pgbouncer", `${CONFIG_DIR}/pgbouncer.ini`],
        ports: [{ name: "pgbouncer", containerPort: PGBOUNCER_PORT, protocol: "TCP" }],
        resources: {
            requests: { cpu: p.resources.cpuRequest, memory: p.resources.memoryRequest },
            limits: { memory: p.resources.memoryLimit },
        },
        readinessProbe: { ...tcp, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
        livenessProbe: { ...tcp, initialDelaySeconds: 30, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
        securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        volumeMounts: [
            { name: "config", mountPath: `${CONFIG_DIR}/pgbouncer.ini`, subPath: "pgbouncer.ini", readOnly: true },
            { name: "config", mountPath: `${CONFIG_DIR}/${HBA_FILE}`, subPath: HBA_FILE, readOnly: true },
            { name: "auth", mountPath: SECRET_DIR, readOnly: true },
            ...(p.serverTls === "verify-full" ? [{ name: "database-ca", mountPath: CA_DIR, readOnly: true }] : []),
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
}

export interface DeploymentInput {
    namespace: string;
    pgbouncer: PgBouncerConfig;
    configMapName: string;
    secretName: string;
    /** CNPG's CA Secret (`<cluster>-ca`): only its ca.crt is mounted, never ca.key. */
    caSecretName: string;
    configChecksum: string;
    /** How a change of the auth Secret rolls the pods (a digest, or Reloader for an ExternalSecret). */
    rollout?: Rollout;
    /** pgbouncer-exporter sidecar image, when metrics are on. */
    exporterImage?: string;
}

export function deploymentManifest(i: DeploymentInput) {
    const p = i.pgbouncer;
    // A renewed CNPG CA must reach PgBouncer too: Reloader rolls it when the CA Secret changes.
    const ca = p.serverTls === "verify-full" ? [{ reloadSecrets: [i.caSecretName] }] : [];
    const rollout = rolloutAnnotations([...(i.rollout ? [i.rollout] : []), ...ca]);
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        // Critical for the homelab policy pack: 3+ replicas and a PDB that keeps 2+ (policy/rules.ts).
        metadata: { name: SERVICE_NAME, namespace: i.namespace, labels: labels.all, annotations: { [CRITICAL_ANNOTATION]: "true", ...rollout.deployment } },
        spec: {
            replicas: p.replicas,
            selector: { matchLabels: labels.selector },
            strategy: { type: "RollingUpdate", rollingUpdate: ROLLING_UPDATE },
            template: {
                metadata: {
                    labels: labels.all,
                    annotations: { "checksum/config": i.configChecksum, ...rollout.pod },
                },
                spec: {
                    automountServiceAccountToken: false,
                    securityContext: {
                        runAsNonRoot: true,
                        runAsUser: 70,
                        runAsGroup: 70,
                        fsGroup: 70,
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                    topologySpreadConstraints: [
                        {
                            maxSkew: 1,
                            topologyKey: "kubernetes.io/hostname",
                            whenUnsatisfiable: "ScheduleAnyway",
                            labelSelector: { matchLabels: labels.selector },
                        },
                    ],
                    affinity: {
                        podAntiAffinity: {
                            preferredDuringSchedulingIgnoredDuringExecution: [
                                {
                                    weight: 100,
                                    podAffinityTerm: {
                                        topologyKey: "kubernetes.io/hostname",
                                        labelSelector: { matchLabels: labels.selector },
                                    },
                                },
                            ],
                        },
                    },
                    containers: [pgbouncerContainer(p), ...(i.exporterImage ? [exporterContainer(i.exporterImage)] : [])],
                    volumes: [
                        { name: "config", configMap: { name: i.configMapName } },
                        { name: "auth", secret: { secretName: i.secretName, defaultMode: 0o440 } },
                        ...(p.serverTls === "verify-full"
                            ? [{ name: "database-ca", secret: { secretName: i.caSecretName, items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 } }]
                            : []),
                        { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                    ],
                },
            },
        },
    };
}

/** pgbouncer-exporter: reads PgBouncer's SHOW commands over loopback; hardened like PgBouncer. */
function exporterContainer(image: string) {
    return {
        name: "exporter",
        image,
        imagePullPolicy: "IfNotPresent",
        // No credential in it: the stats user is trusted from loopback only (renderHba).
        env: [{ name: "PGBOUNCER_EXPORTER_CONNECTION_STRING", value: EXPORTER_DSN }],
        ports: [{ name: "metrics", containerPort: EXPORTER_PORT, protocol: "TCP" }],
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
        readinessProbe: { httpGet: { path: "/metrics", port: "metrics" }, periodSeconds: 30, timeoutSeconds: 5 },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    };
}

export function serviceManifest(namespace: string, exporter = false) {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: SERVICE_NAME, namespace, labels: labels.all },
        spec: {
            selector: labels.selector,
            ports: [
                { name: "pgbouncer", port: PGBOUNCER_PORT, targetPort: "pgbouncer", protocol: "TCP" },
                ...(exporter ? [{ name: "metrics", port: EXPORTER_PORT, targetPort: "metrics", protocol: "TCP" }] : []),
            ],
        },
    };
}

export function podDisruptionBudgetManifest(namespace: string, minAvailable: number) {
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: SERVICE_NAME, namespace, labels: labels.all },
        spec: { minAvailable, selector: { matchLabels: labels.selector } },
    };
}

/**
 * Only pods labelled as authentik reach PgBouncer; PgBouncer reaches only its CNPG cluster and DNS.
 * `clientSelector` is the authentik pods' label selector.
 */
export function networkPolicyManifest(args: {
    namespace: string;
    clientSelector: Record<string, string>;
    databaseCluster: string;
    databasePort: number;
    /** Let Prometheus (from this namespace only) scrape the exporter. */
    monitoringNamespace?: string;
}) {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: SERVICE_NAME, namespace: args.namespace, labels: labels.all },
        spec: {
            podSelector: { matchLabels: labels.selector },
            policyTypes: ["Ingress", "Egress"],
            ingress: [
                {
                    from: [{ podSelector: { matchLabels: args.clientSelector } }],
                    ports: [{ port: PGBOUNCER_PORT, protocol: "TCP" }],
                },
                ...(args.monitoringNamespace ? [{ from: [fromNamespace(args.monitoringNamespace)], ports: [tcp(EXPORTER_PORT)] }] : []),
            ],
            egress: [
                {
                    to: [{ podSelector: { matchLabels: { "cnpg.io/cluster": args.databaseCluster } } }],
                    ports: [{ port: args.databasePort, protocol: "TCP" }],
                },
                {
                    to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                    ports: [
                        { port: 53, protocol: "UDP" },
                        { port: 53, protocol: "TCP" },
                    ],
                },
            ],
        },
    };
}
