/**
 * tools/github-settings.ts: the GitHub settings the workflow relies on (a reviewer before a
 * pull request's preview meets secrets; deploy and drift environments for main only), checked
 * against answers shaped as GitHub's REST API gives them (environments, deployment branch policies).
 */
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { Environment, main, settingsProblems } from "../tools/github-settings";

const reviewed = (name: string): Environment => ({
    name,
    protection_rules: [{ type: "required_reviewers", reviewers: [{ type: "User", reviewer: { login: "owner" } }] }],
    deployment_branch_policy: null,
});
const mainOnly = (name: string): Environment => ({
    name,
    protection_rules: [{ type: "branch_policy" }],
    deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
});
const GOOD = [reviewed("homelab-preview"), mainOnly("homelab"), mainOnly("homelab-drift")];
const MAIN = { homelab: [{ name: "main", type: "branch" }], "homelab-drift": [{ name: "main", type: "branch" }] };

describe("the GitHub settings the workflow relies on", () => {
    it("hold when previews need a reviewer and deploy and drift run from main only", () => {
        assert.deepEqual(settingsProblems(GOOD, MAIN), []);
    });

    it("name each missing one and where to set it", () => {
        assert.deepEqual(settingsProblems([], {}), [
            "environment homelab-preview does not exist, so a pull request's preview would run without approval: create it (Settings > Environments > homelab-preview) with required reviewers",
            "environment homelab does not exist, so its secrets are repository-wide: create it with Settings > Environments > homelab > Deployment branches and tags: Selected branches and tags, add main only",
            "environment homelab-drift does not exist, so its secrets are repository-wide: create it with Settings > Environments > homelab-drift > Deployment branches and tags: Selected branches and tags, add main only",
        ]);
        const unreviewed = [
            { ...reviewed("homelab-preview"), protection_rules: [{ type: "required_reviewers", reviewers: [] }, { type: "wait_timer" }] },
            ...GOOD.slice(1),
        ];
        const alsoTimed = [
            { ...reviewed("homelab-preview"), protection_rules: [{ type: "wait_timer" }, ...reviewed("x").protection_rules!] },
            ...GOOD.slice(1),
        ];
        assert.deepEqual(settingsProblems(alsoTimed, MAIN), [], "a reviewer rule beside others");
        const timerOnly = [{ ...reviewed("homelab-preview"), protection_rules: [{ type: "wait_timer", reviewers: [{}] }] }, ...GOOD.slice(1)];
        assert.equal(settingsProblems(timerOnly, MAIN).length, 1, "only a required_reviewers rule counts");
        assert.deepEqual(settingsProblems(unreviewed, MAIN), [
            "environment homelab-preview has no required reviewer, so a branch's code meets its secrets unapproved: Settings > Environments > homelab-preview > Required reviewers, add the maintainers",
        ]);
    });

    it("accept main alone: not any branch, not protected branches, not main beside another branch or a tag", () => {
        const fix = "Settings > Environments > homelab > Deployment branches and tags: Selected branches and tags, add main only";
        const homelab = (policy: Environment["deployment_branch_policy"]) => [GOOD[0], { ...GOOD[1], deployment_branch_policy: policy }, GOOD[2]];
        assert.deepEqual(settingsProblems(homelab(null), MAIN), [`environment homelab may be deployed from any branch: ${fix}`]);
        assert.deepEqual(settingsProblems(homelab({ protected_branches: true, custom_branch_policies: false }), MAIN), [
            `environment homelab may be deployed from any protected branch: ${fix}`,
        ]);
        const custom = homelab({ protected_branches: false, custom_branch_policies: true });
        assert.deepEqual(settingsProblems(custom, { ...MAIN, homelab: [{ name: "main" }, { name: "release/*", type: "branch" }] }), [
            `environment homelab may be deployed from branch:main, branch:release/*, not main only: ${fix}`,
        ]);
        assert.deepEqual(settingsProblems(custom, { ...MAIN, homelab: [{ name: "main", type: "tag" }] }), [
            `environment homelab may be deployed from tag:main, not main only: ${fix}`,
        ]);
        assert.deepEqual(settingsProblems(custom, { ...MAIN, homelab: [] }), [`environment homelab may be deployed from no branch, not main only: ${fix}`]);
        assert.deepEqual(settingsProblems(custom, { ...MAIN, homelab: [{ name: "main" }] }), [], "a policy without a type is a branch policy");
    });
});

describe("npm run settings against the API", () => {
    let api: string;
    let server: http.Server;
    let environments: Environment[] = GOOD;
    const seen: string[] = [];
    before(async () => {
        server = http.createServer((req, res) => {
            seen.push(`${req.url} ${req.headers.authorization}`);
            const policies = /^\/repos\/o\/r\/environments\/([^/]+)\/deployment-branch-policies\?per_page=100$/.exec(req.url!);
            if (req.url === "/repos/o/r/environments?per_page=100") res.end(JSON.stringify({ total_count: environments.length, environments }));
            else if (policies) res.end(JSON.stringify({ total_count: 1, branch_policies: MAIN[decodeURIComponent(policies[1]) as keyof typeof MAIN] }));
            else res.writeHead(404).end("{}");
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        api = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    });
    after(() => server.close());

    const run = async (env: NodeJS.ProcessEnv) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(
            env,
            (l) => out.push(l),
            (l) => err.push(l),
        );
        return { code, out, err };
    };

    it("reads the environments and the main-only ones' branch policies with the workflow's token", async () => {
        seen.length = 0;
        const r = await run({ GITHUB_REPOSITORY: "o/r", GITHUB_TOKEN: "t", GITHUB_API_URL: api });
        assert.deepEqual(r, { code: 0, out: ["settings ok: homelab-preview need a reviewer; homelab, homelab-drift deploy from main only"], err: [] });
        assert.deepEqual(seen, [
            "/repos/o/r/environments?per_page=100 Bearer t",
            "/repos/o/r/environments/homelab/deployment-branch-policies?per_page=100 Bearer t",
            "/repos/o/r/environments/homelab-drift/deployment-branch-policies?per_page=100 Bearer t",
        ]);
    });

    it("exits 1 naming what is missing, 2 when it cannot read them", async () => {
        environments = GOOD.slice(1);
        const missing = await run({ GITHUB_REPOSITORY: "o/r", GITHUB_TOKEN: "t", GITHUB_API_URL: api });
        assert.equal(missing.code, 1);
        assert.match(missing.err[0], /^FAIL {2}environment homelab-preview does not exist/);
        environments = GOOD;
        const wrong = await run({ GITHUB_REPOSITORY: "o/other", GITHUB_TOKEN: "t", GITHUB_API_URL: api });
        assert.deepEqual(wrong, {
            code: 2,
            out: [],
            err: ["cannot read the settings of o/other: GET /repos/o/other/environments?per_page=100: HTTP 404 (the token needs actions: read)"],
        });
        assert.equal((await run({ GITHUB_TOKEN: "t" })).code, 2);
        assert.match((await run({ GITHUB_REPOSITORY: "o/r" })).err[0], /needs GITHUB_REPOSITORY \(owner\/name\) and GITHUB_TOKEN/);
    });
});
