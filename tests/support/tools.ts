/**
 * Real binaries the tests use (actionlint, …). Where one is missing a test skips with a line that
 * says what to install; `.ci/run` installs them and sets REQUIRE_REAL_TOOLS=1, which turns any such
 * skip into a failure.
 */
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import * as assert from "node:assert/strict";
import { PROVIDE, checkedReferencePath, referencePath } from "../../tools/reference";
import { References, loadReferences } from "../../tools/conformance";

export interface SkippableTest {
    skip(message?: string): void;
    diagnostic(message: string): void;
}

/** The path of `name` (from env var `envVar`, else PATH), or undefined after skipping `t` loudly. */
export function realTool(t: SkippableTest, name: string, envVar: string, install: string): string | undefined {
    const fromEnv = process.env[envVar];
    const found = fromEnv && fs.existsSync(fromEnv) ? fromEnv : onPath(name);
    if (found) {
        t.diagnostic(`using ${name}: ${found}`);
        return found;
    }
    const message = `SKIPPED: ${name} is not installed (set ${envVar} or put it on PATH; ${install})`;
    assert.ok(process.env.REQUIRE_REAL_TOOLS !== "1", `${message}, and REQUIRE_REAL_TOOLS=1 forbids skipping`);
    t.skip(message);
    return undefined;
}

/**
 * The path of the upstream file `file` of tools/reference.json (from REFERENCE_DIR, or
 * AUTHENTIK_CHART for the chart), checked against its recorded sha256; undefined after skipping `t`
 * loudly where the run was given none. A copy that is not the recorded file fails the test.
 */
export function referenceFile(t: SkippableTest, file: string): string | undefined {
    if (!referencePath(file)) {
        const message = `SKIPPED: the upstream file ${file} is not provided (${PROVIDE})`;
        assert.ok(process.env.REQUIRE_REAL_TOOLS !== "1", `${message}, and REQUIRE_REAL_TOOLS=1 forbids skipping`);
        t.skip(message);
        return undefined;
    }
    const where = checkedReferencePath(file);
    t.diagnostic(`${file}: ${where}`);
    return where;
}

/**
 * The upstream files `npm run conformance` reads, each checked (a missing one fails, naming it), or
 * undefined after skipping `t` loudly where the run was given no reference directory.
 */
export function conformanceReferences(t: SkippableTest): References | undefined {
    return referenceFile(t, "authentik/default.yml") ? loadReferences() : undefined;
}

function onPath(name: string): string | undefined {
    try {
        return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
    } catch {
        return undefined;
    }
}
