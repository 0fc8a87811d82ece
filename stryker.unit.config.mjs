// Mutation testing against the pure test files (`npm run mutate:unit`): see docs/testing.md.
// The schema sections are built when their module loads, so Stryker cannot tell which test file
// covers a mutant there ("static" mutants) and would run the whole suite, minutes each on 2 cores.
// These modules are decided by the pure test files below (no Pulumi runtime): a mutant they kill,
// the whole suite kills too, so the score measured here is a lower bound of the suite's. Modules
// full of module-level constants (components/authentik/values.ts) are measured here as well:
// npm run mutate:unit -- --mutate components/authentik/values.ts
import base from "./stryker.config.mjs";

export default {
    ...base,
    mutate: ["config/*.ts"],
    tap: {
        testFiles: [
            "bin/tests/schema.test.js",
            "bin/tests/config-rules.test.js",
            "bin/tests/config.test.js",
            "bin/tests/objects.test.js",
            "bin/tests/takeover.test.js",
            "bin/tests/capacity.test.js",
            "bin/tests/authentik.test.js",
            "bin/tests/network.test.js",
            "bin/tests/docs.test.js",
            "bin/tests/chart-keys.test.js",
            "bin/tests/outputs.test.js",
        ],
    },
    concurrency: 2,
    incrementalFile: ".stryker/incremental-unit.json",
    jsonReporter: { fileName: "reports/mutation/unit.json" },
};
