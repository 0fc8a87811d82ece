/**
 * examples/, each installed and built in a directory of its own as another repository would: a
 * real `npm install` of the example's package.json (the published packages linked from their
 * directories, as `npm install <path>` does, and the example's own pinned @pulumi/pulumi from the
 * registry), then its own TypeScript compile. examples/consumer pins an older SDK than this
 * repository: the packages must take the consumer's, their peer dependency, not this repository's.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { ROOT } from "./support/helpers";

const run = (command: string, args: string[], cwd: string) =>
    new Promise<{ code: number; output: string }>((resolve) =>
        execFile(command, args, { cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
        ),
    );

/** examples/<name> copied to a new directory, its `file:` dependencies pointed back at this repository. */
function copyOf(name: string): { dir: string; pkg: { dependencies: Record<string, string> } } {
    const source = path.join(ROOT, "examples", name);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `example-${name}-`));
    for (const f of fs.readdirSync(source)) fs.copyFileSync(path.join(source, f), path.join(dir, f));
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const [dep, spec] of Object.entries(pkg.dependencies)) {
        if (spec.startsWith("file:")) pkg.dependencies[dep] = `file:${path.resolve(source, spec.slice("file:".length))}`;
    }
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2));
    return { dir, pkg };
}

describe("the examples, installed and built in their own directories", () => {
    for (const [name, sdk] of [
        ["consumer", "3.248.0"],
        ["protected-app", "3.276.0"],
    ] as const) {
        it(`examples/${name}: npm install links the packages from their directories, and it compiles and loads on its own @pulumi/pulumi ${sdk}`, async () => {
            const { dir, pkg } = copyOf(name);
            assert.equal(pkg.dependencies["@pulumi/pulumi"], sdk, "the SDK the example pins");
            const install = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], dir);
            assert.equal(install.code, 0, install.output);
            assert.ok(
                fs.lstatSync(path.join(dir, "node_modules", "@authentik-platform", "contract")).isSymbolicLink(),
                "linked, as npm install <path> does, not copied",
            );
            const compile = await run(process.execPath, [path.join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], dir);
            assert.equal(compile.code, 0, compile.output);
            assert.ok(fs.existsSync(path.join(dir, "bin", "index.js")));
            // At run time (Pulumi.yaml's nodeargs), the packages take the example's SDK: one copy of it.
            const sdkOf = `const seen = Object.keys(require.cache).filter((k) => k.endsWith("/@pulumi/pulumi/index.js")); console.log(JSON.stringify(seen.map((k) => require(require("path").join(k, "..", "package.json")).version + " " + k)))`;
            const packages = Object.keys(pkg.dependencies).filter((d) => d.startsWith("@authentik-platform/"));
            const loaded = await run(
                process.execPath,
                ["--preserve-symlinks", "-e", `${packages.map((p) => `require(${JSON.stringify(p)});`).join("")}${sdkOf}`],
                dir,
            );
            assert.equal(loaded.code, 0, loaded.output);
            assert.deepEqual(JSON.parse(loaded.output), [`${sdk} ${path.join(dir, "node_modules", "@pulumi", "pulumi", "index.js")}`]);
            assert.match(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"), /^\s+nodeargs: --preserve-symlinks$/m, "Pulumi runs the program the same way");
        });
    }
});
