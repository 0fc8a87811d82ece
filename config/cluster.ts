/** Where the platform lives in the cluster: its namespace, taken-over objects, network policies and monitoring. */
import { IMPORTABLE_KINDS, IMPORT_ENTRY } from "../lib/imports";
import { bool, list, obj, oneOf, record, str } from "./schema";
import { dnsName, image } from "./fields";

export const namespaceFields = {
    namespace: dnsName("Namespace for the database, PgBouncer and authentik.", "authentik"),
    createNamespace: bool({
        doc: "Create (and protect) the namespace. False when it is managed elsewhere.",
        default: true,
    }),
    podSecurity: oneOf(["restricted", "baseline", "privileged"] as const, {
        doc: "Pod Security Standard the namespace enforces (pod-security.kubernetes.io/enforce, when the program creates it). Every pod here meets restricted, managed outposts through their patches.",
        default: "restricted",
    }),
    import: list(
        str({
            doc: "an object",
            pattern: IMPORT_ENTRY,
            patternText: `<Kind>/<namespace>/<name> (or Namespace/<name>), Kind one of ${IMPORTABLE_KINDS.join(", ")}`,
        }),
        {
            doc: "Kubernetes objects that already exist (made by the Terraform stack) and are taken over by the first `pulumi up` instead of created: each gets Pulumi's import option. Names must be the ones this program gives them; the plan shows each as `import`.",
        },
    ),
};

export const networkPolicies = obj(
    {
        enabled: bool({
            doc: "NetworkPolicies: a default deny (both ways) in each namespace the program creates, then every tier's: PgBouncer (only authentik in; only the database and DNS out), the CNPG instances (PgBouncer, each other, the operator in; each other, DNS, the API server and the object store out), authentik (the ingress controller and outposts in), managed outposts (the ingress controller, RADIUS clients in; RADIUS out only to DNS and authentik), and every metrics port from the monitoring namespace only.",
            default: true,
        }),
        ingressNamespace: dnsName("Namespace of the ingress controller (Traefik on k3s: kube-system).", "kube-system"),
        monitoringNamespace: dnsName("Namespace Prometheus scrapes from.", "monitoring"),
        apiClientNamespaces: list(dnsName("A namespace."), {
            doc: "Namespaces whose pods may call authentik's server directly (a self-hosted CI runner using the in-cluster api.url); through the ingress needs none.",
        }),
    },
    { doc: "Who may reach what, inside the cluster." },
);

export const observability = obj(
    {
        labels: record(str({ doc: "value" }), {
            doc: "Labels on every monitor and rule, so your Prometheus selects them (e.g. release: kube-prometheus-stack).",
        }),
        authentikPodMonitor: bool({ doc: "PodMonitor for authentik server and worker metrics (port 9300).", default: true }),
        pgbouncerExporter: obj(
            {
                enabled: bool({ doc: "pgbouncer-exporter sidecar and its ServiceMonitor.", default: true }),
                image: image("Exporter image.", "prometheuscommunity/pgbouncer-exporter:v0.11.0"),
            },
            { doc: "PgBouncer metrics." },
        ),
        rules: bool({ doc: "PrometheusRule with the platform's alerts and recording rules.", default: true }),
    },
    { doc: "Prometheus Operator objects (ServiceMonitor/PodMonitor/PrometheusRule)." },
);
