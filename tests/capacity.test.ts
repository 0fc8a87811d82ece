/** The capacity model: table cases for the connection and memory budgets. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { binomialTail, capacityOf, capacityProblems, overflowRisk, poolForSpread } from "../components/authentik/capacity";
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
        assert.equal(connections.poolPerPod, 48);
        assert.equal(connections.serverConnections, (3 + 1) * 48);
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
        { name: "the Terraform pool of 20 at the PDB minimum", edit: (c) => (c.pgbouncer.defaultPoolSize = 20), key: "pgbouncer.defaultPoolSize", fix: /at least 45/ },
        { name: "the old pool of 30, whose reserve only serves after 5 s", edit: (c) => ((c.pgbouncer.defaultPoolSize = 30), (c.pgbouncer.reservePoolSize = 5)), key: "pgbouncer.defaultPoolSize", fix: /at least 45/ },
        { name: "pools larger than max_connections", edit: (c) => (c.database.maxConnections = 100), key: "database.maxConnections", fix: /at least 200/ },
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

    it("sizes the pool for a random spread over the PDB minimum: 64 clients on 2 pods need 45 each", () => {
        // With 64 clients on 2 pods there is a ~38% chance one pod gets more than 35 (what the old model allowed).
        assert.ok(overflowRisk(64, 2, 35) > 0.3 && overflowRisk(64, 2, 35) < 0.45);
        assert.equal(poolForSpread(64, 2), 45);
        assert.ok(overflowRisk(64, 2, 45) < 0.001 && overflowRisk(64, 2, 44) >= 0.001, "45 is the smallest pool under 0.1%");
        assert.equal(poolForSpread(64, 1), 64, "one pod takes every client");
        assert.ok(binomialTail(2000, 0.5, 1100) > 0 && binomialTail(2000, 0.5, 1100) < 1e-5, "no underflow with thousands of clients");
        const { connections } = capacityOf(base);
        assert.equal(connections.poolNeededPerPod, 45);
        assert.equal(connections.spreadPods, 2);
        assert.ok(connections.overflowRisk < 0.001);
        assert.ok(4 * 48 <= connections.databaseAvailable, "4 pods (surge included) × (45 + 3) fit max_connections 200");
    });

    it("keeps the saturation alert quiet at the model's expected load on the PDB minimum", () => {
        const { connections } = capacityOf(base);
        const perPod = connections.totalClients / connections.spreadPods;
        assert.ok(perPod / base.pgbouncer.defaultPoolSize < 0.9, `${perPod} of ${base.pgbouncer.defaultPoolSize} stays under the 90% alert`);
        assert.ok(perPod / 35 > 0.9, "the old pool of 35 would have fired it with only two pods up");
    });

    it("does not apply the session budget to transaction pooling", () => {
        const c = variant((x) => ((x.pgbouncer.poolMode = "transaction"), (x.pgbouncer.defaultPoolSize = 5)));
        assert.ok(!capacityProblems(c).some((p) => p.key === "pgbouncer.defaultPoolSize"));
    });

    it("fails the stack config with the numbers", () => {
        const issue = expectIssue(set(homelab(), "authentik.web.workers", 4), "authentik.server.resources.memoryLimit", /4 web workers × 500Mi \+ 400Mi base \+ 64Mi \/dev\/shm = 2464Mi/);
        assert.equal(issue.value, "2Gi");
    });
});
