/**
 * The authentik permissions an operation of the engine needs, from the model each kind names
 * (`KindSpec.model`, kinds.ts): the one table of what each kind writes, which the engine (handing
 * objects over, explaining a refusal) and the automation account's access model
 * (authentik-access/model.ts) both read.
 *
 * authentik's RBAC (goauthentik/authentik, authentik/rbac): a role's global permission
 * `<app>.view_<model>` lets a user list and retrieve every object of the model, `add_`/`change_`/
 * `delete_` create, update and delete. Without the view permission a list or retrieve answers 403.
 */
import { kinds } from "./kinds";

export type Verb = "view" | "add" | "change" | "delete";

/** `<app>.<verb>_<model>` for a model `<app>.<model>`. */
export const permission = (verb: string, model: string) => {
    const [app, name] = model.split(".");
    return `${app}.${verb}_${name}`;
};

/** The model a kind writes, or undefined for kinds only a superuser manages. */
export const modelOfKind = (kind: string): string | undefined => kinds[kind]?.model;

/** Models the program only looks up by slug or name (references in provider and outpost bodies). */
export const REFERENCED_MODELS = [
    "authentik_flows.flow",
    "authentik_providers_oauth2.scopemapping",
    "authentik_crypto.certificatekeypair",
    "authentik_outposts.kubernetesserviceconnection",
] as const;

/**
 * The permission an operation on a kind needs: `verb` on its model. A membership is a change of
 * its outpost, whatever it does. Undefined for kinds only a superuser manages (the account, its role).
 */
export function permissionFor(kind: string, verb: Verb): string | undefined {
    const model = modelOfKind(kind);
    return model && permission(kind === "OutpostMember" && verb !== "view" ? "change" : verb, model);
}

/** Change and delete on one model: what a role needs on the objects it owns. */
export const ownerOf = (model: string) => [permission("change", model), permission("delete", model)];

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
 * The object permissions the admin credential hands the automation role on an object the token
 * did not create (adopted from Terraform, made before this design, authentik's embedded outpost):
 * change and delete, and only change on an outpost authentik manages (it is never deleted).
 * None for kinds the admin credential writes itself, for memberships (their outpost's permission
 * is the outpost's), and for the account's own objects.
 */
export function objectPermissionsFor(kind: string, spec: { managed?: unknown }): string[] {
    const model = modelOfKind(kind);
    if (!model || ADMIN_WRITES.includes(kind) || kind === "OutpostMember") return [];
    return spec.managed ? [permission("change", model)] : ownerOf(model);
}

/** The model an object permission is on (`authentik_core.change_application` → `authentik_core.application`). */
export function modelOf(objectPermission: string): string {
    const [app, codename] = objectPermission.split(".");
    return `${app}.${codename.replace(/^[a-z]+_/, "")}`;
}
