/**
 * The authentik object kinds the engine manages, each a small descriptor over the official
 * client's typed methods. The engine (provider.ts) is generic: find by natural key, create,
 * retrieve, replace (PUT, never PATCH: a proxy-provider PATCH without `mode` is rejected), destroy.
 * References by slug or name (flows, scope mappings, certificates, service connections) are
 * resolved here, at apply time, so a preview needs no API access.
 */
import type { Apis } from "./client";
import { PermanentError } from "./retry";

/** What the API returns for an object: its id and the fields it holds (camelCase, as the client models them). */
export type Remote = Record<string, unknown>;
type Body = Record<string, unknown>;
type Spec = Record<string, unknown>;

export interface KindSpec {
    /** Natural key shown in messages and used to find an object again (adopt, retried creates). */
    naturalKey(spec: Spec): string;
    find(api: Apis, spec: Spec): Promise<Remote | undefined>;
    /** The request body for `spec`, references resolved. */
    body(api: Apis, spec: Spec): Promise<Body>;
    create(api: Apis, body: Body): Promise<Remote>;
    retrieve(api: Apis, id: string): Promise<Remote>;
    update(api: Apis, id: string, body: Body): Promise<Remote>;
    destroy(api: Apis, id: string, spec: Spec): Promise<void>;
    idOf(remote: Remote): string;
    /** Extra outputs besides `pk` (e.g. an OAuth2 client id). */
    outputs?(remote: Remote): Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// References, resolved inside the provider
// ---------------------------------------------------------------------------------------------

async function only<T>(what: string, results: T[]): Promise<T> {
    if (results.length !== 1) throw new PermanentError(`${what}: expected one match in authentik, found ${results.length}`);
    return results[0];
}

export async function flowPk(api: Apis, slug: string): Promise<string> {
    const { results } = await api.flows.flowsInstancesList({ slug });
    return (await only(`flow "${slug}"`, results.filter((f) => f.slug === slug))).pk;
}

export async function scopeMappingPks(api: Apis, scopes: string[]): Promise<string[]> {
    if (scopes.length === 0) return [];
    const managed = scopes.map((scope) => `goauthentik.io/providers/oauth2/scope-${scope}`);
    const { results } = await api.propertyMappings.propertymappingsProviderScopeList({ managed });
    return Promise.all(managed.map(async (id) => (await only(`scope mapping ${id}`, results.filter((m) => m.managed === id))).pk));
}

export async function certificatePk(api: Apis, name: string): Promise<string> {
    const { results } = await api.crypto.cryptoCertificatekeypairsList({ name });
    return (await only(`certificate "${name}"`, results.filter((c) => c.name === name))).pk;
}

async function serviceConnectionPk(api: Apis, name: string): Promise<string> {
    const { results } = await api.outposts.outpostsServiceConnectionsKubernetesList({ name });
    return (await only(`Kubernetes service connection "${name}"`, results.filter((c) => c.name === name))).pk;
}

/** Optional string fields: absent stays absent in the body. */
function present<T extends Record<string, unknown>>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

const s = (v: unknown) => v as string;

// ---------------------------------------------------------------------------------------------
// Providers (names are unique across all provider kinds)
// ---------------------------------------------------------------------------------------------

async function providerFlows(api: Apis, spec: Spec) {
    return {
        authorizationFlow: await flowPk(api, s(spec.authorizationFlow)),
        invalidationFlow: await flowPk(api, s(spec.invalidationFlow)),
    };
}

const byName = (spec: Spec) => s(spec.name);
const pkOf = (r: Remote) => String(r.pk);

export const kinds: Record<string, KindSpec> = {
    ProxyProvider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersProxyList({ nameIexact: s(spec.name) });
            return results[0] as unknown as Remote | undefined;
        },
        async body(api, spec) {
            return present({
                name: spec.name,
                ...(await providerFlows(api, spec)),
                // Always sent: a missing mode means "proxy", which needs internal_host.
                mode: spec.mode,
                externalHost: spec.externalHost,
                internalHost: spec.internalHost,
                internalHostSslValidation: spec.internalHostSslValidation,
                cookieDomain: spec.cookieDomain,
                skipPathRegex: spec.skipPathRegex,
                accessTokenValidity: spec.accessTokenValidity,
            });
        },
        create: async (api, body) => (await api.providers.providersProxyCreate({ proxyProviderRequest: body as never })) as unknown as Remote,
        retrieve: async (api, id) => (await api.providers.providersProxyRetrieve({ id: Number(id) })) as unknown as Remote,
        update: async (api, id, body) => (await api.providers.providersProxyUpdate({ id: Number(id), proxyProviderRequest: body as never })) as unknown as Remote,
        destroy: async (api, id) => api.providers.providersProxyDestroy({ id: Number(id) }),
        idOf: pkOf,
    },
    OAuth2Provider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersOauth2List({ name: s(spec.name) });
            return results.find((r) => r.name === spec.name) as unknown as Remote | undefined;
        },
        async body(api, spec) {
            return present({
                name: spec.name,
                ...(await providerFlows(api, spec)),
                clientType: spec.clientType,
                clientId: spec.clientId,
                clientSecret: spec.clientSecret,
                redirectUris: spec.redirectUris,
                propertyMappings: await scopeMappingPks(api, (spec.scopes as string[]) ?? []),
                signingKey: spec.signingKey ? await certificatePk(api, s(spec.signingKey)) : undefined,
                subMode: spec.subMode,
                includeClaimsInIdToken: spec.includeClaimsInIdToken,
            });
        },
        create: async (api, body) => (await api.providers.providersOauth2Create({ oAuth2ProviderRequest: body as never })) as unknown as Remote,
        retrieve: async (api, id) => (await api.providers.providersOauth2Retrieve({ id: Number(id) })) as unknown as Remote,
        update: async (api, id, body) => (await api.providers.providersOauth2Update({ id: Number(id), oAuth2ProviderRequest: body as never })) as unknown as Remote,
        destroy: async (api, id) => api.providers.providersOauth2Destroy({ id: Number(id) }),
        idOf: pkOf,
        outputs: (r) => ({ clientId: r.clientId }),
    },
    RadiusProvider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersRadiusList({ nameIexact: s(spec.name) });
            return results[0] as unknown as Remote | undefined;
        },
        async body(api, spec) {
            return present({
                name: spec.name,
                ...(await providerFlows(api, spec)),
                clientNetworks: spec.clientNetworks,
                sharedSecret: spec.sharedSecret,
                mfaSupport: spec.mfaSupport,
            });
        },
        create: async (api, body) => (await api.providers.providersRadiusCreate({ radiusProviderRequest: body as never })) as unknown as Remote,
        retrieve: async (api, id) => (await api.providers.providersRadiusRetrieve({ id: Number(id) })) as unknown as Remote,
        update: async (api, id, body) => (await api.providers.providersRadiusUpdate({ id: Number(id), radiusProviderRequest: body as never })) as unknown as Remote,
        destroy: async (api, id) => api.providers.providersRadiusDestroy({ id: Number(id) }),
        idOf: pkOf,
    },
    LdapProvider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersLdapList({ nameIexact: s(spec.name) });
            return results[0] as unknown as Remote | undefined;
        },
        async body(api, spec) {
            return present({
                name: spec.name,
                ...(await providerFlows(api, spec)),
                baseDn: spec.baseDn,
                searchMode: spec.searchMode,
                bindMode: spec.bindMode,
                mfaSupport: spec.mfaSupport,
            });
        },
        create: async (api, body) => (await api.providers.providersLdapCreate({ lDAPProviderRequest: body as never })) as unknown as Remote,
        retrieve: async (api, id) => (await api.providers.providersLdapRetrieve({ id: Number(id) })) as unknown as Remote,
        update: async (api, id, body) => (await api.providers.providersLdapUpdate({ id: Number(id), lDAPProviderRequest: body as never })) as unknown as Remote,
        destroy: async (api, id) => api.providers.providersLdapDestroy({ id: Number(id) }),
        idOf: pkOf,
    },
    Application: {
        naturalKey: (spec) => s(spec.slug),
        async find(api, spec) {
            const { results } = await api.core.coreApplicationsList({ slug: s(spec.slug), superuserFullList: true });
            return results.find((a) => a.slug === spec.slug) as unknown as Remote | undefined;
        },
        async body(_api, spec) {
            return present({
                name: spec.name,
                slug: spec.slug,
                provider: spec.provider === undefined ? undefined : Number(spec.provider),
                metaLaunchUrl: spec.metaLaunchUrl,
                metaIcon: spec.metaIcon,
                metaDescription: spec.metaDescription,
                group: spec.group,
                policyEngineMode: spec.policyEngineMode ?? "any",
            });
        },
        create: async (api, body) => (await api.core.coreApplicationsCreate({ applicationRequest: body as never })) as unknown as Remote,
        retrieve: async (api, slug) => (await api.core.coreApplicationsRetrieve({ slug })) as unknown as Remote,
        update: async (api, slug, body) => (await api.core.coreApplicationsUpdate({ slug, applicationRequest: body as never })) as unknown as Remote,
        destroy: async (api, slug) => api.core.coreApplicationsDestroy({ slug }),
        // Applications are addressed by slug; their pk (uuid) is what bindings target.
        idOf: (r) => s(r.slug),
        outputs: (r) => ({ uuid: r.pk }),
    },
    Group: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.core.coreGroupsList({ name: s(spec.name), includeUsers: false });
            return results.find((g) => g.name === spec.name) as unknown as Remote | undefined;
        },
        async body(_api, spec) {
            return present({ name: spec.name, isSuperuser: spec.isSuperuser ?? false, attributes: spec.attributes });
        },
        create: async (api, body) => (await api.core.coreGroupsCreate({ groupRequest: body as never })) as unknown as Remote,
        retrieve: async (api, id) => (await api.core.coreGroupsRetrieve({ groupUuid: id, includeUsers: false })) as unknown as Remote,
        update: async (api, id, body) => (await api.core.coreGroupsUpdate({ groupUuid: id, groupRequest: body as never })) as unknown as Remote,
        destroy: async (api, id) => api.core.coreGroupsDestroy({ groupUuid: id }),
        idOf: pkOf,
    },
    PolicyBinding: {
        naturalKey: (spec) => `${spec.target}/${spec.group}`,
        async find(api, spec) {
            const { results } = await api.policies.policiesBindingsList({ target: s(spec.target) });
            return results.find((b) => b.group === spec.group) as unknown as Remote | undefined;
        },
        async body(_api, spec) {
            return present({ target: spec.target, group: spec.group, order: spec.order, enabled: true, negate: false, timeout: 30 });
        },
        create: async (api, body) => (await api.policies.policiesBindingsCreate({ policyBindingRequest: body as never })) as unknown as Remote,
        retrieve: async (api, id) => (await api.policies.policiesBindingsRetrieve({ policyBindingUuid: id })) as unknown as Remote,
        update: async (api, id, body) => (await api.policies.policiesBindingsUpdate({ policyBindingUuid: id, policyBindingRequest: body as never })) as unknown as Remote,
        destroy: async (api, id) => api.policies.policiesBindingsDestroy({ policyBindingUuid: id }),
        idOf: pkOf,
    },
    Outpost: {
        naturalKey: (spec) => s(spec.managed ?? spec.name),
        async find(api, spec) {
            const query = spec.managed ? { managedIexact: s(spec.managed) } : { nameIexact: s(spec.name) };
            const { results } = await api.outposts.outpostsInstancesList(query);
            return results[0] as unknown as Remote | undefined;
        },
        async body(api, spec) {
            // config is replaced whole on every write: start from authentik's defaults, then ours.
            const defaults = (await api.outposts.outpostsInstancesDefaultSettingsRetrieve()).config as Record<string, unknown>;
            return present({
                name: spec.name,
                type: spec.type,
                providers: ((spec.providers as unknown[]) ?? []).map(Number),
                serviceConnection: spec.serviceConnection ? await serviceConnectionPk(api, s(spec.serviceConnection)) : undefined,
                config: { ...defaults, ...(spec.config as Record<string, unknown>) },
            });
        },
        create: async (api, body) => (await api.outposts.outpostsInstancesCreate({ outpostRequest: body as never })) as unknown as Remote,
        retrieve: async (api, id) => (await api.outposts.outpostsInstancesRetrieve({ uuid: id })) as unknown as Remote,
        update: async (api, id, body) => (await api.outposts.outpostsInstancesUpdate({ uuid: id, outpostRequest: body as never })) as unknown as Remote,
        async destroy(api, id, spec) {
            if (!spec.managed) return api.outposts.outpostsInstancesDestroy({ uuid: id });
            // authentik's own (embedded) outpost is never deleted: it is handed back with no providers.
            const current = await api.outposts.outpostsInstancesRetrieve({ uuid: id });
            await api.outposts.outpostsInstancesUpdate({
                uuid: id,
                outpostRequest: { name: current.name, type: current.type, providers: [], serviceConnection: current.serviceConnection, config: current.config },
            });
        },
        idOf: pkOf,
    },
};
