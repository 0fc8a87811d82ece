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

export type FaultKind = "503" | "429" | "reset" | "commit-then-reset" | "slow";
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
        this.faults.length = 0;
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

    /** All objects of a collection, e.g. `objects("providers_proxy")`. */
    objects(collection: string): Obj[] {
        return [...this.collections[collection].items.values()];
    }

    inject(fault: Fault) {
        this.faults.push(fault);
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
        const query = Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k).length > 1 ? url.searchParams.getAll(k) : url.searchParams.get(k)!]));
        const result = (await this.api.handleRequest({ method: req.method!, path: url.pathname, query: query as never, headers: req.headers as never, body: raw ? JSON.parse(raw) : undefined })) as { status: number; body?: unknown };
        if (operation && result.status < 300 && result.body !== undefined) {
            const check = this.api.validateResponse(result.body, operation, result.status);
            if (check.errors) this.violations.push(`response ${operation.operationId}: ${JSON.stringify(check.errors)}`);
        }
        this.calls.push(`${opId} ${result.status}`);
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
        const m = /^(.*)_(list|create|retrieve|update|partial_update|destroy)$/.exec(opId);
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
                const obj: Obj = { ...this.defaults(name, body!), ...body, pk: name.startsWith("providers") ? this.nextPk++ : randomUUID() };
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
                const next: Obj = action === "update" ? { ...this.defaults(name, body!), ...body, pk: current.pk } : { ...current, ...body };
                const error = this.rules(name, next, current);
                if (error) return { status: 400, body: error };
                col.items.delete(id);
                col.items.set(String(next[col.field]), next);
                return { status: 200, body: this.view(name, next, opId) };
            }
            case "destroy": {
                if (!col.items.delete(id)) return { status: 404, body: { detail: "Not found." } };
                return { status: 204 };
            }
        }
        return { status: 501 };
    }

    /** authentik's validation rules that matter to the engine. */
    private rules(name: string, obj: Obj, current: Obj | undefined): Obj | undefined {
        const others = (col: string) => this.objects(col).filter((o) => o !== current && o.pk !== current?.pk);
        if (name.startsWith("providers")) {
            if (PROVIDER_KINDS.some((k) => others(k).some((o) => o.name === obj.name))) return { name: ["Provider with this name already exists."] };
        }
        if (name === "providers_proxy" && (obj.mode ?? "proxy") === "proxy" && !obj.internal_host) return { internal_host: ["Internal host cannot be empty when forward auth is disabled."] };
        if (name === "core_applications" && others(name).some((o) => o.slug === obj.slug)) return { slug: ["Application with this slug already exists."] };
        if (name === "core_applications" && obj.provider != null && others(name).some((o) => o.provider === obj.provider)) return { provider: ["Application with this provider already exists."] };
        if (name === "core_groups" && others(name).some((o) => o.name === obj.name)) return { name: ["Group with this name already exists."] };
        if (name === "policies_bindings" && [obj.policy, obj.group, obj.user].filter((v) => v != null).length !== 1) return { non_field_errors: ["Only one of 'policy', 'group' or 'user' can be set."] };
        if (name === "outposts_instances") {
            for (const pk of (obj.providers as number[]) ?? []) {
                const kind = PROVIDER_KINDS.find((k) => this.collections[k].items.has(String(pk)));
                if (!kind) return { providers: [`Invalid pk "${pk}" - object does not exist.`] };
                if (OUTPOST_TYPE_OF[kind] !== obj.type) return { providers: [`Outpost type ${obj.type} does not match provider type`] };
            }
        }
        return undefined;
    }

    /** Server-side defaults of a new object (what authentik fills in). */
    private defaults(name: string, body: Obj): Obj {
        if (name === "providers_oauth2") return { client_id: body.client_id ?? randomUUID().replace(/-/g, ""), client_type: "confidential" };
        if (name === "providers_proxy") return { mode: "proxy" };
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

    private list(opId: string, all: Obj[], query: Record<string, string | string[]>) {
        const ignored = new Set(["ordering", "page", "page_size", "search", "include_users", "superuser_full_list", "include_children", "include_parents", "include_inherited_roles"]);
        const matches = all.filter((o) =>
            Object.entries(query).every(([k, v]) => {
                if (ignored.has(k)) return true;
                const field = k.replace(/__iexact$/, "");
                const actual = o[field];
                if (Array.isArray(v)) return v.includes(String(actual));
                if (k.endsWith("__iexact")) return String(actual ?? "").toLowerCase() === v.toLowerCase();
                if (v === "true" || v === "false") return String(actual) === v;
                return String(actual) === v;
            }),
        );
        const item = (o: Obj) => (this.collections[opId.replace(/_list$/, "")] ? this.view(opId.replace(/_list$/, ""), o, opId) : { ...(this.api.mockResponseForOperation(opId).mock as { results: Obj[] }).results?.[0], ...o });
        return {
            status: 200,
            body: {
                pagination: { next: 0, previous: 0, count: matches.length, current: 1, total_pages: 1, start_index: matches.length ? 1 : 0, end_index: matches.length },
                results: matches.map(item),
                autocomplete: {},
            },
        };
    }
}

/** A stable uuid per seed name, so lookups return the same pk every time. */
function uuidFor(seed: string): string {
    const hex = Buffer.from(seed.padEnd(16, "-")).toString("hex").slice(0, 32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
