/** The stack-output contract as a consuming stack reads it through a StackReference (mocked). */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { CONTRACT_VERSION, checkContract, readPlatformOutputs } from "../stacks/outputs";

const published: Record<string, Record<string, unknown>> = {
    "org/authentik-platform/homelab": {
        contractVersion: CONTRACT_VERSION,
        namespace: "authentik",
        database: { host: "authentik-db-rw.authentik.svc.cluster.local", port: 5432 },
        pgbouncer: { host: "pgbouncer.authentik.svc.cluster.local", port: 6432, poolMode: "session" },
        authentik: { url: "https://auth.example.com", host: "auth.example.com" },
        capacity: { connections: {}, memory: {} },
        apps: { grafana: { mode: "oidc", url: "https://grafana.example.com/", clientId: "grafana" } },
        oidcClientSecrets: {},
        radius: null,
    },
    "org/authentik-platform/future": { contractVersion: CONTRACT_VERSION + 1, namespace: "a", database: {}, pgbouncer: {}, authentik: {}, capacity: {}, apps: {}, oidcClientSecrets: {}, radius: null },
};

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("readPlatformOutputs", () => {
    before(async () => {
        await pulumi.runtime.setMocks({
            newResource: (args) => ({ id: args.inputs.name, state: { ...args.inputs, outputs: published[args.inputs.name as string] } }),
            call: () => ({}),
        });
    });

    it("reads the contract from another stack", async () => {
        const outputs = await value(readPlatformOutputs(new pulumi.StackReference("org/authentik-platform/homelab")));
        assert.equal(outputs.pgbouncer.host, "pgbouncer.authentik.svc.cluster.local");
        assert.equal(outputs.database.port, 5432);
        assert.equal(outputs.authentik.url, "https://auth.example.com");
    });

    it("refuses a contract version it does not know, naming the stack", () => {
        assert.throws(
            () => checkContract("org/authentik-platform/future", published["org/authentik-platform/future"]),
            /stack org\/authentik-platform\/future exports contract version 2, this code reads version 1/,
        );
        assert.equal(checkContract("s", published["org/authentik-platform/homelab"]).namespace, "authentik");
    });
});
