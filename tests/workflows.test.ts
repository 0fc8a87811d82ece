/**
 * The GitHub workflow, read as GitHub reads it: concurrency that never cancels a deploy, secrets
 * only where they are needed and never for a fork, pinned actions, least privilege per job; and the
 * real actionlint over it.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import YAML from "yaml";
import { ROOT } from "./support/helpers";
import { realTool } from "./support/tools";

type Step = { uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string>; name?: string };
type Job = {
    "runs-on": string;
    if?: string;
    needs?: string | string[];
    environment?: string;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    permissions?: Record<string, string>;
    "timeout-minutes"?: number | string;
    outputs?: Record<string, string>;
    steps: Step[];
};
const FILE = path.join(ROOT, ".github", "workflows", "pulumi.yml");
const ACTION = path.join(ROOT, ".github", "actions", "pulumi-access", "action.yml");
const workflow = YAML.parse(fs.readFileSync(FILE, "utf8")) as {
    on: Record<string, unknown>;
    concurrency?: unknown;
    permissions: unknown;
    jobs: Record<string, Job>;
};
const jobs = workflow.jobs;
const action = YAML.parse(fs.readFileSync(ACTION, "utf8")) as { runs: { steps: Step[] } };
const remote = (steps: Step[]) => steps.filter((s) => s.uses && !s.uses.startsWith("./"));

describe("the pulumi workflow", () => {
    it("never lets a pull request or a drift check cancel a deploy", () => {
        assert.equal(workflow.concurrency, undefined, "no workflow-level group (it would cancel a pending deploy)");
        assert.deepEqual(jobs.deploy.concurrency, { group: "pulumi-homelab-deploy", "cancel-in-progress": false });
        assert.equal(jobs.preview.concurrency?.["cancel-in-progress"], true);
        assert.match(jobs.preview.concurrency!.group, /github\.event\.pull_request\.number/, "one preview group per pull request");
        assert.notEqual(jobs.drift.concurrency?.group, jobs.deploy.concurrency.group);
        assert.equal(jobs.test.concurrency, undefined, "tests are never cancelled by another run");
    });

    it("keeps forks off the homelab runner and its secrets, and gives preview its own environment", () => {
        for (const name of ["preview", "runner"])
            assert.match(jobs[name].if!, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/, name);
        assert.equal(jobs.preview.environment, "homelab-preview");
        assert.equal(jobs.deploy.environment, "homelab");
        assert.equal(jobs.drift.environment, "homelab-drift", "its own, main-only: a daily run waits for no reviewer, and no branch gets its secrets");
        assert.deepEqual(
            Object.keys(jobs.test).filter((k) => k === "environment"),
            [],
            "tests get no secrets",
        );
        assert.ok(!JSON.stringify(jobs.test).includes("secrets."), "tests get no secrets");
    });

    it("fails fast when the runner variable is unset instead of moving to a runner that cannot reach the cluster", () => {
        for (const name of ["preview", "deploy", "drift"]) {
            assert.equal(jobs[name]["runs-on"], "${{ vars.PULUMI_RUNNER }}", `${name} has no fallback runner`);
            assert.ok(([] as string[]).concat(jobs[name].needs ?? []).includes("runner"), `${name} waits for the runner check`);
        }
        assert.match(jobs.runner.steps[0].run!, /-z "\$RUNNER_LABEL"[\s\S]*exit 1/);
    });

    it("grants each job only what it uses", () => {
        assert.deepEqual(workflow.permissions, {});
        assert.deepEqual(jobs.test.permissions, { contents: "read", actions: "read" }, "actions: read for npm run settings");
        assert.deepEqual(jobs.runner.permissions, {});
        const writers = Object.entries(jobs)
            .filter(([, j]) => j.permissions?.["pull-requests"] === "write")
            .map(([n]) => n);
        assert.deepEqual(writers, ["preview"], "only the job that comments writes to pull requests");
        for (const [name, job] of Object.entries(jobs)) {
            assert.ok(job["timeout-minutes"], `${name} has a timeout`);
            assert.ok(!Object.values(job.permissions ?? {}).includes("write-all"), name);
        }
    });

    it("checks a pull request with the base branch's policy pack and guard, and guards every deploy's preview against deleting what holds data", () => {
        const steps = jobs.preview.steps as (Step & { id?: string; "working-directory"?: string })[];
        const base = steps.find((s) => s.uses?.startsWith("actions/checkout@") && s.with?.path === "policy-base")!;
        assert.deepEqual(base.with, { "persist-credentials": false, ref: "${{ github.event.pull_request.base.sha }}", path: "policy-base" });
        const build = steps.find((s) => s["working-directory"] === "policy-base")!;
        assert.equal(build.run, "npm ci --no-audit --no-fund && npm run build");
        const preview = steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
        assert.equal(preview.with?.policyPacks, "policy-base/policy", "not the branch's own pack");
        assert.ok(steps.indexOf(build) < steps.indexOf(preview));
        for (const job of ["preview", "deploy"]) {
            const guard = jobs[job].steps.find((s) => s.name === "nothing stateful deleted or replaced (npm run guard)")!;
            assert.match(guard.run!, /^pulumi preview --stack "\$PULUMI_STACK" --json > "\$RUNNER_TEMP\/preview\.json"\n/, job);
            assert.match(
                guard.run!,
                job === "preview"
                    ? /\(cd policy-base && npm run guard -- "\$RUNNER_TEMP\/preview\.json"\)/
                    : /\nnpm run guard -- "\$RUNNER_TEMP\/preview\.json"\n$/,
                job,
            );
            const up = jobs[job].steps.findIndex((s) => s.with?.command === "up");
            if (job === "deploy") assert.ok(jobs[job].steps.indexOf(guard) < up, "the deploy's guard runs before its up");
        }
    });

    it("checks the GitHub settings the secrets rest on in the test job, before any job that holds them", () => {
        const step = jobs.test.steps.find((s) => s.name === "the GitHub settings the secrets rest on (npm run settings)")!;
        assert.equal(step.run, "npm run settings");
        assert.deepEqual(step.env, { GITHUB_TOKEN: "${{ github.token }}" });
        assert.match(step.if!, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        for (const name of ["preview", "deploy"]) assert.ok(([] as string[]).concat(jobs[name].needs ?? []).includes("test"), `${name} waits for it`);
    });

    it("gives the deploy job the time the plan says an up may take, so it is never cut off half-way", () => {
        assert.equal(jobs.deploy["timeout-minutes"], "${{ fromJSON(needs.test.outputs.deploy-minutes) }}");
        assert.ok(([] as string[]).concat(jobs.deploy.needs ?? []).includes("test"));
        assert.equal(jobs.test.outputs?.["deploy-minutes"], "${{ steps.plan.outputs.deploy-minutes }}");
        const plan = jobs.test.steps.find((s) => (s as { id?: string }).id === "plan")!;
        assert.match(plan.run!, /npm run plan -- --config "Pulumi\.\$PULUMI_STACK\.yaml" --json plan\.json/, "the deployed stack's plan");
        assert.match(plan.run!, /echo "deploy-minutes=\$\(node -p "require\('\.\/plan\.json'\)\.deploy\.timeoutMinutes"\)" >> "\$GITHUB_OUTPUT"/);
        for (const [name, job] of Object.entries(jobs).filter(([n]) => n !== "deploy")) assert.equal(typeof job["timeout-minutes"], "number", name);
    });

    it("pins every action by commit SHA and never leaves the token in the checkout", () => {
        const uses = [...Object.values(jobs).flatMap((j) => remote(j.steps)), ...remote(action.runs.steps)];
        assert.ok(uses.length >= 10);
        for (const s of uses) assert.match(s.uses!, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, s.uses);
        const raw = fs.readFileSync(FILE, "utf8") + fs.readFileSync(ACTION, "utf8");
        for (const line of raw.split("\n").filter((l) => /uses: [\w.-]+\/[\w.-]+@/.test(l)))
            assert.match(line, /@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, `a version comment: ${line}`);
        for (const s of Object.values(jobs)
            .flatMap((j) => j.steps)
            .filter((s) => s.uses?.startsWith("actions/checkout@"))) {
            assert.equal(s.with?.["persist-credentials"], false);
        }
    });

    it("writes the kubeconfig to RUNNER_TEMP with mode 600 and removes it whatever happens", () => {
        const write = action.runs.steps.find((s) => s.name === "kubeconfig")!.run!;
        assert.match(write, /umask 077/);
        assert.match(write, /\$RUNNER_TEMP\/kubeconfig/);
        assert.match(write, /KUBECONFIG=\$RUNNER_TEMP\/kubeconfig" >> "\$GITHUB_ENV"/);
        assert.ok(!/~\/\.kube/.test(write));
        for (const name of ["preview", "deploy", "drift"]) {
            const steps = jobs[name].steps;
            assert.ok(
                steps.some((s) => s.uses === "./.github/actions/pulumi-access"),
                name,
            );
            const last = steps[steps.length - 1];
            assert.deepEqual([last.if, last.run], ["always()", 'rm -f "$RUNNER_TEMP/kubeconfig"'], `${name} removes it last`);
        }
    });

    it("takes the Pulumi CLI version from package.json, runs the policy pack, checks drift daily and the baseline on every PR", () => {
        assert.match(action.runs.steps[0].run!, /require\('\.\/package\.json'\)\.dependencies\['@pulumi\/pulumi'\]/);
        const pulumiSteps = Object.fromEntries(
            ["preview", "deploy", "drift"].map((n) => [n, jobs[n].steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!]),
        );
        for (const s of Object.values(pulumiSteps)) assert.equal(s.with!["pulumi-version"], "${{ steps.access.outputs.pulumi-version }}");
        assert.equal(pulumiSteps.preview.with!.policyPacks, "policy-base/policy", "the base branch's pack");
        assert.equal(pulumiSteps.deploy.with!.policyPacks, "policy");
        assert.equal(pulumiSteps.drift.with!["expect-no-changes"], true);
        assert.equal(pulumiSteps.drift.with!.refresh, true);
        assert.ok((workflow.on.schedule as unknown[]).length === 1 && "workflow_dispatch" in workflow.on);
        const baseline = jobs.test.steps.find((s) => s.run?.includes("--baseline"))!;
        assert.equal(baseline.if, "github.event_name == 'pull_request'");
        assert.match(baseline.run!, /git worktree add "\$RUNNER_TEMP\/base" "\$BASE_SHA"/);
        assert.ok(
            jobs.test.steps.some((s) => s.run === "bash .ci/run"),
            "CI runs exactly what .ci/run runs",
        );
        const nodes = Object.values(jobs)
            .flatMap((j) => j.steps)
            .filter((s) => s.uses?.startsWith("actions/setup-node@"));
        assert.ok(nodes.length >= 4 && nodes.every((s) => s.with?.["node-version-file"] === ".nvmrc"), "Node as the project pins it");
    });

    it("previews right before the deploy's up, which skips its own preview: a protected replacement stops there", () => {
        const commands = jobs.deploy.steps.filter((s) => s.uses?.startsWith("pulumi/actions@")).map((s) => s.with!.command);
        assert.deepEqual(commands, ["preview", "up"]);
    });

    it("verifies the deployed platform right after the up, in the stack's context, without printing secrets", () => {
        const steps = jobs.deploy.steps;
        const up = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with!.command === "up");
        const verify = steps[up + 1];
        assert.match(verify.run!, /npm run verify -- --outputs "\$RUNNER_TEMP\/outputs\.json" --config "Pulumi\.\$PULUMI_STACK\.yaml"/);
        assert.match(verify.run!, /pulumi stack output --stack "\$PULUMI_STACK" --json > "\$RUNNER_TEMP\/outputs\.json"/);
        assert.doesNotMatch(verify.run!, /--show-secrets/);
    });

    it("runs the tests (and builds the e2e programs) for pull requests and deploys, not for a drift check", () => {
        assert.equal(jobs.test.if, "github.event_name != 'schedule' && !(github.event_name == 'workflow_dispatch' && inputs.command == 'drift')");
        assert.deepEqual(jobs.drift.needs, "runner", "the drift check waits for no test");
        const cache = jobs.test.steps.find((s) => s.uses?.startsWith("actions/cache@"))!;
        assert.match(
            String(cache.with!.path),
            /~\/go\/pkg\/mod[\s\S]*~\/\.cache\/go-build[\s\S]*~\/\.cache\/authentik-platform-tools/,
            "Go's caches and the built programs",
        );
    });

    it("passes actionlint (with shellcheck over every run: script when it is installed)", (t) => {
        const actionlint = realTool(t, "actionlint", "ACTIONLINT", "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12, as .ci/run does");
        if (!actionlint) return;
        const out = execFileSync(actionlint, ["-no-color", "-oneline"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(out.trim(), "");
    });
});
