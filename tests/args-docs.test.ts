/**
 * Every field of every exported `…Args` interface (the components' and packages' arguments, as
 * pulumi-eks and pulumi-awsx document theirs) carries a doc comment: read with the TypeScript
 * compiler from the sources.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { ROOT } from "./support/helpers";

function tsFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return ["node_modules", "dist"].includes(e.name) ? [] : tsFiles(full);
        return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [full] : [];
    });
}

/** `Interface.field` for each field of an exported …Args interface without a doc comment. */
function undocumented(file: string): { args: string[]; missing: string[] } {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const args: string[] = [];
    const missing: string[] = [];
    source.forEachChild((node) => {
        if (!ts.isInterfaceDeclaration(node) || !node.name.text.endsWith("Args")) return;
        if (!node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return;
        args.push(node.name.text);
        for (const member of node.members) {
            const docs = ts.getJSDocCommentsAndTags(member);
            if (docs.length === 0) missing.push(`${node.name.text}.${member.name?.getText(source)}`);
        }
    });
    return { args, missing };
}

describe("the components' arguments", () => {
    it("document every field", () => {
        const results = ["components", "packages", "lib"].flatMap((d) => tsFiles(path.join(ROOT, d))).map(undocumented);
        const args = results.flatMap((r) => r.args);
        for (const name of [
            "AuthentikReleaseArgs",
            "DatabaseArgs",
            "PgBouncerArgs",
            "CredentialSecretArgs",
            "ObservabilityArgs",
            "AuthentikObjectsArgs",
            "ProtectedAppArgs",
        ]) {
            assert.ok(args.includes(name), `${name} is read`);
        }
        assert.deepEqual(
            results.flatMap((r) => r.missing),
            [],
        );
    });
});
