/**
 * Monitoring of the platform: the authentik PodMonitor, the PgBouncer ServiceMonitor and the
 * PrometheusRule. Each part is switchable in the `observability` config.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { StackConfig } from "../../config";
import { authentikPodMonitor, pgbouncerServiceMonitor, prometheusRule } from "./manifests";

export interface ObservabilityArgs {
    /** The stack configuration: the observability section, and the namespaces and workloads the monitors and rules watch. */
    config: StackConfig;
    /** Labels of the PgBouncer Service (for its ServiceMonitor). */
    pgbouncerSelector: Record<string, string>;
    /** Monitors start after what they watch. */
    dependsOn?: pulumi.Resource[];
}

export class Observability extends pulumi.ComponentResource {
    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:observability:Observability", name, {}, opts);
        const c = args.config;
        const o = c.observability;
        const meta = { namespace: c.namespace, labels: o.labels };
        const child = { parent: this, dependsOn: args.dependsOn };
        const job = (monitor: string) => `${c.namespace}/${monitor}`;

        if (o.authentikPodMonitor) {
            new k8s.apiextensions.CustomResource(`${name}-authentik`, authentikPodMonitor({ ...meta, releaseName: c.authentik.releaseName }), child);
        }
        if (o.pgbouncerExporter.enabled) {
            new k8s.apiextensions.CustomResource(`${name}-pgbouncer`, pgbouncerServiceMonitor({ ...meta, selector: args.pgbouncerSelector }), child);
        }
        if (o.rules) {
            const rule = prometheusRule({
                ...meta,
                config: c,
                jobs: {
                    authentik: job(c.authentik.releaseName),
                    pgbouncer: o.pgbouncerExporter.enabled ? job("pgbouncer") : undefined,
                    database: c.database.podMonitor ? job(c.database.name) : undefined,
                },
            });
            new k8s.apiextensions.CustomResource(`${name}-rules`, rule, child);
        }
        this.registerOutputs({});
    }
}
