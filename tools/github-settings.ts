/**
 * `npm run settings`: the GitHub settings the workflow's safety rests on, read from GitHub's API.
 * Environment secrets are released by GitHub itself, so these hold even against a branch that
 * edits the workflow:
 * - `homelab-preview` (a pull request's preview runs the branch's code with its secrets) needs a
 *   required reviewer: no branch code meets those secrets unless a maintainer approved that run;
 * - `homelab` (deploy) and `homelab-drift` (the daily check) are deployable from `main` only.
 * Exit 0: all hold; 1: each missing one is named with where to set it; 2: cannot read them.
 */

/** An environment as GET /repos/{owner}/{repo}/environments returns it. */
export interface Environment {
    name: string;
    protection_rules?: { type: string; reviewers?: unknown[] }[];
    deployment_branch_policy?: { protected_branches: boolean; custom_branch_policies: boolean } | null;
}

/** A deployment branch policy as GET …/environments/{name}/deployment-branch-policies returns it. */
export interface BranchPolicy {
    name: string;
    type?: string;
}

/** Environments whose runs need a maintainer's approval. */
export const REVIEWED_ENVIRONMENTS = ["homelab-preview"];
/** Environments only `main` may deploy to. */
export const MAIN_ONLY_ENVIRONMENTS = ["homelab", "homelab-drift"];

const where = (name: string) => `Settings > Environments > ${name}`;

/** What is missing, one line each with its fix; `policies` holds each main-only environment's branch policies. */
export function settingsProblems(environments: Environment[], policies: Record<string, BranchPolicy[]>): string[] {
    const byName = new Map(environments.map((e) => [e.name, e]));
    const problems: string[] = [];
    for (const name of REVIEWED_ENVIRONMENTS) {
        const env = byName.get(name);
        if (!env)
            problems.push(
                `environment ${name} does not exist, so a pull request's preview would run without approval: create it (${where(name)}) with required reviewers`,
            );
        else if (!(env.protection_rules ?? []).some((r) => r.type === "required_reviewers" && (r.reviewers ?? []).length > 0)) {
            problems.push(
                `environment ${name} has no required reviewer, so a branch's code meets its secrets unapproved: ${where(name)} > Required reviewers, add the maintainers`,
            );
        }
    }
    for (const name of MAIN_ONLY_ENVIRONMENTS) {
        const env = byName.get(name);
        const fix = `${where(name)} > Deployment branches and tags: Selected branches and tags, add main only`;
        if (!env) {
            problems.push(`environment ${name} does not exist, so its secrets are repository-wide: create it with ${fix}`);
            continue;
        }
        const policy = env.deployment_branch_policy;
        const branches = (policies[name] ?? []).map((p) => `${p.type ?? "branch"}:${p.name}`);
        if (!policy || !policy.custom_branch_policies)
            problems.push(`environment ${name} may be deployed from ${policy?.protected_branches ? "any protected branch" : "any branch"}: ${fix}`);
        else if (branches.length !== 1 || branches[0] !== "branch:main")
            problems.push(`environment ${name} may be deployed from ${branches.join(", ") || "no branch"}, not main only: ${fix}`);
    }
    return problems;
}

async function getJson(api: string, token: string, path: string): Promise<unknown> {
    const response = await fetch(`${api}${path}`, {
        headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" },
    });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} (the token needs actions: read)`);
    return response.json();
}

export async function main(env: NodeJS.ProcessEnv, out: (line: string) => void, err: (line: string) => void): Promise<number> {
    const repo = env.GITHUB_REPOSITORY;
    const token = env.GITHUB_TOKEN;
    if (!repo || !token) {
        err("npm run settings needs GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN (actions: read); the workflow gives both");
        return 2;
    }
    const api = (env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/$/, "");
    let problems: string[];
    try {
        const { environments } = (await getJson(api, token, `/repos/${repo}/environments?per_page=100`)) as { environments: Environment[] };
        const policies: Record<string, BranchPolicy[]> = {};
        for (const e of environments.filter((x) => MAIN_ONLY_ENVIRONMENTS.includes(x.name) && x.deployment_branch_policy?.custom_branch_policies)) {
            policies[e.name] = (
                (await getJson(api, token, `/repos/${repo}/environments/${encodeURIComponent(e.name)}/deployment-branch-policies?per_page=100`)) as {
                    branch_policies: BranchPolicy[];
                }
            ).branch_policies;
        }
        problems = settingsProblems(environments, policies);
    } catch (e) {
        err(`cannot read the settings of ${repo}: ${(e as Error).message}`);
        return 2;
    }
    if (problems.length === 0) {
        out(`settings ok: ${REVIEWED_ENVIRONMENTS.join(", ")} need a reviewer; ${MAIN_ONLY_ENVIRONMENTS.join(", ")} deploy from main only`);
        return 0;
    }
    for (const p of problems) err(`FAIL  ${p}`);
    return 1;
}

if (require.main === module) {
    void main(process.env, console.log, console.error).then((code) => (process.exitCode = code));
}
