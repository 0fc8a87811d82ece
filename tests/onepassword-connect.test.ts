/**
 * The 1Password Connect stand-in (tests/support/onepassword-connect.ts) as 1Password's own client,
 * @1password/connect, sees it: every call External Secrets' provider makes (a vault by name, items
 * by title, an item by ID), the errors of the published API (401 without the token, 404 for a
 * missing vault or item), and an edit or deletion made in 1Password.
 */
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { OPConnect, OnePasswordConnect as newConnectClient } from "@1password/connect";
import { OnePasswordConnect, parseEqFilter } from "./support/onepassword-connect";

const TOKEN = "connect-token-for-tests";
let connect: OnePasswordConnect;
let client: OPConnect;

before(async () => {
    connect = await OnePasswordConnect.start(TOKEN);
    client = newConnectClient({ serverURL: connect.url, token: TOKEN, keepAlive: false });
    connect.setItem("homelab", "authentik-db", { username: "authentik", password: 'p"w %\\ x' });
    connect.setItem("homelab", "smtp-relay", { password: "smtp" });
    connect.setItem("other", "authentik-db", { password: "not this one" });
});
after(() => connect.stop());

/** What a rejected call of the client carried: the API's status and message. */
async function rejection(call: Promise<unknown>): Promise<{ status?: number; message?: string }> {
    try {
        await call;
    } catch (e) {
        return e as { status?: number; message?: string };
    }
    assert.fail("expected the call to be refused");
}

describe("the Connect stand-in, through @1password/connect", () => {
    it("finds a vault by name, as External Secrets' provider does with each vault of its store", async () => {
        const vault = await client.getVaultByTitle("homelab");
        assert.equal(vault.name, "homelab");
        assert.match(vault.id!, /^[\da-z]{26}$/, "the spec's vault ID pattern");
        assert.deepEqual((await client.getVaultById(vault.id!)).name, "homelab");
        assert.deepEqual((await client.listVaults()).map((v: { name?: string }) => v.name).sort(), ["homelab", "other"]);
        assert.deepEqual(await client.listVaultsByTitle("nope"), []);
    });

    it("lists items by title without their fields, then serves the item with its fields by ID", async () => {
        const vault = await client.getVaultByTitle("homelab");
        const summaries = await client.listItemsByTitle(vault.id!, "authentik-db");
        assert.equal(summaries.length, 1, "one item of that title in this vault (the other vault's is not listed)");
        const filter = encodeURIComponent('title eq "authentik-db"');
        const listing = (await (
            await fetch(`${connect.url}/v1/vaults/${vault.id}/items?filter=${filter}`, { headers: { authorization: `Bearer ${TOKEN}` } })
        ).json()) as object[];
        assert.deepEqual(
            listing.map((i) => Object.keys(i).includes("fields")),
            [false],
            "a listing carries no field values",
        );
        const item = await client.getItemById(vault.id!, summaries[0].id!);
        assert.deepEqual(
            item.fields!.map((f: { label?: string; value?: string }) => [f.label, f.value]),
            [
                ["username", "authentik"],
                ["password", 'p"w %\\ x'],
            ],
        );
        assert.equal((await client.getItemByTitle(vault.id!, "smtp-relay")).fields![0].value, "smtp");
    });

    it("refuses a request without the token, or with another, as 401", async () => {
        const stranger = newConnectClient({ serverURL: connect.url, token: "wrong", keepAlive: false });
        assert.deepEqual(await rejection(stranger.listVaults()), { status: 401, message: "Invalid token signature" });
        const res = await fetch(`${connect.url}/v1/vaults`);
        assert.equal(res.status, 401);
        assert.equal((await fetch(`${connect.url}/heartbeat`)).status, 200, "the heartbeat needs no token");
    });

    it("answers 404 for a missing vault or item, and an empty list for a title nobody has", async () => {
        const vault = await client.getVaultByTitle("homelab");
        assert.deepEqual(await rejection(client.getVaultById("a".repeat(26))), { status: 404, message: "Vault not found" });
        assert.deepEqual(await rejection(client.getItemById(vault.id!, "b".repeat(26))), { status: 404, message: "Item not found" });
        assert.deepEqual(await client.listItemsByTitle(vault.id!, "no-such-item"), []);
        const other = await client.getVaultByTitle("other");
        const foreign = (await client.listItemsByTitle(other.id!, "authentik-db"))[0];
        assert.deepEqual(
            await rejection(client.getItemById(vault.id!, foreign.id!)),
            { status: 404, message: "Item not found" },
            "an item is found only in its own vault",
        );
    });

    it("serves an edit made in 1Password with a higher version, and forgets a deleted item", async () => {
        const vault = await client.getVaultByTitle("homelab");
        const before = await client.getItemByTitle(vault.id!, "smtp-relay");
        connect.setItem("homelab", "smtp-relay", { password: "rotated" });
        const after = await client.getItemByTitle(vault.id!, "smtp-relay");
        assert.equal(after.id, before.id, "the same item");
        assert.equal(after.version, before.version! + 1);
        assert.equal(after.fields![0].value, "rotated");
        assert.equal(connect.deleteItem("homelab", "smtp-relay"), true);
        assert.equal(connect.deleteItem("homelab", "smtp-relay"), false, "gone already");
        assert.deepEqual(await client.listItemsByTitle(vault.id!, "smtp-relay"), []);
        assert.deepEqual(await rejection(client.getItemById(vault.id!, before.id!)), { status: 404, message: "Item not found" });
    });

    it("refuses what it does not serve: writes (405), filters on other attributes (400)", async () => {
        const vault = await client.getVaultByTitle("homelab");
        const auth = { authorization: `Bearer ${TOKEN}` };
        assert.equal((await fetch(`${connect.url}/v1/vaults/${vault.id}/items`, { method: "POST", headers: auth, body: "{}" })).status, 405);
        assert.equal((await fetch(`${connect.url}/v1/vaults?filter=${encodeURIComponent('id eq "x"')}`, { headers: auth })).status, 400);
        assert.equal((await fetch(`${connect.url}/v1/vaults/${vault.id}/items?filter=${encodeURIComponent('name eq "x"')}`, { headers: auth })).status, 400);
        assert.equal((await fetch(`${connect.url}/v1/vaults?filter=bogus`, { headers: auth })).status, 400);
        const byName = (await (await fetch(`${connect.url}/v1/vaults?filter=${encodeURIComponent('name eq "homelab"')}`, { headers: auth })).json()) as {
            id: string;
        }[];
        assert.deepEqual(
            byName.map((v) => v.id),
            [vault.id],
            "the reference's own example filter, by name",
        );
    });

    it("reads SCIM eq filters, with an escaped quote in the value", () => {
        assert.deepEqual(parseEqFilter('title eq "a \\"b\\" c"'), { attribute: "title", value: 'a "b" c' });
        assert.deepEqual(parseEqFilter(' name  eq  "x" '), { attribute: "name", value: "x" });
        assert.equal(parseEqFilter('title co "x"'), undefined);
        assert.equal(parseEqFilter('title eq "x" and tag eq "y"'), undefined);
    });
});
