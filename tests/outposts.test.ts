/**
 * Where managed outposts run and what the worker may do to deploy them: pure manifests from the
 * stack config, then the same seen in the plan.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { outpostAccessManifests } from "../components/authentik/outposts";
import { releaseValues } from "../components/authentik/values";
import { planStack } from "../tools/plan";
import { homelab, parse, set, writeStack } from "./support/helpers";

interface Manifest {
    kind: string;
    apiVersion?: string;
    metadata: { name: string; namespace?: string };
    rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    subjects?: object[];
}
const granted = (m: Manifest | undefined) => new Set((m?.rules ?? []).flatMap((r) => r.resources));
const values = (block = homelab()) =>
    releaseValues({
        config: parse(block),
        databaseHost: "pgbouncer.authentik.svc.cluster.local",
        databasePort: 6432,
        credentialSecrets: { secretKey: "s", databasePassword: "s", bootstrapToken: "s", bootstrapPassword: "s", smtpPassword: "s" },
    });

describe("managed outposts in a namespace of their own", () => {
    const manifests = outpostAccessManifests(parse(homelab())) as unknown as Manifest[];
    const role = (namespace: string) => manifests.find((m) => m.kind === "Role" && m.metadata.namespace === namespace);

    it("let the worker write Secrets and Deployments only in the outposts' namespace", () => {
        const outposts = granted(role("authentik-outposts"));
        for (const resource of ["secrets", "deployments", "services", "ingresses", "middlewares", "servicemonitors"])
            assert.ok(outposts.has(resource), resource);
        const home = granted(role("authentik"));
        assert.ok(!home.has("secrets"), "no Secret in authentik's namespace (database credentials, CA, backup keys) is the worker's");
        assert.ok(!home.has("deployments"));
        assert.ok(home.has("services"), "the embedded outpost's Service stays possible");
    });

    it("grant exactly what authentik's outpost controller reconciles, with the chart's verbs", () => {
        const rw = ["get", "create", "delete", "list", "patch"];
        assert.deepEqual(role("authentik-outposts")!.rules, [
            { apiGroups: [""], resources: ["secrets", "services", "configmaps"], verbs: rw },
            { apiGroups: ["apps"], resources: ["deployments"], verbs: rw },
            { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: rw },
            { apiGroups: ["traefik.io", "traefik.containo.us"], resources: ["middlewares"], verbs: rw },
            { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: rw },
            { apiGroups: ["monitoring.coreos.com"], resources: ["servicemonitors"], verbs: rw },
        ]);
        assert.deepEqual(role("authentik")!.rules, [
            { apiGroups: [""], resources: ["services"], verbs: rw },
            { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: rw },
            { apiGroups: ["traefik.io", "traefik.containo.us"], resources: ["middlewares"], verbs: rw },
            { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: rw },
            { apiGroups: ["monitoring.coreos.com"], resources: ["servicemonitors"], verbs: rw },
        ]);
        assert.deepEqual(
            manifests.map((m) => `${m.kind} ${m.metadata.namespace ?? "-"}/${m.metadata.name}`),
            [
                "ServiceAccount authentik/authentik-worker",
                "Role authentik-outposts/authentik-outposts",
                "RoleBinding authentik-outposts/authentik-outposts",
                "Role authentik/authentik-embedded-outpost",
                "RoleBinding authentik/authentik-embedded-outpost",
                "ClusterRole -/authentik-authentik-outpost-controller",
                "ClusterRoleBinding -/authentik-authentik-outpost-controller",
            ],
        );
        for (const binding of manifests.filter((m) => m.kind.endsWith("Binding"))) {
            const ref = (binding as unknown as { roleRef: { apiGroup: string; kind: string; name: string } }).roleRef;
            assert.deepEqual(ref, { apiGroup: "rbac.authorization.k8s.io", kind: binding.kind.replace("Binding", ""), name: binding.metadata.name });
        }
        for (const m of manifests) {
            assert.deepEqual(
                (m.metadata as { labels?: Record<string, string> }).labels,
                {
                    "app.kubernetes.io/name": "authentik",
                    "app.kubernetes.io/component": "worker",
                    "app.kubernetes.io/part-of": "authentik-platform",
                    "app.kubernetes.io/managed-by": "pulumi",
                },
                `${m.kind} is labelled as the worker's`,
            );
            assert.equal(m.apiVersion, m.kind === "ServiceAccount" ? "v1" : "rbac.authorization.k8s.io/v1", `${m.kind}'s API`);
        }
    });

    it("bind both Roles to the worker's own account, and only list CRDs cluster-wide", () => {
        for (const binding of manifests.filter((m) => m.kind === "RoleBinding" || m.kind === "ClusterRoleBinding")) {
            assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "authentik-worker", namespace: "authentik" }]);
        }
        const cluster = manifests.find((m) => m.kind === "ClusterRole")!;
        assert.deepEqual(cluster.rules, [{ apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["list"] }]);
    });

    it("turn the chart's service account (and its Role over authentik's namespace) off, and run the worker as ours", () => {
        const v = values() as { serviceAccount?: { create: boolean }; worker: { serviceAccountName?: string } };
        assert.deepEqual(v.serviceAccount, { create: false });
        assert.equal(v.worker.serviceAccountName, "authentik-worker");
    });

    it("can be kept in authentik's namespace (the chart's account and Role then)", () => {
        const together = set(homelab(), "outposts.namespace", "authentik");
        assert.deepEqual(outpostAccessManifests(parse(together)), []);
        const v = values(together) as { serviceAccount?: unknown; worker: { serviceAccountName?: string } };
        assert.equal(v.serviceAccount, undefined);
        assert.equal(v.worker.serviceAccountName, undefined);
    });

    it("in the plan: the outposts' namespace (restricted), their config, and the embedded outpost without its Secret", async () => {
        const { plan } = await planStack(writeStack(homelab()));
        const ns = plan.resources.find((r) => r.name === "outposts-namespace")!;
        assert.equal((ns.inputs.metadata as { name: string }).name, "authentik-outposts");
        assert.equal((ns.inputs.metadata as { labels: Record<string, string> }).labels["pod-security.kubernetes.io/enforce"], "restricted");
        for (const name of ["outpost-proxy", "outpost-radius"]) {
            const config = (plan.resources.find((r) => r.name === name)!.inputs.spec as { config: Record<string, unknown> }).config;
            assert.equal(config.kubernetes_namespace, "authentik-outposts", name);
        }
        const embedded = (plan.resources.find((r) => r.name === "outpost-embedded")!.inputs.spec as { config: Record<string, unknown> }).config;
        assert.deepEqual(embedded.kubernetes_disabled_components, ["secret"]);
        const release = plan.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
        for (const r of plan.resources.filter((x) => x.type.startsWith("kubernetes:rbac.authorization.k8s.io/v1:Role")))
            assert.ok(release.dependsOn.includes(r.urn), `${r.name} exists before the worker starts`);
    });
});
