/**
 * Where the outposts authentik deploys run, and what the worker may do in Kubernetes to deploy
 * them. Pure: plain config in, manifests out.
 *
 * authentik's worker reconciles each outpost on a Kubernetes service connection into the outpost's
 * `kubernetes_namespace` (authentik/outposts/controllers/k8s): a Secret with the outpost's token, a
 * Deployment, a Service, a ServiceMonitor, and for proxy outposts an Ingress, Traefik Middleware or
 * HTTPRoute. The chart's default grants all of that (Secrets included) in authentik's own
 * namespace, which also holds the database credentials, the CNPG CA and the backup keys. Here the
 * managed outposts get a namespace of their own and the worker a Role there; in authentik's
 * namespace it keeps only what the embedded outpost's Service and routes need (its Secret
 * reconciler is disabled: the embedded outpost runs inside the server and never reads it).
 */
import type { StackConfig } from "../../config";
import { appLabels } from "../../lib/k8s";

/** Verbs of authentik's controller on the objects it reconciles (the chart's api-verbs-rw). */
const RW = ["get", "create", "delete", "list", "patch"];

/** What the controller reconciles for a managed outpost (the chart's remote-cluster Role). */
const OUTPOST_RULES = [
    { apiGroups: [""], resources: ["secrets", "services", "configmaps"], verbs: RW },
    { apiGroups: ["apps"], resources: ["deployments"], verbs: RW },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: RW },
    { apiGroups: ["traefik.io", "traefik.containo.us"], resources: ["middlewares"], verbs: RW },
    { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: RW },
    { apiGroups: ["monitoring.coreos.com"], resources: ["servicemonitors"], verbs: RW },
];

/** The embedded outpost's objects: a Service over the server pods and its routes; no Secret, no Deployment. */
const EMBEDDED_RULES = [
    { apiGroups: [""], resources: ["services"], verbs: RW },
    { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: RW },
    { apiGroups: ["traefik.io", "traefik.containo.us"], resources: ["middlewares"], verbs: RW },
    { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: RW },
    { apiGroups: ["monitoring.coreos.com"], resources: ["servicemonitors"], verbs: RW },
];

/** Components of the embedded outpost authentik must not reconcile (kubernetes_disabled_components). */
export const EMBEDDED_DISABLED_COMPONENTS = ["secret"];

/** Whether managed outposts run apart from authentik (the default), or in its namespace (opt-out). */
export function outpostsApart(c: StackConfig): boolean {
    return c.outposts.namespace !== c.namespace;
}

/** The worker's own service account, when the chart's (with its Role over authentik's namespace) is not used. */
export function workerServiceAccountName(releaseName: string): string {
    return `${releaseName}-worker`;
}

/**
 * The worker's Kubernetes access: its service account, a Role in the outposts' namespace, a
 * reduced Role in authentik's, and the cluster-wide CRD listing the controller does to find
 * Traefik, Gateway API and Prometheus Operator. Empty when outposts share authentik's namespace:
 * the chart's own service account and Role are used then.
 */
export function outpostAccessManifests(c: StackConfig) {
    if (!outpostsApart(c)) return [];
    const release = c.authentik.releaseName;
    const account = workerServiceAccountName(release);
    const labels = appLabels("authentik", "worker").all;
    const subject = [{ kind: "ServiceAccount", name: account, namespace: c.namespace }];
    const role = (name: string, namespace: string, rules: object[]) => [
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace, labels }, rules },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name, namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
            subjects: subject,
        },
    ];
    const clusterName = `${release}-${c.namespace}-outpost-controller`;
    return [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: account, namespace: c.namespace, labels } },
        ...role(`${release}-outposts`, c.outposts.namespace, OUTPOST_RULES),
        ...role(`${release}-embedded-outpost`, c.namespace, EMBEDDED_RULES),
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: clusterName, labels },
            rules: [{ apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["list"] }],
        },
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name: clusterName, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
            subjects: subject,
        },
    ];
}
