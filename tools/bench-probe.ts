/** Preloaded into a benchmarked process (`node -r`): reports its peak memory on exit, on stderr. */
process.on("exit", () => {
    process.stderr.write(`\nbench-probe maxRSS=${process.resourceUsage().maxRSS}\n`);
});
