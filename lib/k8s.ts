/** Small Kubernetes naming helpers and annotations shared by every component and the policy pack. Pure. */

/**
 * Marks a Deployment critical: the policy pack (policy/rules.ts) then demands replicas and a
 * PodDisruptionBudget that keeps serving.
 */
export const CRITICAL_ANNOTATION = "policy.homelab.io/critical";

/** Full in-cluster DNS name of a Service: always `svc.ns.svc.cluster.local` (short names broke the seeds). */
export function serviceFqdn(service: string, namespace: string): string {
    return `${service}.${namespace}.svc.cluster.local`;
}

/** Standard labels: `selector` is the subset used in selectors, `all` adds the informational ones. */
export function appLabels(name: string, component: string): { selector: Record<string, string>; all: Record<string, string> } {
    const selector = { "app.kubernetes.io/name": name, "app.kubernetes.io/component": component };
    return {
        selector,
        all: { ...selector, "app.kubernetes.io/part-of": "authentik-platform", "app.kubernetes.io/managed-by": "pulumi" },
    };
}

/** True when every key/value of `selector` is present in `labels` (a selector that matches nothing is a bug). */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Pod Security admission labels of a namespace: enforce the level, and warn and audit at it too. */
export function podSecurityLabels(level: "restricted" | "baseline" | "privileged"): Record<string, string> {
    return Object.fromEntries(["enforce", "warn", "audit"].map((mode) => [`pod-security.kubernetes.io/${mode}`, level]));
}
