/**
 * Decisions of the least-privilege automation path, as plain data: which authentik permissions the
 * program's own service account needs, and when its token is rotated.
 *
 * The permission of each operation comes from the engine (authentik-api/permissions.ts, over the
 * model each kind names). A service account may always create, read (`view_token_key` is granted on creation) and delete
 * its own API tokens, whatever its role: that is how the token renews itself without a superuser.
 */
import { kinds } from "../../lib/authentik-api/kinds";
import { ADMIN_WRITES, modelOfKind, ownerOf, permission, referencePermissions } from "../../lib/authentik-api/permissions";

/** The models these kinds write (authentik-api/kinds.ts), once each, in their order. */
const modelsOf = (kindNames: string[]): string[] => [...new Set(kindNames.flatMap((kind) => modelOfKind(kind) ?? []))];

/** Every model the engine's kinds write. */
const MANAGED_MODELS: readonly string[] = modelsOf(Object.keys(kinds));

/** The models a consuming stack's ProtectedApp writes. */
const CONSUMER_MODELS = modelsOf(["Application", "PolicyBinding", "ProxyProvider", "OAuth2Provider"]);

/**
 * What a consuming stack's token holds globally for ProtectedApp: view and add on applications,
 * bindings and the providers it creates, view on groups (bound by name) and outposts, and view on
 * what providers reference. Change and delete come object by object: on what it creates
 * (consumerInitialPermissions), and change on the outposts the platform shares with it (a
 * membership writes the outpost's provider list).
 */
export function consumerPermissions(): string[] {
    return [
        ...CONSUMER_MODELS.flatMap((m) => [permission("view", m), permission("add", m)]),
        ...modelsOf(["Group", "Outpost"]).map((m) => permission("view", m)),
        ...referencePermissions(),
    ].sort();
}

/** What a consuming stack's role gets on each object its token creates (authentik's initial permissions). */
export function consumerInitialPermissions(): string[] {
    return CONSUMER_MODELS.flatMap(ownerOf).sort();
}

/** The models the automation token writes: every managed one but the admin's (ADMIN_WRITES). */
const WRITTEN_MODELS: readonly string[] = modelsOf(Object.keys(kinds).filter((kind) => !ADMIN_WRITES.includes(kind)));

/**
 * The automation role's global permissions, sorted: view on every managed and referenced model,
 * add on the models it writes. No global change or delete: those it holds object by object, on
 * what it created (automationInitialPermissions) or what the admin credential handed it
 * (objectPermissionsFor), so it can change nothing the stack does not manage. Nothing on users,
 * tokens, roles, flows or superuser status.
 */
export function automationPermissions(): string[] {
    return [...MANAGED_MODELS.map((m) => permission("view", m)), ...WRITTEN_MODELS.map((m) => permission("add", m)), ...referencePermissions()].sort();
}

/**
 * What authentik gives the automation role on each object its token creates: change and delete
 * on that object. authentik gives a creator nothing by itself; an InitialPermissions object for the
 * role does it (ModelSerializer.create → assign_initial_permissions, authentik/rbac).
 */
export function automationInitialPermissions(): string[] {
    return WRITTEN_MODELS.flatMap(ownerOf).sort();
}

/** What each consuming stack's token may touch, for the plan's security summary (one line, or none). */
export function consumerSummary(consumers: string[]): string | undefined {
    if (consumers.length === 0) return undefined;
    return (
        `Consumer tokens (${consumers.join(", ")}): ${consumerPermissions().length} global permissions (view; add on applications, bindings and proxy/OAuth2 providers), ` +
        `change and delete only on the objects each token's ProtectedApps created, and change on the embedded and proxy outposts (a membership writes the outpost's provider list, so each can also change their config and other members); no group, flow, user or role`
    );
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
    maxSelfRenewalDays: number;
    superuserGroups: string[];
    bootstrapCredentials: boolean;
    managesObjects: boolean;
}): string {
    if (!a.managesObjects) return "API token: none (the stack manages no authentik objects)";
    if (a.token === "bootstrap")
        return "API token: the bootstrap token: a superuser token that never expires, in Pulumi state and the pods (api.token: scoped replaces it)";
    if (a.token === "apiToken") return "API token: credentials.apiToken: its permissions and expiry are as you created it (api.token: scoped replaces it)";
    const reach = `${automationPermissions().length} global permissions (view; add on what it writes), change and delete only on the objects its role owns (those its token created, and those the admin credential handed it)`;
    const groups = a.superuserGroups.length
        ? `; groups are written only with the admin credential, and ${a.superuserGroups.join(", ")} ${a.superuserGroups.length > 1 ? "are superuser groups" : "is a superuser group"}: managing ${a.superuserGroups.length > 1 ? "them" : "it"} is superuser power`
        : "; groups are written only with the admin credential (a token that may change a group may change its members)";
    const renewal = `renews itself for at most ${a.maxSelfRenewalDays} days after the admin credential last issued it, deleting every other token of the account at each rotation`;
    const admin =
        a.admin === "none"
            ? `no superuser credential held (api.admin: none): the token ${renewal}, then needs api.admin for one up; authentik-bootstrap-token is revoked in authentik`
            : a.admin === "bootstrap"
              ? `made with the bootstrap token (api.admin; set none after this install: the bootstrap token is then revoked in authentik); the token ${renewal}`
              : `made with credentials.apiToken (api.admin; set none after this install); authentik-bootstrap-token is revoked in authentik; the token ${renewal}`;
    const bootstrap = a.bootstrapCredentials
        ? "; bootstrap token and password still handed to the pods (authentik.bootstrapCredentials)"
        : "; no bootstrap credentials in the pods (generated ones from an earlier up: pulumi state unprotect them first, README: API access)";
    return `API token: service account ${a.account}'s: ${reach}${groups}; expires after authentik's default token duration, rotated after ${a.rotateAfterPercent}% of it; ${admin}${bootstrap}`;
}
