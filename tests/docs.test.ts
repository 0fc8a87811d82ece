import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderConfigReference, withReference } from "../tools/docs";
import { ROOT } from "./helpers";

describe("README", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("carries the configuration reference generated from the schema (run `npm run docs`)", () => {
        assert.equal(withReference(readme), readme);
    });

    it("documents every key, with its default", () => {
        const reference = renderConfigReference();
        for (const key of ["pgbouncer.minAvailable", "database.sharedBuffers", "onepassword.mode", "credentials.secretKey"]) {
            assert.match(reference, new RegExp(`\`authentik-platform:${key.replace(".", "\\.")}\``));
        }
        assert.match(reference, /`authentik-platform:pgbouncer\.poolMode` \| one of "session", "transaction" \| `"session"`/);
    });

    it("gives the two commands CI runs", () => {
        assert.match(readme, /npm ci && npm run plan/);
        assert.match(readme, /^npm test/m);
        assert.match(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8"), /^npm test$/m);
    });
});
