/**
 * One generic Pulumi dynamic provider for every authentik kind (see kinds.ts).
 *
 * - Every operation first waits for /-/health/ready/ (bounded backoff), so a fresh install
 *   converges in one `pulumi up`; transient failures are retried with jitter; 4xx fail at once
 *   with authentik's response body; network failures keep their cause (refused, DNS, TLS, timeout).
 * - Creates are idempotent: after a failed POST the object is looked for by its natural key for
 *   about a request timeout (a slow server may still commit it) before posting again, and a retried
 *   POST refused on a unique key takes over the late-committed object. Bindings, which have no
 *   unique key, are also de-duplicated on every converge and all removed on delete. An object that
 *   exists before the first attempt is only taken over with `adopt: true` (the migration path from
 *   the Terraform stack; Pulumi's import does not work for dynamic resources).
 * - Drift: `read` (run by every `pulumi up`, as Pulumi.yaml sets refresh: always) compares every
 *   applied field with what authentik holds (set-valued fields in any order, cleared = null); a
 *   difference makes the next diff an update. Only authentik's own JSON 404 means an object is gone
 *   (it is then created again); any other 404 (an ingress, a wrong api.url) is an error.
 * - Serialization: nothing is captured but this module's functions and `@goauthentik/api`
 *   (required by name); clients are built inside each call. `engineVersion` in the inputs makes a
 *   change of this code show up as an update.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Apis, Connection, apisFor } from "./client";
import { KindSpec, Remote, assignObjectPermissions, engineCache, groupPk, kinds } from "./kinds";
import { ADMIN_WRITES, modelOf, objectPermissionsFor, permissionFor, referencePermissions } from "./permissions";
import {
    PermanentError,
    ReadinessOptions,
    RetryPolicy,
    isGone,
    isRefused,
    isUnreachable,
    mayHaveCommitted,
    realClock,
    statusOf,
    waitForReady,
    withRetry,
} from "./retry";

/** Bump when the engine's behaviour changes, so existing objects are re-applied. */
export const ENGINE_VERSION = "2";

export interface ObjectInputs {
    kind: string;
    apiUrl: string;
    /** Secret. */
    apiToken: string;
    policy: RetryPolicy;
    /** Kind-specific desired state, references by slug/name. */
    spec: Record<string, unknown>;
    adopt: boolean;
    engineVersion: string;
    /**
     * The role that owns the object (the automation account's, by name): it gets change/delete on
     * it, from authentik's initial permissions when its token creates it, else from the admin
     * credential. Undefined for a superuser token, which needs nothing handed over.
     */
    grantTo?: string;
    /** Secret. The admin credential that hands an object it did not create to `grantTo`; "" when none is held. */
    adminToken?: string;
    /** Roles (consuming stacks') given change on this object: an outpost their apps attach to. */
    sharedWith?: string[];
}

export interface ObjectOutputs extends ObjectInputs {
    /** authentik's primary key of the object. */
    pk: string;
    /** The applied body with secret fields hashed, and its digest; `observedDigest` is set by read. */
    applied: Record<string, unknown>;
    appliedDigest: string;
    observedDigest: string;
    /** Fields whose value in authentik differs from the applied one, as found by the last read. */
    drift?: string[];
    /** The role that holds change/delete on the object (see `grantTo`), once it does. */
    grantedTo?: string;
    /** The `sharedWith` roles that hold change on it. */
    sharedGranted?: string[];
    /** The last read was refused (401/403) with the token in state. */
    authRefused?: boolean;
    [extra: string]: unknown;
}

/** Fields that hold secrets in request bodies: stored only as hashes. */
const SECRET_FIELDS = ["clientSecret", "sharedSecret"];
/** A `drift` entry: other objects duplicate this one (a binding's retried create that committed late). */
export const DUPLICATES = "(duplicates)";

/** JSON with sorted keys, so equal values digest equally. */
export function stableJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
    if (value && typeof value === "object") {
        return `{${Object.keys(value)
            .sort()
            .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * Required at call time: a captured `createHash` makes Pulumi's closure serializer scan every Node
 * built-in to find where it came from (slow, and noisy deprecation warnings).
 */
function sha256(text: string): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHash } = require("node:crypto") as typeof import("node:crypto");
    return createHash("sha256").update(text).digest("hex");
}

/** The body as stored in state: secret fields replaced by their hash. */
export function redactBody(body: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, SECRET_FIELDS.includes(k) && typeof v === "string" ? `sha256:${sha256(v)}` : v]));
}

/**
 * What authentik holds, shaped like `applied`: every applied field, compared the way it was sent
 * (nested objects by the applied keys; secret fields hashed). Fields authentik never returns count
 * as unchanged.
 */
export function project(applied: unknown, remote: unknown, key = ""): unknown {
    if (remote === undefined) return applied;
    if (SECRET_FIELDS.includes(key) && typeof remote === "string") return `sha256:${sha256(remote)}`;
    if (Array.isArray(applied) && Array.isArray(remote)) {
        return remote.length === applied.length ? applied.map((a, i) => project(a, remote[i])) : remote;
    }
    if (applied && typeof applied === "object" && remote && typeof remote === "object" && !Array.isArray(remote)) {
        return Object.fromEntries(
            Object.keys(applied).map((k) => [k, project((applied as Record<string, unknown>)[k], (remote as Record<string, unknown>)[k], k)]),
        );
    }
    return remote;
}

/**
 * A field's value as compared: a cleared string and null are the same (authentik answers either),
 * and a set-valued field ignores order (authentik answers its own order).
 */
function comparable(value: unknown, asSet: boolean): string {
    const norm = (v: unknown): unknown => (v === null || v === undefined ? "" : v);
    if (asSet && Array.isArray(value)) return stableJson(value.map((v) => stableJson(norm(v))).sort());
    return stableJson(norm(value));
}

/** The applied fields whose value in authentik differs (fields authentik does not return never count). */
export function driftOf(kind: Pick<KindSpec, "setFields">, applied: Record<string, unknown>, remote: Remote): string[] {
    const observed = project(applied, remote) as Record<string, unknown>;
    return Object.keys(applied)
        .filter((k) => {
            const asSet = kind.setFields?.includes(k) ?? false;
            return comparable(applied[k], asSet) !== comparable(observed[k], asSet);
        })
        .sort();
}

function kindOf(inputs: ObjectInputs): KindSpec {
    const kind = kinds[inputs.kind];
    if (!kind) throw new PermanentError(`unknown authentik kind ${inputs.kind}`);
    return kind;
}

function connectionOf(inputs: ObjectInputs): Connection {
    return { url: inputs.apiUrl, token: inputs.apiToken, policy: inputs.policy };
}

/**
 * Waits for authentik (briefly, and not at all when it is unreachable, for a refresh), then returns
 * clients for it. Once per process: authentik answering one operation answers the next; a
 * connection failure forgets it (guarded), so the next operation waits again.
 */
export async function readyApis(connection: Connection, options: ReadinessOptions = {}): Promise<Apis> {
    const known = engineCache().ready;
    if (!known.has(connection.url)) {
        await waitForReady(connection.url, connection.policy, realClock, options);
        known.add(connection.url);
    }
    return apisFor(connection);
}

function ready(inputs: ObjectInputs, options: ReadinessOptions = {}): Promise<Apis> {
    return readyApis(connectionOf(inputs), options);
}

/** Runs an operation; one that fails on the connection makes the next one wait for readiness again. */
async function guarded<T>(inputs: ObjectInputs, op: () => Promise<T>): Promise<T> {
    try {
        return await op();
    } catch (e) {
        if (!(e instanceof PermanentError) || isUnreachable(e)) engineCache().ready.delete(inputs.apiUrl);
        throw e;
    }
}

/** Body fields whose spec holds a name or slug, not the value authentik stores. */
const SPEC_KEY_OF: Record<string, string> = { propertyMappings: "scopes" };
// An array, not a Set: Pulumi's closure serializer writes a captured Set as a plain object, and the
// provider host then fails on .has() (found by the end-to-end suite on the first drifted refresh).
const REFERENCE_FIELDS = ["authorizationFlow", "invalidationFlow", "propertyMappings", "signingKey", "serviceConnection"];
const INPUT_KEYS = ["kind", "apiUrl", "apiToken", "policy", "spec", "adopt", "engineVersion", "grantTo", "adminToken", "sharedWith"] as const;

/**
 * The inputs as authentik now holds them: each drifted field's spec value replaced by what was
 * found, so `pulumi preview --diff` shows field by field what the next update puts back. Secrets
 * and references (pks authentik answers for a slug) are shown as changed, not as values.
 */
export function refreshedInputs(props: ObjectOutputs, drift: string[], remote: Remote): Record<string, unknown> {
    const spec = { ...props.spec };
    const observed = project(props.applied ?? {}, remote) as Record<string, unknown>;
    for (const field of drift) {
        if (field === DUPLICATES) continue;
        const key = SPEC_KEY_OF[field] ?? field;
        spec[key] = SECRET_FIELDS.includes(field)
            ? "(changed in authentik)"
            : REFERENCE_FIELDS.includes(field)
              ? `(changed in authentik: ${JSON.stringify(remote[field])})`
              : observed[field];
    }
    return { ...Object.fromEntries(INPUT_KEYS.filter((k) => props[k] !== undefined).map((k) => [k, props[k]])), spec };
}

/** Who holds what on the object, as the last write left it. */
interface Granted {
    grantedTo: string | undefined;
    sharedGranted: string[];
}

function outputsOf(inputs: ObjectInputs, kind: KindSpec, remote: Remote, body: Record<string, unknown>, granted: Granted): ObjectOutputs {
    const applied = redactBody(body);
    const digest = sha256(stableJson(applied));
    return {
        ...inputs,
        ...(kind.outputs?.(remote) ?? {}),
        pk: String(remote.pk),
        applied,
        appliedDigest: digest,
        observedDigest: digest,
        drift: [],
        ...grantedOutputs(granted),
    };
}

/** Granted as outputs: no undefined value (the engine's protobuf Struct refuses one: "Unexpected struct type"). */
function grantedOutputs(granted: Granted): Partial<Granted> {
    return { ...(granted.grantedTo !== undefined ? { grantedTo: granted.grantedTo } : {}), sharedGranted: granted.sharedGranted };
}

/** The object permissions `grantTo` should hold on an object of this kind (none for a superuser token). */
function ownedPermissions(inputs: ObjectInputs): string[] {
    return inputs.grantTo ? objectPermissionsFor(inputs.kind, inputs.spec ?? {}) : [];
}

/** What an admin credential should hand over now: the object to its owner, change to roles it is newly shared with. */
function handOverDue(olds: Partial<ObjectOutputs>, news: ObjectInputs): { owner: boolean; shared: string[] } {
    if (!news.adminToken) return { owner: false, shared: [] };
    const held = olds.sharedGranted ?? [];
    return {
        owner: ownedPermissions(news).length > 0 && olds.grantedTo !== news.grantTo,
        shared: (news.sharedWith ?? []).filter((role) => !held.includes(role)),
    };
}

const isDue = (due: { owner: boolean; shared: string[] }) => due.owner || due.shared.length > 0;

/**
 * Hands `grantTo` change/delete on an object its token did not create (adopted, authentik's own,
 * or made before roles held object permissions), and `shared` roles change on it, with the admin
 * credential: only a superuser may assign permissions (a role cannot give itself any).
 */
async function handOver(inputs: ObjectInputs, what: string, objectPk: unknown, due: { owner: boolean; shared: string[] }): Promise<void> {
    const owned = due.owner ? ownedPermissions(inputs) : [];
    if (owned.length === 0 && due.shared.length === 0) return;
    if (!inputs.adminToken) {
        throw new PermanentError(
            `${what}: the automation role holds no permission on it (its token did not create it), and only the admin credential can hand it over: set api.admin to bootstrap or apiToken for this run`,
        );
    }
    const admin = apisFor({ url: inputs.apiUrl, token: inputs.adminToken, policy: inputs.policy });
    const assign = (role: string, permissions: string[]) =>
        withRetry(
            `${what}: handing it to role ${role}`,
            () => assignObjectPermissions(admin, role, modelOf(permissions[0]), String(objectPk), permissions),
            inputs.policy,
        );
    if (owned.length) await assign(inputs.grantTo!, owned);
    const change = permissionFor(inputs.kind, "change");
    for (const role of due.shared) if (change) await assign(role, [change]);
}

/** Polls for an object a timed-out create may still commit, for about one request timeout. */
async function findSettled(kind: KindSpec, api: Apis, spec: Record<string, unknown>, policy: RetryPolicy): Promise<Remote | undefined> {
    const until = Date.now() + policy.requestTimeoutMs;
    for (;;) {
        const found = await kind.find(api, spec);
        if (found || Date.now() >= until) return found;
        await new Promise((r) => setTimeout(r, Math.max(10, Math.min(policy.baseDelayMs, until - Date.now()))));
    }
}

/** Removes the objects that duplicate this one (bindings whose retried create committed late). */
async function removeDuplicates(inputs: ObjectInputs, kind: KindSpec, api: Apis, id: string): Promise<void> {
    if (!kind.duplicates) return;
    const extra = await withRetry(`${inputs.kind} ${id}: duplicate look-up`, () => kind.duplicates!(api, inputs.spec, id), inputs.policy);
    for (const other of extra) {
        try {
            await withRetry(`${inputs.kind} ${other}: removing a duplicate`, () => kind.destroy(api, other, inputs.spec), inputs.policy);
        } catch (e) {
            if (!isGone(e)) throw e;
        }
    }
}

/**
 * A refusal (403) names the permission the token lacks: a scoped token (the platform's automation
 * account, or a consuming stack's) holds only what its role grants.
 */
function needs<T>(kind: string, verb: "view" | "add" | "change" | "delete" | "references", operation: Promise<T>): Promise<T> {
    return operation.catch((e: unknown) => {
        const single = verb === "references" ? undefined : permissionFor(kind, verb);
        const lacking =
            verb === "references" ? `a view permission on what it references (${referencePermissions().join(", ")})` : single && `the permission ${single}`;
        const adminOnly = verb !== "view" && verb !== "references" && ADMIN_WRITES.includes(kind);
        const owned = (verb === "change" || verb === "delete") && !adminOnly;
        const hint = adminOnly
            ? `; a ${kind} is written only with the admin credential: set api.admin to bootstrap or apiToken for this run`
            : owned
              ? "; a scoped token changes and deletes only the objects its role owns: those it created, or was handed with api.admin"
              : "";
        if (statusOf(e) === 403 && lacking && e instanceof Error) throw new PermanentError(`${e.message} (the token lacks ${lacking}${hint})`, 403);
        throw e;
    });
}

/**
 * Which stack owns an existing object, when it can be told: an application records it
 * (`meta_publisher`, set by ProtectedApp); a provider through the application it serves.
 */
async function ownerOf(api: Apis, existing: Remote): Promise<string | undefined> {
    const recorded = (r: Remote | undefined) => (typeof r?.metaPublisher === "string" && r.metaPublisher.startsWith("pulumi:") ? r.metaPublisher : undefined);
    if (recorded(existing) || typeof existing.assignedApplicationSlug !== "string" || !existing.assignedApplicationSlug) return recorded(existing);
    const slug = existing.assignedApplicationSlug;
    return recorded((await api.core.coreApplicationsRetrieve({ slug }).catch(() => undefined)) as Remote | undefined);
}

/** "already exists" for an object this stack does not manage, with what to do about it. */
function conflictMessage(what: string, existing: Remote, owner: string | undefined): string {
    const servedApp =
        typeof existing.assignedApplicationSlug === "string" && existing.assignedApplicationSlug
            ? ` and serves application "${existing.assignedApplicationSlug}"`
            : "";
    const rename = servedApp
        ? `; if that application is this app under its old slug (you changed the slug in the config), add renamedFrom: [${existing.assignedApplicationSlug}] to the app so the same objects are updated in place`
        : "";
    return `${what} already exists in authentik (pk ${existing.pk})${servedApp} and is not managed by this stack${owner ? `; it belongs to ${owner}` : ""}; set adopt: true for it to take it over (e.g. when migrating from Terraform)${rename}`;
}

/** Creates the object, or takes over the one a timed-out attempt (or, with adopt, someone else) made. */
async function createOrAdopt(inputs: ObjectInputs, api: Apis): Promise<{ id: string; outs: ObjectOutputs }> {
    const kind = kindOf(inputs);
    const what = `${inputs.kind} ${kind.naturalKey(inputs.spec)}`;
    const body = await needs(
        inputs.kind,
        "references",
        withRetry(`${what}: resolving references`, () => kind.body(api, inputs.spec), inputs.policy),
    );
    const existing = await needs(
        inputs.kind,
        "view",
        withRetry(`${what}: lookup`, () => kind.find(api, inputs.spec), inputs.policy),
    );
    if (existing && !inputs.adopt && !kind.existingIsOwn) throw new PermanentError(conflictMessage(what, existing, await ownerOf(api, existing)));
    // A provider changing kind meets its predecessor's name (unique across provider kinds). The
    // predecessor is the provider serving this one's application: it steps aside, renamed, and
    // Pulumi deletes it after repointing the application. Anyone else's provider keeps its name.
    const createMakingWay = async () => {
        try {
            return await kind.create(api, body, inputs.spec);
        } catch (e) {
            const holder = statusOf(e) === 400 && kind.nameHolder ? await kind.nameHolder(api, inputs.spec) : undefined;
            if (!holder) throw e;
            const serves = inputs.spec.application !== undefined && holder.remote.assignedApplicationSlug === inputs.spec.application;
            if (serves && inputs.adopt)
                throw new PermanentError(
                    `${what}: the provider serving application "${String(inputs.spec.application)}" (pk ${String(holder.remote.pk)}) is of another kind; adopt takes over an object of the same kind only: adopt with the app's current mode, then change the mode in a later run`,
                );
            if (!serves)
                throw new PermanentError(conflictMessage(`${what}: the name, unique across provider kinds,`, holder.remote, await ownerOf(api, holder.remote)));
            await holder.stepAside();
            return kind.create(api, body, inputs.spec);
        }
    };
    // An object its role does not own yet (Terraform's, authentik's own) is refused to the token:
    // the admin credential hands it over, and the token writes it.
    const takeOver = async (found: Remote) => {
        try {
            return await kind.update(api, kind.idOf(found), body);
        } catch (e) {
            if (statusOf(e) !== 403 || ownedPermissions(inputs).length === 0) throw e;
            await handOver(inputs, what, found.pk, { owner: true, shared: [] });
            return kind.update(api, kind.idOf(found), body);
        }
    };
    let retried = false;
    const remote = existing
        ? await needs(
              inputs.kind,
              "change",
              withRetry(`${what}: adopt`, () => takeOver(existing), inputs.policy),
          )
        : await needs(
              inputs.kind,
              "add",
              withRetry(
                  `${what}: create`,
                  async (attempt, previousError) => {
                      if (attempt === 1) return createMakingWay();
                      retried = true;
                      // The previous POST may have committed before its answer was lost, or may still be
                      // queued behind a slow server: then keep looking for a while before posting again.
                      const committed = mayHaveCommitted(previousError)
                          ? await findSettled(kind, api, inputs.spec, inputs.policy)
                          : await kind.find(api, inputs.spec);
                      if (committed) return kind.update(api, kind.idOf(committed), body);
                      try {
                          return await createMakingWay();
                      } catch (e) {
                          // A unique key taken since our look-up: an earlier attempt committed late.
                          const late = statusOf(e) === 400 ? await kind.find(api, inputs.spec) : undefined;
                          if (late) return kind.update(api, kind.idOf(late), body);
                          throw e;
                      }
                  },
                  inputs.policy,
              ),
          );
    const id = kind.idOf(remote);
    // Only a retried create can have left a twin; an adopted object may come with the old tool's.
    if (retried || existing) await removeDuplicates(inputs, kind, api, id);
    // Made by the token, authentik's initial permissions gave its role change/delete on it (taken
    // over, takeOver handed it). The roles it is shared with get change from the admin credential,
    // now or on the next run that has one.
    const shared = handOverDue({}, inputs).shared;
    if (shared.length) await handOver(inputs, what, remote.pk, { owner: false, shared });
    return {
        id,
        outs: outputsOf(inputs, kind, remote, body, { grantedTo: ownedPermissions(inputs).length ? inputs.grantTo : undefined, sharedGranted: shared }),
    };
}

/** Whether the last read found authentik holding something else than was applied. */
function isDrifted(olds: ObjectOutputs): boolean {
    return (olds.drift?.length ?? 0) > 0 || olds.observedDigest !== olds.appliedDigest;
}

/** Inputs that decide what authentik should hold (not the token: rotating it changes nothing there). */
function desired(i: ObjectInputs): string {
    const createOnly = kinds[i.kind]?.createOnly ?? [];
    const spec = Object.fromEntries(Object.entries(i.spec ?? {}).filter(([k]) => !createOnly.includes(k)));
    return stableJson({ kind: i.kind, apiUrl: i.apiUrl, spec, engineVersion: i.engineVersion });
}

export const authentikProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: ObjectInputs, news: ObjectInputs) {
        const failures = kinds[news.kind] ? [] : [{ property: "kind", reason: `unknown authentik kind ${news.kind}` }];
        // A group referenced by name (another stack owns it) must exist: said at preview, by name.
        const missing = typeof news.spec?.groupName === "string" ? await missingGroup(news, news.spec.groupName) : undefined;
        if (missing) failures.push({ property: "spec.groupName", reason: missing });
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: ObjectOutputs, news: ObjectInputs) {
        const rotated = olds.apiToken !== news.apiToken;
        if (olds.authRefused && !rotated) {
            throw new PermanentError(
                `${news.kind}: authentik refused the API token (revoked or expired). Give the stack a valid one (credentials.apiToken or the bootstrap token), then run again; the objects are untouched`,
            );
        }
        // A rotated token is a change too: the state must hold the new one, or every later read and
        // delete authenticates with the old (refused) one. Such an update writes nothing to authentik.
        // An admin credential given or dropped (api.admin) is one too: state keeps no superuser token
        // the config no longer names. An object its role does not hold yet is handed over as soon
        // as an admin credential is there.
        const adminChanged = (olds.adminToken ?? "") !== (news.adminToken ?? "");
        const changes = isDrifted(olds) || rotated || adminChanged || desired(olds) !== desired(news) || isDue(handOverDue(olds, news));
        const replaceOn = kinds[news.kind]?.replaceOn ?? [];
        // Name the field that forces the replacement (a property path), so the preview says why.
        const replaces =
            olds.kind !== news.kind ? ["kind"] : replaceOn.filter((f) => stableJson(olds.spec?.[f]) !== stableJson(news.spec?.[f])).map((f) => `spec.${f}`);
        // Pulumi reads deleteBeforeReplace only when something replaces.
        return { changes, replaces, deleteBeforeReplace: kinds[news.kind]?.deleteBeforeReplace ?? false };
    },

    async create(inputs: ObjectInputs) {
        return guarded(inputs, async () => createOrAdopt(inputs, await ready(inputs)));
    },

    async read(id: string, props: ObjectOutputs) {
        return guarded(props, () => readObject(id, props));
    },

    async update(id: string, olds: ObjectOutputs, news: ObjectInputs) {
        return guarded(news, () => updateObject(id, olds, news));
    },

    async delete(id: string, props: ObjectOutputs) {
        return guarded(props, () => deleteObject(id, props));
    },
};

/** Why a group named by the spec is missing, when authentik says so; undefined when it exists or cannot be asked yet. */
async function missingGroup(inputs: ObjectInputs, name: string): Promise<string | undefined> {
    try {
        await groupPk(apisFor(connectionOf(inputs)), name);
        return undefined;
    } catch (e) {
        return isGone(e) ? (e as Error).message : undefined;
    }
}

async function readObject(id: string, props: ObjectOutputs): Promise<pulumi.dynamic.ReadResult> {
    const kind = kindOf(props);
    const api = await ready(props, { failFast: true });
    try {
        // One request: the object, and for kinds with duplicates, its twins with it.
        const read = () =>
            kind.readWithDuplicates
                ? kind.readWithDuplicates(api, id, props.spec)
                : kind.retrieve(api, id, props.spec).then((remote) => ({ remote, duplicates: [] as string[] }));
        // The token in state may have been rotated or revoked since: say so instead of failing the refresh.
        const found = await withRetry(`${props.kind} ${id}: read`, read, props.policy).then(
            (r) => r,
            (e) => {
                if (isRefused(e)) return { refused: true as const };
                throw e;
            },
        );
        if ("refused" in found) return { id, props: { ...props, authRefused: true } };
        const remote = found.remote;
        const drift = driftOf(kind, props.applied ?? {}, remote);
        if (found.duplicates.length > 0) drift.push(DUPLICATES);
        const outs = { ...props, authRefused: false, drift, observedDigest: drift.length ? sha256(stableJson(drift)) : props.appliedDigest };
        return drift.some((f) => f !== DUPLICATES) ? { id, props: outs, inputs: refreshedInputs(props, drift, remote) } : { id, props: outs };
    } catch (e) {
        // Only authentik's own "not found" means gone; an ingress's 404 is an error like any other.
        if (isGone(e)) return { id: undefined, props: {} };
        throw e;
    }
}

async function updateObject(id: string, olds: ObjectOutputs, news: ObjectInputs): Promise<pulumi.dynamic.UpdateResult> {
    const kind = kindOf(news);
    const due = handOverDue(olds, news);
    if (isDue(due)) {
        await ready(news);
        await handOver(news, `${news.kind} ${id}`, olds.pk, due);
    }
    const granted: Granted = { grantedTo: due.owner ? news.grantTo : olds.grantedTo, sharedGranted: [...(olds.sharedGranted ?? []), ...due.shared] };
    if (!isDrifted(olds) && desired(olds) === desired(news)) {
        // Only the token changed (or the object was handed over): keep the new inputs, write nothing else.
        return { outs: { ...olds, ...news, authRefused: false, ...grantedOutputs(granted) } };
    }
    const api = await ready(news);
    const body = await needs(
        news.kind,
        "references",
        withRetry(`${news.kind} ${id}: resolving references`, () => kind.body(api, news.spec), news.policy),
    );
    // An object deleted outside Pulumi was already reported gone by read (refresh: always) and is
    // created again by the engine; an update never has to change the id.
    const remote = await needs(
        news.kind,
        "change",
        withRetry(`${news.kind} ${id}: update`, () => kind.update(api, id, body), news.policy),
    );
    if (olds.drift?.includes(DUPLICATES)) await removeDuplicates(news, kind, api, id);
    return { outs: outputsOf(news, kind, remote, body, granted) };
}

async function deleteObject(id: string, props: ObjectOutputs): Promise<void> {
    const kind = kindOf(props);
    const api = await ready(props);
    // Duplicates first: removing a group's access must remove every binding that grants it.
    await removeDuplicates(props, kind, api, id);
    try {
        await needs(
            props.kind,
            "delete",
            withRetry(`${props.kind} ${id}: delete`, () => kind.destroy(api, id, props.spec), props.policy),
        );
    } catch (e) {
        if (isGone(e)) return; // already gone
        throw e;
    }
}
