/**
 * An in-process authentik for contract tests: a real HTTP server on 127.0.0.1 that validates EVERY
 * request and response against the OpenAPI `schema.yml` shipped inside the installed
 * @goauthentik/api (openapi-backend), keeps state, enforces authentik's sharp edges (provider names
 * unique across kinds, proxy PATCH without mode, outpost provider types) and injects faults.
 * Schema violations are collected in `violations`; tests assert there are none.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import YAML from "yaml";
import { OpenAPIBackend, type Context } from "openapi-backend";

/** Operations the fake serves (the rest of authentik's API is pruned, so unknown calls fail loudly). */
const SERVED = /^\/(providers\/(proxy|oauth2|radius|ldap)|core\/(applications|groups)|policies\/bindings|outposts\/(instances|service_connections\/kubernetes)|flows\/instances|propertymappings\/provider\/scope|crypto\/certificatekeypairs)\//;

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
const OUTPOST_TYPE_OF: Record<string, string> = { providers_proxy: "proxy", providers_radius: "radius", providers_ldap: "ldap" };

export const SEED = {
    flows: ["default-provider-authorization-implicit-consent", "default-provider-authorization-explicit-consent", "default-provider-invalidation-flow", "default-authentication-flow", "default-invalidation-flow"],
    scopes: ["openid", "email", "profile", "offline_access"],
    certificate: "authentik Self-signed Certificate",
    serviceConnection: "Local Kubernetes Cluster",
    embeddedOutpost: "goauthentik.io/outposts/embedded",
};

let definitionCache: Obj | undefined;
function definition(): Obj {
    if (!definitionCache) {
        const file = require.resolve("@goauthentik/api/schema.yml");
        const doc = YAML.parse(fs.readFileSync(file, "utf8"), { maxAliasCount: -1 }) as { paths: Obj };
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
        definitionCache = doc;
    }
    return structuredClone(definitionCache);
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

    static async start(): Promise<FakeAuthentik> {
        const fake = new FakeAuthentik();
        await fake.init();
        return fake;
    }

    private async init() {
        // lazyCompileValidators is an option of openapi-backend 5 missing from its typings.
        this.api = new OpenAPIBackend({
            definition: definition() as never,
            apiRoot: "/api/v3",
            ignoreTrailingSlashes: false,
            ...({ lazyCompileValidators: true } as object),
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
        this.server = http.createServer((req, res) => void this.serve(req, res));
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    /** Empties the store and seeds what a fresh authentik has. */
    reset() {
        for (const name of [...PROVIDER_KINDS, "core_applications", "core_groups", "policies_bindings", "outposts_instances"]) {
            const [param, field] = name.startsWith("providers") ? ["id", "pk"] : name === "core_applications" ? ["slug", "slug"] : name === "core_groups" ? ["group_uuid", "pk"] : name === "policies_bindings" ? ["policy_binding_uuid", "pk"] : ["uuid", "pk"];
            this.collections[name] = { param, field, items: new Map() };
        }
        this.violations.length = 0;
        this.calls.length = 0;
        this.healthChecks = 0;
        this.faults.length = 0;
        this.pageSize = 100;
        this.maxPageSize = 1000;
        this.beforeHandle = undefined;
        this.afterHandle = undefined;
        this.undeclared.clear();
        const embedded = { pk: randomUUID(), name: "authentik Embedded Outpost", type: "proxy", providers: [], managed: SEED.embeddedOutpost, service_connection: null, config: this.defaultConfig() };
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
            const app = { pk: randomUUID(), name, slug: name, provider: provider.pk, meta_launch_url: `https://${name}.example.com/`, meta_icon: "", meta_description: "", group: "", policy_engine_mode: "any" };
            this.collections.core_applications.items.set(app.slug, app);
            const binding = { pk: randomUUID(), target: app.pk, group: group.pk, policy: null, user: null, order: 0, enabled: true, negate: false, timeout: 30 };
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
        return { authentik_host: "", authentik_host_insecure: false, log_level: "info", object_naming_template: "ak-outpost-%(name)s", kubernetes_replicas: 1, kubernetes_namespace: "authentik", kubernetes_service_type: "ClusterIP", kubernetes_disabled_components: [], kubernetes_json_patches: null };
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
        if (req.headers.authorization !== "Bearer test-token") {
            res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ detail: "Authentication credentials were not provided." }));
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
        const query = Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k).length > 1 ? url.searchParams.getAll(k) : url.searchParams.get(k)!]));
        const result = (await this.api.handleRequest({ method: req.method!, path: url.pathname, query: query as never, headers: req.headers as never, body: raw ? JSON.parse(raw) : undefined })) as { status: number; body?: unknown };
        if (operation && result.status < 300 && result.body !== undefined) {
            const check = this.api.validateResponse(result.body, operation, result.status);
            if (check.errors) this.violations.push(`response ${operation.operationId}: ${JSON.stringify(check.errors)}`);
        }
        this.calls.push(`${opId} ${result.status}`);
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
        switch (opId) {
            case "flows_instances_list":
                return this.list(opId, SEED.flows.map((slug, i) => ({ pk: uuidFor(`flow-${i}`), slug, name: slug, title: slug, designation: "authorization" })), query);
            case "propertymappings_provider_scope_list":
                return this.list(opId, SEED.scopes.map((s, i) => ({ pk: uuidFor(`scope-${i}`), name: `authentik default OAuth Mapping: OpenID '${s}'`, managed: `goauthentik.io/providers/oauth2/scope-${s}`, scope_name: s, expression: "return {}" })), query);
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
                return this.list(opId, [...col.items.values()], query);

            case "create": {
                const error = this.rules(name, body!, undefined);
                if (error) return { status: 400, body: error };
                const obj: Obj = this.stored({ ...this.defaults(name, body!), ...body, pk: name.startsWith("providers") ? this.nextPk++ : randomUUID() });
                col.items.set(String(obj[col.field]), obj);
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
                // PUT and PATCH alike keep the fields the request omits (DRF only sets what it validated).
                const next: Obj = this.stored({ ...current, ...body, pk: current.pk });
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

    /** authentik's validation rules that matter to the engine. */
    private rules(name: string, obj: Obj, current: Obj | undefined, request: Obj = obj): Obj | undefined {
        const others = (col: string) => this.objects(col).filter((o) => o !== current && o.pk !== current?.pk);
        if (name.startsWith("providers")) {
            if (PROVIDER_KINDS.some((k) => others(k).some((o) => o.name === obj.name))) return { name: ["Provider with this name already exists."] };
        }
        if (name === "providers_proxy" && (obj.mode ?? "proxy") === "proxy" && !obj.internal_host) return { internal_host: ["Internal host cannot be empty when forward auth is disabled."] };
        if (name === "core_applications" && others(name).some((o) => o.slug === obj.slug)) return { slug: ["Application with this slug already exists."] };
        if (name === "core_applications" && obj.provider != null && others(name).some((o) => o.provider === obj.provider)) return { provider: ["Application with this provider already exists."] };
        if (name === "core_groups" && others(name).some((o) => o.name === obj.name)) return { name: ["Group with this name already exists."] };
        if (name === "policies_bindings" && [obj.policy, obj.group, obj.user].filter((v) => v != null).length !== 1) return { non_field_errors: ["Only one of 'policy', 'group' or 'user' can be set."] };
        if (name === "outposts_instances" && "providers" in request) {
            // OutpostSerializer.validate_providers: only when the request carries providers; the type
            // checked is the request's own (initial_data), and only the embedded outpost may be empty.
            for (const pk of (request.providers as number[]) ?? []) {
                const kind = PROVIDER_KINDS.find((k) => this.collections[k].items.has(String(pk)));
                if (!kind) return { providers: [`Invalid pk "${pk}" - object does not exist.`] };
                if (request.type !== undefined && OUTPOST_TYPE_OF[kind] !== request.type) return { providers: [`Outpost type ${request.type} does not match provider type`] };
            }
            if (current?.managed !== SEED.embeddedOutpost && ((request.providers as number[]) ?? []).length === 0) return { providers: ["This list may not be empty."] };
        }
        if (name === "outposts_instances" && current?.managed === SEED.embeddedOutpost && obj.name !== current.name) return { name: ["Embedded outpost's name cannot be changed"] };
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
        return { ...skeleton, ...obj, ...extra };
    }

    /** The query parameters an operation declares (its viewset's filters); django-filter ignores any other. */
    private declared(opId: string): Set<string> {
        if (this.undeclared.has(opId)) return new Set();
        const cached = this.declaredCache.get(opId);
        if (cached) return cached;
        const doc = this.api.definition as unknown as { components: { parameters: Record<string, { name: string }> } };
        const op = this.api.getOperation(opId) as unknown as { parameters?: ({ name?: string; $ref?: string })[] } | undefined;
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
        const paging = new Set(["ordering", "page", "page_size", "search", "include_users", "superuser_full_list", "include_children", "include_parents", "include_inherited_roles"]);
        const matches = all.filter((o) =>
            Object.entries(query).every(([k, v]) => {
                if (paging.has(k) || !declared.has(k)) return true; // undeclared filters are ignored, as django-filter does
                const field = k.replace(/__iexact$/, "");
                const actual = o[field];
                if (Array.isArray(v)) return v.includes(String(actual));
                if (k.endsWith("__iexact")) return String(actual ?? "").toLowerCase() === v.toLowerCase();
                return String(actual) === v;
            }),
        );
        const item = (o: Obj) => (this.collections[opId.replace(/_list$/, "")] ? this.view(opId.replace(/_list$/, ""), o, opId) : { ...(this.api.mockResponseForOperation(opId).mock as { results: Obj[] }).results?.[0], ...o });
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

function sortedPks(pks: number[]): number[] {
    return [...new Set(pks)].sort((a, b) => a - b);
}

/** A stable uuid per seed name, so lookups return the same pk every time. */
function uuidFor(seed: string): string {
    const hex = Buffer.from(seed.padEnd(16, "-")).toString("hex").slice(0, 32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
