/**
 * Upstream files the tests, the e2e suites and `npm run conformance` check the program against
 * (the authentik chart, authentik's configuration keys, the CRDs of the custom resources it makes).
 * They are other projects' files: never in this repository. They are read from the directory
 * REFERENCE_DIR names (the chart may be named apart by AUTHENTIK_CHART), and each is checked
 * against its provenance in tools/reference.json (upstream source, version, sha256) when read.
 * `npm run reference -- DIR` fills a directory from the upstream sources.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { chartDigest, tarEntries } from "../lib/chart";

/** One upstream file: where it comes from, and the digest that proves a copy is that file. */
export interface ReferenceFile {
    /** Its path under REFERENCE_DIR. */
    file: string;
    /** What it is, with its version. */
    version: string;
    /** The upstream URL (a pinned tag or commit), or, for the chart, its repository. */
    url: string;
    /** For the chart: `helm pull <chart> --repo <url> --version <version>`. */
    helm?: { chart: string; version: string };
    /** sha256 of the file, or for the chart (`content`) of the files that render it. */
    sha256: string;
    /**
     * "file": the whole file's sha256. "chart": lib/chart.ts chartDigest (packaged copies
     * differ in their archive metadata and vendored dependencies, not in what renders).
     */
    digest: "file" | "chart";
}

/** The manifest of the references this repository reads. */
export const MANIFEST = path.resolve(__dirname, "..", "..", "tools", "reference.json");

/** The references a manifest lists (by default tools/reference.json). */
export function referenceFiles(manifest: string = MANIFEST): ReferenceFile[] {
    return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { files: ReferenceFile[] }).files;
}

export const CHART = "authentik-chart/authentik-2026.8.0.tgz";

/** What to do to provide the references: said wherever one is missing. */
export const PROVIDE =
    "set REFERENCE_DIR to a directory holding the upstream files of tools/reference.json (`npm run reference -- DIR` fetches them: helm pull for the chart, the pinned URLs for the rest)";

/** Where `file` is: AUTHENTIK_CHART for the chart, else under REFERENCE_DIR; undefined if neither has it. */
export function referencePath(file: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    if (file === CHART && env.AUTHENTIK_CHART) return env.AUTHENTIK_CHART;
    if (!env.REFERENCE_DIR) return undefined;
    const found = path.join(env.REFERENCE_DIR, file);
    return fs.existsSync(found) ? found : undefined;
}

/** The digest of `bytes` as `reference` records it. */
export function digestOf(reference: ReferenceFile, bytes: Buffer): string {
    if (reference.digest === "file") return sha256(bytes);
    return chartDigest(bytes, reference.helm!.chart);
}

/** Why the copy at `where` is not `reference`, or undefined when it is. */
export function provenanceProblem(reference: ReferenceFile, where: string): string | undefined {
    let got: string;
    try {
        got = digestOf(reference, fs.readFileSync(where));
    } catch (e) {
        return `${where} cannot be read as ${reference.version}: ${(e as Error).message}`;
    }
    return got === reference.sha256
        ? undefined
        : `${where} is not ${reference.version} (${reference.url}): its sha256 is ${got}, tools/reference.json records ${reference.sha256}`;
}

/** Where the reference `file` is, once checked against its provenance; throws naming what to provide. */
export function checkedReferencePath(file: string, env: NodeJS.ProcessEnv = process.env): string {
    const reference = referenceFiles().find((r) => r.file === file);
    if (!reference) throw new Error(`${file} is not in tools/reference.json`);
    const where = referencePath(file, env);
    if (!where) throw new Error(`the upstream file ${file} (${reference.version}) is missing: ${PROVIDE}`);
    const problem = provenanceProblem(reference, where);
    if (problem) throw new Error(problem);
    return where;
}

/** The reference `file`, checked against its provenance; throws naming what to provide. */
export function readReference(file: string, env: NodeJS.ProcessEnv = process.env): Buffer {
    return fs.readFileSync(checkedReferencePath(file, env));
}

/** A file of the packaged authentik chart (e.g. `authentik/values.yaml`), from the checked chart. */
export function chartFile(member: string, env: NodeJS.ProcessEnv = process.env): string {
    const entry = tarEntries(zlib.gunzipSync(readReference(CHART, env))).get(member);
    if (!entry) throw new Error(`the authentik chart has no ${member}`);
    return entry.toString("utf8");
}

function sha256(bytes: Buffer): string {
    return crypto.createHash("sha256").update(bytes).digest("hex");
}
