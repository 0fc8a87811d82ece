/** The stack-output contract as a consuming stack reads it through a StackReference (mocked). */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { PUBLISHED_OUTPUTS, ROOT } from "./support/helpers";
import { SECRET_OUTPUT_KEYS, checkContract, readPlatformOutputs } from "../packages/contract";

const homelab = PUBLISHED_OUTPUTS;
/** What each mocked stack exports, and which of its outputs it exported as secrets. */
const published: Record<string, { outputs: Record<string, unknown>; secretOutputNames: string[] }> = {
    "org/authentik-platform/homelab": { outputs: homelab, secretOutputNames: ["oidcClientSecrets"] },
    "org/authentik-platform/future": { outputs: { ...homelab, contractVersion: 2 }, secretOutputNames: ["oidcClientSecrets"] },
    "org/authentik-platform/partial": {
        outputs: { contractVersion: 1, authentik: homelab.authentik, consumerTokens: homelab.consumerTokens },
        secretOutputNames: ["consumerTokens"],
    },
};

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
const secret = <T>(o: pulumi.Output<T>) => pulumi.isSecret(o);

describe("readPlatformOutputs", () => {
    before(async () => {
        await pulumi.runtime.setMocks({
            newResource: (args) => ({ id: args.inputs.name, state: { ...args.inputs, ...published[args.inputs.name as string] } }),
            call: () => ({}),
        });
    });

    it("reads the contract from another stack", async () => {
        const platform = readPlatformOutputs(new pulumi.StackReference("org/authentik-platform/homelab"));
        assert.equal((await value(platform.pgbouncer)).host, "pgbouncer.authentik.svc.cluster.local");
        assert.equal((await value(platform.database)).port, 5432);
        assert.equal((await value(platform.authentik)).url, "https://auth.example.com");
    });

    it("keeps plain outputs plain and secret outputs secret", async () => {
        const platform = readPlatformOutputs(new pulumi.StackReference("org/authentik-platform/homelab"));
        assert.equal(await secret(platform.authentik), false, "hostnames and URLs are not secrets");
        assert.equal(await secret(platform.apps), false);
        assert.equal(await secret(platform.oidcClientSecrets), true);
        assert.equal((await value(platform.oidcClientSecrets)).grafana, "client-s3cret");
    });

    it("requires only the outputs a consumer reads (a ProtectedApp stack reads authentik and its token)", async () => {
        const platform = readPlatformOutputs(new pulumi.StackReference("org/authentik-platform/partial"));
        assert.equal((await value(platform.authentik)).url, "https://auth.example.com");
        assert.equal(await secret(platform.consumerTokens), true, "consumer tokens are secret");
        assert.equal((await value(platform.consumerTokens)).wiki, "wiki-t0ken");
        assert.deepEqual(Object.keys(platform).sort(), [
            "apps",
            "authentik",
            "capacity",
            "consumerTokens",
            "contractVersion",
            "database",
            "namespace",
            "oidcClientSecrets",
            "pgbouncer",
            "radius",
        ]);
    });

    it("refuses a contract version it does not know, naming the stack", async () => {
        assert.throws(
            () => checkContract("org/authentik-platform/future", { contractVersion: 2 }),
            /stack org\/authentik-platform\/future exports contract version 2, this code reads version 1/,
        );
        assert.equal(checkContract("s", homelab).namespace, "authentik");
        // Through a StackReference the failure surfaces as the program's error: run one in its own process.
        const script = `
            const pulumi = require("@pulumi/pulumi");
            const { readPlatformOutputs } = require(${JSON.stringify(path.join(ROOT, "bin", "packages", "contract"))});
            process.on("unhandledRejection", (e) => { console.log(String(e)); process.exit(3); });
            pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: { ...a.inputs, outputs: ${JSON.stringify({ ...homelab, contractVersion: 2 })}, secretOutputNames: [] } }), call: () => ({}) })
                .then(() => readPlatformOutputs(new pulumi.StackReference("org/authentik-platform/future")).namespace.apply((n) => console.log("read", n)));`;
        const run = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
        assert.equal(run.status, 3, run.stderr);
        assert.match(run.stdout, /stack org\/authentik-platform\/future exports contract version 2, this code reads version 1/);
        assert.doesNotMatch(run.stdout, /^read/m);
    });
});

describe("the contract's secret outputs", () => {
    it("the outputs a consumer must treat as secrets", () => {
        assert.deepEqual(SECRET_OUTPUT_KEYS, ["oidcClientSecrets", "consumerTokens"]);
    });
});
