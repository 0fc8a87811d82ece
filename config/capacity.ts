/**
 * The capacity model: do authentik's database connections and memory fit, before any deploy?
 * Pure functions over the settings they need (the stack config satisfies `CapacityInput`, and
 * nothing here imports the config: the config's validation calls the model, not the other way
 * round); a misfit becomes a config error with the numbers and the knob to turn, the plan prints
 * the model and the stack exports it.
 */
import { MiB, parseQuantity } from "../lib/units";
import type { Capacity } from "../packages/contract";

/** The settings the model reads: a structural subset of the stack config. */
export interface CapacityInput {
    authentik: {
        server: { replicas: number; resources: { memoryLimit: string } };
        worker: { replicas: number; processes: number; threads: number; resources: { memoryLimit: string } };
        web: { workers: number; threads: number };
    };
    pgbouncer: {
        poolMode: "session" | "transaction";
        replicas: number;
        minAvailable: number;
        maxClientConn: number;
        defaultPoolSize: number;
        reservePoolSize: number;
    };
    database: { maxConnections: number; superuserReservedConnections: number };
    outposts: { shmSizeLimit: string };
}

/**
 * Memory a web worker process takes once authentik is preloaded. The seed deployments measured
 * that 3 web workers need a 2Gi server limit; ~500 MiB per worker plus the base below fits that.
 */
export const WEB_WORKER_MIB = 500;
/** The server pod besides its web workers: the Go/Rust router and the embedded outpost. */
export const SERVER_BASE_MIB = 400;
/** A worker process with authentik preloaded, as a web worker. */
export const WORKER_PROCESS_MIB = 500;
/** The worker pod besides its processes (supervisor, scheduler). */
export const WORKER_BASE_MIB = 250;
/**
 * Connections PostgreSQL must keep for CloudNativePG itself beyond superuser_reserved_connections:
 * the instance manager, the metrics exporter, backups, and one for an operator's psql.
 * (Streaming replication uses WAL senders, which do not count against max_connections since PG 12.)
 */
export const OPERATOR_CONNECTIONS = 5;
/** Pods a RollingUpdate adds on top of the replicas (maxSurge of every Deployment here). */
export const SURGE_PODS = 1;
/**
 * The accepted chance that, with only the PDB's minimum of PgBouncer pods up, any pod is handed
 * more clients than its default_pool_size. kube-proxy spreads connections at random, not evenly;
 * a client beyond the pool waits reserve_pool_timeout (5 s) for a reserve connection.
 */
export const SPREAD_RISK = 0.001;

/** P(X > k) for X ~ Binomial(n, p), summed in log space (no underflow for thousands of clients). */
export function binomialTail(n: number, p: number, k: number): number {
    if (k >= n) return 0;
    if (k < 0) return 1;
    if (p >= 1) return 1;
    const logFactorial = [0];
    for (let i = 1; i <= n; i++) logFactorial[i] = logFactorial[i - 1] + Math.log(i);
    let tail = 0;
    for (let x = k + 1; x <= n; x++) tail += Math.exp(logFactorial[n] - logFactorial[x] - logFactorial[n - x] + x * Math.log(p) + (n - x) * Math.log1p(-p));
    return Math.min(1, tail);
}

/** The chance that any of `pods` pods gets more than `pool` of `clients` spread at random (union bound). */
export function overflowRisk(clients: number, pods: number, pool: number): number {
    const m = Math.max(1, pods);
    return Math.min(1, m * binomialTail(clients, 1 / m, pool));
}

/** The smallest pool per pod that keeps overflowRisk below `risk`. */
export function poolForSpread(clients: number, pods: number, risk = SPREAD_RISK): number {
    let pool = Math.ceil(clients / Math.max(1, pods));
    while (pool < clients && overflowRisk(clients, pods, pool) >= risk) pool++;
    return pool;
}

/** A capacity rule that does not hold: which key to turn, the numbers, and how. */
export interface CapacityProblem {
    key: string;
    value: unknown;
    problem: string;
    fix: string;
}

export function capacityOf(c: CapacityInput): Capacity {
    const a = c.authentik;
    const p = c.pgbouncer;
    const serverClients = (a.server.replicas + SURGE_PODS) * a.web.workers * a.web.threads;
    const workerClients = (a.worker.replicas + SURGE_PODS) * a.worker.processes * a.worker.threads;
    const poolPerPod = p.defaultPoolSize + p.reservePoolSize;
    return {
        connections: {
            serverClients,
            workerClients,
            totalClients: serverClients + workerClients,
            maxClientConn: p.maxClientConn,
            poolPerPod,
            spreadPods: Math.max(1, p.minAvailable),
            poolNeededPerPod: poolForSpread(serverClients + workerClients, p.minAvailable),
            overflowRisk: overflowRisk(serverClients + workerClients, p.minAvailable, p.defaultPoolSize),
            serverConnections: (p.replicas + SURGE_PODS) * poolPerPod,
            databaseAvailable: c.database.maxConnections - c.database.superuserReservedConnections - OPERATOR_CONNECTIONS,
        },
        memory: {
            // The server's memory-backed /dev/shm (embedded outpost) counts against its limit.
            serverNeedMiB: a.web.workers * WEB_WORKER_MIB + SERVER_BASE_MIB + mib(c.outposts.shmSizeLimit),
            serverLimitMiB: mib(a.server.resources.memoryLimit),
            workerNeedMiB: a.worker.processes * WORKER_PROCESS_MIB + WORKER_BASE_MIB,
            workerLimitMiB: mib(a.worker.resources.memoryLimit),
        },
    };
}

function mib(quantity: string): number {
    return Math.floor((parseQuantity(quantity) ?? 0) / MiB);
}

/** Every capacity rule that does not hold for this config (empty when it fits). */
export function capacityProblems(c: CapacityInput): CapacityProblem[] {
    const { connections: k, memory: m } = capacityOf(c);
    const problems: CapacityProblem[] = [];
    const clients = `${k.totalClients} client connections (server ${k.serverClients} = (${c.authentik.server.replicas}+${SURGE_PODS} surge) pods × ${c.authentik.web.workers} web workers × ${c.authentik.web.threads} threads; worker ${k.workerClients} = (${c.authentik.worker.replicas}+${SURGE_PODS}) × ${c.authentik.worker.processes} processes × ${c.authentik.worker.threads} threads)`;

    if (k.maxClientConn < k.totalClients) {
        problems.push({
            key: "pgbouncer.maxClientConn",
            value: k.maxClientConn,
            problem: `one PgBouncer pod must accept all ${clients}`,
            fix: `set pgbouncer.maxClientConn to at least ${k.totalClients}`,
        });
    }
    if (c.pgbouncer.poolMode === "session" && c.pgbouncer.defaultPoolSize < k.poolNeededPerPod) {
        // In session pooling every client holds a server connection for its lifetime. Only
        // default_pool_size serves without waiting (a reserve connection comes after
        // reserve_pool_timeout), and kube-proxy spreads clients at random over the pods the PDB keeps.
        problems.push({
            key: "pgbouncer.defaultPoolSize",
            value: c.pgbouncer.defaultPoolSize,
            problem: `${clients} land at random on the ${k.spreadPods} PgBouncer pods the PDB keeps: with ${c.pgbouncer.defaultPoolSize} per pod the chance that a pod gets more clients than its pool (and they wait 5 s for a reserve connection) is ${percent(k.overflowRisk)}, above ${percent(SPREAD_RISK)}`,
            fix: `set pgbouncer.defaultPoolSize to at least ${k.poolNeededPerPod}, or lower authentik.web.workers/threads or authentik.worker.threads`,
        });
    }
    if (k.serverConnections > k.databaseAvailable) {
        problems.push({
            key: "database.maxConnections",
            value: c.database.maxConnections,
            problem: `PgBouncer may open ${k.serverConnections} server connections ((${c.pgbouncer.replicas}+${SURGE_PODS} surge) pods × ${k.poolPerPod}) but PostgreSQL offers ${k.databaseAvailable} (max_connections ${c.database.maxConnections} − ${c.database.superuserReservedConnections} superuser reserved − ${OPERATOR_CONNECTIONS} for CNPG)`,
            fix: `raise database.maxConnections to at least ${k.serverConnections + c.database.superuserReservedConnections + OPERATOR_CONNECTIONS}, or lower pgbouncer.defaultPoolSize/reservePoolSize`,
        });
    }
    if (m.serverNeedMiB > m.serverLimitMiB) {
        problems.push({
            key: "authentik.server.resources.memoryLimit",
            value: c.authentik.server.resources.memoryLimit,
            problem: `${c.authentik.web.workers} web workers × ${WEB_WORKER_MIB}Mi + ${SERVER_BASE_MIB}Mi base + ${c.outposts.shmSizeLimit} /dev/shm = ${m.serverNeedMiB}Mi do not fit the ${m.serverLimitMiB}Mi limit (OOM kills)`,
            fix: `set authentik.server.resources.memoryLimit to at least ${m.serverNeedMiB}Mi, or lower authentik.web.workers`,
        });
    }
    if (m.workerNeedMiB > m.workerLimitMiB) {
        problems.push({
            key: "authentik.worker.resources.memoryLimit",
            value: c.authentik.worker.resources.memoryLimit,
            problem: `${c.authentik.worker.processes} worker processes × ${WORKER_PROCESS_MIB}Mi + ${WORKER_BASE_MIB}Mi base = ${m.workerNeedMiB}Mi do not fit the ${m.workerLimitMiB}Mi limit`,
            fix: `set authentik.worker.resources.memoryLimit to at least ${m.workerNeedMiB}Mi, or lower authentik.worker.processes`,
        });
    }
    return problems;
}

function percent(p: number): string {
    return `${(p * 100).toPrecision(2)}%`;
}

/** The model as the plan prints it. */
export function describeCapacity(c: CapacityInput): string[] {
    const { connections: k, memory: m } = capacityOf(c);
    return [
        `connections: ${k.totalClients} clients (server ${k.serverClients}, worker ${k.workerClients}) ≤ max_client_conn ${k.maxClientConn} per PgBouncer pod`,
        `connections: spread at random over the PDB minimum of ${k.spreadPods} pods, a pool of ${k.poolNeededPerPod} per pod keeps the chance that any pod overflows below ${percent(SPREAD_RISK)}; default_pool_size ${c.pgbouncer.defaultPoolSize}: ${percent(k.overflowRisk)} (the reserve pool only serves after 5 s)`,
        `connections: PgBouncer ≤ ${k.serverConnections} server connections (${k.poolPerPod} per pod) ≤ ${k.databaseAvailable} available in PostgreSQL`,
        `memory: server needs ${m.serverNeedMiB}Mi of ${m.serverLimitMiB}Mi, worker ${m.workerNeedMiB}Mi of ${m.workerLimitMiB}Mi`,
    ];
}
