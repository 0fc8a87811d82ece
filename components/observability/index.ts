/**
 * Monitoring of the platform: the authentik PodMonitor, the PgBouncer ServiceMonitor and the
 * PrometheusRule. Each part is switchable in the `observability` config.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { StackConfig } from "../../config";
import { authentikPodMonitor, pgbouncerServiceMonitor, prometheusRule } from "./manifests";

export interface ObservabilityArgs {
    /** The `observability` section of the stack config: which monitors and rules, and their labels. */
    observability: StackConfig["observability"];
    /** Namespace of the platform: the monitors and rules live there, and it names their jobs. */
    namespace: string;
    /** The authentik release's name: its pods' monitor, job and Deployments. */
    releaseName: string;
    /** Where authentik deploys its outposts (their memory alert). */
    outpostsNamespace: string;
    /** PgBouncer's `default_pool_size` per pod (the saturation alert). */
    pgbouncerPoolSize: number;
    /** The CNPG cluster's name when it has a PodMonitor (its alerts' job); unset: no database rules. */
    databaseMonitor?: string;
    /** Labels of the PgBouncer Service (for its ServiceMonitor). */
    pgbouncerSelector: Record<string, string>;
    /** Monitors start after what they watch. */
    dependsOn?: pulumi.Resource[];
}

export class Observability extends pulumi.ComponentResource {
    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:observability:Observability", name, {}, opts);
        const o = args.observability;
        const meta = { namespace: args.namespace, labels: o.labels };
        const child = { parent: this, dependsOn: args.dependsOn };
        const job = (monitor: string) => `${args.namespace}/${monitor}`;

        if (o.authentikPodMonitor) {
            new k8s.apiextensions.CustomResource(`${name}-authentik`, authentikPodMonitor({ ...meta, releaseName: args.releaseName }), child);
        }
        if (o.pgbouncerExporter.enabled) {
            new k8s.apiextensions.CustomResource(`${name}-pgbouncer`, pgbouncerServiceMonitor({ ...meta, selector: args.pgbouncerSelector }), child);
        }
        if (o.rules) {
            const rule = prometheusRule({
                ...meta,
                releaseName: args.releaseName,
                outpostsNamespace: args.outpostsNamespace,
                pgbouncerPoolSize: args.pgbouncerPoolSize,
                jobs: {
                    authentik: job(args.releaseName),
                    pgbouncer: o.pgbouncerExporter.enabled ? job("pgbouncer") : undefined,
                    database: args.databaseMonitor ? job(args.databaseMonitor) : undefined,
                },
            });
            new k8s.apiextensions.CustomResource(`${name}-rules`, rule, child);
        }
        this.registerOutputs({});
    }
}
