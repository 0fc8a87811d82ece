/**
 * components/authentik/provenance.ts and lib/chart.ts: the chart package a repository
 * serves is checked against the recorded digest before Helm installs it. A loopback repository
 * serves a chart built here; the e2e runs the same check against the real packaged chart.
 */
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import YAML from "yaml";
import { chartDigest } from "../lib/chart";
import { PROVENANCE_ENGINE_VERSION, ProvenanceInputs, chartProvenanceProvider as provider, packageUrl } from "../components/authentik/provenance";
import { RECORDED_CHART_DIGESTS } from "../config";
import { referenceFiles } from "../tools/reference";

/** A packaged chart `authentik` with these files (paths under authentik/). */
function pack(files: Record<string, string>): Buffer {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chart-"));
    for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, "authentik", name)), { recursive: true });
        fs.writeFileSync(path.join(dir, "authentik", name), text);
    }
    execFileSync("tar", ["czf", path.join(dir, "chart.tgz"), "-C", dir, "authentik"]);
    return fs.readFileSync(path.join(dir, "chart.tgz"));
}

const GOOD = {
    "Chart.yaml": "name: authentik\nversion: 9.9.9\n",
    "values.yaml": "server:\n  replicas: 1\n",
    "templates/deployment.yaml": "kind: Deployment\n",
    "templates/svc.yaml": "kind: Service\n",
};
const served: Record<string, Buffer> = {};
let repo: string;
let server: http.Server;

before(async () => {
    server = http.createServer((req, res) => (served[req.url!] ? res.end(served[req.url!]) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    repo = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

const serve = (chart: Buffer, url = "authentik-9.9.9.tgz") => {
    served["/index.yaml"] = Buffer.from(
        YAML.stringify({
            apiVersion: "v1",
            entries: {
                authentik: [
                    { version: "9.9.8", urls: ["old.tgz"] },
                    { version: "9.9.9", urls: [url] },
                ],
            },
        }),
    );
    served["/authentik-9.9.9.tgz"] = chart;
};
const inputs = (digest: string): ProvenanceInputs => ({ repo, chart: "authentik", version: "9.9.9", digest, engineVersion: PROVENANCE_ENGINE_VERSION });

describe("a chart's digest", () => {
    it("is the sha256 of its values and templates, as `sha256sum` lines in path order; metadata does not count", () => {
        const sha = (t: string) => execFileSync("sha256sum", { input: t }).toString().split(" ")[0];
        const lines = ["authentik/templates/deployment.yaml", "authentik/templates/svc.yaml", "authentik/values.yaml"]
            .sort()
            .map((p) => `${sha(GOOD[p.slice("authentik/".length) as keyof typeof GOOD])}  ${p}\n`);
        assert.equal(chartDigest(pack(GOOD), "authentik"), sha(lines.join("")));
        assert.equal(
            chartDigest(pack({ ...GOOD, "Chart.yaml": "name: authentik\nversion: 9.9.9\ndescription: repackaged\n" }), "authentik"),
            chartDigest(pack(GOOD), "authentik"),
        );
        assert.notEqual(
            chartDigest(pack({ ...GOOD, "templates/svc.yaml": "kind: Service\nspec: {type: NodePort}\n" }), "authentik"),
            chartDigest(pack(GOOD), "authentik"),
        );
        assert.throws(() => chartDigest(pack({ "Chart.yaml": "x" }), "authentik"), /no authentik\/values\.yaml or authentik\/templates\/ in the package/);
    });

    it("recorded in the program is the one tools/reference.json checks the tests' chart against", () => {
        const tested = referenceFiles().filter((r) => r.helm);
        assert.ok(tested.length > 0);
        for (const r of tested) assert.equal(RECORDED_CHART_DIGESTS[r.helm!.version], r.sha256, r.helm!.version);
    });
});

describe("the chart check before the install", () => {
    it("passes the package the repository serves when its digest is the recorded one, and records where it came from", async () => {
        serve(pack(GOOD));
        const made = await provider.create!({ ...inputs(chartDigest(pack(GOOD), "authentik")), repo: `${repo}/` });
        assert.equal(made.id, "authentik-9.9.9");
        assert.equal(made.outs.url, `${repo}/authentik-9.9.9.tgz`);
    });

    it("stops the up, naming both digests, when the served chart differs", async () => {
        const recorded = chartDigest(pack(GOOD), "authentik");
        serve(pack({ ...GOOD, "templates/deployment.yaml": "kind: Deployment\nspec: {hostNetwork: true}\n" }));
        await assert.rejects(
            provider.create!(inputs(recorded)),
            new RegExp(
                `the authentik chart 9\\.9\\.9 at ${repo}/authentik-9\\.9\\.9\\.tgz is not the one recorded: its values and templates digest to [0-9a-f]{64}, not ${recorded}\\. Nothing was installed`,
            ),
        );
        await assert.rejects(provider.update!("authentik-9.9.9", inputs(recorded), inputs(recorded)), /is not the one recorded/);
    });

    it("says when the repository has no such version, or cannot be read", async () => {
        served["/index.yaml"] = Buffer.from(YAML.stringify({ entries: { authentik: [{ version: "1.0.0", urls: ["a.tgz"] }] } }));
        await assert.rejects(provider.create!(inputs("x")), new RegExp(`${repo} serves no authentik chart 9\\.9\\.9`));
        serve(pack(GOOD), "gone.tgz");
        await assert.rejects(provider.create!(inputs("x")), new RegExp(`GET ${repo}/gone\\.tgz: HTTP 404`));
    });

    it("finds the package URL absolute or relative to the repository", () => {
        const index = YAML.stringify({
            entries: {
                authentik: [
                    { version: "2026.8.0", urls: ["https://github.com/goauthentik/helm/releases/download/authentik-2026.8.0/authentik-2026.8.0.tgz"] },
                    { version: "1.0.0", urls: ["charts/authentik-1.0.0.tgz"] },
                ],
            },
        });
        assert.equal(
            packageUrl(index, "https://charts.goauthentik.io", "authentik", "2026.8.0"),
            "https://github.com/goauthentik/helm/releases/download/authentik-2026.8.0/authentik-2026.8.0.tgz",
        );
        assert.equal(packageUrl(index, "https://charts.example/sub", "authentik", "1.0.0"), "https://charts.example/sub/charts/authentik-1.0.0.tgz");
        assert.equal(packageUrl(index, "https://charts.example/sub/", "authentik", "1.0.0"), "https://charts.example/sub/charts/authentik-1.0.0.tgz");
        assert.throws(() => packageUrl("{}", "r", "authentik", "1.0.0"), /r serves no authentik chart 1\.0\.0/);
        assert.throws(() => packageUrl("", "r", "authentik", "1.0.0"), /r serves no authentik chart 1\.0\.0/, "an empty index");
    });

    it("runs once per version and digest: anything else is no change", async () => {
        const i = inputs("d");
        assert.deepEqual(await provider.diff!("id", i, i), { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepEqual(
            await provider.diff!("id", i, { ...i, version: "9.9.10" }),
            { changes: true, replaces: [], deleteBeforeReplace: false },
            "an upgrade is checked again, never a replacement",
        );
        assert.equal(PROVENANCE_ENGINE_VERSION, "1");
        assert.deepEqual(await provider.check!(i, i), { inputs: i, failures: [] });
        for (const k of ["repo", "chart", "version", "digest", "engineVersion"] as const)
            assert.equal((await provider.diff!("id", i, { ...i, [k]: "other" })).changes, true, k);
        assert.deepEqual((await provider.read!("id", i)).props, i);
        await provider.delete!("id", i);
    });
});
