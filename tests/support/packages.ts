/**
 * The published packages as another repository installs them (package.json and dist/ only, their
 * dependencies beside them), and examples/protected-app compiled against them in a directory of
 * its own.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT } from "./helpers";

const tsc = (...args: string[]) => execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), ...args], { encoding: "utf8" });

/** A new directory holding examples/protected-app, built against the packaged contract and ProtectedApp. */
export function protectedAppProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "protected-app-"));
    for (const [name, source] of [
        ["contract", "packages/contract"],
        ["protected-app", "packages/protected-app"],
    ]) {
        const pkg = path.join(dir, "node_modules", "@authentik-platform", name);
        fs.mkdirSync(pkg, { recursive: true });
        tsc("-p", path.join(ROOT, source, "tsconfig.json"), "--outDir", path.join(pkg, "dist"));
        fs.copyFileSync(path.join(ROOT, source, "package.json"), path.join(pkg, "package.json"));
    }
    // Their dependencies, as npm installs them (the same copies this repository runs).
    for (const dep of ["@pulumi", "@goauthentik"]) fs.symlinkSync(path.join(ROOT, "node_modules", dep), path.join(dir, "node_modules", dep));
    for (const f of ["index.ts", "tsconfig.json", "package.json", "Pulumi.yaml"])
        fs.copyFileSync(path.join(ROOT, "examples", "protected-app", f), path.join(dir, f));
    tsc("-p", path.join(dir, "tsconfig.json"));
    return dir;
}
