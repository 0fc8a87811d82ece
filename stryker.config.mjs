// Mutation testing (`npm run mutate`): see docs/testing.md. Not part of CI: a full run takes hours
// on 2 cores; incremental mode reruns only mutants whose code or covering tests changed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
    packageManager: "npm",
    // The modules that decide: validation, manifests, values, budgets, rendering and the API engine.
    // The stack configuration (config/, schema.ts, providers.ts) has its own profile:
    // stryker.unit.config.mjs (npm run mutate:unit).
    mutate: [
        "packages/contract/index.ts",
        "components/*/manifests.ts",
        "components/authentik/values.ts",
        "config/capacity.ts",
        "components/authentik/outposts.ts",
        "components/authentik-access/model.ts",
        "components/authentik-access/token.ts",
        "components/secrets/render.ts",
        "components/authentik-objects/model.ts",
        "lib/authentik-api/app.ts",
        "lib/authentik-api/*.ts",
        "lib/*.ts",
        "!lib/build-stamp.ts",
    ],
    // Tests run from the compiled bin/, so the sandbox builds the instrumented sources first.
    buildCommand: "npm run --silent build",
    testRunner: "tap",
    tap: { testFiles: ["bin/tests/*.test.js"] },
    // One "test" per test file; a mutant runs only the files that executed it.
    coverageAnalysis: "perTest",
    checkers: ["typescript"],
    tsconfigFile: "tsconfig.json",
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    incremental: true,
    incrementalFile: ".stryker/incremental.json",
    ignorePatterns: ["bin", ".stryker", "reports", "plan.json", "*.tsbuildinfo"],
    concurrency: 2,
    timeoutMS: 20000,
    reporters: ["clear-text", "progress", "json"],
    jsonReporter: { fileName: "reports/mutation/mutation.json" },
    thresholds: { high: 90, low: 80, break: null },
};
