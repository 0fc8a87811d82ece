/**
 * What the stack configuration implies for authentik's Ingress: its TLS secret, the URLs users and
 * in-cluster clients reach authentik at, and the annotations that keep the login pages on HTTPS
 * only (with the extra annotations that would undo it). Pure; the release's values and the config
 * rules both read them.
 */
import type { StackConfig } from "./stack";

/** TLS secret for the authentik host: the configured one, or `<release>-tls` when cert-manager issues it. */
export function tlsSecretName(c: StackConfig): string | undefined {
    const ing = c.authentik.ingress;
    return ing.tlsSecret ?? (ing.clusterIssuer ? `${c.authentik.releaseName}-tls` : undefined);
}

/** HSTS for the login pages: a Traefik headers Middleware the release's Ingress refers to. */
export function hstsMiddlewareName(c: StackConfig): string {
    return `${c.authentik.releaseName}-hsts`;
}

/** Whether the Ingress is served by Traefik (by its class name). */
export function isTraefik(c: StackConfig): boolean {
    return /traefik/i.test(c.authentik.ingress.className ?? "");
}

/**
 * Login pages only over HTTPS. Traefik serves a router on every entrypoint unless told otherwise,
 * so plain HTTP would answer too: pin the TLS entrypoint and add HSTS. ingress-nginx redirects to
 * HTTPS and sends HSTS by default once TLS is set; say it anyway.
 */
export function httpsOnlyAnnotations(c: StackConfig): Record<string, string> {
    if (!tlsSecretName(c)) return {};
    if (isTraefik(c)) {
        return {
            "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
            "traefik.ingress.kubernetes.io/router.tls": "true",
            "traefik.ingress.kubernetes.io/router.middlewares": `${c.namespace}-${hstsMiddlewareName(c)}@kubernetescrd`,
        };
    }
    if (/nginx/i.test(c.authentik.ingress.className ?? "")) return { "nginx.ingress.kubernetes.io/force-ssl-redirect": "true" };
    return {};
}

/** The Ingress's annotations as applied: the issuer, the HTTPS-only ones, then the operator's extras. */
export function ingressAnnotations(c: StackConfig): Record<string, string> {
    const ing = c.authentik.ingress;
    return { ...(ing.clusterIssuer ? { "cert-manager.io/cluster-issuer": ing.clusterIssuer } : {}), ...httpsOnlyAnnotations(c), ...ing.annotations };
}

const NGINX_REDIRECTS = ["nginx.ingress.kubernetes.io/force-ssl-redirect", "nginx.ingress.kubernetes.io/ssl-redirect"];
const TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares";

/**
 * The extra annotations (authentik.ingress.annotations) that would undo HTTPS-only, each with what
 * to write instead. An extra middleware is fine when the HSTS one stays in the list.
 */
export function httpsOnlyOverrides(c: StackConfig): { annotation: string; value: string; problem: string; fix: string }[] {
    const ours = httpsOnlyAnnotations(c);
    const extra = c.authentik.ingress.annotations;
    const plainHttp = "would let authentik's login pages answer over plain HTTP (it overrides the program's HTTPS-only annotation)";
    const out: { annotation: string; value: string; problem: string; fix: string }[] = [];
    for (const [annotation, value] of Object.entries(extra)) {
        if (annotation === TRAEFIK_MIDDLEWARES && ours[annotation]) {
            if (
                !value
                    .split(",")
                    .map((m) => m.trim())
                    .includes(ours[annotation])
            ) {
                out.push({
                    annotation,
                    value,
                    problem: "drops the HSTS middleware the program sets, so browsers may go back to plain HTTP",
                    fix: `keep it in the list: "${ours[annotation]},${value}"`,
                });
            }
        } else if (ours[annotation] !== undefined && ours[annotation] !== value) {
            out.push({ annotation, value, problem: plainHttp, fix: `remove it: the program sets "${ours[annotation]}" for HTTPS only` });
        } else if (ours[annotation] === undefined && tlsSecretName(c) && NGINX_REDIRECTS.includes(annotation) && value !== "true") {
            out.push({ annotation, value, problem: plainHttp, fix: "remove it: ingress-nginx redirects to HTTPS once TLS is set" });
        }
    }
    return out;
}

/** Whether the final annotations serve the login pages over HTTPS only, and how; undefined when not. */
export function httpsOnlyBy(c: StackConfig): string | undefined {
    if (!tlsSecretName(c)) return undefined;
    const final = ingressAnnotations(c);
    if (isTraefik(c)) {
        const entrypoints = (final["traefik.ingress.kubernetes.io/router.entrypoints"] ?? "").split(",").map((e) => e.trim());
        const hsts = (final[TRAEFIK_MIDDLEWARES] ?? "")
            .split(",")
            .map((m) => m.trim())
            .includes(httpsOnlyAnnotations(c)[TRAEFIK_MIDDLEWARES]);
        return entrypoints.length === 1 && entrypoints[0] === "websecure" && final["traefik.ingress.kubernetes.io/router.tls"] === "true" && hsts
            ? "Traefik websecure entrypoint, HSTS"
            : undefined;
    }
    if (/nginx/i.test(c.authentik.ingress.className ?? ""))
        return NGINX_REDIRECTS.every((a) => final[a] === undefined || final[a] === "true") ? "ingress-nginx redirects to HTTPS" : undefined;
    return undefined;
}

/** The URL users reach authentik at. */
export function authentikUrl(c: StackConfig): string {
    return `${tlsSecretName(c) ? "https" : "http"}://${c.authentik.host}`;
}

/** The in-cluster URL of the server Service (what in-cluster clients use; FQDN). */
export function serverServiceUrl(c: StackConfig): string {
    return `http://${c.authentik.releaseName}-server.${c.namespace}.svc.cluster.local`;
}
