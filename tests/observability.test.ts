import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { FLOW_DURATION_METRIC, authentikPodMonitor, pgbouncerServiceMonitor, prometheusRule } from "../components/observability/manifests";
import { podSelector } from "../components/authentik/values";
import { labels as pgbouncerLabels, serviceManifest, deploymentManifest, checksum } from "../components/pgbouncer/manifests";
import { selectorMatches } from "../components/lib/k8s";
import { validateObject } from "../tools/schemas";
import { homelab, parse } from "./helpers";

const config = parse(homelab());
const meta = { namespace: "authentik", labels: { release: "kube-prometheus-stack" } };
const rule = prometheusRule({ ...meta, config, jobs: { authentik: "authentik/authentik", pgbouncer: "authentik/pgbouncer", database: "authentik/authentik-db" } });
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
        assert.equal(m.spec.podMetricsEndpoints[0].port, "metrics");
        assert.deepEqual(m.metadata.labels, { release: "kube-prometheus-stack" });
    });

    it("scrape the PgBouncer exporter through the pgbouncer Service", async () => {
        const m = pgbouncerServiceMonitor({ ...meta, selector: pgbouncerLabels.selector });
        assert.deepEqual(await validateObject("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", m), []);
        const svc = serviceManifest("authentik", true);
        assert.ok(selectorMatches(m.spec.selector.matchLabels, svc.metadata.labels));
        assert.ok(svc.spec.ports.some((p) => p.name === "metrics" && p.port === 9127));
    });

    it("run the exporter as a pinned, hardened sidecar, as the stats-only user with no credential", async () => {
        const d = deploymentManifest({ namespace: "authentik", pgbouncer: config.pgbouncer, configMapName: "c", secretName: "pgbouncer-auth", caSecretName: "authentik-db-ca", configChecksum: checksum("x"), exporterImage: "prometheuscommunity/pgbouncer-exporter:v0.11.0" });
        assert.deepEqual(await validateObject("kubernetes:apps/v1:Deployment", d), []);
        const exporter = d.spec.template.spec.containers.find((c) => c.name === "exporter") as { env: unknown[]; securityContext: { readOnlyRootFilesystem: boolean } };
        assert.deepEqual(exporter.env, [{ name: "PGBOUNCER_EXPORTER_CONNECTION_STRING", value: "host=127.0.0.1 port=6432 dbname=pgbouncer user=pgbouncer_stats sslmode=disable" }]);
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

    it("records flow execution time in seconds (the upstream histogram reports nanoseconds)", () => {
        const rec = rules.find((r) => r.record === "authentik:flow_execution_duration_seconds:rate5m");
        assert.ok(rec);
        assert.match(rec.expr, new RegExp(`${FLOW_DURATION_METRIC}_sum.*${FLOW_DURATION_METRIC}_count.*/ 1e9$`));
    });

    it("leaves out groups whose targets are switched off", () => {
        const only = prometheusRule({ ...meta, config, jobs: { authentik: "authentik/authentik" } });
        assert.deepEqual(only.spec.groups.map((g) => g.name), ["authentik"]);
    });
});
