/**
 * NetworkPolicies evaluated as Kubernetes does, in a namespace that denies everything by default:
 * every flow the platform needs is admitted, and the ones it must not have are not.
 */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { planStack } from "../tools/plan";
import type { Plan } from "../tools/harness";
import { HOMELAB_FILE, expectIssue, homelab, set } from "./helpers";
import { validateObject } from "../tools/schemas";

type Labels = Record<string, string>;
interface Peer {
    namespace: string;
    labels: Labels;
    ip?: string;
}
interface Policy {
    metadata: { namespace: string; name: string };
    spec: { podSelector: { matchLabels?: Labels }; ingress?: { from?: Record<string, { matchLabels?: Labels; cidr?: string }>[]; ports?: { port: number; protocol: string }[] }[] };
}

const matches = (selector: Labels | undefined, labels: Labels) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
const inCidr = (ip: string, cidr: string) => {
    const [base, bits] = cidr.split("/");
    const n = (a: string) => a.split(".").reduce((x, o) => (x << 8) + Number(o), 0) >>> 0;
    const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
    return (n(ip) & mask) === (n(base) & mask);
};

/** Whether `from` may open `port/protocol` on `to`, with a default-deny policy on every pod of the target namespace. */
function admitted(policies: Policy[], from: Peer, to: Peer, port: number, protocol = "TCP"): boolean {
    const selecting = policies.filter((p) => p.metadata.namespace === to.namespace && matches(p.spec.podSelector.matchLabels, to.labels));
    return selecting.some((p) =>
        (p.spec.ingress ?? []).some(
            (rule) =>
                (rule.ports ?? []).some((x) => x.port === port && x.protocol === protocol) &&
                (rule.from ?? []).some((peer) => {
                    if (peer.ipBlock) return !!from.ip && inCidr(from.ip, peer.ipBlock.cidr!);
                    const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector.matchLabels, { "kubernetes.io/metadata.name": from.namespace }) : from.namespace === to.namespace;
                    return nsOk && (!peer.podSelector || matches(peer.podSelector.matchLabels, from.labels));
                }),
        ),
    );
}

const pod = (namespace: string, labels: Labels, ip?: string): Peer => ({ namespace, labels, ip });
const authentikServer = pod("authentik", { "app.kubernetes.io/name": "authentik", "app.kubernetes.io/instance": "authentik", "app.kubernetes.io/component": "server" });
const authentikWorker = pod("authentik", { "app.kubernetes.io/name": "authentik", "app.kubernetes.io/instance": "authentik", "app.kubernetes.io/component": "worker" });
const pgbouncer = pod("authentik", { "app.kubernetes.io/name": "pgbouncer", "app.kubernetes.io/component": "database-pooler" });
const postgres = pod("authentik", { "cnpg.io/cluster": "authentik-db", "cnpg.io/instanceName": "authentik-db-1" });
const operator = pod("cnpg-system", { "app.kubernetes.io/name": "cloudnative-pg" });
const prometheus = pod("monitoring", { "app.kubernetes.io/name": "prometheus" });
const traefik = pod("kube-system", { "app.kubernetes.io/name": "traefik" });
const proxyOutpost = pod("authentik-outposts", { "app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "proxy" });
const radiusOutpost = pod("authentik-outposts", { "app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "radius" });
const stranger = pod("apps", { app: "something" });

describe("NetworkPolicies in a default-deny namespace", () => {
    let policies: Policy[];
    let plan: Plan;
    before(async () => {
        plan = (await planStack(HOMELAB_FILE)).plan;
        policies = plan.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.inputs as unknown as Policy);
    });

    it("admits every flow the platform needs", () => {
        const flows: [string, Peer, Peer, number, string?][] = [
            ["ingress controller → authentik server", traefik, authentikServer, 9000],
            ["ingress controller → authentik server (https)", traefik, authentikServer, 9443],
            ["proxy outpost → authentik server (websocket)", proxyOutpost, authentikServer, 9000],
            ["ingress controller → proxy outpost", traefik, proxyOutpost, 9000],
            ["a RADIUS client (access point) → RADIUS outpost", pod("lan", {}, "10.0.10.23"), radiusOutpost, 1812, "UDP"],
            ["authentik server → PgBouncer", authentikServer, pgbouncer, 6432],
            ["authentik worker → PgBouncer", authentikWorker, pgbouncer, 6432],
            ["PgBouncer → PostgreSQL", pgbouncer, postgres, 5432],
            ["replica → primary (streaming replication)", postgres, postgres, 5432],
            ["CNPG operator → instance manager", operator, postgres, 8000],
            ["CNPG operator → PostgreSQL", operator, postgres, 5432],
            ["Prometheus → authentik metrics", prometheus, authentikServer, 9300],
            ["Prometheus → worker metrics", prometheus, authentikWorker, 9300],
            ["Prometheus → PgBouncer exporter", prometheus, pgbouncer, 9127],
            ["Prometheus → CNPG metrics", prometheus, postgres, 9187],
        ];
        for (const [name, from, to, port, protocol] of flows) assert.ok(admitted(policies, from, to, port, protocol), `${name} is blocked`);
    });

    it("refuses what must not happen", () => {
        const flows: [string, Peer, Peer, number, string?][] = [
            ["authentik → PostgreSQL, around PgBouncer", authentikServer, postgres, 5432],
            ["another namespace → PostgreSQL", stranger, postgres, 5432],
            ["another namespace → PgBouncer", stranger, pgbouncer, 6432],
            ["another namespace → the PgBouncer exporter", stranger, pgbouncer, 9127],
            ["another namespace → authentik's metrics", stranger, authentikServer, 9300],
            ["another namespace → authentik directly", stranger, authentikServer, 9000],
            ["anyone → the worker", traefik, authentikWorker, 9000],
            ["the internet → RADIUS", pod("wan", {}, "203.0.113.9"), radiusOutpost, 1812, "UDP"],
            ["a pod wearing outpost labels in another namespace → authentik", pod("apps", { "app.kubernetes.io/managed-by": "goauthentik.io" }), authentikServer, 9000],
        ];
        for (const [name, from, to, port, protocol] of flows) assert.ok(!admitted(policies, from, to, port, protocol), `${name} is admitted`);
    });

    it("renders valid NetworkPolicy objects, one switch for all of them", async () => {
        assert.ok(policies.length >= 6);
        for (const p of policies) assert.deepEqual(await validateObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", p as unknown as Record<string, unknown>), [], p.metadata.name);
        expectIssue(set(homelab(), "pgbouncer.networkPolicy", true), "pgbouncer.networkPolicy", /moved to networkPolicies\.enabled/);
    });
});
