/**
 * The upstream files the suite checks against (tools/reference.ts, tools/fetch-reference.ts): read
 * from the directory the run is told, each proven by its recorded sha256, fetched from upstream or
 * a fallback, and never named by a path outside the checkout.
 */
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { execFile, execFileSync } from "node:child_process";
import { CHART, ReferenceFile, chartFile, checkedReferencePath, digestOf, provenanceProblem, referenceFiles, referencePath } from "../tools/reference";
import { tarEntries } from "../lib/chart";
import { referenceFile } from "./support/tools";
import { ROOT } from "./support/helpers";
import * as zlib from "node:zlib";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "reference-test-"));

/** A packaged chart `demo` made by the system's tar in `format`. */
function demoChart(format: "ustar" | "pax", longName = false): Buffer {
    const dir = tmp();
    const files: Record<string, string> = {
        "demo/values.yaml": "a: 1\n",
        "demo/templates/cm.yaml": "kind: ConfigMap\n",
        "demo/Chart.yaml": "name: demo\n",
        "demo/charts/sub/templates/x.yaml": "kind: Secret\n",
    };
    if (longName) files[`demo/templates/${"deep/".repeat(25)}long-name-template.yaml`] = "kind: Service\n";
    for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
    }
    const tgz = path.join(dir, "demo.tgz");
    execFileSync("tar", [`--format=${format}`, "-czf", tgz, "-C", dir, "demo"]);
    return fs.readFileSync(tgz);
}

const chartReference = (sha256: string): ReferenceFile => ({
    file: "demo/demo-1.0.0.tgz",
    version: "the demo chart 1.0.0",
    url: "https://charts.example",
    helm: { chart: "demo", version: "1.0.0" },
    sha256,
    digest: "chart",
});

describe("reading a packaged chart", () => {
    it("lists every regular file of a ustar archive with its bytes, directories left out", () => {
        const entries = tarEntries(zlib.gunzipSync(demoChart("ustar")));
        assert.deepEqual([...entries.keys()].sort(), ["demo/Chart.yaml", "demo/charts/sub/templates/x.yaml", "demo/templates/cm.yaml", "demo/values.yaml"]);
        assert.equal(entries.get("demo/templates/cm.yaml")!.toString(), "kind: ConfigMap\n");
    });

    it("reads names longer than a ustar header holds, from the prefix field and from PAX records", () => {
        const long = `demo/templates/${"deep/".repeat(25)}long-name-template.yaml`;
        for (const format of ["ustar", "pax"] as const) {
            if (format === "ustar" && long.length > 255) continue;
            const entries = tarEntries(zlib.gunzipSync(demoChart(format, true)));
            assert.equal(entries.get(long)?.toString(), "kind: Service\n", format);
        }
        const pax = tarEntries(zlib.gunzipSync(demoChart("pax", true)));
        assert.equal(pax.size, 5, "the PAX header is no file of its own");
    });

    it("digests a chart by its values and templates only, as `sha256sum` of each, in path order, would", () => {
        // (echo demo/values.yaml; find demo/templates -type f) | LC_ALL=C sort | xargs sha256sum | sha256sum
        const expected = "b92222f132ea99d843fd37e4d7ab331b72e0449ba3294cfdb2f25a610a163140";
        assert.equal(digestOf(chartReference(""), demoChart("ustar")), expected);
        assert.equal(digestOf(chartReference(""), demoChart("pax")), expected, "archive metadata does not count");
    });

    it("digests any other file whole", () => {
        const reference: ReferenceFile = { file: "x/cm.yaml", version: "v", url: "u", sha256: "", digest: "file" };
        assert.equal(digestOf(reference, Buffer.from("kind: ConfigMap\n")), "bb6c7fb1ce4b8ac8baa8f6344623dd4602cf3d6ce859f9ff859a5a43787c5987");
    });
});

describe("where a reference comes from, and its provenance", () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, "demo"));
    const good = path.join(dir, "demo", "demo-1.0.0.tgz");
    fs.writeFileSync(good, demoChart("ustar"));

    it("is accepted when its digest is the recorded one, and refused naming both digests otherwise", () => {
        assert.equal(provenanceProblem(chartReference("b92222f132ea99d843fd37e4d7ab331b72e0449ba3294cfdb2f25a610a163140"), good), undefined);
        assert.equal(
            provenanceProblem(chartReference("0".repeat(64)), good),
            `${good} is not the demo chart 1.0.0 (https://charts.example): its sha256 is b92222f132ea99d843fd37e4d7ab331b72e0449ba3294cfdb2f25a610a163140, tools/reference.json records ${"0".repeat(64)}`,
        );
        const broken = path.join(dir, "broken.tgz");
        fs.writeFileSync(broken, "not a gzip file");
        assert.match(provenanceProblem(chartReference("0".repeat(64)), broken)!, new RegExp(`^${broken} cannot be read as the demo chart 1\\.0\\.0: `));
    });

    it("is looked for under REFERENCE_DIR, and the chart at AUTHENTIK_CHART first", () => {
        const chart = "authentik-chart/authentik-2026.8.0.tgz";
        assert.equal(referencePath("authentik/default.yml", {}), undefined, "no directory given: none");
        assert.equal(referencePath("authentik/default.yml", { REFERENCE_DIR: dir }), undefined, "not in the directory: none");
        assert.equal(referencePath("demo/demo-1.0.0.tgz", { REFERENCE_DIR: dir }), good);
        assert.equal(referencePath(chart, { AUTHENTIK_CHART: "/charts/a.tgz", REFERENCE_DIR: dir }), "/charts/a.tgz");
        assert.equal(referencePath("authentik/default.yml", { AUTHENTIK_CHART: good }), undefined, "AUTHENTIK_CHART names only the chart");
    });

    it("says what to provide when it is missing, and refuses a copy that is not the upstream file", () => {
        assert.throws(
            () => checkedReferencePath("authentik/default.yml", {}),
            new Error(
                "the upstream file authentik/default.yml (authentik's configuration defaults (authentik/lib/default.yml at d6c0ae21, 2026.5.0-rc1)) is missing: set REFERENCE_DIR to a directory holding the upstream files of tools/reference.json (`npm run reference -- DIR` fetches them: helm pull for the chart, the pinned URLs for the rest)",
            ),
        );
        assert.throws(() => checkedReferencePath("nothing/here.yaml", {}), /^Error: nothing\/here\.yaml is not in tools\/reference\.json$/);
        const forged = tmp();
        fs.mkdirSync(path.join(forged, "authentik"));
        fs.writeFileSync(path.join(forged, "authentik", "default.yml"), "postgresql: {}\n");
        assert.throws(
            () => checkedReferencePath("authentik/default.yml", { REFERENCE_DIR: forged }),
            /default\.yml is not authentik's configuration defaults .*: its sha256 is [0-9a-f]{64}, tools\/reference\.json records d0a7effcd173c21044ad2feebf2fe80ebda0468d3ccaa3e6b1213366535f2b4b$/,
        );
    });

    it("reads a file of the checked chart, and names one it does not have", (t) => {
        if (!referenceFile(t, CHART)) return;
        assert.match(chartFile("authentik/values.yaml"), /^authentik:$/m);
        assert.throws(() => chartFile("authentik/none.yaml"), /^Error: the authentik chart has no authentik\/none\.yaml$/);
    });

    it("records every file the suite reads, pinned to a tag or commit and a sha256", () => {
        const files = referenceFiles();
        assert.deepEqual(files.map((f) => f.file).sort(), [
            "authentik-chart/authentik-2026.8.0.tgz",
            "authentik/default.yml",
            "cnpg/postgresql.cnpg.io_backups.yaml",
            "cnpg/postgresql.cnpg.io_clusters.yaml",
            "cnpg/postgresql.cnpg.io_poolers.yaml",
            "cnpg/postgresql.cnpg.io_scheduledbackups.yaml",
            "external-secrets/external-secrets.io_clustersecretstores.yaml",
            "external-secrets/external-secrets.io_externalsecrets.yaml",
            "prometheus-operator/monitoring.coreos.com_podmonitors.yaml",
            "prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
            "prometheus-operator/monitoring.coreos.com_servicemonitors.yaml",
        ]);
        for (const f of files) {
            assert.match(f.sha256, /^[0-9a-f]{64}$/, f.file);
            if (f.helm) assert.deepEqual([f.url, f.helm, f.digest], ["https://charts.goauthentik.io", { chart: "authentik", version: "2026.8.0" }, "chart"]);
            else assert.match(f.url, /^https:\/\/raw\.githubusercontent\.com\/[\w-]+\/[\w-]+\/(v\d+\.\d+\.\d+|[0-9a-f]{40})\//, f.file);
        }
    });
});

describe("npm run reference: filling a directory", () => {
    let server: http.Server;
    let base: string;
    const served: Record<string, string> = { "/a.yaml": "kind: A\n", "/forged.yaml": "kind: Forged\n" };
    before(async () => {
        server = http.createServer((req, res) => {
            const body = served[req.url ?? ""];
            res.writeHead(body ? 200 : 404).end(body);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => server.close());

    const sha = (text: string) => digestOf({ digest: "file" } as ReferenceFile, Buffer.from(text));
    const manifest = (files: Partial<ReferenceFile>[]) => {
        const file = path.join(tmp(), "reference.json");
        fs.writeFileSync(file, JSON.stringify({ files: files.map((f) => ({ version: `${f.file} 1.0`, digest: "file", ...f })) }));
        return file;
    };
    /** The command, run asynchronously: the upstream it fetches from is this process's server. */
    const fill = (...args: string[]) =>
        new Promise<{ status: number; stderr: string }>((resolve) =>
            execFile(process.execPath, [path.join(ROOT, "bin", "tools", "fetch-reference.js"), ...args], { cwd: ROOT }, (error, _stdout, stderr) =>
                resolve({ status: error ? (error.code as number) : 0, stderr }),
            ),
        );

    it("takes each file from upstream, else from the fallback, checks each, and keeps what is already there", async () => {
        const fallback = tmp();
        fs.mkdirSync(path.join(fallback, "b"));
        fs.writeFileSync(path.join(fallback, "b", "b.yaml"), "kind: B\n");
        const list = manifest([
            { file: "a/a.yaml", url: `${base}/a.yaml`, sha256: sha("kind: A\n") },
            { file: "b/b.yaml", url: `${base}/gone.yaml`, sha256: sha("kind: B\n") },
        ]);
        const dir = tmp();
        const first = await fill(dir, "--fallback", fallback, "--manifest", list);
        assert.equal(first.status, 0, first.stderr);
        assert.match(
            first.stderr,
            new RegExp(
                `^reference: ${dir}: 0 already there, 1 from upstream, 1 from ${fallback} \\(upstream unreachable: ${base}/gone\\.yaml: HTTP 404\\); each checked against `,
            ),
        );
        assert.equal(fs.readFileSync(path.join(dir, "a", "a.yaml"), "utf8"), "kind: A\n");
        assert.equal(fs.readFileSync(path.join(dir, "b", "b.yaml"), "utf8"), "kind: B\n");
        const again = await fill(dir, "--manifest", list);
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stderr, /: 2 already there, 0 from upstream, 0 from no fallback;/);
    });

    it("stops with one message naming each file it could not provide, and keeps no unchecked copy", async () => {
        const dir = tmp();
        const list = manifest([
            { file: "f/forged.yaml", url: `${base}/forged.yaml`, sha256: sha("kind: Real\n") },
            { file: "g/gone.yaml", url: `${base}/gone.yaml`, sha256: sha("kind: Gone\n") },
        ]);
        const run = await fill(dir, "--manifest", list);
        assert.equal(run.status, 1);
        const lines = run.stderr.trim().split("\n");
        assert.equal(lines[0], `reference: 2 upstream file(s) could not be provided in ${dir}:`);
        assert.match(
            lines[1],
            new RegExp(`^  ${dir}/f/forged\\.yaml is not f/forged\\.yaml 1\\.0 \\(${base}/forged\\.yaml\\): its sha256 is ${sha("kind: Forged\n")}, `),
        );
        assert.equal(lines[2], `  g/gone.yaml (g/gone.yaml 1.0): ${base}/gone.yaml: HTTP 404`);
        assert.match(lines[3], /^set REFERENCE_DIR to a directory holding the upstream files/);
        assert.ok(!fs.existsSync(path.join(dir, "f", "forged.yaml")), "the forged copy is removed");
        assert.equal((await fill()).status, 2, "no directory: usage");
    });
});

/** Whether ROOT is a git checkout's top (not a copy inside another, as Stryker's sandbox is). */
const checkout = (() => {
    try {
        return fs.realpathSync(execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: ROOT, encoding: "utf8" }).trim()) === fs.realpathSync(ROOT);
    } catch {
        return false;
    }
})();

describe("the checkout stands on its own", { skip: !checkout && "not a git checkout of its own: no tracked files to read" }, () => {
    const code = () =>
        execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
            .trim()
            .split("\n")
            // (this file names what it forbids)
            .filter(
                (f) =>
                    /\.(ts|js|mjs|sh|go|json|ya?ml)$|^\.ci\//.test(f) &&
                    !["package-lock.json", "tests/reference.test.ts"].includes(f) &&
                    fs.existsSync(path.join(ROOT, f)),
            );
    const naming = (pattern: RegExp) => code().filter((f) => pattern.test(fs.readFileSync(path.join(ROOT, f), "utf8")));

    it("no tracked program, test, script or workflow names a directory beside the checkout, except .ci/run's offline fallback", () => {
        assert.deepEqual(naming(/\.\.\/shared|shared\/reference|\/work\/\.mirror/), [".ci/run"]);
        const lines = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8").split("\n");
        assert.deepEqual(
            lines.filter((l) => l.includes("../shared") && !l.trim().startsWith("#")),
            ["[ -d ../shared/reference ] && fallback=(--fallback ../shared/reference)"],
        );
    });

    it("builds nothing from a clone of another repository", () => {
        assert.deepEqual(naming(/git clone|PULUMI_SOURCE|PULUMI_KUBERNETES_SOURCE|git -C \S+ archive/), []);
    });
});
