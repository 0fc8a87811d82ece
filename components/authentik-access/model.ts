/**
 * Decisions of the least-privilege automation path, as plain data: which authentik permissions the
 * program's own service account needs, and when its token is rotated.
 *
 * authentik's RBAC (goauthentik/authentik, authentik/rbac): a role's global permission
 * `<app>.view_<model>` lets a user list and retrieve every object of the model, `add_`/`change_`/
 * `delete_` create, update and delete. Without the view permission a list or retrieve answers 403.
 * A service account may always create, read (`view_token_key` is granted on creation) and delete
 * its own API tokens, whatever its role: that is how the token renews itself without a superuser.
 */

/** The model each engine kind writes (authentik-api/kinds.ts); a membership writes its outpost. */
const KIND_MODELS = {
    Application: "authentik_core.application",
    Group: "authentik_core.group",
    PolicyBinding: "authentik_policies.policybinding",
    Outpost: "authentik_outposts.outpost",
    OutpostMember: "authentik_outposts.outpost",
    ProxyProvider: "authentik_providers_proxy.proxyprovider",
    OAuth2Provider: "authentik_providers_oauth2.oauth2provider",
    RadiusProvider: "authentik_providers_radius.radiusprovider",
    LdapProvider: "authentik_providers_ldap.ldapprovider",
} as const;

/** Models the program creates, updates and deletes (every kind in authentik-api/kinds.ts). */
const MANAGED_MODELS: readonly string[] = [...new Set(Object.values(KIND_MODELS))];

/** Models the program only looks up by slug or name (references in provider and outpost bodies). */
const REFERENCED_MODELS = [
    "authentik_flows.flow",
    "authentik_providers_oauth2.scopemapping",
    "authentik_crypto.certificatekeypair",
    "authentik_outposts.kubernetesserviceconnection",
] as const;

const permission = (verb: string, model: string) => {
    const [app, name] = model.split(".");
    return `${app}.${verb}_${name}`;
};

/** view, add, change and delete on a model. */
const allOf = (model: string) => ["view", "add", "change", "delete"].map((verb) => permission(verb, model));

/**
 * The permission an operation on a kind needs: `verb` on its model. A membership is a change of
 * its outpost, whatever it does. Undefined for kinds only a superuser manages (the account, its role).
 */
export function permissionFor(kind: string, verb: "view" | "add" | "change" | "delete"): string | undefined {
    const model = (KIND_MODELS as Record<string, string>)[kind];
    return model && permission(kind === "OutpostMember" && verb !== "view" ? "change" : verb, model);
}

/**
 * What a consuming stack's token needs for ProtectedApp: view/add/change/delete on applications,
 * bindings and the providers it creates, view on groups (bound by name), view and change on
 * outposts (membership writes the outpost's provider list), and view on what providers reference.
 */
export function consumerPermissions(): string[] {
    const { Application, PolicyBinding, ProxyProvider, OAuth2Provider, Group, Outpost } = KIND_MODELS;
    return [
        ...[Application, PolicyBinding, ProxyProvider, OAuth2Provider].flatMap(allOf),
        permission("view", Group),
        permission("view", Outpost),
        permission("change", Outpost),
        ...referencePermissions(),
    ].sort();
}

/** The view permissions that resolving an object's references (flows, mappings, keys, connections) needs. */
export function referencePermissions(): string[] {
    return REFERENCED_MODELS.map((m) => permission("view", m));
}

/**
 * Kinds only the admin credential writes. authentik's GroupSerializer accepts `users` (and
 * `parents`) from anyone who may change the group (authentik/core/api/groups.py), so a token with
 * `change_group` can put itself into a superuser group and is superuser in one request (seen on a
 * real 2026.2.2 server). The automation token only looks groups up; the admin credential creates,
 * changes and deletes them, and sets `is_superuser` (GroupSerializer.validate_is_superuser).
 */
export const ADMIN_WRITES: readonly string[] = ["Group"];

/**
 * The automation role's global permissions, sorted: view on every managed model and every
 * referenced one; add/change/delete on the managed models the admin credential does not keep
 * (ADMIN_WRITES). Nothing on users, tokens, roles, flows or superuser status.
 */
export function automationPermissions(): string[] {
    const written = Object.entries(KIND_MODELS).filter(([kind]) => !ADMIN_WRITES.includes(kind)).map(([, model]) => model);
    return [...new Set([...MANAGED_MODELS.map((m) => permission("view", m)), ...[...new Set(written)].flatMap(allOf), ...referencePermissions()])].sort();
}

/**
 * Whether a token is due for rotation: once `fraction` of its lifetime has passed (so a run that
 * comes later than half the lifetime, by default, still finds it valid and replaces it). A token
 * authentik made non-expiring (the account's `goauthentik.io/user/token-expires` set to false) is
 * never due: the plan's security summary says so instead of rotating on every run.
 */
export function rotationDue(token: { issued: string; expires: string | null }, now: Date, fraction = 0.5): boolean {
    if (token.expires === null) return false;
    const issued = Date.parse(token.issued);
    const expires = Date.parse(token.expires);
    if (!Number.isFinite(issued) || !Number.isFinite(expires)) return true;
    return now.getTime() >= issued + (expires - issued) * fraction;
}

/** Identifiers of the automation tokens: `<account>-<issue time>`, valid as authentik demands (`^[-a-zA-Z0-9_]+$`). */
export function tokenIdentifier(account: string, issued: Date): string {
    return `${account}-${issued.toISOString().replace(/[-:.TZ]/g, "")}`;
}

/** How the program reaches authentik's API, for the plan's security summary (one line). */
export function accessSummary(a: {
    token: "scoped" | "bootstrap" | "apiToken";
    admin: "bootstrap" | "apiToken" | "none";
    account: string;
    rotateAfterPercent: number;
    superuserGroups: string[];
    bootstrapCredentials: boolean;
    managesObjects: boolean;
}): string {
    if (!a.managesObjects) return "API token: none (the stack manages no authentik objects)";
    if (a.token === "bootstrap") return "API token: the bootstrap token: a superuser token that never expires, in Pulumi state and the pods (api.token: scoped replaces it)";
    if (a.token === "apiToken") return "API token: credentials.apiToken: its permissions and expiry are as you created it (api.token: scoped replaces it)";
    const granted = automationPermissions();
    const groups = a.superuserGroups.length
        ? `; groups are written only with the admin credential, and ${a.superuserGroups.join(", ")} ${a.superuserGroups.length > 1 ? "are superuser groups" : "is a superuser group"}: managing ${a.superuserGroups.length > 1 ? "them" : "it"} is superuser power`
        : "; groups are written only with the admin credential (a token that may change a group may change its members)";
    const admin =
        a.admin === "none"
            ? "no superuser credential held (api.admin: none): the token renews itself"
            : `made with the ${a.admin === "bootstrap" ? "bootstrap token" : "credentials.apiToken"} (api.admin; set none after this install)`;
    const bootstrap = a.bootstrapCredentials
        ? "; bootstrap token and password still handed to the pods (authentik.bootstrapCredentials)"
        : "; no bootstrap credentials in the pods (generated ones from an earlier up: pulumi state unprotect them first, README: API access)";
    return `API token: service account ${a.account}'s, ${granted.length} permissions${groups}; expires after authentik's default token duration, rotated after ${a.rotateAfterPercent}% of it; ${admin}${bootstrap}`;
}
