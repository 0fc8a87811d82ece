/**
 * The folders follow the dependency graph (docs/architecture.md): every relative import of every
 * TypeScript file, read from the sources, gathered into arrows between folders. lib/ is the ground
 * floor; no two folders import each other, at the top level or between the components.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./support/helpers";

const SKIP = new Set(["node_modules", "bin", "dist", "reports", ".git", ".stryker", ".stryker-tmp"]);
const IMPORT = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*["'](\.{1,2}\/[^"']*)["']/g;

function sourceFiles(dir = ROOT): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return SKIP.has(e.name) ? [] : sourceFiles(full);
        return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path.relative(ROOT, full)] : [];
    });
}

/** The module a relative specifier names, as a path from the root (`x` → `x.ts`, a folder → its index.ts). */
function resolve(from: string, specifier: string): string {
    const target = path.normalize(path.join(path.dirname(from), specifier));
    if (fs.existsSync(path.join(ROOT, target)) && fs.statSync(path.join(ROOT, target)).isDirectory()) return path.join(target, "index.ts");
    return target.endsWith(".ts") ? target : `${target}.ts`;
}

/** The folder a file is in: its top-level folder, or, at depth 2, the folder below components/, lib/ or packages/. */
function folderOf(file: string, depth: 1 | 2): string {
    const parts = file.split(path.sep);
    if (parts.length === 1) return "(root)";
    if (depth === 2 && parts.length > 2 && ["components", "lib", "packages"].includes(parts[0])) return `${parts[0]}/${parts[1]}`;
    return parts[0];
}

/** Every relative import in the sources, once: the importing file and the module it names. */
let imports: { file: string; target: string }[] | undefined;
function allImports(): { file: string; target: string }[] {
    return (imports ??= sourceFiles().flatMap((file) =>
        [...fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(IMPORT)].map((m) => ({ file, target: resolve(file, m[1]) })),
    ));
}

/** Arrows between folders: folder → the folders it imports from. */
function arrows(depth: 1 | 2): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const { file, target } of allImports()) {
        const [from, to] = [folderOf(file, depth), folderOf(target, depth)];
        if (from !== to) out.set(from, (out.get(from) ?? new Set()).add(to));
    }
    return out;
}

const importsOf = (graph: Map<string, Set<string>>, folder: string) => [...(graph.get(folder) ?? [])].sort();

describe("the layout follows the dependency graph", () => {
    it("lib/ is the ground floor: it imports nothing of the project", () => {
        assert.deepEqual(importsOf(arrows(1), "lib"), []);
    });

    it("each floor imports only the floors below it", () => {
        const graph = arrows(1);
        assert.deepEqual(importsOf(graph, "config"), ["lib", "packages"], "config: lib, and the contract's types");
        assert.deepEqual(importsOf(graph, "packages"), ["lib"]);
        assert.deepEqual(importsOf(graph, "policy"), ["lib"]);
        assert.deepEqual(importsOf(graph, "components"), ["config", "lib", "packages"]);
        assert.deepEqual(importsOf(graph, "(root)"), ["components", "config", "lib"], "index.ts wires the components from the config");
        const packages = arrows(2);
        assert.deepEqual(importsOf(packages, "packages/contract"), [], "the contract is types alone");
        assert.deepEqual(
            importsOf(packages, "packages/protected-app"),
            ["lib/authentik-api", "packages/contract"],
            "ProtectedApp builds from its sources, lib and the contract",
        );
    });

    it("no two folders import each other, at the top level or between the components", () => {
        for (const depth of [1, 2] as const) {
            const graph = arrows(depth);
            const both = [...graph].flatMap(([a, targets]) => [...targets].filter((b) => a < b && graph.get(b)?.has(a)).map((b) => `${a} <-> ${b}`));
            assert.deepEqual(both, [], `folders at depth ${depth} that import each other`);
        }
    });

    it("sees the imports it judges (a file importing a folder's index, and one a folder below)", () => {
        const graph = arrows(2);
        assert.ok(graph.get("components/pgbouncer")?.has("components/secrets"), "pgbouncer reads the credential Secrets");
        assert.ok(graph.get("components/authentik-access")?.has("lib/authentik-api"), "the access model reads the engine's permissions");
        assert.ok(graph.get("components")?.has("config"), "components/platform.ts imports config/index.ts");
    });
});
