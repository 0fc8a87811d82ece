import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { authentikPodMonitor, pgbouncerServiceMonitor, prometheusRule } from "../components/observability/manifests";
import { podSelector } from "../components/authentik/values";
import { labels as pgbouncerLabels, serviceManifest, deploymentManifest, checksum } from "../components/pgbouncer/manifests";
import { selectorMatches } from "../lib/k8s";
import { validateObject } from "../tools/schemas";
import { HOMELAB_FILE, homelab, parse } from "./support/helpers";
import { planStack } from "../tools/plan";
import type { PlanResource } from "../tools/harness";

const config = parse(homelab());
const meta = { namespace: "authentik", labels: { release: "kube-prometheus-stack" } };
/** What the homelab stack gives the rules (its release, outposts namespace and pool size). */
const fromConfig = {
    releaseName: config.authentik.releaseName,
    outpostsNamespace: config.outposts.namespace,
    pgbouncerPoolSize: config.pgbouncer.defaultPoolSize,
};
const rule = prometheusRule({
    ...meta,
    ...fromConfig,
    jobs: { authentik: "authentik/authentik", pgbouncer: "authentik/pgbouncer", database: "authentik/authentik-db" },
});
const rules = rule.spec.groups.flatMap((g) => g.rules);

describe("monitors", () => {
    it("scrape authentik server and worker pods on their metrics port", async () => {
        const m = authentikPodMonitor({ ...meta, releaseName: "authentik" });
        assert.deepEqual(await validateObject("kubernetes:monitoring.coreos.com/v1:PodMonitor", m), []);
        for (const component of ["server", "worker"]) {
            const pod = podSelector("authentik", component as "server" | "worker");
            assert.ok(selectorMatches(m.spec.selector.matchLabels, pod));
            assert.ok(m.spec.selector.matchExpressions[0].values.includes(pod["app.kubernetes.io/component"]));
        }
        assert.deepEqual(m.metadata, { name: "authentik", namespace: "authentik", labels: { release: "kube-prometheus-stack" } });
        assert.deepEqual(m.spec.selector, {
            matchLabels: { "app.kubernetes.io/name": "authentik", "app.kubernetes.io/instance": "authentik" },
            matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["server", "worker"] }],
        });
        assert.deepEqual(m.spec.podMetricsEndpoints, [{ port: "metrics", path: "/metrics", interval: "30s" }]);
    });

    it("scrape the PgBouncer exporter through the pgbouncer Service", async () => {
        const m = pgbouncerServiceMonitor({ ...meta, selector: pgbouncerLabels.selector });
        assert.deepEqual(await validateObject("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", m), []);
        const svc = serviceManifest("authentik", true);
        assert.ok(selectorMatches(m.spec.selector.matchLabels, svc.metadata.labels));
        assert.ok(svc.spec.ports.some((p) => p.name === "metrics" && p.port === 9127));
        assert.deepEqual(m.metadata, { name: "pgbouncer", namespace: "authentik", labels: { release: "kube-prometheus-stack" } });
        assert.deepEqual(m.spec.endpoints, [{ port: "metrics", interval: "30s" }]);
    });

    it("run the exporter as a pinned, hardened sidecar, as the stats-only user with no credential", async () => {
        const d = deploymentManifest({
            namespace: "authentik",
            pgbouncer: config.pgbouncer,
            configMapName: "c",
            secretName: "pgbouncer-auth",
            caSecretName: "authentik-db-ca",
            configChecksum: checksum("x"),
            exporterImage: "prometheuscommunity/pgbouncer-exporter:v0.11.0",
        });
        assert.deepEqual(await validateObject("kubernetes:apps/v1:Deployment", d), []);
        const exporter = d.spec.template.spec.containers.find((c) => c.name === "exporter") as {
            env: unknown[];
            securityContext: { readOnlyRootFilesystem: boolean };
        };
        assert.deepEqual(exporter.env, [
            { name: "PGBOUNCER_EXPORTER_CONNECTION_STRING", value: "host=127.0.0.1 port=6432 dbname=pgbouncer user=pgbouncer_stats sslmode=disable" },
        ]);
        assert.equal(exporter.securityContext.readOnlyRootFilesystem, true);
    });
});

describe("PrometheusRule", () => {
    it("is a valid monitoring.coreos.com/v1 object", async () => {
        assert.deepEqual(await validateObject("kubernetes:monitoring.coreos.com/v1:PrometheusRule", rule), []);
    });

    it("alerts on every failure the platform has had", () => {
        const alerts = rules.map((r) => r.alert).filter(Boolean);
        assert.deepEqual(alerts.sort(), [
            "AuthentikDown",
            "AuthentikOutpostMemoryNearLimit",
            "AuthentikReplicasBelowDesired",
            "AuthentikServer5xxRate",
            "CNPGInstanceDown",
            "CNPGReplicationLag",
            "PgBouncerClientsWaiting",
            "PgBouncerPoolSaturated",
        ]);
        for (const r of rules.filter((x) => x.alert)) assert.ok(r.for && r.labels?.severity && r.annotations?.summary, r.alert);
    });

    it("watches the right jobs and deployments", () => {
        const byName = Object.fromEntries(rules.map((r) => [r.alert ?? r.record, r.expr]));
        assert.match(byName.AuthentikDown, /job="authentik\/authentik"/);
        assert.match(byName.AuthentikReplicasBelowDesired, /deployment=~"authentik-server\|authentik-worker\|pgbouncer"/);
        assert.match(byName.PgBouncerPoolSaturated, /\/ 45 > 0\.9/);
        assert.match(byName.CNPGReplicationLag, /job="authentik\/authentik-db"/);
    });

    it("fires on these expressions, after these durations, at these severities (the homelab stack)", () => {
        const outposts = 'namespace="authentik-outposts",pod=~"ak-outpost-.*",container!=""';
        const deployments = 'namespace="authentik",deployment=~"authentik-server|authentik-worker|pgbouncer"';
        const table = Object.fromEntries(rules.filter((r) => r.alert).map((r) => [r.alert, [r.expr, r.for, r.labels?.severity, r.annotations?.summary]]));
        assert.deepEqual(table, {
            AuthentikDown: [
                'sum(up{job="authentik/authentik"}) == 0 or absent(up{job="authentik/authentik"})',
                "5m",
                "critical",
                "No authentik pod is scraped as up: logins fail.",
            ],
            AuthentikServer5xxRate: [
                'sum(rate(django_http_responses_total_by_status_total{job="authentik/authentik",status=~"5.."}[5m])) / sum(rate(django_http_responses_total_by_status_total{job="authentik/authentik"}[5m])) > 0.05',
                "10m",
                "warning",
                "More than 5% of authentik responses are server errors.",
            ],
            AuthentikReplicasBelowDesired: [
                `kube_deployment_status_replicas_available{${deployments}} < kube_deployment_spec_replicas{${deployments}}`,
                "15m",
                "warning",
                "{{ $labels.deployment }} has fewer available replicas than desired.",
            ],
            AuthentikOutpostMemoryNearLimit: [
                `max by (pod) (container_memory_working_set_bytes{${outposts}} / (container_spec_memory_limit_bytes{${outposts}} > 0)) > 0.9`,
                "10m",
                "warning",
                "Outpost {{ $labels.pod }} is near its memory limit, which includes its memory-backed /dev/shm: /dev/shm will fill (ENOSPC).",
            ],
            PgBouncerClientsWaiting: [
                'sum by (pod) (pgbouncer_pools_client_waiting_connections{job="authentik/pgbouncer"}) > 0',
                "2m",
                "warning",
                "Clients wait for a server connection on {{ $labels.pod }}: the pool is exhausted.",
            ],
            PgBouncerPoolSaturated: [
                'sum by (pod) (pgbouncer_pools_server_active_connections{job="authentik/pgbouncer"}) / 45 > 0.9',
                "10m",
                "warning",
                "PgBouncer {{ $labels.pod }} uses over 90% of default_pool_size (45).",
            ],
            CNPGInstanceDown: ['up{job="authentik/authentik-db"} == 0', "5m", "critical", "PostgreSQL instance {{ $labels.pod }} is down."],
            CNPGReplicationLag: [
                'max by (pod) (cnpg_pg_replication_lag{job="authentik/authentik-db"}) > 30',
                "5m",
                "warning",
                "Replica {{ $labels.pod }} lags more than 30s behind the primary.",
            ],
        });
        assert.deepEqual(
            rule.spec.groups.map((g) => g.name),
            ["authentik", "pgbouncer", "cloudnative-pg"],
        );
        assert.deepEqual(rule.metadata, { name: "authentik-platform", namespace: "authentik", labels: { release: "kube-prometheus-stack" } });
    });

    it("records flow execution time in seconds (the upstream histogram reports nanoseconds)", () => {
        const rec = rules.find((r) => r.record === "authentik:flow_execution_duration_seconds:rate5m");
        assert.ok(rec);
        assert.equal(
            rec.expr,
            "sum by (flow_slug) (rate(authentik_flow_execution_duration_sum[5m])) / sum by (flow_slug) (rate(authentik_flow_execution_duration_count[5m])) / 1e9",
        );
    });

    it("leaves out groups whose targets are switched off", () => {
        const only = prometheusRule({ ...meta, ...fromConfig, jobs: { authentik: "authentik/authentik" } });
        assert.deepEqual(
            only.spec.groups.map((g) => g.name),
            ["authentik"],
        );
    });
});

/** The workloads the homelab plan runs, by namespace: Deployments, the chart's, and the outposts authentik deploys. */
function workloads(resources: PlanResource[]): { namespace: string; deployment: string; pod: string }[] {
    const out: { namespace: string; deployment: string; pod: string }[] = [];
    for (const r of resources) {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- plan inputs of several kinds, read by path
        const i = r.inputs as Record<string, any>;
        if (r.type === "kubernetes:apps/v1:Deployment")
            out.push({ namespace: i.metadata.namespace, deployment: i.metadata.name, pod: `${i.metadata.name}-0a1b2c3d4e-x1y2z` });
        if (r.type === "kubernetes:helm.sh/v3:Release")
            for (const c of ["server", "worker"]) out.push({ namespace: i.namespace, deployment: `${i.name}-${c}`, pod: `${i.name}-${c}-0a1b2c3d4e-x1y2z` });
        if (r.type === "pulumi-nodejs:dynamic/authentik:Outpost" && i.spec.config.kubernetes_namespace)
            out.push({
                namespace: i.spec.config.kubernetes_namespace,
                deployment: `ak-outpost-${i.spec.name}`,
                pod: `ak-outpost-${i.spec.name}-0a1b2c3d4e-x1y2z`,
            });
        if (r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster") out.push({ namespace: i.metadata.namespace, deployment: "", pod: `${i.metadata.name}-1` });
    }
    return out;
}

describe("every alert's selectors match what the homelab plan runs", () => {
    it("each {namespace=…, pod=~…/deployment=~…} selector of each alert finds a workload of the plan", async () => {
        const { plan } = await planStack(HOMELAB_FILE);
        const running = workloads(plan.resources);
        const rendered = plan.resources.find((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule");
        assert.ok(rendered);
        const spec = (rendered.inputs as { spec: { groups: { rules: { alert?: string; expr: string }[] }[] } }).spec;
        let checked = 0;
        for (const r of spec.groups.flatMap((g) => g.rules).filter((x) => x.alert)) {
            for (const [, body] of r.expr.matchAll(/\{([^}]*)\}/g)) {
                const labels = Object.fromEntries([...body.matchAll(/(\w+)(=~|=|!=)"([^"]*)"/g)].filter((m) => m[2] !== "!=").map((m) => [m[1], m[3]]));
                if (!labels.namespace) continue;
                const match = running.filter(
                    (w) =>
                        w.namespace === labels.namespace &&
                        (!labels.pod || new RegExp(`^(${labels.pod})$`).test(w.pod)) &&
                        (!labels.deployment || new RegExp(`^(${labels.deployment})$`).test(w.deployment)),
                );
                assert.ok(match.length > 0, `${r.alert}: {${body}} matches nothing the plan runs`);
                checked++;
            }
        }
        // AuthentikReplicasBelowDesired (2 selectors) and AuthentikOutpostMemoryNearLimit (2).
        assert.equal(checked, 4);
        // The outposts authentik deploys, in the namespace the memory alert watches.
        assert.deepEqual(
            running.filter((w) => w.deployment.startsWith("ak-outpost-")).map((w) => `${w.namespace}/${w.deployment}`),
            ["authentik-outposts/ak-outpost-homelab-proxy", "authentik-outposts/ak-outpost-radius"],
        );
    });
});
