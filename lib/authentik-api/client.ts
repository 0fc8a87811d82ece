/**
 * authentik's official client, constructed per call (never captured: dynamic providers are
 * serialized into state). Every request carries a timeout so a hung connection becomes a
 * transient failure the retry loop handles.
 */
import type * as Authentik from "@goauthentik/api";
import type { RetryPolicy } from "./retry";

export interface Connection {
    /** Base URL of authentik, e.g. https://auth.example.com (the API is under /api/v3). */
    url: string;
    token: string;
    policy: RetryPolicy;
}

export type Apis = ReturnType<typeof apisFor>;

export function apisFor(conn: Connection) {
    // Loaded here, not at import: only the dynamic-provider host calls this, and the package is
    // ~1000 modules that every `pulumi preview` would otherwise load for nothing.
    const { Configuration, CoreApi, CryptoApi, FlowsApi, OutpostsApi, PoliciesApi, PropertymappingsApi, ProvidersApi, RbacApi } =
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("@goauthentik/api") as typeof Authentik;
    const configuration = new Configuration({
        basePath: `${conn.url.replace(/\/+$/, "")}/api/v3`,
        accessToken: conn.token,
        fetchApi: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(conn.policy.requestTimeoutMs) }),
    });
    return {
        core: new CoreApi(configuration),
        providers: new ProvidersApi(configuration),
        policies: new PoliciesApi(configuration),
        outposts: new OutpostsApi(configuration),
        flows: new FlowsApi(configuration),
        propertyMappings: new PropertymappingsApi(configuration),
        crypto: new CryptoApi(configuration),
        rbac: new RbacApi(configuration),
        /** How long to back off; kinds that verify their own writes pause by it. */
        policy: conn.policy,
        /** Which authentik this is (keys the per-process caches). */
        baseUrl: conn.url,
    };
}
