/**
 * `npm run reference -- DIR [--fallback DIR] [--manifest FILE]`: fills DIR with the upstream files of
 * tools/reference.json, each from its upstream source (`helm pull` for the chart, its pinned URL
 * for the rest), else from the fallback directory when one is given (a machine with no route to
 * the upstream sources), and checks every file against its recorded sha256. --manifest reads
 * another list than tools/reference.json (the tests serve one on loopback). Files already there
 * and intact are kept. Exits non-zero with one message naming what is missing.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { MANIFEST, PROVIDE, ReferenceFile, provenanceProblem, referenceFiles } from "./reference";

/** Fetches `reference` from upstream into `target`; says why not. */
async function fromUpstream(reference: ReferenceFile, target: string): Promise<string | undefined> {
    try {
        if (reference.helm) {
            const work = fs.mkdtempSync(path.join(os.tmpdir(), "reference-"));
            const helm = process.env.HELM ?? "helm";
            execFileSync(helm, ["pull", reference.helm.chart, "--repo", reference.url, "--version", reference.helm.version, "--destination", work], {
                stdio: "pipe",
                timeout: 120_000,
            });
            fs.copyFileSync(path.join(work, path.basename(reference.file)), target);
            fs.rmSync(work, { recursive: true, force: true });
        } else {
            const response = await fetch(reference.url, { signal: AbortSignal.timeout(60_000) });
            if (!response.ok) return `${reference.url}: HTTP ${response.status}`;
            fs.writeFileSync(target, Buffer.from(await response.arrayBuffer()));
        }
        return undefined;
    } catch (e) {
        const error = e as Error & { stderr?: Buffer; cause?: Error };
        return `${reference.helm ? "helm pull: " : ""}${(error.stderr?.toString().trim() || error.cause?.message || error.message).split("\n")[0]}`;
    }
}

async function main(args: string[]): Promise<number> {
    const option = (name: string) => {
        const at = args.indexOf(name);
        return at >= 0 ? args.splice(at, 2)[1] : undefined;
    };
    const fallback = option("--fallback");
    const manifest = option("--manifest") ?? MANIFEST;
    const [dir] = args;
    if (!dir || args.length !== 1) {
        console.error("usage: npm run reference -- DIR [--fallback DIR] [--manifest FILE]");
        return 2;
    }
    const missing: string[] = [];
    const sources = { present: 0, upstream: 0, fallback: 0 };
    const unreachable = new Set<string>();
    for (const reference of referenceFiles(manifest)) {
        const target = path.join(dir, reference.file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        if (fs.existsSync(target) && !provenanceProblem(reference, target)) {
            sources.present++;
            continue;
        }
        const upstream = await fromUpstream(reference, target);
        if (upstream) {
            unreachable.add(upstream);
            if (!fallback || !fs.existsSync(path.join(fallback, reference.file))) {
                fs.rmSync(target, { force: true });
                missing.push(`${reference.file} (${reference.version}): ${upstream}`);
                continue;
            }
            fs.copyFileSync(path.join(fallback, reference.file), target);
        }
        const problem = provenanceProblem(reference, target);
        if (problem) {
            fs.rmSync(target, { force: true });
            missing.push(problem);
        } else sources[upstream ? "fallback" : "upstream"]++;
    }
    if (missing.length > 0) {
        console.error(`reference: ${missing.length} upstream file(s) could not be provided in ${dir}:\n  ${missing.join("\n  ")}\n${PROVIDE}`);
        return 1;
    }
    const why = unreachable.size > 0 ? ` (upstream unreachable: ${[...unreachable][0]}${unreachable.size > 1 ? ", …" : ""})` : "";
    console.error(
        `reference: ${dir}: ${sources.present} already there, ${sources.upstream} from upstream, ${sources.fallback} from ${fallback ?? "no fallback"}${why}; each checked against ${path.relative(process.cwd(), manifest)}`,
    );
    return 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
