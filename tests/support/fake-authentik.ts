/**
 * An in-process authentik for contract tests: a real HTTP server on 127.0.0.1 that validates EVERY
 * request and response against the OpenAPI `schema.yml` shipped inside the installed
 * @goauthentik/api (openapi-backend), keeps state, enforces authentik's sharp edges (provider names
 * unique across kinds, proxy PATCH without mode, outpost provider types) and injects faults.
 * Schema violations are collected in `violations`; tests assert there are none.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { createHash, randomUUID } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import YAML from "yaml";
import { after, afterEach, before, beforeEach } from "node:test";
import * as assert from "node:assert/strict";
import { resetEngineCache } from "../../lib/authentik-api/kinds";
import { OpenAPIBackend, type Context } from "openapi-backend";

/** Operations the fake serves (the rest of authentik's API is pruned, so unknown calls fail loudly). */
const SERVED =
    /^\/(providers\/(proxy|oauth2|radius|ldap)|core\/(applications|groups|users|tokens)|policies\/bindings|outposts\/(instances|service_connections\/kubernetes)|flows\/instances|propertymappings\/provider\/scope|crypto\/certificatekeypairs|rbac\/(roles|permissions|initial_permissions))\//;

/**
 * - 503/429: answered at once, nothing done; reset: connection dropped, nothing done;
 * - commit-then-reset: done, then the connection dropped (the answer is lost);
 * - slow: done, answered after delayMs (past the client's timeout, the client gave up);
 * - late-commit: queued for delayMs before it is done (a slow server working through a backlog:
 *   the client has given up long before, and the object appears later);
 * - html-404: an ingress's or proxy's own 404 page (HTML), nothing done;
 * - gateway-json-404: an API gateway's 404 in JSON of its own shape, nothing done.
 */
export type FaultKind = "503" | "429" | "reset" | "commit-then-reset" | "slow" | "late-commit" | "html-404" | "gateway-json-404";
export interface Fault {
    /** Matches `METHOD operationId`, e.g. /^POST providers_proxy_create$/. */
    match: RegExp;
    kind: FaultKind;
    /** How many matching requests it hits. */
    times: number;
    delayMs?: number;
}

type Obj = Record<string, unknown>;

interface Collection {
    /** Path parameter that addresses an object. */
    param: string;
    /** Field holding that value. */
    field: string;
    items: Map<string, Obj>;
}

const PROVIDER_KINDS = ["providers_proxy", "providers_oauth2", "providers_radius", "providers_ldap"];

/** The Django model behind each served collection (`app_label.model`): what RBAC permissions name. */
const MODEL_OF: Record<string, string> = {
    providers_proxy: "authentik_providers_proxy.proxyprovider",
    providers_oauth2: "authentik_providers_oauth2.oauth2provider",
    providers_radius: "authentik_providers_radius.radiusprovider",
    providers_ldap: "authentik_providers_ldap.ldapprovider",
    core_applications: "authentik_core.application",
    core_groups: "authentik_core.group",
    core_users: "authentik_core.user",
    policies_bindings: "authentik_policies.policybinding",
    outposts_instances: "authentik_outposts.outpost",
    outposts_service_connections_kubernetes: "authentik_outposts.kubernetesserviceconnection",
    flows_instances: "authentik_flows.flow",
    propertymappings_provider_scope: "authentik_providers_oauth2.scopemapping",
    crypto_certificatekeypairs: "authentik_crypto.certificatekeypair",
    rbac_roles: "authentik_rbac.role",
};
const VERB_OF: Record<string, string> = { list: "view", retrieve: "view", create: "add", update: "change", partial_update: "change", destroy: "delete" };
/** Every permission authentik knows among the served models (an assignment of any other is refused). */
const KNOWN_PERMISSIONS = new Set([
    ...Object.values(MODEL_OF).flatMap((m) => {
        const [app, model] = m.split(".");
        return ["view", "add", "change", "delete"].map((verb) => `${app}.${verb}_${model}`);
    }),
    "authentik_core.enable_group_superuser",
    "authentik_core.disable_group_superuser",
    "authentik_core.view_token_key",
]);
/** Permission ids as authentik's API gives them (Django's auth_permission pks): stable within one fake. */
const PERMISSION_IDS = new Map([...KNOWN_PERMISSIONS].sort().map((perm, i) => [perm, i + 1]));
const PERMISSION_OF_ID = new Map([...PERMISSION_IDS].map(([perm, id]) => [id, perm]));
/** A permission as the API shows it (PermissionSerializer). */
const permissionView = (perm: string) => {
    const [app, codename] = perm.split(".");
    return {
        id: PERMISSION_IDS.get(perm)!,
        name: codename,
        codename,
        model: modelOfPermission(perm).split(".")[1],
        app_label: app,
        app_label_verbose: app,
        model_verbose: codename,
    };
};
const DENIED = { status: 403, body: { detail: "You do not have permission to perform this action." } };
/** authentik's default token duration ("days=1", authentik/tenants/models.py). */
export const DEFAULT_TOKEN_DURATION_MS = 24 * 3600 * 1000;
/** The superuser token every test authenticates with unless it says otherwise. */
export const ADMIN_TOKEN = "test-token";

interface User {
    pk: number;
    username: string;
    isSuperuser: boolean;
    type: string;
    attributes: Obj;
}
/**
 * Fields whose serializer declares a default: DRF applies it on a create and on a PUT that omits
 * the field, never on a PATCH. Only GroupSerializer has one among the served kinds:
 * `extra_kwargs = {"users": {"default": list}}` (authentik/core/api/groups.py). The other
 * serializers' optional fields (ApplicationSerializer's backchannel_providers, the providers'
 * property_mappings, a binding's negate/enabled/order/timeout) are `required=False` from their model
 * fields, without a serializer default: a PUT that omits them keeps them.
 */
const SERIALIZER_DEFAULTS: Record<string, Obj> = { core_groups: { users: [] } };
const OUTPOST_TYPE_OF: Record<string, string> = { providers_proxy: "proxy", providers_radius: "radius", providers_ldap: "ldap" };

export const SEED = {
    flows: [
        "default-provider-authorization-implicit-consent",
        "default-provider-authorization-explicit-consent",
        "default-provider-invalidation-flow",
        "default-authentication-flow",
        "default-invalidation-flow",
    ],
    scopes: ["openid", "email", "profile", "offline_access"],
    certificate: "authentik Self-signed Certificate",
    serviceConnection: "Local Kubernetes Cluster",
    embeddedOutpost: "goauthentik.io/outposts/embedded",
};

let definitionCache: Obj | undefined;
function definition(): Obj {
    definitionCache ??= cachedDefinition(require.resolve("@goauthentik/api/schema.yml"));
    return structuredClone(definitionCache);
}

/**
 * The pruned definition, kept as JSON beside the system's temporary files under the schema's hash:
 * parsing 1.8 MB of YAML costs every test process seconds (and every mutant of a mutation run).
 * The key covers the schema, the served paths and prune() itself, so a change to any makes a new file.
 */
function cachedDefinition(file: string): Obj {
    const text = fs.readFileSync(file, "utf8");
    const digest = createHash("sha256").update(text).update(SERVED.source).update(prune.toString()).digest("hex").slice(0, 16);
    const cache = path.join(os.tmpdir(), `fake-authentik-schema-${digest}.json`);
    try {
        return JSON.parse(fs.readFileSync(cache, "utf8")) as Obj;
    } catch {
        const doc = prune(text);
        const partial = `${cache}.${process.pid}`;
        try {
            fs.writeFileSync(partial, JSON.stringify(doc));
            fs.renameSync(partial, cache); // whole or absent: several test processes start at once
        } catch {
            fs.rmSync(partial, { force: true }); // a read-only temporary directory only costs the parse
        }
        return doc;
    }
}

/** authentik's schema, parsed, cut to the served paths, with `nullable` made something ajv understands. */
function prune(text: string): Obj {
    const doc = YAML.parse(text, { maxAliasCount: -1 }) as { paths: Obj };
    for (const p of Object.keys(doc.paths)) if (!SERVED.test(p)) delete doc.paths[p];
    // ajv only understands `nullable` next to `type`; authentik also puts it on $ref/allOf schemas.
    // Rewrite those as "the schema, or null" so real nulls (provider_obj of an app without provider) stay valid.
    const ANNOTATIONS = new Set(["description", "readOnly", "writeOnly", "title"]);
    (function walk(n: unknown) {
        if (Array.isArray(n)) n.forEach(walk);
        else if (n && typeof n === "object") {
            const o = n as Obj;
            Object.values(o).forEach(walk);
            if (o.nullable === true && !("type" in o)) {
                delete o.nullable;
                const inner = Object.fromEntries(Object.entries(o).filter(([k]) => !ANNOTATIONS.has(k)));
                for (const k of Object.keys(inner)) delete o[k];
                o.anyOf = [inner, { enum: [null] }];
            }
        }
    })(doc);
    return doc;
}

export class FakeAuthentik {
    readonly violations: string[] = [];
    /** Every answered API call: `METHOD operationId status`. */
    readonly calls: string[] = [];
    readonly faults: Fault[] = [];
    /** Health checks answer 503 this many more times (a starting authentik). */
    notReadyFor = 0;
    /** Health checks answered (every request counts as load on authentik). */
    healthChecks = 0;
    /**
     * Page size when the client asks for none (authentik's REST_FRAMEWORK PAGE_SIZE is 100) and
     * the most a page holds whatever the client asks (tests lower it to force pagination).
     */
    pageSize = 100;
    maxPageSize = 1000;
    /** Called with `METHOD operationId` before a request is handled (tests play another writer here). */
    beforeHandle?: (opId: string) => void;
    /** Called with `METHOD operationId` after a request was handled (e.g. a stale writer overwriting it). */
    afterHandle?: (opId: string) => void;
    /** Late-committing requests still queued (tests wait for them with `settled()`). */
    private queued = new Set<Promise<unknown>>();
    url = "";
    private server?: http.Server;
    private api!: OpenAPIBackend;
    private nextPk = 1;
    readonly collections: Record<string, Collection> = {};
    /** Users by pk (the superuser akadmin is pk 1), tokens by identifier (keys included), roles' permissions and members. */
    readonly users = new Map<number, User>();
    readonly tokens = new Map<string, Obj & { key: string; user: number; intent: string; expiring: boolean; expires: string | null; viewers: number[] }>();
    readonly rolePermissions = new Map<string, Set<string>>();
    /** Object permissions by role: `<app>.<codename>@<object pk>` (guardian's GroupObjectPermission rows). */
    readonly roleObjectPermissions = new Map<string, Set<string>>();
    readonly roleUsers = new Map<string, Set<number>>();
    /** Added to the wall clock: tests move authentik's time forward (token expiry). */
    clockOffsetMs = 0;
    /** The brand's default token duration (System > Settings): every API token's lifetime. */
    tokenDurationMs = DEFAULT_TOKEN_DURATION_MS;
    /** Every write (not GET) answered, with who made it: `{op: "POST providers_proxy_create", user}`. */
    readonly writes: { op: string; user: string }[] = [];

    /** Starts on 127.0.0.1; with `tls` (PEM key and certificate for 127.0.0.1) it serves HTTPS, as authentik behind its ingress does. */
    static async start(opts: { tls?: { key: string; cert: string } } = {}): Promise<FakeAuthentik> {
        const fake = new FakeAuthentik();
        await fake.init(opts.tls);
        return fake;
    }

    private async init(tls?: { key: string; cert: string }) {
        // quick: skips re-validating authentik's own schema against the OpenAPI spec and compiles an
        // operation's validators on its first request, not all of them up front (7 s per test file).
        this.api = new OpenAPIBackend({
            definition: definition() as never,
            apiRoot: "/api/v3",
            ignoreTrailingSlashes: false,
            quick: true,
            customizeAjv: (ajv) => {
                for (const f of ["date-time", "uuid", "uri", "email", "binary", "ipv4", "ipv6", "hostname", "date"]) ajv.addFormat(f, true);
                return ajv;
            },
        });
        this.api.register({
            validationFail: (c: Context) => {
                this.violations.push(`request ${c.operation.operationId}: ${JSON.stringify(c.validation.errors)}`);
                return { status: 400, body: { non_field_errors: ["request does not match authentik's schema"] } };
            },
            notFound: (c: Context) => ({ status: 404, body: { detail: `no route ${c.request.method} ${c.request.path}` } }),
            notImplemented: (c: Context) => this.handle(c),
        });
        await this.api.init();
        this.reset();
        const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.serve(req, res);
        this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `${tls ? "https" : "http"}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    /** Empties the store and seeds what a fresh authentik has. */
    reset() {
        for (const name of [
            ...PROVIDER_KINDS,
            "core_applications",
            "core_groups",
            "policies_bindings",
            "outposts_instances",
            "core_users",
            "rbac_roles",
            "rbac_initial_permissions",
        ]) {
            const [param, field] =
                name.startsWith("providers") || name === "core_users" || name === "rbac_initial_permissions"
                    ? ["id", "pk"]
                    : name === "core_applications"
                      ? ["slug", "slug"]
                      : name === "core_groups"
                        ? ["group_uuid", "pk"]
                        : name === "policies_bindings"
                          ? ["policy_binding_uuid", "pk"]
                          : ["uuid", "pk"];
            this.collections[name] = { param, field, items: new Map() };
        }
        this.users.clear();
        this.tokens.clear();
        this.rolePermissions.clear();
        this.roleObjectPermissions.clear();
        this.roleUsers.clear();
        this.clockOffsetMs = 0;
        this.tokenDurationMs = DEFAULT_TOKEN_DURATION_MS;
        this.writes.length = 0;
        this.addUser("akadmin", { isSuperuser: true, type: "internal" });
        this.tokens.set("authentik-bootstrap-token", {
            pk: randomUUID(),
            identifier: "authentik-bootstrap-token",
            key: ADMIN_TOKEN,
            user: 1,
            intent: "api",
            expiring: false,
            expires: null,
            description: "",
            managed: null,
            viewers: [],
        });
        this.violations.length = 0;
        this.calls.length = 0;
        this.healthChecks = 0;
        this.faults.length = 0;
        this.pageSize = 100;
        this.maxPageSize = 1000;
        this.beforeHandle = undefined;
        this.afterHandle = undefined;
        this.undeclared.clear();
        const embedded = {
            pk: randomUUID(),
            name: "authentik Embedded Outpost",
            type: "proxy",
            providers: [],
            managed: SEED.embeddedOutpost,
            service_connection: null,
            config: this.defaultConfig(),
        };
        this.collections.outposts_instances.items.set(embedded.pk, embedded);
    }

    async stop() {
        await new Promise((resolve) => this.server?.close(resolve));
    }

    /** The pk of a seeded flow. */
    flowPk(slug: string): string {
        return uuidFor(`flow-${SEED.flows.indexOf(slug)}`);
    }

    /** The pk of the seeded local Kubernetes service connection. */
    serviceConnectionPk(): string {
        return uuidFor("k8s");
    }

    /** All objects of a collection, e.g. `objects("providers_proxy")`. */
    objects(collection: string): Obj[] {
        return [...this.collections[collection].items.values()];
    }

    /** authentik's clock. */
    now(): number {
        return Date.now() + this.clockOffsetMs;
    }

    /** A user; the collection holds what the API shows of it. */
    addUser(username: string, opts: { isSuperuser?: boolean; type?: string; attributes?: Obj } = {}): User {
        const user: User = {
            pk: this.users.size + 1,
            username,
            isSuperuser: opts.isSuperuser ?? false,
            type: opts.type ?? "internal",
            attributes: opts.attributes ?? {},
        };
        this.users.set(user.pk, user);
        this.collections.core_users.items.set(String(user.pk), {
            pk: user.pk,
            username,
            name: username,
            is_active: true,
            is_superuser: user.isSuperuser,
            type: user.type,
            path: user.type === "service_account" ? "goauthentik.io/service-accounts" : "users",
            attributes: user.attributes,
            groups: [],
            roles: [],
        });
        return user;
    }

    /** Issues an API token for a user (as an admin would in the UI) and returns its key. */
    issueToken(user: number, opts: { expiring?: boolean; identifier?: string } = {}): string {
        const key = randomUUID().replace(/-/g, "");
        const identifier = opts.identifier ?? `token-${this.tokens.size + 1}`;
        const expiring = opts.expiring ?? true;
        this.tokens.set(identifier, {
            pk: randomUUID(),
            identifier,
            key,
            user,
            intent: "api",
            expiring,
            expires: expiring ? new Date(this.now() + this.tokenDurationMs).toISOString() : null,
            description: "",
            managed: null,
            viewers: [user],
        });
        return key;
    }

    /** The HTTP status this authentik answers `method /api/v3<path>` (a JSON `body`, if any) made with `token`. */
    async status(token: string, method: string, path: string, body?: unknown): Promise<number> {
        const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
        return (await fetch(`${this.url}/api/v3${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })).status;
    }

    /** The user an `Authorization: Bearer …` header authenticates, as authentik's bearer_auth does. */
    private authenticate(header: unknown): User | undefined {
        const key = typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7) : undefined;
        if (!key) return undefined;
        const token = [...this.tokens.values()].find(
            (t) => t.key === key && t.intent === "api" && (!t.expiring || (t.expires !== null && Date.parse(t.expires) > this.now())),
        );
        return token ? this.users.get(token.user) : undefined;
    }

    /** The roles a user holds. */
    private rolesOf(user: User): string[] {
        return [...this.roleUsers].filter(([, members]) => members.has(user.pk)).map(([role]) => role);
    }

    /**
     * Whether a user holds a permission: as superuser, globally through a role, or (given the
     * object's pk) on that one object through a role, as guardian's ObjectPermissionBackend answers
     * `user.has_perm(perm, obj)`.
     */
    hasPermission(user: User, permission: string, objectPk?: unknown): boolean {
        if (user.isSuperuser) return true;
        return this.rolesOf(user).some(
            (role) =>
                this.rolePermissions.get(role)?.has(permission) ||
                (objectPk !== undefined && this.roleObjectPermissions.get(role)?.has(`${permission}@${String(objectPk)}`)),
        );
    }

    /**
     * authentik's initial permissions (authentik/rbac/models.py InitialPermissions, applied by
     * ModelSerializer.create through assign_initial_permissions): for every InitialPermissions of a
     * role the creator holds, each of its permissions on the new object's model goes to that role,
     * on that object. Without one the creator gets nothing on what it created.
     */
    private applyInitialPermissions(user: User, model: string, objectPk: unknown) {
        const roles = this.rolesOf(user);
        for (const ip of this.objects("rbac_initial_permissions")) {
            if (!roles.includes(String(ip.role))) continue;
            for (const id of (ip.permissions as number[]) ?? []) {
                const perm = PERMISSION_OF_ID.get(id);
                if (!perm || modelOfPermission(perm) !== model) continue;
                const held = this.roleObjectPermissions.get(String(ip.role)) ?? new Set<string>();
                held.add(`${perm}@${String(objectPk)}`);
                this.roleObjectPermissions.set(String(ip.role), held);
            }
        }
    }

    inject(fault: Fault) {
        this.faults.push(fault);
    }

    /** Waits until every late-committing request has been done. */
    async settled() {
        while (this.queued.size) await Promise.all([...this.queued]);
    }

    /**
     * A populated instance, as a Terraform-managed authentik that serves dozens of hosts: hand-made
     * groups, proxy providers (forward_single, one per host) with their applications and a binding
     * each, all attached to the embedded outpost. Returns the provider pks it attached.
     */
    populate(hosts: number, prefix = "legacy"): number[] {
        const group = { pk: randomUUID(), name: `${prefix}-users`, is_superuser: false, attributes: {}, parents: [], users: [], roles: [] };
        this.collections.core_groups.items.set(group.pk, group);
        const pks: number[] = [];
        for (let i = 1; i <= hosts; i++) {
            const name = `${prefix}-${String(i).padStart(3, "0")}`;
            const provider = {
                pk: this.nextPk++,
                name,
                mode: "forward_single",
                external_host: `https://${name}.example.com`,
                internal_host: "",
                cookie_domain: "",
                authorization_flow: this.flowPk(SEED.flows[0]),
                invalidation_flow: this.flowPk(SEED.flows[2]),
            };
            this.collections.providers_proxy.items.set(String(provider.pk), provider);
            const app = {
                pk: randomUUID(),
                name,
                slug: name,
                provider: provider.pk,
                meta_launch_url: `https://${name}.example.com/`,
                meta_icon: "",
                meta_description: "",
                group: "",
                policy_engine_mode: "any",
            };
            this.collections.core_applications.items.set(app.slug, app);
            const binding = {
                pk: randomUUID(),
                target: app.pk,
                group: group.pk,
                policy: null,
                user: null,
                order: 0,
                enabled: true,
                negate: false,
                timeout: 30,
            };
            this.collections.policies_bindings.items.set(binding.pk, binding);
            pks.push(provider.pk);
        }
        const embedded = this.embedded();
        embedded.providers = sortedPks([...(embedded.providers as number[]), ...pks]);
        return pks;
    }

    /** authentik's embedded outpost as stored. */
    embedded(): Obj {
        return this.objects("outposts_instances").find((o) => o.managed === SEED.embeddedOutpost)!;
    }

    private defaultConfig(): Obj {
        return {
            authentik_host: "",
            authentik_host_insecure: false,
            log_level: "info",
            object_naming_template: "ak-outpost-%(name)s",
            kubernetes_replicas: 1,
            kubernetes_namespace: "authentik",
            kubernetes_service_type: "ClusterIP",
            kubernetes_disabled_components: [],
            kubernetes_json_patches: null,
        };
    }

    private async serve(req: http.IncomingMessage, res: http.ServerResponse) {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const raw = Buffer.concat(chunks).toString("utf8");
        const url = new URL(req.url ?? "/", "http://x");
        if (url.pathname === "/-/health/ready/") {
            this.healthChecks++;
            const ready = this.notReadyFor <= 0;
            this.notReadyFor--;
            res.writeHead(ready ? 200 : 503).end();
            return;
        }
        if (!this.authenticate(req.headers.authorization)) {
            res.writeHead(403, { "content-type": "application/json" }).end(
                JSON.stringify({ detail: req.headers.authorization ? "Token invalid/expired" : "Authentication credentials were not provided." }),
            );
            return;
        }
        const operation = this.api.matchOperation({ method: req.method!, path: url.pathname, headers: {}, query: {} });
        const opId = `${req.method} ${operation?.operationId ?? url.pathname}`;
        const fault = this.faults.find((f) => f.times > 0 && f.match.test(opId));
        if (fault) fault.times--;
        if (fault?.kind === "503" || fault?.kind === "429") {
            res.writeHead(Number(fault.kind), { "content-type": "application/json" }).end(JSON.stringify({ detail: "try later" }));
            return;
        }
        if (fault?.kind === "reset") {
            req.socket.destroy();
            return;
        }
        if (fault?.kind === "html-404") {
            res.writeHead(404, { "content-type": "text/html" }).end("<html><body><h1>404 Not Found</h1><hr>nginx</body></html>");
            return;
        }
        if (fault?.kind === "gateway-json-404") {
            res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "no Route matched with those values" }));
            return;
        }
        if (fault?.kind === "late-commit") {
            // Held in a queue past the client's timeout; done later, its answer going nowhere.
            const wait = new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
            this.queued.add(wait);
            await wait;
            this.queued.delete(wait);
        }
        this.beforeHandle?.(opId);
        const query = Object.fromEntries(
            [...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k).length > 1 ? url.searchParams.getAll(k) : url.searchParams.get(k)!]),
        );
        const result = (await this.api.handleRequest({
            method: req.method!,
            path: url.pathname,
            query: query as never,
            headers: req.headers as never,
            body: raw ? JSON.parse(raw) : undefined,
        })) as { status: number; body?: unknown };
        if (operation && result.status < 300 && result.body !== undefined) {
            const check = this.api.validateResponse(result.body, operation, result.status);
            if (check.errors) this.violations.push(`response ${operation.operationId}: ${JSON.stringify(check.errors)}`);
        }
        this.calls.push(`${opId} ${result.status}`);
        if (req.method !== "GET" && result.status < 300) this.writes.push({ op: opId, user: this.authenticate(req.headers.authorization)?.username ?? "?" });
        this.afterHandle?.(opId);
        if (fault?.kind === "commit-then-reset") {
            req.socket.destroy(); // committed, but the client never hears it
            return;
        }
        if (fault?.kind === "slow") await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
        if (res.destroyed) return;
        res.writeHead(result.status, { "content-type": "application/json" }).end(result.body === undefined ? "" : JSON.stringify(result.body));
    }

    // -----------------------------------------------------------------------------------------
    // The stateful API
    // -----------------------------------------------------------------------------------------

    private handle(c: Context): { status: number; body?: unknown } {
        const opId = c.operation.operationId!;
        const query = c.request.query as Record<string, string | string[]>;
        const user = this.authenticate((c.request.headers as Record<string, unknown>).authorization)!;
        const special = this.accessAndTokens(opId, c, user);
        if (special) return special;
        switch (opId) {
            case "flows_instances_list":
                return this.list(
                    opId,
                    SEED.flows.map((slug, i) => ({ pk: uuidFor(`flow-${i}`), slug, name: slug, title: slug, designation: "authorization" })),
                    query,
                );
            case "propertymappings_provider_scope_list":
                return this.list(
                    opId,
                    SEED.scopes.map((s, i) => ({
                        pk: uuidFor(`scope-${i}`),
                        name: `authentik default OAuth Mapping: OpenID '${s}'`,
                        managed: `goauthentik.io/providers/oauth2/scope-${s}`,
                        scope_name: s,
                        expression: "return {}",
                    })),
                    query,
                );
            case "crypto_certificatekeypairs_list":
                return this.list(opId, [{ pk: uuidFor("cert"), name: SEED.certificate }], query);
            case "outposts_service_connections_kubernetes_list":
                return this.list(opId, [{ pk: uuidFor("k8s"), name: SEED.serviceConnection, local: true, kubeconfig: {} }], query);
            case "outposts_instances_default_settings_retrieve":
                return { status: 200, body: { config: this.defaultConfig() } };
        }
        const m = /^(.*?)_(list|create|retrieve|update|partial_update|destroy)$/.exec(opId);
        const col = m && this.collections[m[1]];
        if (!m || !col) return { status: 501, body: { detail: `${opId} is not served by the fake` } };
        const [, name, action] = m;
        const id = String((c.request.params as Record<string, string>)[col.param] ?? "");
        const body = c.request.requestBody as Obj | undefined;
        switch (action) {
            case "list":
                if (name === "core_applications" && !user.isSuperuser) {
                    // ApplicationViewSet.list: for anyone but a superuser, only the applications the
                    // caller may use (policy-checked; superuser_full_list ignored). Our service
                    // accounts are in no group, so an app bound to groups is not among them.
                    const bound = new Set(this.objects("policies_bindings").map((b) => b.target));
                    return this.list(
                        opId,
                        [...col.items.values()].filter((a) => !bound.has(a.pk)),
                        query,
                    );
                }
                return this.list(opId, [...col.items.values()], query);

            case "create": {
                if (name === "core_groups" && body!.is_superuser === true && !this.hasPermission(user, "authentik_core.enable_group_superuser")) {
                    return { status: 400, body: { is_superuser: ["User does not have permission to set superuser status to True."] } };
                }
                const error = this.rules(name, body!, undefined);
                if (error) return { status: 400, body: error };
                const obj: Obj = this.stored({
                    ...this.defaults(name, body!),
                    ...body,
                    pk: name.startsWith("providers") || name === "rbac_initial_permissions" ? this.nextPk++ : randomUUID(),
                });
                col.items.set(String(obj[col.field]), obj);
                if (MODEL_OF[name]) this.applyInitialPermissions(user, MODEL_OF[name], obj.pk);
                return { status: 201, body: this.view(name, obj, opId) };
            }
            case "retrieve": {
                const obj = col.items.get(id);
                return obj ? { status: 200, body: this.view(name, obj, opId) } : { status: 404, body: { detail: "Not found." } };
            }
            case "update":
            case "partial_update": {
                const current = col.items.get(id);
                if (!current) return { status: 404, body: { detail: "Not found." } };
                if (name === "providers_proxy" && action === "partial_update" && body && !("mode" in body) && current.mode !== "proxy") {
                    return { status: 400, body: { internal_host: ["Internal host cannot be empty when forward auth is disabled."] } };
                }
                if (name === "core_groups" && body && "is_superuser" in body && body.is_superuser !== current.is_superuser) {
                    const perm = body.is_superuser ? "authentik_core.enable_group_superuser" : "authentik_core.disable_group_superuser";
                    if (!this.hasPermission(user, perm))
                        return {
                            status: 400,
                            body: { is_superuser: [`User does not have permission to set superuser status to ${body.is_superuser ? "True" : "False"}.`] },
                        };
                }
                if (name === "policies_bindings" && action === "partial_update" && body && !("target" in body)) {
                    // PolicyBindingSerializer.validate calls attrs.get("target").supported_policy_binding_targets():
                    // a PATCH without target is an AttributeError, answered 500 (authentik/policies/api/bindings.py).
                    return { status: 500, body: { detail: "'NoneType' object has no attribute 'supported_policy_binding_targets'" } };
                }
                // A PATCH (partial) sets only what it carries. A PUT also sets every omitted field that has
                // a serializer default to that default (DRF Field.validate_empty_values: get_default()
                // unless partial), so a PUT without `users` empties a group. Either way a many-to-many
                // field the request carries replaces the stored one whole.
                const reset = action === "update" ? without(SERIALIZER_DEFAULTS[name] ?? {}, ...Object.keys(body ?? {})) : {};
                const next: Obj = this.stored({ ...current, ...structuredClone(reset), ...body, pk: current.pk });
                const error = this.rules(name, next, current, body);
                if (error) return { status: 400, body: error };
                col.items.delete(id);
                col.items.set(String(next[col.field]), next);
                return { status: 200, body: this.view(name, next, opId) };
            }
            case "destroy": {
                const gone = col.items.get(id);
                if (!gone || !col.items.delete(id)) return { status: 404, body: { detail: "Not found." } };
                this.cascade(name, gone);
                return { status: 204 };
            }
        }
        return { status: 501 };
    }

    /**
     * RBAC and the operations outside the generic collections (users, tokens, roles). authentik's
     * rules (authentik/rbac, authentik/core/api/tokens.py): a global `view_<model>` lets a user
     * list and retrieve every object, without it both answer 403 (ObjectFilter, no object
     * permissions modelled); add/change/delete guard create, update and delete; tokens are each
     * user's own (OwnerSuperuserPermissions); a superuser may do everything.
     */
    private accessAndTokens(opId: string, c: Context, user: User): { status: number; body?: unknown } | undefined {
        const params = c.request.params as Record<string, string>;
        const body = c.request.requestBody as Obj | undefined;
        const query = c.request.query as Record<string, string | string[]>;
        if (opId.startsWith("core_tokens_")) return this.tokenOperation(opId, params.identifier, body, query, user);
        if (opId === "outposts_instances_default_settings_retrieve") return undefined; // any authenticated user
        if (opId === "core_users_service_account_create") {
            if (!this.hasPermission(user, "authentik_core.add_user")) return DENIED;
            const username = String(body!.name);
            if ([...this.users.values()].some((u) => u.username === username))
                return { status: 400, body: { non_field_errors: ["A user/group with these details already exists"] } };
            const expiring = body!.expiring !== false;
            const account = this.addUser(username, { type: "service_account", attributes: { "goauthentik.io/user/token-expires": expiring } });
            const identifier = `service-account-${username}-password`.toLowerCase();
            const key = randomUUID().replace(/-/g, "");
            this.tokens.set(identifier, {
                pk: randomUUID(),
                identifier,
                key,
                user: account.pk,
                intent: "app_password",
                expiring,
                expires: new Date(this.now() + 360 * 86400_000).toISOString(),
                description: "",
                managed: null,
                viewers: [],
            });
            return { status: 200, body: { username, token: key, user_uid: String(account.pk), user_pk: account.pk } };
        }
        if (opId.startsWith("rbac_")) {
            if (!user.isSuperuser) return DENIED; // role administration is left to superusers here
            const role = params.uuid;
            if (role && !this.collections.rbac_roles.items.has(role)) return { status: 404, body: { detail: "No Role matches the given query." } };
            switch (opId) {
                case "rbac_roles_list":
                    if (query.users !== undefined) {
                        const member = Number(query.users);
                        const own = this.objects("rbac_roles").filter((r) => this.roleUsers.get(String(r.pk))?.has(member));
                        return this.list(opId, own, without(query, "users"));
                    }
                    return undefined;
                case "rbac_roles_add_user_create":
                case "rbac_roles_remove_user_create": {
                    const pk = Number(body!.pk);
                    if (!this.users.has(pk)) return { status: 404, body: { detail: "User not found" } };
                    const members = this.roleUsers.get(role) ?? new Set<number>();
                    if (opId === "rbac_roles_add_user_create") members.add(pk);
                    else members.delete(pk);
                    this.roleUsers.set(role, members);
                    return { status: 204 };
                }
                case "rbac_permissions_assigned_by_roles_assign":
                case "rbac_permissions_assigned_by_roles_unassign_partial_update": {
                    const asked = (body?.permissions as string[]) ?? [];
                    const unknown = asked.filter((p) => !KNOWN_PERMISSIONS.has(p));
                    if (unknown.length) return { status: 400, body: { permissions: unknown.map((p) => `Permission ${p} does not exist.`) } };
                    // With model and object_pk the permissions are on that one object (guardian's
                    // assign_perm(perm, role, obj)); they must all be of that model, and it must exist.
                    const model = body?.model as string | undefined;
                    const onObject = model !== undefined ? `@${String(body!.object_pk)}` : "";
                    if (model !== undefined) {
                        if (asked.some((p) => modelOfPermission(p) !== model))
                            return { status: 400, body: { non_field_errors: [`Permissions must all be of model ${model}.`] } };
                        const collection = Object.keys(MODEL_OF).find((c) => MODEL_OF[c] === model && this.collections[c]);
                        if (!collection || !this.objects(collection).some((o) => String(o.pk) === String(body!.object_pk)))
                            return { status: 400, body: { object_pk: ["Object does not exist."] } };
                    }
                    const store = model !== undefined ? this.roleObjectPermissions : this.rolePermissions;
                    const held = store.get(role) ?? new Set<string>();
                    for (const p of asked)
                        if (opId.endsWith("_assign")) held.add(p + onObject);
                        else held.delete(p + onObject);
                    store.set(role, held);
                    return opId.endsWith("_assign") ? { status: 200, body: asked.map((_, i) => ({ id: String(i + 1) })) } : { status: 204 };
                }
                case "rbac_permissions_list": {
                    // PermissionFilter: role (its global permissions), codename, content_type__app_label.
                    const all = query.role !== undefined ? [...(this.rolePermissions.get(String(query.role)) ?? [])] : [...KNOWN_PERMISSIONS];
                    const app = query.content_type__app_label;
                    const items = all
                        .sort()
                        .map(permissionView)
                        .filter((p) => (app === undefined || p.app_label === app) && (query.codename === undefined || p.codename === query.codename));
                    return this.list(opId, items, without(query, "role", "codename", "content_type__app_label"));
                }
                case "rbac_initial_permissions_create":
                case "rbac_initial_permissions_update":
                case "rbac_initial_permissions_partial_update": {
                    const unknown = ((body?.permissions as number[]) ?? []).filter((id) => !PERMISSION_OF_ID.has(id));
                    if (unknown.length) return { status: 400, body: { permissions: unknown.map((id) => `Invalid pk "${id}" - object does not exist.`) } };
                    if (body?.role !== undefined && !this.collections.rbac_roles.items.has(String(body.role)))
                        return { status: 400, body: { role: [`Invalid pk "${String(body.role)}" - object does not exist.`] } };
                    return undefined;
                }
                case "rbac_roles_destroy":
                    this.rolePermissions.delete(role);
                    this.roleObjectPermissions.delete(role);
                    this.roleUsers.delete(role);
                    // InitialPermissions.role: on_delete CASCADE.
                    for (const [k, ip] of this.collections.rbac_initial_permissions.items)
                        if (ip.role === role) this.collections.rbac_initial_permissions.items.delete(k);
                    return undefined;
            }
            return undefined;
        }
        const m = /^(.*?)_(list|create|retrieve|update|partial_update|destroy)$/.exec(opId);
        const model = m && MODEL_OF[m[1]];
        if (!model) return undefined;
        const [app, name] = model.split(".");
        const perm = `${app}.${VERB_OF[m[2]]}_${name}`;
        // One object (retrieve, update, destroy): a global permission or one on that object
        // (authentik's ObjectPermissions). A list without the global view permission shows only the
        // objects the user may view (ObjectFilter); a create needs the global add permission.
        const col = this.collections[m[1]];
        const addressed = col?.items.get(String(params[col.param] ?? ""));
        if (m[2] === "list" && !this.hasPermission(user, perm))
            return this.list(opId, col ? this.objects(m[1]).filter((o) => this.hasPermission(user, perm, o.pk)) : [], query);
        if (m[2] !== "list" && !this.hasPermission(user, perm, addressed?.pk)) return DENIED;
        if (m[1] === "core_users" && m[2] === "destroy") {
            const pk = Number(params.id);
            for (const [k, t] of this.tokens) if (t.user === pk) this.tokens.delete(k);
            for (const members of this.roleUsers.values()) members.delete(pk);
            this.users.delete(pk);
        }
        return undefined;
    }

    /** /core/tokens/: each user's own (a superuser's: all); API tokens expire after the default duration, whatever is asked. */
    private tokenOperation(opId: string, identifier: string | undefined, body: Obj | undefined, query: Record<string, string | string[]>, user: User) {
        const visible = [...this.tokens.values()].filter((t) => user.isSuperuser || t.user === user.pk);
        const shown = (t: Obj) => {
            const rest = without(t, "key", "viewers");
            const owner = this.collections.core_users.items.get(String(t.user));
            return { ...rest, user_obj: { ...(this.api.mockResponseForOperation("core_users_retrieve").mock as Obj), ...owner } };
        };
        const token = identifier === undefined ? undefined : visible.find((t) => t.identifier === identifier);
        if (identifier !== undefined && !token) return { status: 404, body: { detail: "No Token matches the given query." } };
        switch (opId) {
            case "core_tokens_list":
                return this.list(opId, visible.map(shown), query);
            case "core_tokens_retrieve":
                return { status: 200, body: shown(token!) };
            case "core_tokens_view_key_retrieve":
                return user.isSuperuser || token!.viewers.includes(user.pk) ? { status: 200, body: { key: token!.key } } : DENIED;
            case "core_tokens_destroy":
                this.tokens.delete(token!.identifier as string);
                return { status: 204 };
            case "core_tokens_create": {
                const id = String(body!.identifier);
                if (this.tokens.has(id)) return { status: 400, body: { identifier: ["Token with this identifier already exists."] } };
                const intent = String(body!.intent ?? "api");
                if (intent !== "api" && intent !== "app_password") return { status: 400, body: { intent: [`Invalid intent ${intent}`] } };
                const owner = user.isSuperuser && body!.user !== undefined ? Number(body!.user) : user.pk;
                const expiring = user.isSuperuser
                    ? body!.expiring !== false
                    : this.users.get(user.pk)!.attributes["goauthentik.io/user/token-expires"] !== false;
                const expires = intent === "api" ? new Date(this.now() + this.tokenDurationMs).toISOString() : ((body!.expires as string | undefined) ?? null);
                const made = {
                    pk: randomUUID(),
                    identifier: id,
                    key: randomUUID().replace(/-/g, "") + randomUUID().replace(/-/g, ""),
                    user: owner,
                    intent,
                    expiring,
                    expires,
                    description: String(body!.description ?? ""),
                    managed: null,
                    viewers: user.isSuperuser ? [] : [user.pk],
                };
                this.tokens.set(id, made);
                return { status: 201, body: shown(made) };
            }
        }
        return { status: 501, body: { detail: `${opId} is not served by the fake` } };
    }

    /** authentik's validation rules that matter to the engine. */
    private rules(name: string, obj: Obj, current: Obj | undefined, request: Obj = obj): Obj | undefined {
        const others = (col: string) => this.objects(col).filter((o) => o !== current && o.pk !== current?.pk);
        if (name.startsWith("providers")) {
            if (PROVIDER_KINDS.some((k) => others(k).some((o) => o.name === obj.name))) return { name: ["Provider with this name already exists."] };
        }
        if (name === "providers_proxy" && (obj.mode ?? "proxy") === "proxy" && !obj.internal_host)
            return { internal_host: ["Internal host cannot be empty when forward auth is disabled."] };
        if (name === "core_applications" && others(name).some((o) => o.slug === obj.slug)) return { slug: ["Application with this slug already exists."] };
        if (name === "core_applications" && obj.provider != null && others(name).some((o) => o.provider === obj.provider))
            return { provider: ["Application with this provider already exists."] };
        if (name === "core_groups" && others(name).some((o) => o.name === obj.name)) return { name: ["Group with this name already exists."] };
        if (name === "rbac_initial_permissions" && others(name).some((o) => o.name === obj.name))
            return { name: ["Initial Permissions with this name already exists."] };
        if (name === "policies_bindings" && [obj.policy, obj.group, obj.user].filter((v) => v != null).length !== 1)
            return { non_field_errors: ["Only one of 'policy', 'group' or 'user' can be set."] };
        if (name === "outposts_instances" && "providers" in request) {
            // OutpostSerializer.validate_providers: only when the request carries providers; the type
            // checked is the request's own (initial_data), and only the embedded outpost may be empty.
            for (const pk of (request.providers as number[]) ?? []) {
                const kind = PROVIDER_KINDS.find((k) => this.collections[k].items.has(String(pk)));
                if (!kind) return { providers: [`Invalid pk "${pk}" - object does not exist.`] };
                if (request.type !== undefined && OUTPOST_TYPE_OF[kind] !== request.type)
                    return { providers: [`Outpost type ${request.type} does not match provider type`] };
            }
            if (current?.managed !== SEED.embeddedOutpost && ((request.providers as number[]) ?? []).length === 0)
                return { providers: ["This list may not be empty."] };
        }
        if (name === "outposts_instances" && current?.managed === SEED.embeddedOutpost && obj.name !== current.name)
            return { name: ["Embedded outpost's name cannot be changed"] };
        return undefined;
    }

    /** Many-to-many fields come back in authentik's order (by pk), whatever order was sent. */
    private stored(obj: Obj): Obj {
        if (Array.isArray(obj.providers)) obj.providers = sortedPks(obj.providers as number[]);
        if (Array.isArray(obj.property_mappings)) obj.property_mappings = [...(obj.property_mappings as string[])].sort();
        return obj;
    }

    /** What deleting an object does to others in authentik's database (FK cascades, M2M rows). */
    private cascade(name: string, gone: Obj) {
        if (name.startsWith("providers")) {
            for (const o of this.objects("outposts_instances")) o.providers = ((o.providers as number[]) ?? []).filter((p) => p !== gone.pk);
            for (const a of this.objects("core_applications")) if (a.provider === gone.pk) a.provider = null;
        }
        if (name === "core_applications" || name === "core_groups") {
            const bindings = this.collections.policies_bindings.items;
            for (const [k, b] of bindings) if (b.target === gone.pk || b.group === gone.pk) bindings.delete(k);
        }
    }

    /** Server-side defaults of a new object (what authentik fills in). */
    private defaults(name: string, body: Obj): Obj {
        if (SERIALIZER_DEFAULTS[name]) return structuredClone(SERIALIZER_DEFAULTS[name]);
        if (name === "providers_oauth2") return { client_id: body.client_id ?? randomUUID().replace(/-/g, ""), client_type: "confidential" };
        if (name === "providers_proxy") return { mode: "proxy" };
        if (name === "outposts_instances") return { managed: null, service_connection: null };
        return {};
    }

    /** The object as an operation answers it: a schema-generated skeleton with the stored fields over it. */
    private view(name: string, obj: Obj, opId: string): Obj {
        const skeleton = this.api.mockResponseForOperation(opId.replace(/_(create|update|partial_update|list)$/, "_retrieve")).mock as Obj;
        const extra: Obj = {};
        if (name.startsWith("providers")) extra.assigned_application_slug = this.objects("core_applications").find((a) => a.provider === obj.pk)?.slug ?? "";
        if (name === "core_applications") extra.provider_obj = null;
        if (name === "rbac_initial_permissions")
            extra.permissions_obj = ((obj.permissions as number[]) ?? []).map((id) => permissionView(PERMISSION_OF_ID.get(id)!));
        return { ...skeleton, ...obj, ...extra };
    }

    /** The query parameters an operation declares (its viewset's filters); django-filter ignores any other. */
    private declared(opId: string): Set<string> {
        if (this.undeclared.has(opId)) return new Set();
        const cached = this.declaredCache.get(opId);
        if (cached) return cached;
        const doc = this.api.definition as unknown as { components: { parameters: Record<string, { name: string }> } };
        const op = this.api.getOperation(opId) as unknown as { parameters?: { name?: string; $ref?: string }[] } | undefined;
        const names = new Set(
            (op?.parameters ?? []).map((p) => (p.$ref ? doc.components.parameters[p.$ref.split("/").pop()!]?.name : p.name)).filter((n): n is string => !!n),
        );
        this.declaredCache.set(opId, names);
        return names;
    }
    private declaredCache = new Map<string, Set<string>>();
    /** Operations whose filters are ignored, as on an authentik whose viewset lacks them. */
    readonly undeclared = new Set<string>();

    private list(opId: string, all: Obj[], query: Record<string, string | string[]>) {
        const declared = this.declared(opId);
        const paging = new Set([
            "ordering",
            "page",
            "page_size",
            "search",
            "include_users",
            "superuser_full_list",
            "include_children",
            "include_parents",
            "include_inherited_roles",
        ]);
        const matches = all.filter((o) =>
            Object.entries(query).every(([k, v]) => {
                if (paging.has(k) || !declared.has(k)) return true; // undeclared filters are ignored, as django-filter does
                const field = k.replace(/__iexact$/, "");
                // A lookup across a relation (django-filter's `user__username`): the related object as the API shows it (`user_obj`).
                const [relation, attribute] = field.split("__");
                const actual = attribute === undefined ? o[field] : (o[`${relation}_obj`] as Obj | undefined)?.[attribute];
                if (Array.isArray(v)) return v.includes(String(actual));
                if (k.endsWith("__iexact")) return String(actual ?? "").toLowerCase() === v.toLowerCase();
                return String(actual) === v;
            }),
        );
        const item = (o: Obj) =>
            this.collections[opId.replace(/_list$/, "")]
                ? this.view(opId.replace(/_list$/, ""), o, opId)
                : { ...(this.api.mockResponseForOperation(opId).mock as { results: Obj[] }).results?.[0], ...o };
        // DRF PageNumberPagination: page_size from the query, capped here; a page past the end is a 404.
        const size = Math.min(Number(query.page_size ?? this.pageSize) || this.pageSize, this.maxPageSize);
        const pages = Math.max(1, Math.ceil(matches.length / size));
        const page = Number(query.page ?? 1);
        if (!(page >= 1 && page <= pages)) return { status: 404, body: { detail: "Invalid page." } };
        const slice = matches.slice((page - 1) * size, page * size);
        return {
            status: 200,
            body: {
                pagination: {
                    next: page < pages ? page + 1 : 0,
                    previous: page > 1 ? page - 1 : 0,
                    count: matches.length,
                    current: page,
                    total_pages: pages,
                    start_index: slice.length ? (page - 1) * size + 1 : 0,
                    end_index: (page - 1) * size + slice.length,
                },
                results: slice.map(item),
                autocomplete: {},
            },
        };
    }
}

/** The model a permission is on: `authentik_core.change_application` → `authentik_core.application`. */
function modelOfPermission(perm: string): string {
    const [app, codename] = perm.split(".");
    return `${app}.${codename.replace(/^[a-z]+_/, "")}`;
}

/** The object without some keys (a filter handled here, fields authentik never shows). */
function without<T extends Record<string, unknown>>(o: T, ...keys: string[]): T {
    return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))) as T;
}

function sortedPks(pks: number[]): number[] {
    return [...new Set(pks)].sort((a, b) => a - b);
}

/** A stable uuid per seed name, so lookups return the same pk every time. */
function uuidFor(seed: string): string {
    const hex = Buffer.from(seed.padEnd(16, "-")).toString("hex").slice(0, 32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * One fake per test file, started before its tests and reset before each: each test is its own
 * `pulumi up` (one provider process, nothing learnt yet). A schema violation fails the test.
 */
export function useFakeAuthentik(started: (fake: FakeAuthentik) => void): void {
    let fake: FakeAuthentik;
    before(async () => {
        fake = await FakeAuthentik.start();
        started(fake);
    });
    after(async () => fake.stop());
    beforeEach(() => {
        fake.reset();
        resetEngineCache();
    });
    afterEach(() => assert.deepEqual(fake.violations, [], "every request and response matches authentik's schema"));
}
