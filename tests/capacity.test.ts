/** The capacity model: table cases for the connection and memory budgets. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { capacityOf, capacityProblems } from "../components/authentik/capacity";
import { StackConfig } from "../stacks/config";
import { expectIssue, homelab, parse, set } from "./helpers";

const base = parse(homelab());
/** The homelab config with an edit applied after parsing (so rejected configs can be modelled). */
function variant(edit: (c: StackConfig) => void): StackConfig {
    const c = structuredClone(base) as StackConfig;
    edit(c);
    return c;
}

describe("capacity model", () => {
    it("counts the homelab connections with surge pods", () => {
        const { connections } = capacityOf(base);
        assert.equal(connections.serverClients, (3 + 1) * 3 * 4);
        assert.equal(connections.workerClients, (3 + 1) * 1 * 4);
        assert.equal(connections.totalClients, 64);
        assert.equal(connections.poolPerPod, 35);
        assert.equal(connections.serverConnections, (3 + 1) * 35);
        assert.equal(connections.databaseAvailable, 200 - 3 - 5);
    });

    it("fits the homelab memory: 3 web workers in 2Gi", () => {
        const { memory } = capacityOf(base);
        assert.equal(memory.serverNeedMiB, 3 * 500 + 400 + 64, "web workers, base and the memory-backed /dev/shm");
        assert.equal(memory.serverLimitMiB, 2048);
        assert.deepEqual(capacityProblems(base), []);
    });

    const cases: { name: string; edit: (c: StackConfig) => void; key: string; fix: RegExp }[] = [
        { name: "max_client_conn below the clients", edit: (c) => (c.pgbouncer.maxClientConn = 50), key: "pgbouncer.maxClientConn", fix: /at least 64/ },
        { name: "the Terraform pool of 20 at the PDB minimum", edit: (c) => (c.pgbouncer.defaultPoolSize = 20), key: "pgbouncer.defaultPoolSize", fix: /at least 27/ },
        { name: "pools larger than max_connections", edit: (c) => (c.database.maxConnections = 100), key: "database.maxConnections", fix: /at least 148/ },
        { name: "4 web workers in 2Gi", edit: (c) => (c.authentik.web.workers = 4), key: "authentik.server.resources.memoryLimit", fix: /at least 2464Mi/ },
        { name: "4 worker processes in 1Gi", edit: (c) => ((c.authentik.worker.processes = 4), (c.authentik.worker.resources.memoryLimit = "1Gi")), key: "authentik.worker.resources.memoryLimit", fix: /at least 2250Mi/ },
    ];
    for (const t of cases) {
        it(`fails ${t.name}, naming the knob and the number`, () => {
            const problems = capacityProblems(variant(t.edit));
            const p = problems.find((x) => x.key === t.key);
            assert.ok(p, `no problem for ${t.key}: ${JSON.stringify(problems)}`);
            assert.match(p.fix, t.fix);
        });
    }

    it("does not apply the session budget to transaction pooling", () => {
        const c = variant((x) => ((x.pgbouncer.poolMode = "transaction"), (x.pgbouncer.defaultPoolSize = 5)));
        assert.ok(!capacityProblems(c).some((p) => p.key === "pgbouncer.defaultPoolSize"));
    });

    it("fails the stack config with the numbers", () => {
        const issue = expectIssue(set(homelab(), "authentik.web.workers", 4), "authentik.server.resources.memoryLimit", /4 web workers × 500Mi \+ 400Mi base \+ 64Mi \/dev\/shm = 2464Mi/);
        assert.equal(issue.value, "2Gi");
    });
});
