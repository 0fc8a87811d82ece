/** tools/build.js: the Node.js check that runs before anything is compiled, and the compile it skips when nothing changed. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { builtFrom, writeStamp } from "../lib/build-stamp";
import { ROOT } from "./support/helpers";

const { satisfies } = createRequire(__filename)(path.join(ROOT, "tools", "build.js")) as { satisfies(version: string, range: string): boolean };
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string }; scripts: Record<string, string> };

describe("the Node.js a command needs", () => {
    it("is package.json's range: 22 from 22.13, 24 and later; never 20, 21, 23 or an older 22", () => {
        assert.equal(pkg.engines.node, "^22.13.0 || >=24");
        const accepted = ["22.13.0", "22.13.1", "22.20.0", "24.0.0", "24.22.3", "25.1.0", "v24.1.0"];
        const refused = ["20.20.2", "21.7.3", "22.12.0", "22.0.0", "23.11.0", "18.20.0"];
        for (const v of accepted) assert.equal(satisfies(v, pkg.engines.node), true, v);
        for (const v of refused) assert.equal(satisfies(v, pkg.engines.node), false, v);
        assert.throws(() => satisfies("24.0.0", "~24.0.0"), /package\.json engines\.node: "~24\.0\.0" is not \^X\.Y\.Z or >=X/);
    });

    it("is checked first by every script that builds, so `npm test` and `npm run plan` stop at once; `npm ci` by engine-strict", () => {
        assert.equal(pkg.scripts.build, "node tools/build.js");
        // Directly, not through a second `npm run build`: npm's own start-up is a good part of a warm plan.
        for (const script of ["test", "plan", "e2e", "verify", "conformance", "reference", "bench", "docs"])
            assert.match(pkg.scripts[script], /^node tools\/build\.js && /, script);
        assert.match(fs.readFileSync(path.join(ROOT, ".npmrc"), "utf8"), /^engine-strict=true$/m);
    });
});

describe("a build with nothing to do", () => {
    /** A project root with the inputs a build reads, stamped as built. */
    function builtRoot(): { root: string; bin: string } {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "build-"));
        for (const [file, text] of Object.entries({
            "index.ts": "x",
            "tsconfig.json": "{}",
            "package.json": "{}",
            "package-lock.json": "{}",
            "components/a.ts": "a",
            "tests/t.test.ts": "t",
            "tools/p.ts": "p",
            "e2e/s.ts": "s",
        })) {
            fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
            fs.writeFileSync(path.join(root, file), text);
        }
        const bin = path.join(root, "bin");
        fs.mkdirSync(bin);
        writeStamp(root, bin);
        return { root, bin };
    }

    it("is recognised by the digest of everything the compile reads: sources, tests, tools, e2e, tsconfig and the lockfile", () => {
        for (const changed of [
            "components/a.ts",
            "tests/t.test.ts",
            "tools/p.ts",
            "e2e/s.ts",
            "tsconfig.json",
            "package-lock.json",
            "index.ts",
            "components/new.ts",
        ]) {
            const { root, bin } = builtRoot();
            assert.equal(builtFrom(root, bin), true);
            fs.writeFileSync(path.join(root, changed), "changed");
            assert.equal(builtFrom(root, bin), false, `${changed} changed: compile again`);
        }
        const { root, bin } = builtRoot();
        fs.writeFileSync(path.join(root, "README.md"), "docs do not compile");
        assert.equal(builtFrom(root, bin), true);
        fs.rmSync(path.join(bin, ".build-digest"));
        assert.equal(builtFrom(root, bin), false, "never stamped: compile");
    });

    it("a compile that fails leaves no stamp: tsc has emitted what it could, and the next build compiles again", () => {
        // A project of one file, built by this tools/build.js with this TypeScript and this stamp module.
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "build-fail-"));
        const write = (file: string, text: string) => {
            fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
            fs.writeFileSync(path.join(root, file), text);
        };
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
        write("tools/build.js", fs.readFileSync(path.join(ROOT, "tools", "build.js"), "utf8"));
        write("package.json", JSON.stringify({ engines: pkg.engines }));
        write("tsconfig.json", JSON.stringify({ compilerOptions: { outDir: "bin", rootDir: ".", strict: true }, include: ["components"] }));
        write("bin/lib/build-stamp.js", fs.readFileSync(path.join(ROOT, "bin", "lib", "build-stamp.js"), "utf8"));
        write("bin/tools/stamp.js", `require("../lib/build-stamp").writeStamp(${JSON.stringify(root)}, ${JSON.stringify(path.join(root, "bin"))});`);
        const build = () => spawnSync(process.execPath, [path.join(root, "tools", "build.js")], { cwd: root }).status;
        write("components/a.ts", "export const a: number = 1;\n");
        assert.equal(build(), 0);
        assert.equal(builtFrom(root, path.join(root, "bin")), true);
        const good = fs.readFileSync(path.join(root, "components", "a.ts"));
        write("components/a.ts", 'export const a: number = "broken";\n');
        assert.notEqual(build(), 0, "the type error fails the build");
        fs.writeFileSync(path.join(root, "components", "a.ts"), good); // the change taken back
        assert.equal(builtFrom(root, path.join(root, "bin")), false, "bin/ holds what the failed compile emitted: not built from these sources");
        assert.equal(build(), 0);
        assert.match(fs.readFileSync(path.join(root, "bin", "components", "a.js"), "utf8"), /exports\.a = 1;/);
    });

    it("skips the compile: `npm run build` right after a build leaves bin/ as it was", () => {
        const bin = path.join(ROOT, "bin");
        assert.equal(builtFrom(ROOT, bin), true, "npm test built bin/ from these sources");
        const before = fs.statSync(path.join(bin, ".tsbuildinfo")).mtimeMs;
        assert.equal(spawnSync(process.execPath, [path.join(ROOT, "tools", "build.js")], { cwd: ROOT }).status, 0);
        assert.equal(fs.statSync(path.join(bin, ".tsbuildinfo")).mtimeMs, before, "tsc did not run");
    });
});
