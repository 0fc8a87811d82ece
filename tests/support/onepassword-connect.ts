/**
 * A 1Password Connect server stand-in on 127.0.0.1, written from Connect's published API
 * (developer.1password.com/docs/connect/api-reference, 1password-connect-api.yaml): the read side
 * that External Secrets' `onepassword` provider and the official clients use.
 *
 * - `GET /heartbeat` (text ".") and `GET /health`, without a token;
 * - every `/v1/` request needs `Authorization: Bearer <token>`, else 401 `Invalid token signature`;
 * - `GET /v1/vaults[?filter=…]`, `GET /v1/vaults/{vaultUUID}` (404 `Vault not found`);
 * - `GET /v1/vaults/{vaultUUID}/items[?filter=…]`: item summaries, without fields;
 * - `GET /v1/vaults/{vaultUUID}/items/{itemUUID}`: the full item (404 `Item not found`).
 *
 * Filters are SCIM `eq` filters: vaults by name (the API reference writes `name eq "…"`, the Go and
 * JavaScript clients send `title eq "…"`: both are the vault's name), items by `title`. Errors are
 * `{"status": …, "message": …}`. IDs are 26 lower-case letters and digits, as the spec's pattern
 * `^[\da-z]{26}$`. Writes are not served (External Secrets' provider only reads; PushSecret is not
 * used): they answer 405.
 */
import * as http from "node:http";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";

export interface ConnectVault {
    id: string;
    name: string;
    type: "USER_CREATED";
    items: number;
    attributeVersion: number;
    contentVersion: number;
    createdAt: string;
    updatedAt: string;
}

export interface ConnectField {
    id: string;
    label: string;
    value: string;
    type: "STRING" | "CONCEALED";
    purpose?: "USERNAME" | "PASSWORD";
}

export interface ConnectItem {
    id: string;
    title: string;
    vault: { id: string };
    category: "LOGIN" | "PASSWORD" | "API_CREDENTIAL";
    version: number;
    createdAt: string;
    updatedAt: string;
    fields: ConnectField[];
}

/** A 26-character ID of lower-case letters and digits. */
function connectId(): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    return [...randomBytes(26)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** `attribute eq "value"` (a `\"` inside the value is a quote), or undefined for anything else. */
export function parseEqFilter(filter: string): { attribute: string; value: string } | undefined {
    const m = /^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/.exec(filter);
    return m ? { attribute: m[1], value: m[2].replace(/\\(.)/g, "$1") } : undefined;
}

export interface ConnectRequest {
    method: string;
    path: string;
    status: number;
}

export class OnePasswordConnect {
    readonly url: string;
    /** Every request answered, in order (the path with its query). */
    readonly requests: ConnectRequest[] = [];
    private readonly vaults = new Map<string, ConnectVault>();
    private readonly items = new Map<string, ConnectItem>();

    private constructor(
        private readonly server: http.Server,
        private readonly token: string,
    ) {
        this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    /** Serves on a free loopback port, accepting `token`. */
    static async start(token: string): Promise<OnePasswordConnect> {
        const server = http.createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const connect = new OnePasswordConnect(server, token);
        server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => connect.handle(req, res));
        return connect;
    }

    stop(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    /** The vault named `name`, made on first use. */
    vault(name: string): ConnectVault {
        const found = [...this.vaults.values()].find((v) => v.name === name);
        if (found) return found;
        const now = new Date().toISOString();
        const vault: ConnectVault = {
            id: connectId(),
            name,
            type: "USER_CREATED",
            items: 0,
            attributeVersion: 1,
            contentVersion: 1,
            createdAt: now,
            updatedAt: now,
        };
        this.vaults.set(vault.id, vault);
        return vault;
    }

    /**
     * Creates the item `title` in `vault` with these fields (label → value), or replaces the fields
     * of the one there (its version goes up, as an edit in 1Password does).
     */
    setItem(vault: string, title: string, fields: Record<string, string>): ConnectItem {
        const v = this.vault(vault);
        const now = new Date().toISOString();
        const existing = this.itemsOf(v.id).find((i) => i.title === title);
        const item: ConnectItem = existing ?? {
            id: connectId(),
            title,
            vault: { id: v.id },
            category: "LOGIN",
            version: 0,
            createdAt: now,
            updatedAt: now,
            fields: [],
        };
        item.fields = Object.entries(fields).map(([label, value]) => ({
            id: label === "password" ? "password" : connectId(),
            label,
            value,
            type: label === "username" ? "STRING" : "CONCEALED",
            ...(label === "password" ? { purpose: "PASSWORD" as const } : label === "username" ? { purpose: "USERNAME" as const } : {}),
        }));
        item.version += 1;
        item.updatedAt = now;
        this.items.set(item.id, item);
        v.items = this.itemsOf(v.id).length;
        v.contentVersion += 1;
        return item;
    }

    /** Deletes the item `title` of `vault` (as deleting it in 1Password does); true when there was one. */
    deleteItem(vault: string, title: string): boolean {
        const v = this.vault(vault);
        const item = this.itemsOf(v.id).find((i) => i.title === title);
        if (!item) return false;
        this.items.delete(item.id);
        v.items = this.itemsOf(v.id).length;
        v.contentVersion += 1;
        return true;
    }

    private itemsOf(vaultId: string): ConnectItem[] {
        return [...this.items.values()].filter((i) => i.vault.id === vaultId);
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", this.url);
        const answer = (status: number, body: unknown) => {
            this.requests.push({ method: req.method ?? "", path: `${url.pathname}${url.search}`, status });
            const text = typeof body === "string" ? body : JSON.stringify(body);
            res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" }).end(text);
        };
        const error = (status: number, message: string) => answer(status, { status, message });
        if (url.pathname === "/heartbeat" && req.method === "GET") return answer(200, ".");
        if (url.pathname === "/health" && req.method === "GET") return answer(200, { name: "1Password Connect API", version: "1.8.1", dependencies: [] });
        if (!url.pathname.startsWith("/v1/")) return error(404, "Not found");
        if (req.headers.authorization !== `Bearer ${this.token}`) return error(401, "Invalid token signature");
        if (req.method !== "GET") return error(405, "Method not allowed");

        const parts = url.pathname.replace(/\/+$/, "").split("/").slice(2); // after "/v1"
        const filter = url.searchParams.get("filter");
        const eq = filter === null ? undefined : parseEqFilter(filter);
        if (filter !== null && !eq) return error(400, `Invalid filter: ${filter}`);
        if (parts[0] !== "vaults") return error(404, "Not found");

        if (parts.length === 1) {
            if (eq && eq.attribute !== "name" && eq.attribute !== "title") return error(400, `Vaults can only be filtered by name, not ${eq.attribute}`);
            return answer(
                200,
                [...this.vaults.values()].filter((v) => !eq || v.name === eq.value),
            );
        }
        const vault = this.vaults.get(parts[1]);
        if (!vault) return error(404, "Vault not found");
        if (parts.length === 2) return answer(200, vault);
        if (parts[2] !== "items" || parts.length > 4) return error(404, "Not found");
        if (parts.length === 3) {
            if (eq && eq.attribute !== "title") return error(400, `Items can only be filtered by title or tag, not ${eq.attribute}`);
            const summaries = this.itemsOf(vault.id)
                .filter((i) => !eq || i.title === eq.value)
                .map(({ fields: _fields, ...summary }) => summary);
            return answer(200, summaries);
        }
        const item = this.items.get(parts[3]);
        if (!item || item.vault.id !== vault.id) return error(404, "Item not found");
        return answer(200, item);
    }
}
