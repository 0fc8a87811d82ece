/** lib/imports.ts: which kinds the takeover can import, and their identity. Pure. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { identityOf } from "../lib/imports";

describe("importable kinds", () => {
    it("only the kinds the takeover knows have an import identity", () => {
        assert.equal(identityOf("kubernetes:core/v1:ConfigMap", { metadata: { name: "c", namespace: "authentik" } }), "ConfigMap/authentik/c");
        assert.equal(identityOf("kubernetes:batch/v1:CronJob", { metadata: { name: "pg-dump", namespace: "authentik" } }), undefined);
    });
});
