/**
 * Prometheus Operator objects for the platform: a PodMonitor for authentik, a ServiceMonitor for
 * the PgBouncer exporter, and one PrometheusRule with the alerts and recording rules. Pure;
 * validated against @kubernetes-models/prometheus-operator.
 */
import { CHART } from "../authentik/values";

/**
 * authentik's flow execution histogram as the issue specifies it; the upstream histogram reports
 * nanoseconds, so the recording rule divides by 1e9.
 */
export const FLOW_DURATION_METRIC = "authentik_flow_execution_duration";

interface Meta {
    namespace: string;
    labels: Record<string, string>;
}

/** authentik server and worker pods, scraped on their `metrics` container port (9300). */
export function authentikPodMonitor(m: Meta & { releaseName: string }) {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { name: m.releaseName, namespace: m.namespace, labels: m.labels },
        spec: {
            selector: {
                matchLabels: { "app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": m.releaseName },
                matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["server", "worker"] }],
            },
            podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
        },
    };
}

/** The PgBouncer Service's `metrics` port (the exporter sidecar). */
export function pgbouncerServiceMonitor(m: Meta & { selector: Record<string, string> }) {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "pgbouncer", namespace: m.namespace, labels: m.labels },
        spec: {
            selector: { matchLabels: m.selector },
            endpoints: [{ port: "metrics", interval: "30s" }],
        },
    };
}

export interface RuleInput extends Meta {
    /** The authentik release's name: its server and worker Deployments. */
    releaseName: string;
    /** Where authentik deploys its outposts (their memory alert). */
    outpostsNamespace: string;
    /** PgBouncer's `default_pool_size` per pod (the saturation alert's 90%). */
    pgbouncerPoolSize: number;
    /** Prometheus job names: `<namespace>/<monitor name>` (Prometheus Operator's default). */
    jobs: { authentik: string; pgbouncer?: string; database?: string };
}

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

export function prometheusRule(i: RuleInput) {
    const ns = i.namespace;
    const alert = (name: string, expr: string, forDuration: string, severity: "critical" | "warning", summary: string): Rule => ({
        alert: name,
        expr,
        for: forDuration,
        labels: { severity },
        annotations: { summary },
    });
    // authentik deploys managed outposts into outposts.namespace, not the platform's namespace.
    const outposts = `namespace="${i.outpostsNamespace}",pod=~"ak-outpost-.*",container!=""`;
    const deployments = [`${i.releaseName}-server`, `${i.releaseName}-worker`, "pgbouncer"].join("|");
    const authentikRules: Rule[] = [
        alert(
            "AuthentikDown",
            `sum(up{job="${i.jobs.authentik}"}) == 0 or absent(up{job="${i.jobs.authentik}"})`,
            "5m",
            "critical",
            "No authentik pod is scraped as up: logins fail.",
        ),
        alert(
            "AuthentikServer5xxRate",
            `sum(rate(django_http_responses_total_by_status_total{job="${i.jobs.authentik}",status=~"5.."}[5m])) / sum(rate(django_http_responses_total_by_status_total{job="${i.jobs.authentik}"}[5m])) > 0.05`,
            "10m",
            "warning",
            "More than 5% of authentik responses are server errors.",
        ),
        alert(
            "AuthentikReplicasBelowDesired",
            `kube_deployment_status_replicas_available{namespace="${ns}",deployment=~"${deployments}"} < kube_deployment_spec_replicas{namespace="${ns}",deployment=~"${deployments}"}`,
            "15m",
            "warning",
            "{{ $labels.deployment }} has fewer available replicas than desired.",
        ),
        alert(
            "AuthentikOutpostMemoryNearLimit",
            `max by (pod) (container_memory_working_set_bytes{${outposts}} / (container_spec_memory_limit_bytes{${outposts}} > 0)) > 0.9`,
            "10m",
            "warning",
            "Outpost {{ $labels.pod }} is near its memory limit, which includes its memory-backed /dev/shm: /dev/shm will fill (ENOSPC).",
        ),
        {
            record: "authentik:flow_execution_duration_seconds:rate5m",
            expr: `sum by (flow_slug) (rate(${FLOW_DURATION_METRIC}_sum[5m])) / sum by (flow_slug) (rate(${FLOW_DURATION_METRIC}_count[5m])) / 1e9`,
        },
    ];
    const groups = [{ name: "authentik", rules: authentikRules }];
    if (i.jobs.pgbouncer) {
        const pool = i.pgbouncerPoolSize;
        groups.push({
            name: "pgbouncer",
            rules: [
                alert(
                    "PgBouncerClientsWaiting",
                    `sum by (pod) (pgbouncer_pools_client_waiting_connections{job="${i.jobs.pgbouncer}"}) > 0`,
                    "2m",
                    "warning",
                    "Clients wait for a server connection on {{ $labels.pod }}: the pool is exhausted.",
                ),
                alert(
                    "PgBouncerPoolSaturated",
                    `sum by (pod) (pgbouncer_pools_server_active_connections{job="${i.jobs.pgbouncer}"}) / ${pool} > 0.9`,
                    "10m",
                    "warning",
                    `PgBouncer {{ $labels.pod }} uses over 90% of default_pool_size (${pool}).`,
                ),
            ],
        });
    }
    if (i.jobs.database) {
        groups.push({
            name: "cloudnative-pg",
            rules: [
                alert("CNPGInstanceDown", `up{job="${i.jobs.database}"} == 0`, "5m", "critical", "PostgreSQL instance {{ $labels.pod }} is down."),
                alert(
                    "CNPGReplicationLag",
                    `max by (pod) (cnpg_pg_replication_lag{job="${i.jobs.database}"}) > 30`,
                    "5m",
                    "warning",
                    "Replica {{ $labels.pod }} lags more than 30s behind the primary.",
                ),
            ],
        });
    }
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "authentik-platform", namespace: ns, labels: i.labels },
        spec: { groups },
    };
}
