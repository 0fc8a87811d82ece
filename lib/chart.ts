/**
 * A packaged Helm chart (.tgz): its files, and the digest this project records of a chart version,
 * the sha256 of what renders it (values.yaml and templates/). A repository may repackage a chart
 * (timestamps, metadata) without changing these. Pure; used by the install-time check of the
 * authentik chart and by tools/reference.ts.
 */
import * as crypto from "node:crypto";
import * as zlib from "node:zlib";

const sha256 = (bytes: Buffer) => crypto.createHash("sha256").update(bytes).digest("hex");

/**
 * The digest of chart `chart` packaged in `tgz`: sha256 over `<sha256>  <path>` lines of its
 * values.yaml and templates, sorted by path. By hand, in an unpacked chart:
 * `(echo authentik/values.yaml; find authentik/templates -type f) | LC_ALL=C sort | xargs sha256sum | sha256sum`.
 */
export function chartDigest(tgz: Buffer, chart: string): string {
    const entries = tarEntries(zlib.gunzipSync(tgz));
    const rendered = [...entries.keys()].filter((p) => p === `${chart}/values.yaml` || p.startsWith(`${chart}/templates/`)).sort();
    if (rendered.length === 0) throw new Error(`no ${chart}/values.yaml or ${chart}/templates/ in the package: not the ${chart} chart`);
    return sha256(Buffer.from(rendered.map((p) => `${sha256(entries.get(p)!)}  ${p}\n`).join("")));
}

/** The regular files of a tar archive by path (ustar, with PAX path records as Go's archive/tar writes them). */
export function tarEntries(tar: Buffer): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    const text = (from: number, length: number) =>
        tar
            .subarray(from, from + length)
            .toString("utf8")
            .replace(/\0.*$/s, "");
    let paxPath: string | undefined;
    for (let at = 0; at + 512 <= tar.length;) {
        if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
        const size = parseInt(text(at + 124, 12).trim() || "0", 8);
        const type = text(at + 156, 1) || "0";
        const prefix = text(at + 345, 155);
        const name = paxPath ?? (prefix ? `${prefix}/${text(at, 100)}` : text(at, 100));
        const body = tar.subarray(at + 512, at + 512 + size);
        paxPath = undefined;
        if (type === "x") paxPath = /\n\d+ path=([^\n]*)\n/.exec(`\n${body.toString("utf8")}`)?.[1];
        else if (type === "0") files.set(name, body);
        at += 512 + Math.ceil(size / 512) * 512;
    }
    return files;
}
