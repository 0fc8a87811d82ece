/**
 * NetworkPolicy building blocks shared by every tier. Pure. Each namespace the program owns denies
 * everything by default (defaultDenyPolicy); each tier then admits exactly its clients and reaches
 * exactly what it needs; monitoring ports open only to the monitoring namespace.
 */

/** A peer in another namespace, selected by the namespace's name label (set by Kubernetes itself). */
export function fromNamespace(namespace: string, podLabels?: Record<string, string>) {
    return {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}),
    };
}

export const tcp = (port: number) => ({ port, protocol: "TCP" as const });
export const udp = (port: number) => ({ port, protocol: "UDP" as const });

type Rule = { from?: object[]; to?: object[]; ports?: object[] };

/** A NetworkPolicy for the pods `podSelector` selects: ingress rules, and egress rules when given (else egress stays as other policies leave it). */
export function networkPolicy(args: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    podSelector: Record<string, string>;
    ingress: Rule[];
    egress?: Rule[];
}) {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: {
            podSelector: { matchLabels: args.podSelector },
            policyTypes: args.egress ? ["Ingress", "Egress"] : ["Ingress"],
            ingress: args.ingress,
            ...(args.egress ? { egress: args.egress } : {}),
        },
    };
}

/** Every pod of `namespace` isolated both ways: only what another policy allows gets in or out. */
export function defaultDenyPolicy(namespace: string, labels: Record<string, string>) {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default-deny", namespace, labels },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    };
}

/** Any pod in any namespace, and any address outside the cluster (how CNIs treat pod IPs in ipBlock varies, so both). */
export const ANYWHERE = [{ namespaceSelector: {} }, { ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];

/** Cluster DNS (CoreDNS, labelled k8s-app: kube-dns on k3s and kubeadm alike). */
export const DNS_EGRESS: Rule = { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [udp(53), tcp(53)] };

/** The Kubernetes API server: a Service IP that kube-proxy turns into the nodes' 6443, so both ports, to any address. */
export const KUBE_API_EGRESS: Rule = { to: ANYWHERE, ports: [tcp(443), tcp(6443)] };
