/** The formatter is part of `npm test`: Prettier with the project's width and indent checks every source file. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./support/helpers";

describe("formatting", () => {
    it("npm test checks every TypeScript and JavaScript file with Prettier after the lint and before the tests", () => {
        const test = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.test;
        const steps = test.split(" && ");
        const check = steps.findIndex((s) => /^prettier --check\b.*"\*\*\/\*\.\{ts,js,mjs\}"$/.test(s));
        assert.ok(check > steps.indexOf("eslint ."), `prettier --check after eslint: ${test}`);
        assert.ok(check < steps.findIndex((s) => s.startsWith("node --test")), "and before the tests");
    });

    it("formats as the code is written: 160 columns, 4 spaces, trailing commas; a file it would change fails the check", async () => {
        const prettier = await import("prettier");
        const options = { ...(await prettier.resolveConfig(path.join(ROOT, "index.ts"))), filepath: "x.ts" };
        assert.deepEqual(await prettier.resolveConfig(path.join(ROOT, "index.ts")), { printWidth: 160, tabWidth: 4, trailingComma: "all" });
        assert.equal(await prettier.check("const a = { b: 1, c: [2, 3] };\n", options), true);
        assert.equal(await prettier.check("const a = {b:1,c:[2,3]}\n", options), false);
    });
});
