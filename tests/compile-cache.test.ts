/** tools/compile-cache.ts: the offline plan starts with Node.js's module compile cache on. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "./support/helpers";

const cacheDirAfterLoading = (env: NodeJS.ProcessEnv) =>
    spawnSync(
        process.execPath,
        [
            "-e",
            `require(${JSON.stringify(path.join(ROOT, "bin", "tools", "compile-cache.js"))}); process.stdout.write(String(require("node:module").getCompileCacheDir()))`,
        ],
        { encoding: "utf8", env: { PATH: process.env.PATH, ...env } },
    ).stdout;

describe("the module compile cache", () => {
    it("is on once the module loads, unless NODE_DISABLE_COMPILE_CACHE says no", () => {
        assert.match(cacheDirAfterLoading({}), /node-compile-cache/);
        assert.equal(cacheDirAfterLoading({ NODE_DISABLE_COMPILE_CACHE: "1" }), "undefined");
    });

    it("is the first thing the plan loads, so every module after it is compiled from the cache", () => {
        const plan = fs.readFileSync(path.join(ROOT, "bin", "tools", "plan.js"), "utf8");
        assert.match(plan.slice(plan.indexOf("require(")), /^require\("\.\/compile-cache"\);/);
    });
});
