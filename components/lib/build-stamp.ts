/**
 * Pulumi runs the compiled bin/index.js. A bin/ built from older sources would deploy the old
 * program silently, so the build stamps a digest of the program's sources (bin/.source-digest) and
 * the program refuses to start when the sources beside it no longer match. Hashing ~80 files takes
 * a few milliseconds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";

/** What the program is built from (tools and tests are not deployed). */
const SOURCE_DIRS = ["components", "stacks", "policy"];
const STAMP = ".source-digest";

function sources(root: string): string[] {
    const files = [path.join(root, "index.ts")];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                if (entry.name !== "node_modules" && entry.name !== "dist") walk(full);
            } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(full);
        }
    };
    for (const d of SOURCE_DIRS) if (fs.existsSync(path.join(root, d))) walk(path.join(root, d));
    return files.sort();
}

export function sourceDigest(root: string): string {
    const hash = createHash("sha256");
    for (const file of sources(root)) hash.update(path.relative(root, file)).update("\0").update(fs.readFileSync(file)).update("\0");
    return hash.digest("hex");
}

export function writeStamp(root: string, binDir: string): void {
    fs.writeFileSync(path.join(binDir, STAMP), `${sourceDigest(root)}\n`);
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
