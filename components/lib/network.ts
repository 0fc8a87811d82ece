/**
 * NetworkPolicy building blocks shared by every tier. Pure. Each tier admits exactly its clients,
 * so a namespace with a default-deny policy still works; monitoring ports open only to the
 * monitoring namespace.
 */

/** A peer in another namespace, selected by the namespace's name label (set by Kubernetes itself). */
export function fromNamespace(namespace: string, podLabels?: Record<string, string>) {
    return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } }, ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}) };
}

export const tcp = (port: number) => ({ port, protocol: "TCP" as const });
export const udp = (port: number) => ({ port, protocol: "UDP" as const });

/** An ingress-only NetworkPolicy (egress stays open: these pods call the API server, object stores, SMTP). */
export function ingressPolicy(args: { name: string; namespace: string; labels: Record<string, string>; podSelector: Record<string, string>; ingress: { from: object[]; ports: object[] }[] }) {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: { podSelector: { matchLabels: args.podSelector }, policyTypes: ["Ingress"], ingress: args.ingress },
    };
}
