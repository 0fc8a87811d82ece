/**
 * The authentik object kinds the engine manages, each a small descriptor over the official
 * client's typed methods. The engine (provider.ts) is generic: find by natural key, create,
 * retrieve, update (PATCH of the fields the stack manages), destroy.
 * References by slug or name (flows, scope mappings, certificates, service connections) are
 * resolved here, at apply time, so a preview needs no API access.
 *
 * authentik's semantics this relies on (goauthentik/authentik, checked against the 2026.8 client):
 * - list endpoints are paginated (`pagination.next`, 0 = last page) and silently ignore filters a
 *   viewset does not declare: every look-up follows every page and matches exactly;
 * - updates are PATCHes of exactly the managed fields: a PUT resets every field it omits that has a
 *   serializer default (DRF `Field.get_default`, skipped only when partial), and GroupSerializer
 *   declares `users` with `default: list`, so a PUT without `users` empties the group
 *   (authentik/core/api/groups.py). A PATCH leaves omitted fields alone, so a field the config can
 *   clear is always sent, with its cleared value; a proxy provider's PATCH always carries `mode`
 *   (ProxyProviderSerializer.validate reads a missing mode as "proxy") and a binding's its `target`
 *   (PolicyBindingSerializer.validate reads `attrs["target"]`);
 * - a PATCH of a many-to-many field replaces it whole: such fields are sent only when the stack
 *   owns all of them (an outpost's `providers` never: see OutpostMember);
 * - an outpost's `providers` is replaced whole on write: it is owned per provider (OutpostMember),
 *   never written by the Outpost object after its creation.
 */
import type { Apis } from "./client";
import { PermanentError, describeFailure, jittered, realClock } from "./retry";

/** What the API returns for an object: its id and the fields it holds (camelCase, as the client models them). */
export type Remote = Record<string, unknown>;
type Body = Record<string, unknown>;
type Spec = Record<string, unknown>;

export interface KindSpec {
    /**
     * The Django model (`app_label.model`) whose permissions an operation on this kind needs, as
     * authentik's RBAC names them (a membership writes its outpost). None for kinds only a
     * superuser manages (the account, its role). permissions.ts reads it.
     */
    model?: string;
    /** Natural key shown in messages and used to find an object again (adopt, retried creates). */
    naturalKey(spec: Spec): string;
    find(api: Apis, spec: Spec): Promise<Remote | undefined>;
    /** The request body for `spec`, references resolved: every field the kind manages, cleared ones included. */
    body(api: Apis, spec: Spec): Promise<Body>;
    create(api: Apis, body: Body, spec: Spec): Promise<Remote>;
    /** The object as authentik holds it; `spec` for kinds whose state spans several endpoints (a role's members). */
    retrieve(api: Apis, id: string, spec?: Spec): Promise<Remote>;
    update(api: Apis, id: string, body: Body): Promise<Remote>;
    destroy(api: Apis, id: string, spec: Spec): Promise<void>;
    idOf(remote: Remote): string;
    /** Extra outputs besides `pk` (e.g. an OAuth2 client id). */
    outputs?(remote: Remote): Record<string, unknown>;
    /** Fields whose order authentik does not keep: compared as sets. */
    setFields?: string[];
    /** Spec fields used only when the object is created (ignored by diffs). */
    createOnly?: string[];
    /** Spec fields whose change makes a new object (the old one is deleted). */
    replaceOn?: string[];
    /** Delete the old object before creating its replacement (a unique key would collide). */
    deleteBeforeReplace?: boolean;
    /** An existing match is this resource's own (idempotent membership): no `adopt` needed. */
    existingIsOwn?: boolean;
    /**
     * The object of a sibling kind that holds this one's unique name (provider names are unique
     * across all provider kinds), with how to rename it out of the way.
     */
    nameHolder?(api: Apis, spec: Spec): Promise<{ remote: Remote; stepAside(): Promise<void> } | undefined>;
    /** Other objects that duplicate this one (a late-committed retried create): removed on converge. */
    duplicates?(api: Apis, spec: Spec, id: string): Promise<string[]>;
    /** A read that also finds the duplicates, in one request (for kinds that have duplicates). */
    readWithDuplicates?(api: Apis, id: string, spec: Spec): Promise<{ remote: Remote; duplicates: string[] }>;
}

// ---------------------------------------------------------------------------------------------
// Pagination and references, resolved inside the provider
// ---------------------------------------------------------------------------------------------

/** Page size asked for; authentik's default is 100 and a server may cap it lower. */
export const PAGE_SIZE = 100;
/** A look-up reading more pages than this is refused rather than left to run unbounded. */
export const MAX_PAGES = 200;

interface Page<T> {
    pagination: { next: number; current?: number };
    results: T[];
}

/** Every result of a paginated list, following `pagination.next` (bounded). */
export async function listAll<T>(what: string, fetchPage: (paging: { page: number; pageSize: number }) => Promise<Page<T>>): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1, pages = 0; ; pages++) {
        if (pages >= MAX_PAGES) throw new PermanentError(`${what}: more than ${MAX_PAGES} pages of results; narrow the look-up`);
        const { pagination, results } = await fetchPage({ page, pageSize: PAGE_SIZE });
        all.push(...results);
        if (!pagination?.next || pagination.next <= page) return all;
        page = pagination.next;
    }
}

/**
 * What one provider process learns once (one `pulumi up` runs every dynamic resource in one
 * process): that authentik is ready, and the pks of flows, scope mappings, certificates and
 * service connections by slug/name. On globalThis: the provider is serialized into state, so module
 * state would not be shared between the resources that use it.
 */
export function engineCache(): { ready: Set<string>; refs: Map<string, Promise<unknown>> } {
    const g = globalThis as { __authentikEngineCache?: { ready: Set<string>; refs: Map<string, Promise<unknown>> } };
    return (g.__authentikEngineCache ??= { ready: new Set(), refs: new Map() });
}

/** Forgets everything learnt (tests; a process that lost authentik). */
export function resetEngineCache(): void {
    delete (globalThis as { __authentikEngineCache?: unknown }).__authentikEngineCache;
}

/** A reference looked up once per process and authentik URL; a failed look-up is not kept. */
function memo<T>(api: Apis, key: string, load: () => Promise<T>): Promise<T> {
    const refs = engineCache().refs;
    const k = `${api.baseUrl}|${key}`;
    if (!refs.has(k))
        refs.set(
            k,
            load().catch((e) => (refs.delete(k), Promise.reject(e))),
        );
    return refs.get(k) as Promise<T>;
}

async function only<T>(what: string, results: T[]): Promise<T> {
    // authentik lists only what the caller may view (ObjectFilter): none found may also be a token without the view permission.
    const unseen = results.length === 0 ? " (it does not exist, or the token may not view it)" : "";
    if (results.length !== 1) throw new PermanentError(`${what}: expected one match in authentik, found ${results.length}${unseen}`);
    return results[0];
}

/**
 * The pk of the one object `list` holds whose `field` is exactly `value`, looked up once per
 * process. `missing`, when given, is what to say when there is none: authentik itself says it does
 * not exist (a "gone" answer, so a preview's check can tell it from an unreachable authentik).
 */
function pkWhere<T extends { pk: string }>(
    api: Apis,
    what: string,
    field: string,
    value: string,
    list: (paging: { page: number; pageSize: number }) => Promise<Page<T>>,
    missing?: string,
): Promise<string> {
    return memo(api, what, async () => {
        const found = (await listAll(what, list)).filter((r) => (r as unknown as Remote)[field] === value);
        if (found.length === 0 && missing) throw new PermanentError(missing, 404, true);
        return (await only(what, found)).pk;
    });
}

export function flowPk(api: Apis, slug: string): Promise<string> {
    return pkWhere(api, `flow "${slug}"`, "slug", slug, (p) => api.flows.flowsInstancesList({ slug, ...p }));
}

export async function scopeMappingPks(api: Apis, scopes: string[]): Promise<string[]> {
    if (scopes.length === 0) return [];
    const managed = scopes.map((scope) => `goauthentik.io/providers/oauth2/scope-${scope}`);
    return memo(api, `scopes|${managed.join(",")}`, async () => {
        const results = await listAll("scope mappings", (p) => api.propertyMappings.propertymappingsProviderScopeList({ managed, ...p }));
        return Promise.all(
            managed.map(
                async (id) =>
                    (
                        await only(
                            `scope mapping ${id}`,
                            results.filter((m) => m.managed === id),
                        )
                    ).pk,
            ),
        );
    });
}

export function certificatePk(api: Apis, name: string): Promise<string> {
    return pkWhere(api, `certificate "${name}"`, "name", name, (p) => api.crypto.cryptoCertificatekeypairsList({ name, ...p }));
}

function serviceConnectionPk(api: Apis, name: string): Promise<string> {
    return pkWhere(api, `Kubernetes service connection "${name}"`, "name", name, (p) => api.outposts.outpostsServiceConnectionsKubernetesList({ name, ...p }));
}

/** A group's pk by its exact name (ProtectedApp binds groups the platform stack owns). */
export function groupPk(api: Apis, name: string): Promise<string> {
    return pkWhere(
        api,
        `group "${name}"`,
        "name",
        name,
        (p) => api.core.coreGroupsList({ name, includeUsers: false, ...p }),
        `group "${name}" does not exist in authentik: create it first (the platform stack's groups config), or remove it from the app's groups`,
    );
}

/** An outpost's uuid by its exact name (ProtectedApp attaches to an outpost the platform stack owns). */
function outpostUuid(api: Apis, name: string): Promise<string> {
    return pkWhere(
        api,
        `outpost "${name}"`,
        "name",
        name,
        (p) => api.outposts.outpostsInstancesList({ nameIexact: name, ...p }),
        `outpost "${name}" does not exist in authentik: use the outpost name the platform stack publishes (its apps output)`,
    );
}

/**
 * The result whose `field` is exactly `value`. authentik's names are case-sensitive, while the
 * list filters some kinds offer are case-insensitive (`name__iexact`): never take results[0].
 */
function exactly(results: unknown[], field: string, value: unknown): Remote | undefined {
    return (results as Remote[]).find((r) => r[field] === value);
}

/** The object, or undefined when authentik itself answers that it does not exist (its JSON 404). */
async function unlessGone(what: string, get: () => Promise<Remote>): Promise<Remote | undefined> {
    try {
        return await get();
    } catch (e) {
        if ((await describeFailure(what, e)).gone) return undefined;
        throw e;
    }
}

/** Fields the config may leave unset: absent stays absent in the body. */
function present<T extends Record<string, unknown>>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

const s = (v: unknown) => v as string;
/** A string field the config may clear: sent as "" so the PATCH clears it (a PATCH keeps omitted fields). */
const clearable = (v: unknown) => (v === undefined || v === null ? "" : v);

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

/** The client's parameter name for a PATCH body: `oAuth2ProviderRequest` → `patchedOAuth2ProviderRequest`. */
export const patched = (requestKey: string) => `patched${requestKey[0].toUpperCase()}${requestKey.slice(1)}`;

type Method = (params: Record<string, unknown>) => Promise<unknown>;

function method(api: Apis, group: keyof Apis, name: string): Method {
    const client = api[group] as unknown as Record<string, Method>;
    const fn = client[name];
    if (typeof fn !== "function") throw new PermanentError(`@goauthentik/api has no ${group}.${name}`);
    return fn.bind(client);
}

/**
 * find/create/retrieve/update/destroy over the client's uniform naming: `<prefix>List({filter,
 * page, pageSize})`, `<prefix>Create({<requestKey>})`, `<prefix>Retrieve({<idParam>})`,
 * `<prefix>PartialUpdate({<idParam>, patched<RequestKey>})`, `<prefix>Destroy`. Updates are
 * PATCHes, never PUTs: a PUT resets the defaulted fields it omits (a group's members).
 */
function crud(
    group: keyof Apis,
    prefix: string,
    requestKey: string,
    idParam: string,
    toId: (id: string) => unknown = (id) => id,
): Pick<KindSpec, "create" | "retrieve" | "update"> & {
    destroy(api: Apis, id: string): Promise<void>;
    list(api: Apis, filter: Record<string, unknown>): Promise<Remote[]>;
} {
    return {
        list: (api, filter) => listAll(`${prefix} look-up`, (p) => method(api, group, `${prefix}List`)({ ...filter, ...p }) as Promise<Page<Remote>>),
        create: async (api, body) => (await method(api, group, `${prefix}Create`)({ [requestKey]: body })) as Remote,
        retrieve: async (api, id) => (await method(api, group, `${prefix}Retrieve`)({ [idParam]: toId(id) })) as Remote,
        update: async (api, id, body) => (await method(api, group, `${prefix}PartialUpdate`)({ [idParam]: toId(id), [patched(requestKey)]: body })) as Remote,
        destroy: async (api, id) => {
            await method(api, group, `${prefix}Destroy`)({ [idParam]: toId(id) });
        },
    };
}

/** The provider kinds, by name (filled below): each finds the holder of a name among its siblings. */
const PROVIDER_KINDS = ["ProxyProvider", "OAuth2Provider", "RadiusProvider", "LdapProvider"] as const;

/** What a rename of a provider must carry besides its name (a proxy provider's PATCH needs its mode and upstream). */
type RenameCarries = (holder: Remote) => Body;

/**
 * A provider kind: found by exact name (through the filter the viewset declares), addressed by
 * integer pk. When an app changes kind, Pulumi creates the new provider before it deletes the old
 * one (the application points at the old one until it is repointed), and both would hold the same
 * name: the engine renames the old one `<name> (replaced, pk <pk>)` first (nameHolder), and Pulumi
 * deletes it once nothing points at it.
 */
function providerKind(
    self: (typeof PROVIDER_KINDS)[number],
    prefix: string,
    requestKey: string,
    nameFilter: "name" | "nameIexact",
    rest: Pick<KindSpec, "body"> & Partial<KindSpec>,
    renameCarries: RenameCarries = () => ({}),
): KindSpec & { renameCarries: RenameCarries } {
    const { list, ...ops } = crud("providers", prefix, requestKey, "id", Number);
    return {
        naturalKey: byName,
        find: async (api, spec) => exactly(await list(api, { [nameFilter]: s(spec.name) }), "name", spec.name),
        ...ops,
        idOf: pkOf,
        async nameHolder(api, spec) {
            for (const sibling of PROVIDER_KINDS.filter((k) => k !== self)) {
                const other = kinds[sibling] as ReturnType<typeof providerKind>;
                const remote = await other.find(api, spec);
                if (!remote) continue;
                const renamed = `${s(spec.name)} (replaced, pk ${pkOf(remote)})`;
                return { remote, stepAside: async () => void (await other.update(api, other.idOf(remote), { ...other.renameCarries(remote), name: renamed })) };
            }
            return undefined;
        },
        // The application it serves: tells its predecessor in a kind change, never a change of its own.
        createOnly: ["application"],
        renameCarries,
        ...rest,
    };
}

const outpostCrud = crud("outposts", "outpostsInstances", "outpostRequest", "uuid");
const bindingCrud = crud("policies", "policiesBindings", "policyBindingRequest", "policyBindingUuid");

// ---------------------------------------------------------------------------------------------
// Outpost membership: one provider on one outpost, attached and detached on its own
// ---------------------------------------------------------------------------------------------

/** The outpost's provider list, PATCHed whole (authentik has no atomic add). */
async function setProviders(api: Apis, outpost: Remote, providers: number[]) {
    await api.outposts.outpostsInstancesPartialUpdate({ uuid: s(outpost.pk), patchedOutpostRequest: { type: outpost.type as never, providers } });
}

/** The embedded outpost's `managed` id: the only outpost authentik lets have no providers. */
export const EMBEDDED_OUTPOST_MANAGED = "goauthentik.io/outposts/embedded";
/** Rounds of read-merge-write-verify before a membership change gives up. */
export const MEMBERSHIP_ROUNDS = 8;
/** Longest pause before reading a membership write back, so a concurrent stale write is seen. */
export const MEMBERSHIP_SETTLE_MS = 500;

/**
 * Serializes writes to one outpost's provider list within this process (one `pulumi up` runs all
 * dynamic resources in one provider process). Other writers (the UI, other stacks) are caught by
 * the read-back: a change another writer's stale list removed is written again.
 */
async function withOutpostLock<T>(outpost: string, fn: () => Promise<T>): Promise<T> {
    const g = globalThis as { __authentikOutpostLocks?: Map<string, Promise<unknown>> };
    const locks = (g.__authentikOutpostLocks ??= new Map());
    const run = (locks.get(outpost) ?? Promise.resolve()).catch(() => undefined).then(fn);
    locks.set(
        outpost,
        run.catch(() => undefined),
    );
    return run;
}

/**
 * Adds (`want: true`) or removes one provider, leaving every other member alone: re-read, merge,
 * write, then read back after a short pause and write again when another writer's change dropped
 * ours. A non-embedded outpost cannot be left empty (authentik: "This list may not be empty."):
 * its last provider is left attached, since the outpost itself is being removed then (a plan-time
 * rule refuses an enabled outpost without apps) and deleting the provider detaches it anyway.
 */
async function changeMembership(api: Apis, outpostUuid: string, provider: number, want: boolean): Promise<void> {
    const settleMs = Math.min(api.policy.baseDelayMs, MEMBERSHIP_SETTLE_MS);
    await withOutpostLock(outpostUuid, async () => {
        for (let round = 1; round <= MEMBERSHIP_ROUNDS; round++) {
            // Round 1 reads the list to merge into; later rounds read our write back.
            const outpost = (await api.outposts.outpostsInstancesRetrieve({ uuid: outpostUuid })) as unknown as Remote;
            const current = (outpost.providers as number[]) ?? [];
            if (current.includes(provider) === want) return;
            const next = want ? [...current, provider] : current.filter((p) => p !== provider);
            if (next.length === 0 && outpost.managed !== EMBEDDED_OUTPOST_MANAGED) return;
            await setProviders(api, outpost, next);
            await realClock.sleep(jittered(settleMs, realClock.random));
        }
        throw new PermanentError(
            `provider ${provider} on outpost ${outpostUuid}: could not ${want ? "attach" : "detach"} it in ${MEMBERSHIP_ROUNDS} rounds: another writer keeps replacing the outpost's provider list (stop it, then run pulumi up again)`,
        );
    });
}

/** The identifier of the app password authentik issues with a service account (slugify of Django). */
export function appPasswordIdentifier(username: string): string {
    // Django's slugify also strips spaces, dashes and underscores at the ends: the fixed prefix and
    // suffix leave none there.
    return `service-account-${username}-password`
        .normalize("NFKD")
        .replace(/[^\w\s-]/g, "")
        .toLowerCase()
        .replace(/[-\s]+/g, "-");
}

const memberId = (outpost: unknown, provider: unknown) => `${s(outpost)}/${Number(provider)}`;
const parseMemberId = (id: string) => {
    const at = id.lastIndexOf("/");
    return { outpost: id.slice(0, at), provider: Number(id.slice(at + 1)) };
};

const stableList = (v: unknown) => JSON.stringify([...((v as string[]) ?? [])].sort());

/** The InitialPermissions object named after a role (this engine names it so), if there is one. */
async function initialPermissionsOf(api: Apis, name: string) {
    const found = await listAll(`initial permissions "${name}"`, (p) => api.rbac.rbacInitialPermissionsList({ name, ...p }));
    return found.find((ip) => ip.name === name);
}

/** The ids authentik gives permissions (`app.codename`), as an InitialPermissions object takes them. */
async function permissionIds(api: Apis, permissions: string[]): Promise<number[]> {
    return Promise.all(
        permissions.map((perm) => {
            const [appLabel, codename] = perm.split(".");
            return memo(api, `permission ${perm}`, async () => {
                const found = await listAll(`permission ${perm}`, (p) => api.rbac.rbacPermissionsList({ codename, contentTypeAppLabel: appLabel, ...p }));
                return (
                    await only(
                        `permission ${perm}`,
                        found.filter((r) => r.codename === codename && r.appLabel === appLabel),
                    )
                ).id;
            });
        }),
    );
}

/**
 * What authentik gives a role on every object one of its members creates: an InitialPermissions
 * object (authentik/rbac/models.py; applied by ModelSerializer.create through
 * assign_initial_permissions), named after the role, holding `permissions`.
 */
async function setInitialPermissions(api: Apis, role: string, name: string, permissions: string[]): Promise<void> {
    const ids = await permissionIds(api, permissions);
    const existing = await initialPermissionsOf(api, name);
    if (existing) await api.rbac.rbacInitialPermissionsPartialUpdate({ id: existing.pk, patchedInitialPermissionsRequest: { role, permissions: ids } });
    else await api.rbac.rbacInitialPermissionsCreate({ initialPermissionsRequest: { name, role, permissions: ids } });
}

/**
 * Hands `role` the object permissions `permissions` on one object (all on one model), as only a
 * superuser may: authentik's assign checks assign_role_permissions on the role, which no role of
 * this program holds (so no token can grant itself anything).
 */
export async function assignObjectPermissions(api: Apis, role: string, model: string, objectPk: string, permissions: string[]): Promise<void> {
    const roleUuid = await memo(api, `role ${role}`, async () => {
        const found = exactly(await listAll(`role "${role}"`, (p) => api.rbac.rbacRolesList({ name: role, ...p })), "name", role);
        if (!found) throw new PermanentError(`role "${role}" does not exist in authentik: run pulumi up with api.admin set, which makes it`, 404, true);
        return s(found.pk);
    });
    await api.rbac.rbacPermissionsAssignedByRolesAssign({ uuid: roleUuid, permissionAssignRequest: { permissions, model: model as never, objectPk } });
}

export const kinds: Record<string, KindSpec> = {
    ProxyProvider: providerKind(
        "ProxyProvider",
        "providersProxy",
        "proxyProviderRequest",
        "nameIexact",
        {
            model: "authentik_providers_proxy.proxyprovider",
            async body(api, spec) {
                return {
                    name: spec.name,
                    ...(await providerFlows(api, spec)),
                    // Always sent: a missing mode means "proxy", which needs internal_host.
                    mode: spec.mode,
                    externalHost: spec.externalHost,
                    internalHost: clearable(spec.internalHost),
                    cookieDomain: clearable(spec.cookieDomain),
                };
            },
        },
        (holder) => ({ mode: holder.mode, internalHost: holder.internalHost }),
    ),
    OAuth2Provider: providerKind("OAuth2Provider", "providersOauth2", "oAuth2ProviderRequest", "name", {
        model: "authentik_providers_oauth2.oauth2provider",
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
            });
        },
        outputs: (r) => ({ clientId: r.clientId }),
        // authentik returns mappings in its own order, and redirect URIs match whichever is listed.
        setFields: ["propertyMappings", "redirectUris"],
    }),
    RadiusProvider: providerKind("RadiusProvider", "providersRadius", "radiusProviderRequest", "nameIexact", {
        model: "authentik_providers_radius.radiusprovider",
        async body(api, spec) {
            return present({
                name: spec.name,
                ...(await providerFlows(api, spec)),
                clientNetworks: spec.clientNetworks,
                sharedSecret: spec.sharedSecret,
            });
        },
    }),
    LdapProvider: providerKind("LdapProvider", "providersLdap", "lDAPProviderRequest", "nameIexact", {
        model: "authentik_providers_ldap.ldapprovider",
        async body(api, spec) {
            return present({
                name: spec.name,
                ...(await providerFlows(api, spec)),
                baseDn: spec.baseDn,
                searchMode: spec.searchMode,
                bindMode: spec.bindMode,
            });
        },
    }),
    Application: (() => {
        const { create, retrieve, update, destroy } = crud("core", "coreApplications", "applicationRequest", "slug");
        const ops = { create, retrieve, update, destroy };
        return {
            model: "authentik_core.application",
            naturalKey: (spec) => s(spec.slug),
            // By its address, not the list: for anyone but a superuser the list holds only the
            // applications the caller may *use* (policy-checked), and superuser_full_list is
            // honoured for superusers only. The detail endpoint needs view_application, as a scoped token has.
            find: (api, spec) => unlessGone(`application ${s(spec.slug)}`, () => retrieve(api, s(spec.slug))),
            async body(_api, spec) {
                return {
                    name: spec.name,
                    slug: spec.slug,
                    provider: spec.provider === undefined || spec.provider === null ? null : Number(spec.provider),
                    metaLaunchUrl: clearable(spec.metaLaunchUrl),
                    metaIcon: clearable(spec.metaIcon),
                    metaDescription: clearable(spec.metaDescription),
                    group: clearable(spec.group),
                    policyEngineMode: spec.policyEngineMode ?? "any",
                    // Who owns it (ProtectedApp records its stack); the platform's apps leave it as it is.
                    ...(spec.metaPublisher !== undefined ? { metaPublisher: spec.metaPublisher } : {}),
                };
            },
            ...ops,
            // Applications are addressed by slug; their pk (uuid) is what bindings target.
            idOf: (r) => s(r.slug),
            outputs: (r) => ({ uuid: r.pk }),
            // The slug is the address, and a provider serves one application: delete, then create.
            replaceOn: ["slug"],
            deleteBeforeReplace: true,
        } satisfies KindSpec;
    })(),
    Group: (() => {
        const { list, ...ops } = crud("core", "coreGroups", "groupRequest", "groupUuid");
        return {
            model: "authentik_core.group",
            naturalKey: byName,
            find: async (api, spec) => exactly(await list(api, { name: s(spec.name), includeUsers: false }), "name", spec.name),
            async body(_api, spec) {
                return present({ name: spec.name, isSuperuser: spec.isSuperuser ?? false, attributes: spec.attributes });
            },
            ...ops,
            idOf: pkOf,
        } satisfies KindSpec;
    })(),
    PolicyBinding: (() => {
        const { list, ...ops } = bindingCrud;
        // The group by pk (this stack's groups) or by name (groups another stack owns).
        const groupOf = async (api: Apis, spec: Spec) => (spec.group !== undefined ? spec.group : groupPk(api, s(spec.groupName)));
        // The bindings list has no group filter: filter by target, then match group (and order).
        const sameGroup = async (api: Apis, spec: Spec) => {
            const group = await groupOf(api, spec);
            return (await list(api, { target: s(spec.target) })).filter((b) => b.group === group);
        };
        return {
            model: "authentik_policies.policybinding",
            naturalKey: (spec) => `${spec.target}/${spec.group ?? spec.groupName}`,
            async find(api, spec) {
                const matches = await sameGroup(api, spec);
                return matches.find((b) => b.order === spec.order) ?? matches[0];
            },
            async body(api, spec) {
                return { target: spec.target, group: await groupOf(api, spec), order: spec.order, enabled: true, negate: false, timeout: 30 };
            },
            ...ops,
            idOf: pkOf,
            // A binding's target is its identity (an application replaced takes its bindings along).
            replaceOn: ["target"],
            // Bindings have no unique key: a retried create that committed late leaves a second one.
            async duplicates(api, spec, id) {
                return (await sameGroup(api, spec)).filter((b) => b.order === spec.order && String(b.pk) !== id).map(pkOf);
            },
            async readWithDuplicates(api, id, spec) {
                const group = await sameGroup(api, spec);
                const remote = group.find((b) => String(b.pk) === id);
                if (!remote) throw new PermanentError(`policy binding ${id} is gone from its target ${s(spec.target)}`, 404, true);
                return { remote, duplicates: group.filter((b) => b.order === spec.order && String(b.pk) !== id).map(pkOf) };
            },
        } satisfies KindSpec;
    })(),
    Outpost: (() => {
        const { list, ...ops } = outpostCrud;
        return {
            model: "authentik_outposts.outpost",
            naturalKey: (spec) => s(spec.managed ?? spec.name),
            async find(api, spec) {
                const [field, value] = spec.managed ? ["managed", spec.managed] : ["name", spec.name];
                return exactly(await list(api, field === "managed" ? { managedIexact: s(value) } : { nameIexact: s(value) }), field, value);
            },
            async body(api, spec) {
                // No providers: members attach themselves (OutpostMember); config holds only our keys.
                return present({
                    name: spec.name,
                    type: spec.type,
                    serviceConnection: spec.serviceConnection ? await serviceConnectionPk(api, s(spec.serviceConnection)) : undefined,
                    config: spec.config,
                });
            },
            async create(api, body, spec) {
                // A new outpost starts from authentik's default config, with its first providers
                // (authentik refuses a non-embedded outpost without any).
                const defaults = (await api.outposts.outpostsInstancesDefaultSettingsRetrieve()).config as Record<string, unknown>;
                const providers = ((spec.initialProviders as unknown[]) ?? []).map(Number);
                return ops.create(api, { ...body, providers, config: { ...defaults, ...(body.config as Record<string, unknown>) } }, spec);
            },
            retrieve: ops.retrieve,
            async update(api, id, body) {
                // PATCH without providers: members another stack or the UI attached stay attached.
                // Our config keys go over the outpost's current config, so keys we do not manage stay.
                const current = await api.outposts.outpostsInstancesRetrieve({ uuid: id });
                const config = { ...(current.config as Record<string, unknown>), ...(body.config as Record<string, unknown>) };
                return (await api.outposts.outpostsInstancesPartialUpdate({
                    uuid: id,
                    patchedOutpostRequest: { ...body, config } as never,
                })) as unknown as Remote;
            },
            async destroy(api, id, spec) {
                // authentik's own (embedded) outpost is never deleted, and its members detach themselves.
                if (!spec.managed) await ops.destroy(api, id);
            },
            idOf: pkOf,
            createOnly: ["initialProviders"],
        } satisfies KindSpec;
    })(),
    OutpostMember: {
        model: "authentik_outposts.outpost",
        naturalKey: (spec) => `provider ${spec.provider} on outpost ${s(spec.outpostName ?? spec.outpost)}`,
        async find(api, spec) {
            const uuid = spec.outpost !== undefined ? s(spec.outpost) : await outpostUuid(api, s(spec.outpostName));
            const outpost = await api.outposts.outpostsInstancesRetrieve({ uuid });
            return outpost.providers.includes(Number(spec.provider)) ? { pk: memberId(uuid, spec.provider) } : undefined;
        },
        async body(api, spec) {
            // The outpost by uuid (this stack's) or by name (one another stack owns).
            return { outpost: spec.outpost !== undefined ? spec.outpost : await outpostUuid(api, s(spec.outpostName)), provider: Number(spec.provider) };
        },
        async create(api, body) {
            await changeMembership(api, s(body.outpost), Number(body.provider), true);
            return { pk: memberId(body.outpost, body.provider), ...body };
        },
        async retrieve(api, id) {
            const { outpost, provider } = parseMemberId(id);
            const remote = await api.outposts.outpostsInstancesRetrieve({ uuid: outpost });
            if (!remote.providers.includes(provider))
                throw new PermanentError(`provider ${provider} is no longer attached to outpost ${remote.name}`, 404, true);
            return { pk: id, outpost, provider };
        },
        async update(api, _id, body) {
            return kinds.OutpostMember.create(api, body, {});
        },
        async destroy(api, id) {
            const { outpost, provider } = parseMemberId(id);
            await changeMembership(api, outpost, provider, false);
        },
        idOf: pkOf,
        replaceOn: ["outpost", "provider"],
        existingIsOwn: true,
    },
    ServiceAccount: {
        naturalKey: (spec) => s(spec.username),
        async find(api, spec) {
            const results = await listAll(`user "${s(spec.username)}"`, (p) => api.core.coreUsersList({ username: s(spec.username), ...p }));
            return exactly(results, "username", spec.username);
        },
        async body(_api, spec) {
            return { name: spec.username, createGroup: false, expiring: true };
        },
        async create(api, body) {
            const made = await api.core.coreUsersServiceAccountCreate({ userServiceAccountRequest: body as never });
            // authentik also issues the account an app password (360 days, usable in login flows):
            // nothing here uses it, so it does not stay around. The API token is AutomationToken's.
            await unlessGone("the service account's app password", async () => {
                await api.core.coreTokensDestroy({ identifier: appPasswordIdentifier(made.username) });
                return {};
            });
            return { pk: made.userPk, username: made.username, name: made.username };
        },
        retrieve: async (api, id) => (await api.core.coreUsersRetrieve({ id: Number(id) })) as unknown as Remote,
        // Nothing of a service account is ours to change but its name, which is its identity.
        update: (api, id) => kinds.ServiceAccount.retrieve(api, id),
        async destroy(api, id) {
            await api.core.coreUsersDestroy({ id: Number(id) });
        },
        idOf: pkOf,
        replaceOn: ["username"],
        // The account is named by this stack's config (api.automation.account): it is ours.
        existingIsOwn: true,
    },
    Role: {
        naturalKey: byName,
        async find(api, spec) {
            return exactly(await listAll(`role "${s(spec.name)}"`, (p) => api.rbac.rbacRolesList({ name: s(spec.name), ...p })), "name", spec.name);
        },
        async body(_api, spec) {
            return {
                name: spec.name,
                permissions: [...((spec.permissions as string[]) ?? [])].sort(),
                initialPermissions: [...((spec.initialPermissions as string[]) ?? [])].sort(),
                user: Number(spec.user),
            };
        },
        async create(api, body) {
            // Created empty, then given its permissions and its member (authentik has no one-call form).
            const role = await api.rbac.rbacRolesCreate({ roleRequest: { name: s(body.name) } });
            return kinds.Role.update(api, role.pk, body);
        },
        async retrieve(api, id, spec) {
            const role = await api.rbac.rbacRolesRetrieve({ uuid: id });
            const held = await listAll(`permissions of role ${role.name}`, (p) => api.rbac.rbacPermissionsList({ role: id, ...p }));
            const user = spec?.user === undefined ? undefined : Number(spec.user);
            const members = user === undefined ? [] : await listAll(`roles of user ${user}`, (p) => api.rbac.rbacRolesList({ users: user, ...p }));
            const initial = await initialPermissionsOf(api, role.name);
            return {
                pk: role.pk,
                name: role.name,
                permissions: held.map((perm) => `${perm.appLabel}.${perm.codename}`).sort(),
                initialPermissions: (initial?.permissionsObj ?? []).map((perm) => `${perm.appLabel}.${perm.codename}`).sort(),
                user: members.some((r) => r.pk === id) ? user : null,
            };
        },
        async update(api, id, body) {
            const current = await kinds.Role.retrieve(api, id, { user: body.user });
            if (current.name !== body.name) await api.rbac.rbacRolesPartialUpdate({ uuid: id, patchedRoleRequest: { name: s(body.name) } });
            const want = body.permissions as string[];
            const held = current.permissions as string[];
            const missing = want.filter((p) => !held.includes(p));
            const extra = held.filter((p) => !want.includes(p));
            if (missing.length) await api.rbac.rbacPermissionsAssignedByRolesAssign({ uuid: id, permissionAssignRequest: { permissions: missing } });
            if (extra.length)
                await api.rbac.rbacPermissionsAssignedByRolesUnassignPartialUpdate({ uuid: id, patchedPermissionAssignRequest: { permissions: extra } });
            const initial = body.initialPermissions as string[];
            if (stableList(current.initialPermissions) !== stableList(initial)) await setInitialPermissions(api, id, s(body.name), initial);
            if (current.user !== body.user) await api.rbac.rbacRolesAddUserCreate({ uuid: id, userAccountSerializerForRoleRequest: { pk: Number(body.user) } });
            return { pk: id, name: body.name, permissions: want, initialPermissions: initial, user: body.user };
        },
        async destroy(api, id) {
            // Its initial permissions go with it (InitialPermissions.role: on_delete CASCADE).
            await api.rbac.rbacRolesDestroy({ uuid: id });
        },
        idOf: pkOf,
        setFields: ["permissions", "initialPermissions"],
        // The role is named by this stack's config (api.automation.account): it is ours.
        existingIsOwn: true,
    },
};
