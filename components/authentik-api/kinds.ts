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

/**
 * The result whose `field` is exactly `value`. authentik's names are case-sensitive, while the
 * list filters some kinds offer are case-insensitive (`name__iexact`): never take results[0].
 */
function exactly(results: unknown[], field: string, value: unknown): Remote | undefined {
    return (results as Remote[]).find((r) => r[field] === value);
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

type Method = (params: Record<string, unknown>) => Promise<unknown>;

/**
 * create/retrieve/update/destroy over the client's uniform naming: `<prefix>Create({<requestKey>})`,
 * `<prefix>Retrieve({<idParam>})`, `<prefix>Update({<idParam>, <requestKey>})`, `<prefix>Destroy`.
 * Updates are PUTs (the whole object), never PATCHes.
 */
function crud(
    group: keyof Apis,
    prefix: string,
    requestKey: string,
    idParam: string,
    toId: (id: string) => unknown = (id) => id,
): Pick<KindSpec, "create" | "retrieve" | "update"> & { destroy(api: Apis, id: string): Promise<void> } {
    const method = (api: Apis, verb: string): Method => {
        const client = api[group] as unknown as Record<string, Method>;
        const fn = client[`${prefix}${verb}`];
        if (typeof fn !== "function") throw new PermanentError(`@goauthentik/api has no ${group}.${prefix}${verb}`);
        return fn.bind(client);
    };
    return {
        create: async (api, body) => (await method(api, "Create")({ [requestKey]: body })) as Remote,
        retrieve: async (api, id) => (await method(api, "Retrieve")({ [idParam]: toId(id) })) as Remote,
        update: async (api, id, body) => (await method(api, "Update")({ [idParam]: toId(id), [requestKey]: body })) as Remote,
        destroy: async (api, id) => {
            await method(api, "Destroy")({ [idParam]: toId(id) });
        },
    };
}

const outpostCrud = crud("outposts", "outpostsInstances", "outpostRequest", "uuid");

/** Providers are addressed by an integer pk. */
const providerCrud = (prefix: string, requestKey: string) => crud("providers", prefix, requestKey, "id", Number);

export const kinds: Record<string, KindSpec> = {
    ProxyProvider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersProxyList({ nameIexact: s(spec.name) });
            return exactly(results, "name", spec.name);
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
        ...providerCrud("providersProxy", "proxyProviderRequest"),
        idOf: pkOf,
    },
    OAuth2Provider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersOauth2List({ name: s(spec.name) });
            return exactly(results, "name", spec.name);
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
        ...providerCrud("providersOauth2", "oAuth2ProviderRequest"),
        idOf: pkOf,
        outputs: (r) => ({ clientId: r.clientId }),
    },
    RadiusProvider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersRadiusList({ nameIexact: s(spec.name) });
            return exactly(results, "name", spec.name);
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
        ...providerCrud("providersRadius", "radiusProviderRequest"),
        idOf: pkOf,
    },
    LdapProvider: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.providers.providersLdapList({ nameIexact: s(spec.name) });
            return exactly(results, "name", spec.name);
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
        ...providerCrud("providersLdap", "lDAPProviderRequest"),
        idOf: pkOf,
    },
    Application: {
        naturalKey: (spec) => s(spec.slug),
        async find(api, spec) {
            const { results } = await api.core.coreApplicationsList({ slug: s(spec.slug), superuserFullList: true });
            return exactly(results, "slug", spec.slug);
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
        ...crud("core", "coreApplications", "applicationRequest", "slug"),
        // Applications are addressed by slug; their pk (uuid) is what bindings target.
        idOf: (r) => s(r.slug),
        outputs: (r) => ({ uuid: r.pk }),
    },
    Group: {
        naturalKey: byName,
        async find(api, spec) {
            const { results } = await api.core.coreGroupsList({ name: s(spec.name), includeUsers: false });
            return exactly(results, "name", spec.name);
        },
        async body(_api, spec) {
            return present({ name: spec.name, isSuperuser: spec.isSuperuser ?? false, attributes: spec.attributes });
        },
        ...crud("core", "coreGroups", "groupRequest", "groupUuid"),
        idOf: pkOf,
    },
    PolicyBinding: {
        naturalKey: (spec) => `${spec.target}/${spec.group}`,
        async find(api, spec) {
            const { results } = await api.policies.policiesBindingsList({ target: s(spec.target) });
            return exactly(results, "group", spec.group);
        },
        async body(_api, spec) {
            return present({ target: spec.target, group: spec.group, order: spec.order, enabled: true, negate: false, timeout: 30 });
        },
        ...crud("policies", "policiesBindings", "policyBindingRequest", "policyBindingUuid"),
        idOf: pkOf,
    },
    Outpost: {
        naturalKey: (spec) => s(spec.managed ?? spec.name),
        async find(api, spec) {
            const [field, value] = spec.managed ? ["managed", spec.managed] : ["name", spec.name];
            const { results } = await api.outposts.outpostsInstancesList(field === "managed" ? { managedIexact: s(value) } : { nameIexact: s(value) });
            return exactly(results, field, value);
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
        ...outpostCrud,
        async destroy(api, id, spec) {
            if (!spec.managed) return outpostCrud.destroy(api, id);
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
