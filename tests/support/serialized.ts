/**
 * A dynamic provider as the Pulumi engine runs it: serialized by Pulumi's closure serializer, then
 * loaded as a module and called in a fresh Node process (nothing of this process is shared).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { ROOT } from "./helpers";

/**
 * Under `npm run mutate` the code is instrumented by Stryker, whose counters live in this process:
 * serialized into another process they do not exist, so these tests say so and skip.
 */
export const SKIP_UNDER_MUTATION =
    "__stryker__" in globalThis ? "the code is instrumented by Stryker (npm run mutate): serialized, it cannot run in another process" : false;

/** The provider's serialized text (to check what it captured) and `create(inputs)` run from it in a new process. */
export async function createFromState(provider: object, inputs: unknown): Promise<{ text: string; status: number | null; id?: string; stderr: string }> {
    const run = await callFromState(provider, "create", [inputs]);
    return { ...run, id: run.status === 0 ? (run.result as { id: string }).id : undefined };
}

/** Any provider method (`read`, `create`…) run from the serialized provider in a new process; its result as JSON. */
export async function callFromState(
    provider: object,
    method: string,
    args: unknown[],
): Promise<{ text: string; status: number | null; result?: unknown; stderr: string }> {
    const pulumi = await import("@pulumi/pulumi");
    const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynamic-provider-"));
    fs.writeFileSync(path.join(dir, "provider.js"), text);
    const script = `const p = require(${JSON.stringify(path.join(dir, "provider.js"))}).handler();
        p[${JSON.stringify(method)}](...JSON.parse(process.argv[1])).then((r) => console.log(JSON.stringify(r ?? null)), (e) => { console.error(e.message); process.exit(1); });`;
    // Asynchronous: a fake authentik in this process answers from its event loop.
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
            process.execPath,
            ["-e", script, JSON.stringify(args)],
            { env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") } },
            (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
    });
    return { text, status: run.status, stderr: run.stderr, result: run.status === 0 ? (JSON.parse(run.stdout) as unknown) : undefined };
}
