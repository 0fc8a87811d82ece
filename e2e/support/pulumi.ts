/**
 * What every end-to-end suite needs from the real Pulumi CLI: a project directory, a file backend
 * with a passphrase, and commands run asynchronously (the stand-ins answer from the test's own
 * process). A project's program runs inline, in this process, through the Automation API: the CLI
 * talks to the language runtime @pulumi/pulumi serves here, so no Node.js language host is needed.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { EngineEvent, LocalWorkspace, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import YAML from "yaml";
import { ROOT } from "../../tests/support/helpers";
import { FakeAuthentik } from "../../tests/support/fake-authentik";

export interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

export const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);

/** An operation a preview plans: its op (`create`, `update`, `import`, `replace`, …) and URN. */
export interface Step {
    op: string;
    urn: string;
    /** The state the step replaces or deletes, as the engine reports it. */
    old?: { type: string; inputs: Record<string, unknown> };
}

/** A Pulumi project in a directory, and the environment its commands run in. */
export interface Project {
    dir: string;
    env: NodeJS.ProcessEnv;
    /**
     * `pulumi <args>` in the project, non-interactive and without colour. `preview`, `up` and
     * `destroy` run the project's program inline (an `up` without --skip-preview previews first and
     * stops there on failure, as the CLI's does); every other command goes to the CLI as it is.
     */
    run(...args: string[]): Promise<Run>;
    /**
     * The operations a preview plans, from the engine's events, as `pulumi preview --json` lists
     * them: without default providers (the engine gives the dynamic providers' default provider the
     * whole stack config, so every config change updates it; the CLI's display hides it).
     */
    plannedSteps(): Promise<Step[]>;
    /** The stack's state file as text (what an attacker with the backend would read). */
    state(stack: string): string;
}

/** The directory e2e/build-tools.sh printed (`npm run e2e` sets E2E_BIN), first on this process's PATH. */
export function e2eBin(): string {
    const bin = process.env.E2E_BIN;
    assert.ok(bin && fs.existsSync(path.join(bin, "pulumi")), "E2E_BIN must name the directory e2e/build-tools.sh prints (npm run e2e sets it)");
    if (!process.env.PATH?.startsWith(`${bin}${path.delimiter}`))
        process.env.PATH = `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`;
    return bin;
}

/**
 * A project for the e2e stack `e2e/stacks/<name>` (its Pulumi.yaml, and `program`, its exported
 * function) in a fresh temporary directory, node_modules beside it.
 */
export function project(name: string, program: PulumiFn, options: { env?: NodeJS.ProcessEnv; project?: Record<string, unknown> } = {}): Project {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `authentik-e2e-${name}-`));
    const spec = YAML.parse(fs.readFileSync(path.join(ROOT, "e2e", "stacks", name, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify({ ...spec, ...options.project }));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `authentik-platform-e2e-${name}`, private: true }));
    return projectIn(dir, program, options.env);
}

/**
 * The Pulumi project in `dir` (its own Pulumi.yaml) with `program` as its program, its own
 * PULUMI_HOME, and a file backend in `dir/state` unless `env` names another.
 */
export function projectIn(dir: string, program: PulumiFn, extraEnv: NodeJS.ProcessEnv = {}): Project {
    e2eBin();
    fs.mkdirSync(path.join(dir, "state"), { recursive: true });
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PULUMI_HOME: path.join(dir, ".pulumi"),
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "e2e passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        ...extraEnv,
    };
    const projectName = (YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const cli = (...args: string[]) => pulumiIn(dir, env, ...args);
    /** The Automation API's handle on the selected stack, with the project's environment as it is now. */
    const stack = async (): Promise<Stack> => {
        const current = await cli("stack", "--show-name");
        ok(current, "stack --show-name");
        const envVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
        return LocalWorkspace.selectStack({ stackName: current.stdout.trim(), projectName, program }, { workDir: dir, envVars });
    };
    return {
        dir,
        env,
        run: async (command, ...flags) => {
            if (!["preview", "up", "destroy"].includes(command)) return cli(command, ...flags);
            return inline(await stack(), command as "preview" | "up" | "destroy", flags);
        },
        plannedSteps: async () => {
            const steps: Step[] = [];
            const onEvent = (e: EngineEvent) => {
                const step = e.resourcePreEvent?.metadata;
                if (step && !/::pulumi:providers:[^:]+::default(_[\d_]+)?$/.test(step.urn)) {
                    steps.push({ op: step.op, urn: step.urn, old: step.old ? { type: step.old.type, inputs: step.old.inputs ?? {} } : undefined });
                }
            };
            const current = await stack();
            const run = await captured((output) => current.preview({ onEvent, color: "never", ...output }));
            ok(run, "preview");
            return steps;
        },
        state: (stackName) => fs.readFileSync(path.join(dir, "state", ".pulumi", "stacks", projectName, `${stackName}.json`), "utf8"),
    };
}

/** Flags this suite gives `preview`, `up` and `destroy`, as the Automation API's options. */
async function inline(stack: Stack, command: "preview" | "up" | "destroy", flags: string[]): Promise<Run> {
    const known = new Set(["--yes", "--skip-preview", "--expect-no-changes", "--diff"]);
    const unknown = flags.filter((f) => !known.has(f));
    assert.deepEqual(unknown, [], `the e2e suite does not pass ${unknown.join(" ")} to an inline ${command}`);
    const options = { color: "never" as const, expectNoChanges: flags.includes("--expect-no-changes"), diff: flags.includes("--diff") };
    if (command === "preview") return captured((output) => stack.preview({ ...options, ...output }));
    if (command === "destroy") return captured((output) => stack.destroy({ color: "never", ...output }));
    if (!flags.includes("--skip-preview")) {
        const preview = await captured((output) => stack.preview({ ...options, ...output }));
        if (preview.code !== 0) return preview;
    }
    return captured((output) => stack.up({ ...options, ...output }));
}

/** Where an Automation API call streams the CLI's output. */
interface Output {
    onOutput(text: string): void;
    onError(text: string): void;
}

/**
 * An Automation API call as a Run: the CLI's output as it streamed, and its exit code (a failed
 * command's error carries only a summary of its output, so the stream is what is kept).
 */
async function captured(call: (output: Output) => Promise<unknown>): Promise<Run> {
    const run: Run = { code: 0, stdout: "", stderr: "" };
    try {
        await call({ onOutput: (text) => (run.stdout += text), onError: (text) => (run.stderr += text) });
    } catch (e) {
        const result = (e as { commandResult?: { code: number; err?: { exitCode?: number } } }).commandResult;
        if (!result) throw e;
        run.code = result.err?.exitCode ?? result.code;
        if (run.code === 0) run.code = -1;
    }
    return run;
}

/** `pulumi <args>` in a directory, asynchronously, with the CLI E2E_BIN holds. */
export function pulumiIn(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
        const child = spawn(path.join(e2eBin(), "pulumi"), [...args, "--non-interactive", "--color", "never"], { cwd, env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/**
 * The homelab stack's configuration made runnable without the services a homelab has and this
 * machine has not: authentik's API is the stand-in at `url`, 1Password is off, no email, every
 * proxy app on the embedded outpost, and confidential OIDC clients left out (their secret comes
 * from the random provider, which is not built here).
 */
export function homelabConfigFor(url: string): Record<string, unknown> {
    const homelab = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.homelab.yaml"), "utf8")) as { config: Record<string, unknown> };
    const config = { ...homelab.config };
    config["authentik-platform:api"] = { url, token: "scoped", admin: "bootstrap", readyTimeoutSeconds: 30, requestTimeoutSeconds: 10 };
    config["authentik-platform:onepassword"] = { mode: "none" };
    config["authentik-platform:authentik"] = { ...(config["authentik-platform:authentik"] as object), email: undefined };
    const apps = config["authentik-platform:apps"] as { mode: string; clientType?: string; outpost?: string }[];
    config["authentik-platform:apps"] = apps
        .filter((a) => a.mode !== "oidc" || a.clientType === "public")
        .map((a) => ({ ...a, outpost: a.outpost === "proxy" ? "embedded" : a.outpost }));
    config["authentik-platform:outposts"] = { proxy: { enabled: false } };
    return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

/**
 * Makes the stack `name` of `project` with `config` in its stack file and `secrets` (keys of the
 * `authentik-platform` namespace) set as secure values, as a user does with `pulumi config set --secret`.
 */
export async function initStack(project: Project, name: string, config: Record<string, unknown>, secrets: Record<string, string>): Promise<void> {
    fs.writeFileSync(path.join(project.dir, `Pulumi.${name}.yaml`), YAML.stringify({ config }));
    ok(await project.run("stack", "init", name), "stack init");
    for (const [key, value] of Object.entries(secrets))
        ok(await project.run("config", "set", "--secret", `authentik-platform:${key}`, value), `config set --secret ${key}`);
}

/**
 * The authentik stand-in of the contract tests, over HTTPS on 127.0.0.1 as authentik is behind its
 * ingress, with a certificate made in `dir`; the project's Node processes are told to trust it.
 */
export async function standInAuthentik(project: Project): Promise<FakeAuthentik> {
    const key = path.join(project.dir, "key.pem");
    const cert = path.join(project.dir, "cert.pem");
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        { stdio: "ignore" },
    );
    project.env.NODE_EXTRA_CA_CERTS = cert;
    return FakeAuthentik.start({ tls: { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") } });
}
