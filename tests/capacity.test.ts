/** The capacity model: table cases for the connection and memory budgets. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { binomialTail, capacityOf, capacityProblems, describeCapacity, overflowRisk, poolForSpread } from "../config/capacity";
import { StackConfig } from "../config";
import { expectIssue, homelab, parse, set } from "./support/helpers";

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
        const twoProcesses = capacityOf(variant((c) => (c.authentik.worker.processes = 2))).connections;
        assert.equal(twoProcesses.workerClients, 32, "(3+1) pods × 2 processes × 4 threads");
    });

    it("fits the homelab memory: 3 web workers in 2Gi", () => {
        const { memory } = capacityOf(base);
        assert.equal(memory.serverNeedMiB, 3 * 500 + 400 + 64, "web workers, base and the memory-backed /dev/shm");
        assert.equal(memory.serverLimitMiB, 2048);
        assert.deepEqual(capacityProblems(base), []);
    });

    const cases: { name: string; edit: (c: StackConfig) => void; key: string; fix: RegExp }[] = [
        { name: "max_client_conn below the clients", edit: (c) => (c.pgbouncer.maxClientConn = 50), key: "pgbouncer.maxClientConn", fix: /at least 64/ },
        {
            name: "the Terraform pool of 20 at the PDB minimum",
            edit: (c) => (c.pgbouncer.defaultPoolSize = 20),
            key: "pgbouncer.defaultPoolSize",
            fix: /at least 45/,
        },
        {
            name: "the old pool of 30, whose reserve only serves after 5 s",
            edit: (c) => ((c.pgbouncer.defaultPoolSize = 30), (c.pgbouncer.reservePoolSize = 5)),
            key: "pgbouncer.defaultPoolSize",
            fix: /at least 45/,
        },
        { name: "pools larger than max_connections", edit: (c) => (c.database.maxConnections = 100), key: "database.maxConnections", fix: /at least 200/ },
        { name: "4 web workers in 2Gi", edit: (c) => (c.authentik.web.workers = 4), key: "authentik.server.resources.memoryLimit", fix: /at least 2464Mi/ },
        {
            name: "4 worker processes in 1Gi",
            edit: (c) => ((c.authentik.worker.processes = 4), (c.authentik.worker.resources.memoryLimit = "1Gi")),
            key: "authentik.worker.resources.memoryLimit",
            fix: /at least 2250Mi/,
        },
    ];
    for (const t of cases) {
        it(`fails ${t.name}, naming the knob and the number`, () => {
            const problems = capacityProblems(variant(t.edit));
            const p = problems.find((x) => x.key === t.key);
            assert.ok(p, `no problem for ${t.key}: ${JSON.stringify(problems)}`);
            assert.match(p.fix, t.fix);
        });
    }

    const CLIENTS = "64 client connections (server 48 = (3+1 surge) pods × 3 web workers × 4 threads; worker 16 = (3+1) × 1 processes × 4 threads)";
    const limits: { name: string; fits: (c: StackConfig) => void; misfits: (c: StackConfig) => void; problem: object }[] = [
        {
            name: "max_client_conn equal to the clients",
            fits: (c) => (c.pgbouncer.maxClientConn = 64),
            misfits: (c) => (c.pgbouncer.maxClientConn = 63),
            problem: {
                key: "pgbouncer.maxClientConn",
                value: 63,
                problem: `one PgBouncer pod must accept all ${CLIENTS}`,
                fix: "set pgbouncer.maxClientConn to at least 64",
            },
        },
        {
            name: "the smallest pool under the spread risk",
            fits: (c) => (c.pgbouncer.defaultPoolSize = 45),
            misfits: (c) => (c.pgbouncer.defaultPoolSize = 44),
            problem: {
                key: "pgbouncer.defaultPoolSize",
                value: 44,
                problem: `${CLIENTS} land at random on the 2 PgBouncer pods the PDB keeps: with 44 per pod the chance that a pod gets more clients than its pool (and they wait 5 s for a reserve connection) is 0.16%, above 0.10%`,
                fix: "set pgbouncer.defaultPoolSize to at least 45, or lower authentik.web.workers/threads or authentik.worker.threads",
            },
        },
        {
            name: "max_connections that just hold every pool, the reserved and CNPG's own",
            fits: (c) => (c.database.maxConnections = 200),
            misfits: (c) => (c.database.maxConnections = 199),
            problem: {
                key: "database.maxConnections",
                value: 199,
                problem:
                    "PgBouncer may open 192 server connections ((3+1 surge) pods × 48) but PostgreSQL offers 191 (max_connections 199 − 3 superuser reserved − 5 for CNPG)",
                fix: "raise database.maxConnections to at least 200, or lower pgbouncer.defaultPoolSize/reservePoolSize",
            },
        },
        {
            name: "a server limit equal to its need",
            fits: (c) => (c.authentik.server.resources.memoryLimit = "1964Mi"),
            misfits: (c) => (c.authentik.server.resources.memoryLimit = "1963Mi"),
            problem: {
                key: "authentik.server.resources.memoryLimit",
                value: "1963Mi",
                problem: "3 web workers × 500Mi + 400Mi base + 64Mi /dev/shm = 1964Mi do not fit the 1963Mi limit (OOM kills)",
                fix: "set authentik.server.resources.memoryLimit to at least 1964Mi, or lower authentik.web.workers",
            },
        },
        {
            name: "a worker limit equal to its need",
            fits: (c) => (c.authentik.worker.resources.memoryLimit = "750Mi"),
            misfits: (c) => (c.authentik.worker.resources.memoryLimit = "749Mi"),
            problem: {
                key: "authentik.worker.resources.memoryLimit",
                value: "749Mi",
                problem: "1 worker processes × 500Mi + 250Mi base = 750Mi do not fit the 749Mi limit",
                fix: "set authentik.worker.resources.memoryLimit to at least 750Mi, or lower authentik.worker.processes",
            },
        },
    ];
    for (const t of limits) {
        it(`accepts ${t.name}, and one less fails with the numbers`, () => {
            assert.deepEqual(capacityProblems(variant(t.fits)), []);
            assert.deepEqual(capacityProblems(variant(t.misfits)), [t.problem]);
        });
    }

    it("prints the model in the plan", () => {
        assert.deepEqual(describeCapacity(base), [
            "connections: 64 clients (server 48, worker 16) ≤ max_client_conn 400 per PgBouncer pod",
            "connections: spread at random over the PDB minimum of 2 pods, a pool of 45 per pod keeps the chance that any pod overflows below 0.10%; default_pool_size 45: 0.062% (the reserve pool only serves after 5 s)",
            "connections: PgBouncer ≤ 192 server connections (48 per pod) ≤ 192 available in PostgreSQL",
            "memory: server needs 1964Mi of 2048Mi, worker 750Mi of 2048Mi",
        ]);
    });

    it("sizes the pool for a random spread over the PDB minimum: 64 clients on 2 pods need 45 each", () => {
        // With 64 clients on 2 pods there is a ~38% chance one pod gets more than 35 (what the old model allowed).
        assert.ok(overflowRisk(64, 2, 35) > 0.3 && overflowRisk(64, 2, 35) < 0.45);
        assert.equal(poolForSpread(64, 2), 45);
        assert.ok(overflowRisk(64, 2, 45) < 0.001 && overflowRisk(64, 2, 44) >= 0.001, "45 is the smallest pool under 0.1%");
        assert.equal(poolForSpread(64, 1), 64, "one pod takes every client");
        assert.equal(binomialTail(10, 0.5, 10), 0, "never more than all of them");
        assert.equal(binomialTail(10, 0.5, -1), 1, "always more than none");
        assert.equal(binomialTail(10, 1, 5), 1, "one pod takes all");
        assert.ok(Math.abs(binomialTail(2, 0.5, 0) - 0.75) < 1e-12, "two fair coins: P(at least one head) = 3/4");
        assert.equal(poolForSpread(64, 0), 64, "no pod in the budget counts as one");
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
        const issue = expectIssue(
            set(homelab(), "authentik.web.workers", 4),
            "authentik.server.resources.memoryLimit",
            /4 web workers × 500Mi \+ 400Mi base \+ 64Mi \/dev\/shm = 2464Mi/,
        );
        assert.equal(issue.value, "2Gi");
    });
});
