/**
 * What the stack config means in authentik objects. Pure: the component turns this into
 * resources, the tests check it without mocks.
 */
import type { StackConfig } from "../../config";
import { EMBEDDED_OUTPOST_MANAGED } from "../../lib/authentik-api/kinds";
import { resourceNames } from "../../lib/authentik-api/app";

export { INVALIDATION_FLOW, SIGNING_KEY, applicationSpec, oidcUrls, providerSpec, publishedApp, resourceNames } from "../../lib/authentik-api/app";

export type App = StackConfig["apps"][number];

/** The API retry policy from the stack config. */
export function retryPolicyOf(c: StackConfig) {
    return { deadlineMs: c.api.readyTimeoutSeconds * 1000, baseDelayMs: 1000, maxDelayMs: 15_000, requestTimeoutMs: c.api.requestTimeoutSeconds * 1000 };
}

export const EMBEDDED_OUTPOST = { name: "authentik Embedded Outpost", managed: EMBEDDED_OUTPOST_MANAGED } as const;
export const LOCAL_CLUSTER = "Local Kubernetes Cluster";
export const RADIUS_PORT = 1812;

/**
 * The patches on an outpost's Deployment: /dev/shm as a size-limited memory emptyDir (the seeds'
 * ENOSPC P0), Pod Security "restricted", no API token, requests and a memory limit. Every op `add`s
 * a whole value, so it is idempotent: authentik re-applies the patches to detect drift.
 */
export function outpostPatches(sizeLimit: string) {
    return {
        deployment: [
            { op: "add", path: "/spec/template/spec/volumes", value: [{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit } }] },
            { op: "add", path: "/spec/template/spec/containers/0/volumeMounts", value: [{ name: "dshm", mountPath: "/dev/shm" }] },
            // Pod Security "restricted" (the namespace enforces it) and no Kubernetes API token: an
            // outpost talks only to authentik. The outpost images run as uid 1000 too.
            {
                op: "add",
                path: "/spec/template/spec/securityContext",
                value: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
            },
            {
                op: "add",
                path: "/spec/template/spec/containers/0/securityContext",
                value: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
            // Requests and a limit that holds the memory-backed /dev/shm as well.
            { op: "add", path: "/spec/template/spec/containers/0/resources", value: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } } },
            { op: "add", path: "/spec/template/spec/automountServiceAccountToken", value: false },
        ],
    };
}

/** Config of an outpost authentik deploys into the cluster. */
export function managedOutpostConfig(args: {
    authentikUrl: string;
    namespace: string;
    replicas: number;
    shmSizeLimit: string;
    serviceType?: string;
    /** A LoadBalancer outpost (RADIUS): only these networks reach it, with their own source address kept. */
    clientNetworks?: string[];
}) {
    const loadBalancer =
        args.serviceType === "LoadBalancer" && args.clientNetworks
            ? {
                  // The cloud/MetalLB firewall admits only the NAS networks, and Local keeps the client's
                  // address (RADIUS checks it against client_networks; Cluster would SNAT it away).
                  service: [
                      { op: "add", path: "/spec/loadBalancerSourceRanges", value: args.clientNetworks },
                      { op: "add", path: "/spec/externalTrafficPolicy", value: "Local" },
                  ],
              }
            : {};
    return {
        authentik_host: args.authentikUrl,
        kubernetes_namespace: args.namespace,
        kubernetes_replicas: args.replicas,
        ...(args.serviceType ? { kubernetes_service_type: args.serviceType } : {}),
        kubernetes_json_patches: { ...outpostPatches(args.shmSizeLimit), ...loadBalancer },
    };
}

/**
 * The names an app's objects had under each slug in `renamedFrom`, per object, so a slug change
 * updates the same resources (Pulumi aliases) instead of creating new ones beside the old, which
 * collide with them on authentik's unique provider names.
 */
export function previousNames(app: Pick<App, "renamedFrom">) {
    const old = app.renamedFrom.map(resourceNames);
    return {
        provider: old.map((n) => n.provider),
        application: old.map((n) => n.application),
        secret: old.map((n) => n.secret),
        member: old.map((n) => n.member),
        binding: (group: string) => old.map((n) => n.binding(group)),
    };
}
