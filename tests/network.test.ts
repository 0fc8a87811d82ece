/**
 * NetworkPolicies evaluated as Kubernetes does (both directions): a flow passes when the source's
 * egress and the target's ingress allow it, a pod no policy of a direction selects being open in that
 * direction. Each namespace the program owns carries its default deny, so every flow the platform
 * needs must be admitted by a tier's policy, and the ones it must not have are not.
 */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { planStack } from "../tools/plan";
import type { Plan } from "../tools/harness";
import { HOMELAB_FILE, expectIssue, homelab, set, writeStack } from "./support/helpers";
import { validateObject } from "../tools/schemas";
import { ANYWHERE, defaultDenyPolicy, fromNamespace, networkPolicy } from "../lib/network";

type Labels = Record<string, string>;
interface Peer {
    namespace: string;
    labels: Labels;
    /** An address outside the cluster: no policy applies to it, and only ipBlock peers match it. */
    ip?: string;
}
type PolicyPeer = { podSelector?: { matchLabels?: Labels }; namespaceSelector?: { matchLabels?: Labels }; ipBlock?: { cidr: string } };
type PolicyRule = { from?: PolicyPeer[]; to?: PolicyPeer[]; ports?: { port: number; protocol?: string }[] };
interface Policy {
    metadata: { namespace: string; name: string };
    spec: { podSelector: { matchLabels?: Labels }; policyTypes?: string[]; ingress?: PolicyRule[]; egress?: PolicyRule[] };
}

const matches = (selector: Labels | undefined, labels: Labels) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
const inCidr = (ip: string, cidr: string) => {
    if (cidr.includes(":")) return false; // IPv6 blocks: these tests use IPv4 addresses
    const [base, bits] = cidr.split("/");
    const n = (a: string) => a.split(".").reduce((x, o) => (x << 8) + Number(o), 0) >>> 0;
    const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
    return (n(ip) & mask) === (n(base) & mask);
};

/** Whether `policies` let `pod` talk in `direction` with `other` on `port/protocol`. */
function allows(policies: Policy[], pod: Peer, direction: "Ingress" | "Egress", other: Peer, port: number, protocol: string): boolean {
    if (pod.ip) return true;
    const selecting = policies.filter(
        (p) =>
            p.metadata.namespace === pod.namespace &&
            matches(p.spec.podSelector.matchLabels, pod.labels) &&
            (p.spec.policyTypes ?? ["Ingress"]).includes(direction),
    );
    if (selecting.length === 0) return true;
    return selecting.some((p) =>
        ((direction === "Ingress" ? p.spec.ingress : p.spec.egress) ?? []).some((rule) => {
            const portOk = !rule.ports || rule.ports.some((x) => x.port === port && (x.protocol ?? "TCP") === protocol);
            const peers = direction === "Ingress" ? rule.from : rule.to;
            const peerOk =
                !peers ||
                peers.some((peer) => {
                    if (peer.ipBlock) return !!other.ip && inCidr(other.ip, peer.ipBlock.cidr);
                    if (other.ip) return false;
                    const nsOk = peer.namespaceSelector
                        ? matches(peer.namespaceSelector.matchLabels, { "kubernetes.io/metadata.name": other.namespace })
                        : other.namespace === p.metadata.namespace;
                    return nsOk && (!peer.podSelector || matches(peer.podSelector.matchLabels, other.labels));
                });
            return portOk && peerOk;
        }),
    );
}

/** Whether `from` may open `port/protocol` on `to`: its egress and the target's ingress both allow it. */
function admitted(policies: Policy[], from: Peer, to: Peer, port: number, protocol = "TCP"): boolean {
    return allows(policies, from, "Egress", to, port, protocol) && allows(policies, to, "Ingress", from, port, protocol);
}

const pod = (namespace: string, labels: Labels, ip?: string): Peer => ({ namespace, labels, ip });
const authentikServer = pod("authentik", {
    "app.kubernetes.io/name": "authentik",
    "app.kubernetes.io/instance": "authentik",
    "app.kubernetes.io/component": "server",
});
const authentikWorker = pod("authentik", {
    "app.kubernetes.io/name": "authentik",
    "app.kubernetes.io/instance": "authentik",
    "app.kubernetes.io/component": "worker",
});
const pgbouncer = pod("authentik", { "app.kubernetes.io/name": "pgbouncer", "app.kubernetes.io/component": "database-pooler" });
const postgres = pod("authentik", { "cnpg.io/cluster": "authentik-db", "cnpg.io/instanceName": "authentik-db-1" });
const operator = pod("cnpg-system", { "app.kubernetes.io/name": "cloudnative-pg" });
const prometheus = pod("monitoring", { "app.kubernetes.io/name": "prometheus" });
const traefik = pod("kube-system", { "app.kubernetes.io/name": "traefik" });
const proxyOutpost = pod("authentik-outposts", { "app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "proxy" });
const radiusOutpost = pod("authentik-outposts", { "app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "radius" });
const stranger = pod("apps", { app: "something" });
const dns = pod("kube-system", { "k8s-app": "kube-dns" });
const apiServer = pod("node", {}, "192.168.1.10");
const internet = pod("wan", {}, "203.0.113.9");
const debug = pod("authentik", { run: "debug" });

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
            ["PgBouncer → DNS", pgbouncer, dns, 53, "UDP"],
            ["PostgreSQL → DNS", postgres, dns, 53, "UDP"],
            ["instance manager → API server", postgres, apiServer, 6443],
            ["instance manager → API server (Service port)", postgres, apiServer, 443],
            ["CNPG join job → primary", pod("authentik", { "cnpg.io/cluster": "authentik-db", "cnpg.io/jobRole": "join" }), postgres, 5432],
            ["PostgreSQL → the object store (WAL archive, base backups)", postgres, pod("minio", { app: "minio" }), 9000],
            ["authentik worker → API server (outposts)", authentikWorker, apiServer, 443],
            ["authentik worker → SMTP", authentikWorker, pod("mail", {}, "198.51.100.25"), 587],
            ["authentik server → an OAuth source on the internet", authentikServer, internet, 443],
            ["proxy outpost → an app's upstream", proxyOutpost, pod("wiki", { app: "wiki" }), 8080],
            ["RADIUS outpost → DNS", radiusOutpost, dns, 53, "UDP"],
            ["RADIUS outpost → authentik through the ingress controller", radiusOutpost, traefik, 8443],
            ["RADIUS outpost → authentik server", radiusOutpost, authentikServer, 9443],
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
            [
                "a pod wearing outpost labels in another namespace → authentik",
                pod("apps", { "app.kubernetes.io/managed-by": "goauthentik.io" }),
                authentikServer,
                9000,
            ],
            ["PgBouncer → the internet", pgbouncer, internet, 443],
            ["PostgreSQL → the internet (SMTP)", postgres, internet, 25],
            ["PostgreSQL → another namespace's pods on another port", postgres, stranger, 8080],
            ["an instance → another's instance manager (only the operator asks it)", postgres, postgres, 8000],
            ["RADIUS outpost → PgBouncer", radiusOutpost, pgbouncer, 6432],
            ["RADIUS outpost → the internet (SMTP)", radiusOutpost, internet, 25],
            ["proxy outpost → PgBouncer", proxyOutpost, pgbouncer, 6432],
            ["an undeclared pod in authentik's namespace → the internet", debug, internet, 443],
            ["an undeclared pod in authentik's namespace → DNS", debug, dns, 53, "UDP"],
            ["the ingress controller → an undeclared pod in authentik's namespace", traefik, debug, 8080],
            ["an undeclared pod in the outposts' namespace → the internet", pod("authentik-outposts", { run: "debug" }), internet, 443],
        ];
        for (const [name, from, to, port, protocol] of flows) assert.ok(!admitted(policies, from, to, port, protocol), `${name} is admitted`);
    });

    it("denies by default in each namespace the program owns, made after every tier's own policy, and only there", async () => {
        const denies = plan.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.name.endsWith("-default-deny"));
        assert.deepEqual(
            denies.map((r) => [r.name, (r.inputs as unknown as Policy).metadata.namespace, (r.inputs as unknown as Policy).spec, r.protect]),
            [
                ["authentik-default-deny", "authentik", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, false],
                ["authentik-outposts-default-deny", "authentik-outposts", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, false],
            ],
        );
        const tiers = plan.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && !r.name.endsWith("-default-deny"));
        for (const d of denies) for (const t of tiers) assert.ok(d.dependsOn.includes(t.urn), `${d.name} waits for ${t.name}`);
        const notOwned = (await planStack(writeStack(set(homelab(), "createNamespace", false)))).plan;
        assert.deepEqual(
            notOwned.resources.filter((r) => r.name.endsWith("-default-deny")),
            [],
            "a namespace someone else made keeps its own rules",
        );
    });

    it("renders valid NetworkPolicy objects, one switch for all of them", async () => {
        assert.ok(policies.length >= 6);
        for (const p of policies)
            assert.deepEqual(
                await validateObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", p as unknown as Record<string, unknown>),
                [],
                p.metadata.name,
            );
        expectIssue(set(homelab(), "pgbouncer.networkPolicy", true), "pgbouncer.networkPolicy", /moved to networkPolicies\.enabled/);
    });
});

describe("lib/network.ts: the building blocks", () => {
    it("a peer in another namespace, optionally narrowed to its pods", () => {
        assert.deepEqual(fromNamespace("monitoring"), { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } });
        assert.deepEqual(fromNamespace("monitoring", { app: "prometheus" }), {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { app: "prometheus" } },
        });
    });

    it("a NetworkPolicy: ingress only, or both ways when egress rules are given; and a namespace's default deny", () => {
        const ingress = [{ from: [fromNamespace("kube-system")], ports: [{ port: 9000, protocol: "TCP" }] }];
        assert.deepEqual(networkPolicy({ name: "n", namespace: "authentik", labels: { l: "v" }, podSelector: { app: "a" }, ingress }), {
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "n", namespace: "authentik", labels: { l: "v" } },
            spec: { podSelector: { matchLabels: { app: "a" } }, policyTypes: ["Ingress"], ingress },
        });
        const egress = [{ to: ANYWHERE }];
        assert.deepEqual(networkPolicy({ name: "n", namespace: "authentik", labels: {}, podSelector: { app: "a" }, ingress: [], egress }).spec, {
            podSelector: { matchLabels: { app: "a" } },
            policyTypes: ["Ingress", "Egress"],
            ingress: [],
            egress,
        });
        assert.deepEqual(defaultDenyPolicy("authentik", { l: "v" }), {
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "default-deny", namespace: "authentik", labels: { l: "v" } },
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        });
        assert.deepEqual(ANYWHERE, [{ namespaceSelector: {} }, { ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }]);
    });
});
