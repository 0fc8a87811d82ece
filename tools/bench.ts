/**
 * Benchmark of the offline plan: `npm run bench [-- --runs N] [-- --config FILE]`.
 * Each run is a fresh `node bin/tools/plan.js` process (what a user waits for), timed wall-clock,
 * with its peak RSS; the report gives median and spread. Never asserted in tests: machines differ.
 */
import * as path from "node:path";
import { spawnSync } from "node:child_process";

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main(): void {
    const argv = process.argv.slice(2);
    const runs = Number(argv[argv.indexOf("--runs") + 1]) || 7;
    const config = argv.includes("--config") ? argv[argv.indexOf("--config") + 1] : "Pulumi.homelab.yaml";
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
    console.log(`offline plan of ${config}: ${resources} resources, ${runs} runs, fresh process each`);
    console.log(`  wall time: ${fmt(times, "ms")}`);
    console.log(`  peak RSS:  ${fmt(rss, "MiB")}`);
}

main();
