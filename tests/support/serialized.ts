/**
 * A dynamic provider as the Pulumi engine runs it: serialized by Pulumi's closure serializer, then
 * loaded as a module and called in a fresh Node process (nothing of this process is shared).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { ROOT } from "../helpers";

/** The provider's serialized text (to check what it captured) and `create(inputs)` run from it in a new process. */
export async function createFromState(provider: object, inputs: unknown): Promise<{ text: string; status: number | null; id?: string; stderr: string }> {
    const pulumi = await import("@pulumi/pulumi");
    const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynamic-provider-"));
    fs.writeFileSync(path.join(dir, "provider.js"), text);
    const script = `const p = require(${JSON.stringify(path.join(dir, "provider.js"))}).handler();
        p.create(JSON.parse(process.argv[1])).then((r) => console.log(JSON.stringify({ id: r.id })), (e) => { console.error(e.message); process.exit(1); });`;
    // Asynchronous: a fake authentik in this process answers from its event loop.
    const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
            process.execPath,
            ["-e", script, JSON.stringify(inputs)],
            { env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") } },
            (error, stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
    });
    return { text, status: run.status, stderr: run.stderr, id: run.status === 0 ? (JSON.parse(run.stdout) as { id: string }).id : undefined };
}
