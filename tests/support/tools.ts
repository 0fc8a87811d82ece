/**
 * Real binaries the tests use (actionlint, …). Where one is missing a test skips with a line that
 * says what to install; `.ci/run` installs them and sets REQUIRE_REAL_TOOLS=1, which turns any such
 * skip into a failure.
 */
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import * as assert from "node:assert/strict";

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

function onPath(name: string): string | undefined {
    try {
        return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
    } catch {
        return undefined;
    }
}
