/**
 * The end-to-end stack of the whole platform: the platform's program (createPlatform, the same
 * configuration schema and wiring as index.ts), run inline by the Automation API
 * (e2e/support/pulumi.ts), with changes a cluster without controllers or a chart repository needs,
 * made by a stack transform so production code and defaults stay as they are:
 * - nothing waits to become ready (`pulumi.com/skipAwait` on every Kubernetes object, and the Helm
 *   release neither waits nor rolls back): no controller or kubelet runs here, so nothing would;
 * - objects are deleted in the background (`pulumi.com/deletionPropagationPolicy`): a foreground
 *   deletion waits for the garbage collector, a controller that does not run here;
 * - the authentik chart comes from the packaged file `chart` (`helm pull` for real users), not from
 *   https://charts.goauthentik.io, and its install-time check reads the repository `chartRepo` (a
 *   loopback server holding that same file).
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../../../config/load";
import { createPlatform } from "../../../components/platform";

/** The program, installing the authentik chart from the packaged file `chart` (.tgz), checked against the repository `chartRepo`. */
export function programWithChart(chart: string, chartRepo: string): () => Promise<Record<string, unknown>> {
    return async () => {
        pulumi.runtime.registerResourceTransform((args) => {
            if (args.type.endsWith(":ChartProvenance")) return { props: { ...args.props, repo: chartRepo }, opts: args.opts };
            if (args.type === "kubernetes:helm.sh/v3:Release") {
                const props: Record<string, unknown> = { ...args.props, chart, skipAwait: true, atomic: false, waitForJobs: false };
                delete props.repositoryOpts;
                return { props, opts: args.opts };
            }
            if (!args.type.startsWith("kubernetes:") || !args.props.metadata) return undefined;
            const metadata = args.props.metadata as { annotations?: Record<string, string> };
            return {
                props: {
                    ...args.props,
                    metadata: {
                        ...metadata,
                        annotations: { ...metadata.annotations, "pulumi.com/skipAwait": "true", "pulumi.com/deletionPropagationPolicy": "background" },
                    },
                },
                opts: args.opts,
            };
        });
        return createPlatform(loadStackConfig()) as unknown as Record<string, unknown>;
    };
}
