/**
 * Benchmark of the offline plan: `npm run bench [-- --runs N] [-- --config FILE]`.
 * Each run is a fresh `node bin/tools/plan.js` process (what a user waits for), timed wall-clock,
 * with its peak RSS; the report gives median and spread. Never asserted in tests: machines differ.
 *
 * `npm run bench -- --warm-plan [--runs N]`: a warm `npm run plan` (nothing changed since the last
 * build, so the compile is skipped) against a bare `require` of the three Pulumi SDK packages, as
 * pairs in one run (alternating which goes first); the report gives each median and the median of
 * the pairs' ratios.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import YAML from "yaml";

/**
 * A copy of `stackFile` with `apps` synthetic forward-auth apps added (each with a group binding),
 * to measure how the plan scales with the number of protected apps.
 */
export function withSyntheticApps(stackFile: string, apps: number): string {
    const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> };
    const key = "authentik-platform:apps";
    const existing = (doc.config[key] as unknown[]) ?? [];
    const groups = (doc.config["authentik-platform:groups"] as { name: string }[]) ?? [];
    doc.config["authentik-platform:groups"] = [...groups, { name: "bench-users" }];
    doc.config[key] = [
        ...existing,
        ...Array.from({ length: apps }, (_, i) => ({
            name: `Bench ${i}`,
            slug: `bench-${i}`,
            mode: "forward_single",
            host: `bench-${i}.homelab.example`,
            groups: ["bench-users"],
        })),
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    fs.copyFileSync(path.join(path.dirname(stackFile), "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const out = path.join(dir, path.basename(stackFile));
    fs.writeFileSync(out, YAML.stringify(doc));
    return out;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall-clock milliseconds of a command run to completion; throws if it fails. */
function timed(command: string, args: string[], cwd: string): number {
    const start = process.hrtime.bigint();
    const r = spawnSync(command, args, { cwd, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
}

function warmPlan(runs: number): void {
    const root = path.join(__dirname, "..", "..");
    const requireSdks = () => timed(process.execPath, ["-e", 'require("@pulumi/pulumi"); require("@pulumi/kubernetes"); require("@pulumi/random")'], root);
    const plan = () => timed("npm", ["run", "--silent", "plan"], root);
    plan(); // the build, if anything changed: the pairs measure the warm plan
    const pairs: { require: number; plan: number }[] = [];
    for (let i = 0; i < runs; i++) {
        if (i % 2 === 0) {
            const r = requireSdks();
            pairs.push({ require: r, plan: plan() });
        } else {
            const p = plan();
            pairs.push({ plan: p, require: requireSdks() });
        }
    }
    const ms = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
    console.log(`warm npm run plan against a bare require of @pulumi/pulumi, @pulumi/kubernetes and @pulumi/random: ${runs} pairs`);
    console.log(`  require:   ${ms(pairs.map((p) => p.require))}`);
    console.log(`  warm plan: ${ms(pairs.map((p) => p.plan))}`);
    console.log(`  ratio:     median ${median(pairs.map((p) => p.plan / p.require)).toFixed(2)}× (per pair)`);
}

function main(): void {
    const argv = process.argv.slice(2);
    const runs = Number(argv[argv.indexOf("--runs") + 1]) || 7;
    if (argv.includes("--warm-plan")) return warmPlan(runs);
    const base = argv.includes("--config") ? argv[argv.indexOf("--config") + 1] : "Pulumi.homelab.yaml";
    const apps = argv.includes("--apps") ? Number(argv[argv.indexOf("--apps") + 1]) : 0;
    const config = apps > 0 ? withSyntheticApps(path.resolve(base), apps) : base;
    const bin = path.join(__dirname);
    const times: number[] = [];
    const rss: number[] = [];
    let resources = "?";
    for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        const r = spawnSync(process.execPath, ["-r", path.join(bin, "bench-probe.js"), path.join(bin, "plan.js"), "--config", config], {
            encoding: "utf8",
        });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (r.status !== 0) throw new Error(`plan failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
        times.push(ms);
        rss.push(Number(/bench-probe maxRSS=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024);
        resources = /\((\d+) resources/.exec(r.stdout)?.[1] ?? resources;
    }
    const fmt = (xs: number[], unit: string) =>
        `median ${median(xs).toFixed(0)} ${unit} (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
    console.log(`offline plan of ${base}${apps ? ` + ${apps} synthetic apps` : ""}: ${resources} resources, ${runs} runs, fresh process each`);
    console.log(`  wall time: ${fmt(times, "ms")}`);
    console.log(`  peak RSS:  ${fmt(rss, "MiB")}`);
}

if (require.main === module) main();
