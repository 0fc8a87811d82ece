/**
 * examples/consumer, built the way a user of another repository builds it: against the packaged
 * @authentik-platform/contract (its declarations and JS only, as `npm install` leaves it) in a
 * directory of its own, then run under Pulumi's mocks with a mocked StackReference.
 */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { PUBLISHED_OUTPUTS, ROOT } from "./support/helpers";

const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
const tsc = (project: string, ...args: string[]) => execFileSync(process.execPath, [TSC, "-p", project, ...args], { encoding: "utf8" });

const platform = PUBLISHED_OUTPUTS;

describe("examples/consumer against the packaged contract", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "consumer-"));
        // What `npm install @authentik-platform/contract` leaves: package.json and dist/, nothing else.
        const pkg = path.join(dir, "node_modules", "@authentik-platform", "contract");
        fs.mkdirSync(pkg, { recursive: true });
        tsc(path.join(ROOT, "packages", "contract", "tsconfig.json"), "--outDir", path.join(pkg, "dist"));
        fs.copyFileSync(path.join(ROOT, "packages", "contract", "package.json"), path.join(pkg, "package.json"));
        // Its peer dependency, as the consumer installs it (the same copy this process runs).
        fs.symlinkSync(path.join(ROOT, "node_modules", "@pulumi"), path.join(dir, "node_modules", "@pulumi"));
        for (const f of ["index.ts", "tsconfig.json", "package.json", "Pulumi.yaml"])
            fs.copyFileSync(path.join(ROOT, "examples", "consumer", f), path.join(dir, f));
        tsc(path.join(dir, "tsconfig.json"));
    });

    it("ships declarations and JS only, and the example compiles against them", () => {
        const pkg = path.join(dir, "node_modules", "@authentik-platform", "contract");
        assert.deepEqual(fs.readdirSync(path.join(pkg, "dist")).sort(), ["index.d.ts", "index.js"]);
        assert.ok(fs.existsSync(path.join(dir, "bin", "index.js")));
    });

    it("reads plain values plain and the client secret secret through a StackReference", async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) =>
                    args.type === "pulumi:pulumi:StackReference"
                        ? { id: String(args.inputs.name), state: { ...args.inputs, outputs: platform, secretOutputNames: ["oidcClientSecrets"] } }
                        : { id: args.name, state: args.inputs },
                call: () => ({}),
            },
            "grafana-consumer-example",
            "dev",
        );
        pulumi.runtime.setAllConfig({ "grafana-consumer-example:platformStack": "org/authentik-platform/homelab" });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require(path.join(dir, "bin", "index.js")) as Record<string, pulumi.Output<unknown>>;
        const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
        const env = (await value(program.grafanaEnv)) as Record<string, string>;
        assert.equal(env.GF_AUTH_GENERIC_OAUTH_CLIENT_ID, "grafana");
        assert.equal(env.GF_AUTH_GENERIC_OAUTH_TOKEN_URL, "https://auth.example.com/application/o/token/");
        assert.equal(await pulumi.isSecret(program.grafanaEnv), false, "URLs and the client id are not secrets");
        assert.equal(await pulumi.isSecret(program.pgbouncerHost), false);
        assert.equal(await value(program.grafanaClientSecret), "client-s3cret");
        assert.equal(await pulumi.isSecret(program.grafanaClientSecret), true, "the client secret stays a secret");
    });
});
