/** The homelab policy pack's rules: each with a passing and a failing case, and the homelab plan passing all. */
import { after, before, describe, it } from "node:test";
import * as path from "node:path";
import { ChildProcess, spawn } from "node:child_process";
import * as assert from "node:assert/strict";
import { PolicyInput, RULES, isUnpinned, keptPods } from "../policy/rules";
import { planStack } from "../tools/plan";
import { checkPolicies } from "../tools/checks";
import { HOMELAB_FILE, ROOT } from "./support/helpers";
import type { Plan } from "../tools/harness";

const rule = (name: string) => {
    const r = RULES.find((x) => x.name === name);
    assert.ok(r, name);
    return r;
};
const messages = (name: string, resources: PolicyInput[]) =>
    rule(name)
        .check(resources)
        .map((v) => v.message);

const container = (extra: Record<string, unknown> = {}) => ({
    name: "app",
    image: "ghcr.io/example/app:1.2.3",
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    ...extra,
});
function deployment(name: string, o: { replicas?: number; containers?: object[]; critical?: boolean; volumes?: object[] } = {}): PolicyInput {
    return {
        type: "kubernetes:apps/v1:Deployment",
        name,
        protect: false,
        props: {
            metadata: { name, namespace: "apps", ...(o.critical ? { annotations: { "policy.homelab.io/critical": "true" } } : {}) },
            spec: {
                replicas: o.replicas ?? 3,
                template: { metadata: { labels: { app: name } }, spec: { containers: o.containers ?? [container()], volumes: o.volumes ?? [] } },
            },
        },
    };
}
const pdb = (app: string, spec: Record<string, unknown>): PolicyInput => ({
    type: "kubernetes:policy/v1:PodDisruptionBudget",
    name: app,
    protect: false,
    props: { metadata: { name: app, namespace: "apps" }, spec: { selector: { matchLabels: { app } }, ...spec } },
});
const release = (server: Record<string, unknown>, extra: Record<string, unknown> = {}): PolicyInput => ({
    type: "kubernetes:helm.sh/v3:Release",
    name: "authentik",
    protect: false,
    props: {
        chart: "authentik",
        name: "authentik",
        namespace: "authentik",
        values: {
            server: { replicas: 3, pdb: { enabled: true, minAvailable: 2 }, resources: container().resources, ...server },
            worker: { replicas: 3, pdb: { enabled: true, maxUnavailable: 1 }, resources: container().resources },
            ...extra,
        },
    },
});

describe("homelab policy rules", () => {
    it("authentik-no-command-override: args, never command", () => {
        assert.deepEqual(messages("authentik-no-command-override", [release({ args: ["server"] })]), []);
        assert.deepEqual(messages("authentik-no-command-override", [release({ command: ["server"] })]), [
            "authentik server (Helm release authentik): container server overrides command; use args",
        ]);
        const outpost = deployment("outpost", { containers: [container({ image: "ghcr.io/goauthentik/proxy:2026.8.3", command: ["/proxy"] })] });
        assert.equal(messages("authentik-no-command-override", [outpost]).length, 1);
        assert.deepEqual(
            messages("authentik-no-command-override", [deployment("other", { containers: [container({ command: ["/app"] })] })]),
            [],
            "only authentik's images",
        );
    });

    it("in-cluster-fqdn: full service names only", () => {
        const withHost = (host: string) => release({}, { authentik: { postgresql: { host } } });
        assert.deepEqual(messages("in-cluster-fqdn", [withHost("pgbouncer.authentik.svc.cluster.local")]), []);
        assert.match(
            messages("in-cluster-fqdn", [withHost("pgbouncer.authentik.svc")])[0],
            /values\.authentik\.postgresql\.host = "pgbouncer\.authentik\.svc" is not a full name/,
        );
        assert.equal(messages("in-cluster-fqdn", [withHost("postgres://pgbouncer.authentik.svc.cluster:6432/db")]).length, 1);
        assert.deepEqual(messages("in-cluster-fqdn", [withHost("auth.example.com")]), []);
    });

    it("critical-replicas-and-disruption-budget: 3+ replicas, a PDB keeping 2+ and fewer than all; outposts 2+", () => {
        const name = "critical-replicas-and-disruption-budget";
        assert.deepEqual(messages(name, [deployment("db-proxy", { critical: true }), pdb("db-proxy", { minAvailable: 2 })]), []);
        assert.deepEqual(messages(name, [deployment("db-proxy", { critical: true, replicas: 2 }), pdb("db-proxy", { minAvailable: 1 })]), [
            "Deployment db-proxy: 2 replicas, a critical workload needs 3",
            "Deployment db-proxy: its PodDisruptionBudget keeps 1 of 2 pods; keep at least 2 and fewer than all (or drains hang)",
        ]);
        assert.deepEqual(messages(name, [deployment("db-proxy", { critical: true }), pdb("db-proxy", { minAvailable: 3 })]), [
            "Deployment db-proxy: its PodDisruptionBudget keeps 3 of 3 pods; keep at least 2 and fewer than all (or drains hang)",
        ]);
        assert.deepEqual(messages(name, [deployment("db-proxy", { critical: true })]), ["Deployment db-proxy: no PodDisruptionBudget selects its pods"]);
        assert.deepEqual(messages(name, [deployment("batch", { replicas: 1 })]), [], "not critical");
        assert.deepEqual(messages(name, [release({})]), []);
        assert.equal(messages(name, [release({ pdb: { enabled: false } })]).length, 1, "the release's own PDB counts");
        const outpost = (replicas: number, managed?: string): PolicyInput => ({
            type: "pulumi-nodejs:dynamic/authentik:Outpost",
            name: "o",
            protect: false,
            props: { spec: { managed, config: { kubernetes_replicas: replicas } } },
        });
        assert.deepEqual(messages(name, [outpost(1)]), ["outpost o: 1 replica(s); run at least 2"]);
        assert.deepEqual(messages(name, [outpost(2), outpost(1, "goauthentik.io/outposts/embedded")]), []);
    });

    it("counts what a PDB keeps from minAvailable, maxUnavailable or a percentage", () => {
        assert.deepEqual(
            [keptPods(3, { minAvailable: 2 }), keptPods(3, { maxUnavailable: 1 }), keptPods(4, { minAvailable: "50%" }), keptPods(3, undefined)],
            [2, 2, 2, undefined],
        );
    });

    it("container-resources: CPU and memory requests and a memory limit", () => {
        assert.deepEqual(messages("container-resources", [deployment("a")]), []);
        assert.deepEqual(messages("container-resources", [deployment("a", { containers: [container({ resources: { requests: { cpu: "1" } } })] })]), [
            "Deployment a: container app has no requests.memory, limits.memory",
        ]);
        assert.equal(messages("container-resources", [release({ resources: {} })]).length, 1);
    });

    it("shared-volume-read-write-many: a claim mounted by several pods", () => {
        const claim = (mode: string): PolicyInput => ({
            type: "kubernetes:core/v1:PersistentVolumeClaim",
            name: "media",
            protect: true,
            props: { metadata: { name: "media", namespace: "authentik" }, spec: { accessModes: [mode] } },
        });
        const mounted = release({ volumes: [{ name: "media", persistentVolumeClaim: { claimName: "media" } }] });
        assert.deepEqual(messages("shared-volume-read-write-many", [claim("ReadWriteMany"), mounted]), []);
        assert.deepEqual(messages("shared-volume-read-write-many", [claim("ReadWriteOnce"), mounted]), [
            "PersistentVolumeClaim media: mounted by 3 pods but ReadWriteOnce; use ReadWriteMany",
        ]);
        assert.deepEqual(messages("shared-volume-read-write-many", [claim("ReadWriteOnce")]), [], "not mounted");
    });

    it("pinned-images: no latest, no bare repository", () => {
        assert.deepEqual(
            [
                isUnpinned("edoburu/pgbouncer:v1.24.1-p1"),
                isUnpinned("x@sha256:" + "a".repeat(64)),
                isUnpinned("x:latest"),
                isUnpinned("x"),
                isUnpinned("registry:5000/x"),
            ],
            [false, false, true, true, true],
        );
        assert.deepEqual(messages("pinned-images", [deployment("a", { containers: [container({ image: "edoburu/pgbouncer:latest" })] })]), [
            "Deployment a: container app runs edoburu/pgbouncer:latest, which is not pinned",
        ]);
        assert.equal(messages("pinned-images", [release({}, { global: { image: { tag: "latest" } } })]).length, 2, "server and worker");
        assert.deepEqual(messages("pinned-images", [release({})]), [], "the chart's default image is pinned by the chart version");
    });

    it("pod-security-restricted: non-root, seccomp, no escalation, capabilities dropped", () => {
        const hardened = { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } };
        const pod = (securityContext: object, c: Record<string, unknown> = hardened): PolicyInput => {
            const d = deployment("p", { containers: [container(c)] });
            (d.props.spec as { template: { spec: Record<string, unknown> } }).template.spec.securityContext = securityContext;
            return d;
        };
        assert.deepEqual(messages("pod-security-restricted", [pod({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } })]), []);
        assert.deepEqual(messages("pod-security-restricted", [pod({ seccompProfile: { type: "RuntimeDefault" } })]), [
            "Deployment p: container app: runAsNonRoot is not true",
        ]);
        assert.deepEqual(messages("pod-security-restricted", [pod({ runAsNonRoot: true })]), [
            "Deployment p: container app: no RuntimeDefault seccomp profile",
        ]);
        assert.deepEqual(messages("pod-security-restricted", [pod({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, {})]), [
            "Deployment p: container app: allowPrivilegeEscalation is not false",
            "Deployment p: container app: capabilities do not drop ALL",
        ]);
        const server = messages("pod-security-restricted", [release({ securityContext: {}, containerSecurityContext: hardened.securityContext })]).filter((m) =>
            m.startsWith("authentik server"),
        );
        assert.deepEqual(server, [
            "authentik server (Helm release authentik): container server: runAsNonRoot is not true",
            "authentik server (Helm release authentik): container server: no RuntimeDefault seccomp profile",
        ]);
    });

    it("stateful-protected", () => {
        const ns = (protect: boolean): PolicyInput => ({ type: "kubernetes:core/v1:Namespace", name: "authentik", protect, props: {} });
        assert.deepEqual(messages("stateful-protected", [ns(true)]), []);
        assert.deepEqual(messages("stateful-protected", [ns(false)]), ["Namespace authentik is not protected"]);
        // The credentials too: generated ones, and the Secret (or ExternalSecret) the database bootstraps from.
        const cluster: PolicyInput = {
            type: "kubernetes:postgresql.cnpg.io/v1:Cluster",
            name: "db",
            protect: true,
            props: { metadata: { name: "db", namespace: "authentik" }, spec: { bootstrap: { initdb: { secret: { name: "db-app" } } } } },
        };
        const secret = (type: string, name: string, namespace = "authentik"): PolicyInput => ({
            type,
            name,
            protect: false,
            props: { metadata: { name, namespace } },
        });
        const password = (urn: string): PolicyInput => ({
            type: "random:index/randomPassword:RandomPassword",
            name: urn.split("::").pop()!,
            urn,
            protect: false,
            props: {},
        });
        assert.deepEqual(
            messages("stateful-protected", [
                cluster,
                secret("kubernetes:core/v1:Secret", "db-app"),
                secret("kubernetes:external-secrets.io/v1:ExternalSecret", "db-app"),
                secret("kubernetes:core/v1:Secret", "db-app", "elsewhere"),
                secret("kubernetes:core/v1:Secret", "pgbouncer-auth"),
                password(
                    "urn:pulumi:s::authentik-platform::authentik-platform:secrets:Credentials$random:index/randomPassword:RandomPassword::credentials-secretKey",
                ),
                password(
                    "urn:pulumi:s::authentik-platform::authentik-platform:authentik:AuthentikObjects$random:index/randomPassword:RandomPassword::app-grafana-client-secret",
                ),
            ]),
            ["Secret db-app is not protected", "ExternalSecret db-app is not protected", "RandomPassword credentials-secretKey is not protected"],
        );
    });

    it("no-literal-secrets: in ConfigMaps and literal env values", () => {
        const cm = (data: Record<string, string>): PolicyInput => ({
            type: "kubernetes:core/v1:ConfigMap",
            name: "pgbouncer",
            protect: false,
            props: { data },
        });
        assert.deepEqual(messages("no-literal-secrets", [cm({ "pgbouncer.ini": "auth_type = scram-sha-256\nauth_file = /etc/pgbouncer/userlist.txt\n" })]), []);
        assert.deepEqual(messages("no-literal-secrets", [cm({ "pgbouncer.ini": "[databases]\nauthentik = host=db password=hunter2hunter2\n" })]), [
            "ConfigMap pgbouncer: key pgbouncer.ini holds secret material; move it to a Secret",
        ]);
        const env = (e: object) => deployment("a", { containers: [container({ env: [e] })] });
        assert.deepEqual(messages("no-literal-secrets", [env({ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "p" } } })]), []);
        assert.deepEqual(messages("no-literal-secrets", [env({ name: "DB_PASSWORD", value: "hunter2" })]), [
            "Deployment a: env DB_PASSWORD is a literal value; use valueFrom.secretKeyRef",
        ]);
        assert.equal(messages("no-literal-secrets", [release({}, { global: { env: [{ name: "AUTHENTIK_SECRET_KEY", value: "x" }] } })]).length, 2);
    });
});

describe("the same rules over the offline plan", () => {
    let plan: Plan;
    before(async () => {
        plan = (await planStack(HOMELAB_FILE)).plan;
    });

    it("the homelab plan holds every rule", () => {
        assert.deepEqual(checkPolicies(plan).findings, []);
        assert.ok(RULES.length >= 8);
    });

    it("reports a violation the plan introduces", () => {
        const broken: Plan = structuredClone(plan);
        const deploy = broken.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
        (deploy.inputs.spec as { replicas: number }).replicas = 2;
        assert.match(checkPolicies(broken).findings.join("\n"), /critical-replicas-and-disruption-budget: Deployment pgbouncer: 2 replicas/);
    });
});

/** The SDK's generated gRPC modules (CommonJS, untyped where google-protobuf is concerned). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports
const load = (id: string): any => require(id);

describe("the policy pack served by @pulumi/policy (what `pulumi preview --policy-pack policy` talks to)", () => {
    let pack: ChildProcess;
    type Unary = (request: unknown, callback: (e: Error | null, r: unknown) => void) => void;
    let client: { getAnalyzerInfo: Unary; analyzeStack: Unary; close(): void };
    let plan: Plan;
    before(async () => {
        plan = (await planStack(HOMELAB_FILE)).plan;
        pack = spawn(process.execPath, [path.join(ROOT, "bin", "policy", "index.js")], { stdio: ["ignore", "pipe", "inherit"] });
        const port = await new Promise<string>((resolve, reject) => {
            pack.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
            pack.once("exit", (code) => reject(new Error(`the policy pack exited with ${code}`)));
        });
        const grpc = load("@grpc/grpc-js");
        const { AnalyzerClient } = load("@pulumi/pulumi/proto/analyzer_grpc_pb.js");
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
    });
    after(() => {
        client?.close();
        pack?.kill();
    });
    const call = <T>(method: "getAnalyzerInfo" | "analyzeStack", request: unknown) =>
        new Promise<T>((resolve, reject) => client[method](request, (e, r) => (e ? reject(e) : resolve(r as T))));

    async function analyze(resources: Plan["resources"]) {
        const pb = load("@pulumi/pulumi/proto/analyzer_pb.js");
        const { Struct } = load("google-protobuf/google/protobuf/struct_pb.js");
        const request = new pb.AnalyzeStackRequest();
        request.setResourcesList(
            resources.map((r) => {
                const resource = new pb.AnalyzerResource();
                resource.setType(r.type);
                resource.setName(r.name);
                resource.setUrn(r.urn);
                resource.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.inputs))));
                const options = new pb.AnalyzerResourceOptions();
                options.setProtect(r.protect);
                resource.setOptions(options);
                return resource;
            }),
        );
        const response = await call<{ getDiagnosticsList(): { getPolicyname(): string; getMessage(): string }[] }>("analyzeStack", request);
        return response.getDiagnosticsList().map((d) => `${d.getPolicyname()}: ${d.getMessage()}`);
    }

    it("serves every rule as a mandatory policy", async () => {
        const { Empty } = load("google-protobuf/google/protobuf/empty_pb.js");
        const info = await call<{ getName(): string; getPoliciesList(): { getName(): string; getEnforcementlevel(): number }[] }>(
            "getAnalyzerInfo",
            new Empty(),
        );
        assert.equal(info.getName(), "homelab");
        assert.deepEqual(
            info.getPoliciesList().map((p) => p.getName()),
            RULES.map((r) => r.name),
        );
    });

    it("passes the homelab stack and reports a violation, through the real analyzer protocol", async () => {
        assert.deepEqual(await analyze(plan.resources), []);
        const broken = structuredClone(plan.resources);
        broken.find((r) => r.type === "kubernetes:core/v1:Namespace")!.protect = false;
        const diagnostics = await analyze(broken);
        assert.equal(diagnostics.length, 1);
        assert.match(diagnostics[0], /^stateful-protected: [\s\S]*Namespace namespace is not protected/);
    });
});
