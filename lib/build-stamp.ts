/**
 * Pulumi runs the compiled bin/index.js. A bin/ built from older sources would deploy the old
 * program silently, so the build stamps a digest of the program's sources (bin/.source-digest) and
 * the program refuses to start when the sources beside it no longer match. It also stamps a digest
 * of everything the compile reads (bin/.build-digest), so `npm run build` skips the compile when
 * nothing changed (tools/build.js). Hashing a few hundred files takes a few milliseconds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";

/** Files and directories (their .ts files) that a digest covers. */
interface Inputs {
    files: string[];
    dirs: string[];
}

/** What the program is built from (tools and tests are not deployed). */
const PROGRAM: Inputs = { files: ["index.ts"], dirs: ["lib", "config", "components", "packages", "policy"] };
/** What `npm run build` compiles from: tsconfig.json's include, and the files that decide types and settings. */
const BUILD: Inputs = {
    files: ["index.ts", "tsconfig.json", "package.json", "package-lock.json"],
    dirs: ["lib", "config", "components", "packages", "policy", "tools", "tests", "e2e"],
};
const STAMP = ".source-digest";
const BUILD_STAMP = ".build-digest";

function sources(root: string, inputs: Inputs): string[] {
    const files = inputs.files.map((f) => path.join(root, f)).filter((f) => fs.existsSync(f));
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                if (entry.name !== "node_modules" && entry.name !== "dist") walk(full);
            } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(full);
        }
    };
    for (const d of inputs.dirs) if (fs.existsSync(path.join(root, d))) walk(path.join(root, d));
    return files.sort();
}

function digest(root: string, inputs: Inputs): string {
    const hash = createHash("sha256");
    for (const file of sources(root, inputs)) hash.update(path.relative(root, file)).update("\0").update(fs.readFileSync(file)).update("\0");
    return hash.digest("hex");
}

export function sourceDigest(root: string): string {
    return digest(root, PROGRAM);
}

export function writeStamp(root: string, binDir: string): void {
    fs.writeFileSync(path.join(binDir, STAMP), `${sourceDigest(root)}\n`);
    fs.writeFileSync(path.join(binDir, BUILD_STAMP), `${digest(root, BUILD)}\n`);
}

/** Whether `binDir` was compiled from exactly the inputs beside it (then a build has nothing to do). */
export function builtFrom(root: string, binDir: string): boolean {
    const stamp = path.join(binDir, BUILD_STAMP);
    return fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === digest(root, BUILD);
}

/**
 * Undefined when bin/ was built from the sources beside it (or there are no sources: a packaged
 * build); otherwise what to do.
 */
export function staleBuild(root: string, binDir: string): string | undefined {
    if (!fs.existsSync(path.join(root, "index.ts"))) return undefined;
    const stamp = path.join(binDir, STAMP);
    const built = fs.existsSync(stamp) ? fs.readFileSync(stamp, "utf8").trim() : undefined;
    if (built === sourceDigest(root)) return undefined;
    return `${path.relative(process.cwd(), binDir) || binDir}/ was ${built ? "built from other sources than the ones here" : "not built with npm run build"}: Pulumi would run an old program. Run \`npm run build\`, then run Pulumi again.`;
}
