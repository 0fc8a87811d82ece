/**
 * One protected app as authentik objects: its provider's kind and spec, its application's spec, and
 * the Pulumi resource names of its objects. Pure and free of the stack config's module, so the
 * published ProtectedApp package (packages/protected-app) carries it as it is.
 */

export const INVALIDATION_FLOW = "default-provider-invalidation-flow";
export const SIGNING_KEY = "authentik Self-signed Certificate";

/** What an app needs to become authentik objects (a stack config `apps` entry is one). */
export interface AppInput {
    name: string;
    slug: string;
    mode: "forward_single" | "forward_domain" | "proxy" | "oidc";
    host: string;
    upstream?: string;
    cookieDomain?: string;
    clientId?: string;
    clientType: "confidential" | "public";
    redirectUris: string[];
    scopes: string[];
    launchUrl?: string;
    icon?: string;
    description?: string;
    authorizationFlow: string;
}

/**
 * The provider kind and spec of an app (references by slug/name; secrets filled by the component).
 * `application` names the app it serves: when the app changes kind, the engine recognises the old
 * provider by it and renames it out of the new one's way (provider names are unique across kinds).
 */
export function providerSpec(app: AppInput): { kind: "ProxyProvider" | "OAuth2Provider"; spec: Record<string, unknown> } {
    const flows = { authorizationFlow: app.authorizationFlow, invalidationFlow: INVALIDATION_FLOW, application: app.slug };
    if (app.mode === "oidc") {
        return {
            kind: "OAuth2Provider",
            spec: {
                name: app.name,
                ...flows,
                clientType: app.clientType,
                clientId: app.clientId ?? app.slug,
                redirectUris: app.redirectUris.map((uri) =>
                    uri.startsWith("regex:") ? { matchingMode: "regex", url: uri.slice("regex:".length) } : { matchingMode: "strict", url: uri },
                ),
                scopes: app.scopes,
                signingKey: SIGNING_KEY,
            },
        };
    }
    return {
        kind: "ProxyProvider",
        spec: {
            name: app.name,
            ...flows,
            mode: app.mode,
            // forward_domain: the external host is the auth URL; the cookie covers the parent domain.
            externalHost: `https://${app.host}`,
            ...(app.upstream ? { internalHost: app.upstream } : {}),
            ...(app.cookieDomain ? { cookieDomain: app.cookieDomain } : {}),
        },
    };
}

export function applicationSpec(app: AppInput): Record<string, unknown> {
    return {
        name: app.name,
        slug: app.slug,
        metaLaunchUrl: app.launchUrl ?? `https://${app.host}/`,
        ...(app.icon ? { metaIcon: app.icon } : {}),
        ...(app.description ? { metaDescription: app.description } : {}),
        policyEngineMode: "any",
    };
}

/** Deterministic Pulumi resource names for an app's objects (stable URNs: keyed by slug). */
export function resourceNames(slug: string) {
    return {
        provider: `app-${slug}-provider`,
        application: `app-${slug}`,
        secret: `app-${slug}-client-secret`,
        member: `app-${slug}-on-outpost`,
        binding: (group: string) => `app-${slug}-allow-${group}`,
    };
}

/** OIDC endpoints of an app (authentik's per-provider issuer). */
export function oidcUrls(authentikUrl: string, slug: string) {
    const issuer = `${authentikUrl}/application/o/${slug}/`;
    return {
        issuer,
        discovery: `${issuer}.well-known/openid-configuration`,
        authorize: `${authentikUrl}/application/o/authorize/`,
        token: `${authentikUrl}/application/o/token/`,
        userinfo: `${authentikUrl}/application/o/userinfo/`,
    };
}

/**
 * What a stack publishes about an app (an entry of the platform's `apps` output, or a ProtectedApp's
 * `outputs`): its mode and URL; for the proxy modes the provider and the outpost serving it; for
 * OIDC the client id and the issuer's endpoints.
 */
export function publishedApp(app: AppInput, provider: { pk: string; clientId?: string }, args: { authentikUrl: string; outpost?: string }) {
    const { kind, spec } = providerSpec(app);
    const urls = oidcUrls(args.authentikUrl, app.slug);
    return {
        mode: app.mode,
        url: String(applicationSpec(app).metaLaunchUrl),
        ...(args.outpost ? { providerId: provider.pk, outpost: args.outpost } : {}),
        ...(kind === "OAuth2Provider" ? { clientId: provider.clientId ?? String(spec.clientId), issuer: urls.issuer, discovery: urls.discovery } : {}),
    };
}
