/**
 * What every end-to-end suite needs from the real Pulumi CLI: a project directory holding an e2e
 * stack's compiled program, a file backend with a passphrase, and commands run asynchronously (the
 * stand-ins answer from the test's own process).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import YAML from "yaml";
import { ROOT } from "../../tests/helpers";
import { FakeAuthentik } from "../../tests/support/fake-authentik";

export interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

export const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);

/** A Pulumi project in a fresh temporary directory, and the environment its commands run in. */
export interface Project {
    dir: string;
    env: NodeJS.ProcessEnv;
    /** Runs `pulumi <args>` in the project, non-interactive and without colour. */
    run(...args: string[]): Promise<Run>;
    /** The stack's state file as text (what an attacker with the backend would read). */
    state(stack: string): string;
}

/** The directory e2e/build-tools.sh printed (`npm run e2e` sets E2E_BIN). */
export function e2eBin(): string {
    const bin = process.env.E2E_BIN;
    assert.ok(bin && fs.existsSync(path.join(bin, "pulumi")), "E2E_BIN must name the directory e2e/build-tools.sh prints (npm run e2e sets it)");
    return bin;
}

/**
 * A project for the e2e stack program `e2e/stacks/<name>` (its Pulumi.yaml, main pointed at the
 * compiled program), node_modules beside it, its own PULUMI_HOME and file backend.
 */
export function project(name: string, options: { env?: NodeJS.ProcessEnv; project?: Record<string, unknown> } = {}): Project {
    const bin = e2eBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `authentik-e2e-${name}-`));
    const spec = YAML.parse(fs.readFileSync(path.join(ROOT, "e2e", "stacks", name, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify({ ...spec, ...options.project, main: path.join(ROOT, "bin", "e2e", "stacks", name, "index.js") }));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `authentik-platform-e2e-${name}`, private: true }));
    fs.mkdirSync(path.join(dir, "state"));
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
        PULUMI_HOME: path.join(dir, ".pulumi"),
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "e2e passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        ...options.env,
    };
    const projectName = spec.name as string;
    return {
        dir,
        env,
        run: (...args) => pulumiIn(dir, env, ...args),
        state: (stack) => fs.readFileSync(path.join(dir, "state", ".pulumi", "stacks", projectName, `${stack}.json`), "utf8"),
    };
}

/** `pulumi <args>` in a directory, asynchronously. */
export function pulumiIn(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
        const child = spawn("pulumi", [...args, "--non-interactive", "--color", "never"], { cwd, env });
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
    config["authentik-platform:apps"] = apps.filter((a) => a.mode !== "oidc" || a.clientType === "public").map((a) => ({ ...a, outpost: a.outpost === "proxy" ? "embedded" : a.outpost }));
    config["authentik-platform:outposts"] = { proxy: { enabled: false } };
    return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

/**
 * The authentik stand-in of the contract tests, over HTTPS on 127.0.0.1 as authentik is behind its
 * ingress, with a certificate made in `dir`; the project's Node processes are told to trust it.
 */
export async function standInAuthentik(project: Project): Promise<FakeAuthentik> {
    const key = path.join(project.dir, "key.pem");
    const cert = path.join(project.dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    project.env.NODE_EXTRA_CA_CERTS = cert;
    return FakeAuthentik.start({ tls: { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") } });
}
