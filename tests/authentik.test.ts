/** The authentik release values for the homelab stack, field by field, and every rule's bad input. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
    CREDENTIAL_ENV,
    authentikNetworkPolicies,
    hstsMiddlewareManifest,
    podSelector,
    releaseTimeoutSeconds,
    releaseValues,
} from "../components/authentik/values";
import { authentikUrl, httpsOnlyBy, serverServiceUrl } from "../config";
import { StackConfig } from "../config";
import { expectIssue, homelab, parse, set } from "./support/helpers";

const config = parse(homelab());
const secrets = {
    secretKey: "authentik-credentials-1password",
    smtpPassword: "authentik-credentials-1password",
    databasePassword: "authentik-credentials",
    bootstrapToken: "authentik-credentials",
    bootstrapPassword: "authentik-credentials",
};
/** The release values of a config, with PgBouncer's Service and the Secrets above. */
const valuesOf = (c: StackConfig) =>
    releaseValues({ config: c, databaseHost: "pgbouncer.authentik.svc.cluster.local", databasePort: 6432, credentialSecrets: secrets });
const values = valuesOf(config);

describe("authentik release values (homelab)", () => {
    it("runs 3 server pods with PDB minAvailable 2 and 3 workers with maxUnavailable 1", () => {
        assert.equal(values.server.replicas, 3);
        assert.deepEqual(values.server.pdb, { enabled: true, minAvailable: 2 });
        assert.equal(values.worker.replicas, 3);
        assert.deepEqual(values.worker.pdb, { enabled: true, maxUnavailable: 1 });
    });

    it("limits server and worker memory to 2Gi with requests from config", () => {
        assert.deepEqual(values.server.resources, { requests: { cpu: "200m", memory: "1536Mi" }, limits: { memory: "2Gi" } });
        assert.deepEqual(values.worker.resources, { requests: { cpu: "100m", memory: "1Gi" }, limits: { memory: "2Gi" } });
    });

    it("spreads server and worker pods across nodes with selectors matching the chart's pod labels", () => {
        for (const component of ["server", "worker"] as const) {
            const [spread] = values[component].topologySpreadConstraints;
            assert.equal(spread.topologyKey, "kubernetes.io/hostname");
            assert.deepEqual(spread.labelSelector.matchLabels, podSelector("authentik", component));
        }
    });

    it("connects to PgBouncer by FQDN on 6432 with persistent, health-checked connections", () => {
        assert.deepEqual(values.authentik.postgresql, {
            host: "pgbouncer.authentik.svc.cluster.local",
            port: 6432,
            name: "authentik",
            user: "authentik",
            conn_max_age: 60,
            conn_health_checks: true,
        });
    });

    it("sets the cache, web and worker concurrency numbers", () => {
        assert.deepEqual(values.authentik.cache, { timeout_flows: 1800, timeout_policies: 900 });
        assert.deepEqual(values.authentik.web, { workers: 3, threads: 4 });
        assert.deepEqual(values.authentik.worker, { processes: 1, threads: 4 });
        assert.ok(!("concurrency" in values.authentik.worker));
    });

    it("has no Redis anywhere and never uses authentik.existingSecret", () => {
        const text = JSON.stringify(values);
        assert.doesNotMatch(text, /redis/i);
        assert.ok(!("existingSecret" in values.authentik));
    });

    it("passes every credential as an env secretKeyRef, never as a value", () => {
        for (const [credential, env] of Object.entries(CREDENTIAL_ENV)) {
            const entry = values.global.env.find((e) => e.name === env) as { valueFrom?: { secretKeyRef: { name: string; key: string } } };
            assert.ok(entry, `${env} is missing`);
            assert.deepEqual(entry.valueFrom?.secretKeyRef, { name: secrets[credential as keyof typeof secrets], key: credential });
            assert.ok(!("value" in entry));
        }
        assert.deepEqual(
            values.global.env.map((e) => e.name).slice(0, 5),
            Object.values(CREDENTIAL_ENV),
            "a stable env order: a reordered list would roll every pod",
        );
        assert.ok(!("secret_key" in values.authentik) && !("password" in values.authentik.postgresql));
        assert.ok(!("password" in (values.authentik.email ?? {})));
    });

    it("probes /-/health/live/ and /-/health/ready/ and allows about 5 minutes to start", () => {
        assert.equal(values.server.livenessProbe.httpGet.path, "/-/health/live/");
        assert.equal(values.server.readinessProbe.httpGet.path, "/-/health/ready/");
        const startup = values.server.startupProbe;
        assert.equal(startup.failureThreshold * startup.periodSeconds, 300);
        assert.equal(values.worker.startupProbe.failureThreshold * values.worker.startupProbe.periodSeconds, 300);
        assert.equal(releaseTimeoutSeconds(config), 900, "twice the 300 s startup probe, plus 5 minutes for migrations and rollout");
    });

    it("never overrides a container command", () => {
        assert.doesNotMatch(JSON.stringify(values), /"command":\[(?!"ak","healthcheck")/);
    });

    it("mounts the shared ReadWriteMany media volume in server and worker", () => {
        assert.deepEqual(values.server.volumes[0], { name: "media", persistentVolumeClaim: { claimName: "authentik-media" } });
        assert.deepEqual(values.worker.volumeMounts, [{ name: "media", mountPath: "/data" }]);
        assert.deepEqual(values.authentik.storage, { file: { path: "/data" } });
    });

    it("serves the host and /outpost.goauthentik.io over TLS issued by cert-manager", () => {
        const ingress = values.server.ingress as {
            hosts: string[];
            paths: string[];
            tls: unknown[];
            annotations: Record<string, string>;
            ingressClassName: string;
        };
        assert.deepEqual(ingress.hosts, ["auth.homelab.example"]);
        assert.ok(ingress.paths.includes("/outpost.goauthentik.io"));
        assert.deepEqual(ingress.tls, [{ secretName: "authentik-tls", hosts: ["auth.homelab.example"] }]);
        assert.equal(ingress.annotations["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
        assert.equal(ingress.ingressClassName, "traefik");
        assert.equal(authentikUrl(config), "https://auth.homelab.example");
    });

    it("gives the server pods (where the embedded outpost runs) a size-limited memory /dev/shm", () => {
        assert.deepEqual(values.server.volumes[1], { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } });
        assert.deepEqual(values.server.volumeMounts[1], { name: "dshm", mountPath: "/dev/shm" });
    });

    it("configures email without its password", () => {
        assert.deepEqual(values.authentik.email, {
            host: "smtp.homelab.example",
            port: 587,
            username: "authentik@homelab.example",
            from: "authentik@homelab.example",
            use_tls: true,
            use_ssl: false,
            timeout: 30,
        });
    });

    it("hardens server and worker pods: restricted security contexts, no API token in the server, rolling without a gap", () => {
        for (const component of ["server", "worker"] as const) {
            const v = values[component];
            assert.deepEqual(
                v.securityContext,
                { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
                component,
            );
            assert.deepEqual(v.containerSecurityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }, component);
            assert.deepEqual(
                v.deploymentStrategy,
                { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                `${component}: a new pod before an old one goes`,
            );
            assert.deepEqual(v.topologySpreadConstraints, [
                {
                    maxSkew: 1,
                    topologyKey: "kubernetes.io/hostname",
                    whenUnsatisfiable: "ScheduleAnyway",
                    labelSelector: {
                        matchLabels: {
                            "app.kubernetes.io/name": "authentik",
                            "app.kubernetes.io/instance": "authentik",
                            "app.kubernetes.io/component": component,
                        },
                    },
                },
            ]);
        }
        assert.equal(values.server.serviceAccountName, "authentik-server");
        assert.equal(values.server.automountServiceAccountToken, false);
        assert.equal(values.worker.serviceAccountName, "authentik-worker", "outposts in their own namespace: the worker's own account");
        assert.deepEqual(values.serviceAccount, { create: false });
    });

    it("probes with these timings", () => {
        const http = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 3 });
        assert.deepEqual(values.server.livenessProbe, { ...http("/-/health/live/"), failureThreshold: 3 });
        assert.deepEqual(values.server.readinessProbe, { ...http("/-/health/ready/"), failureThreshold: 3 });
        assert.deepEqual(values.server.startupProbe, { ...http("/-/health/live/"), initialDelaySeconds: 5, failureThreshold: 30 });
        assert.deepEqual(values.worker.startupProbe, {
            exec: { command: ["ak", "healthcheck"] },
            initialDelaySeconds: 30,
            periodSeconds: 10,
            timeoutSeconds: 3,
            failureThreshold: 30,
        });
    });

    it("logs at info, reports no errors to authentik's Sentry, and expires unauthenticated sessions", () => {
        assert.equal(values.authentik.log_level, "info");
        assert.deepEqual(values.authentik.error_reporting, { enabled: false });
        assert.deepEqual(values.authentik.sessions, { unauthenticated_age: "hours=2" });
        assert.equal(values.global.image, undefined, "the chart's appVersion unless a tag or digest is set");
    });

    it("serves the login pages only over HTTPS through Traefik, with HSTS", () => {
        assert.deepEqual(values.server.ingress, {
            enabled: true,
            ingressClassName: "traefik",
            annotations: {
                "cert-manager.io/cluster-issuer": "letsencrypt-prod",
                "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
                "traefik.ingress.kubernetes.io/router.tls": "true",
                "traefik.ingress.kubernetes.io/router.middlewares": "authentik-authentik-hsts@kubernetescrd",
            },
            hosts: ["auth.homelab.example"],
            paths: ["/", "/outpost.goauthentik.io"],
            pathType: "Prefix",
            tls: [{ secretName: "authentik-tls", hosts: ["auth.homelab.example"] }],
        });
    });

    it("sets HSTS for a year through a Traefik Middleware, and redirects to HTTPS on ingress-nginx", () => {
        assert.deepEqual(hstsMiddlewareManifest(config), {
            apiVersion: "traefik.io/v1alpha1",
            kind: "Middleware",
            metadata: { name: "authentik-hsts", namespace: "authentik" },
            spec: { headers: { stsSeconds: 31536000, stsIncludeSubdomains: true, forceSTSHeader: true } },
        });
        const nginx = valuesOf(parse(set(homelab(), "authentik.ingress.className", "nginx")));
        assert.deepEqual((nginx.server.ingress as { annotations: object }).annotations, {
            "cert-manager.io/cluster-issuer": "letsencrypt-prod",
            "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
        });
        const off = parse(set(set(homelab(), "authentik.ingress", { enabled: false }), "api.url", "https://auth.homelab.example"));
        assert.deepEqual(valuesOf(off).server.ingress, { enabled: false });
        const plain = parse(
            set(set(homelab(), "authentik.ingress", { className: "traefik" }), "api.url", "http://authentik-server.authentik.svc.cluster.local"),
        );
        assert.equal(authentikUrl(plain), "http://auth.homelab.example", "no TLS configured: the URL says so");
        assert.deepEqual((valuesOf(plain).server.ingress as { tls: unknown[]; annotations: object }).annotations, {}, "no HTTPS-only annotations without TLS");
        assert.equal(serverServiceUrl(config), "http://authentik-server.authentik.svc.cluster.local");
    });

    it("says HTTPS only from the annotations the Ingress ends up with, not from what the program meant", () => {
        const withAnnotations = (c: StackConfig, annotations: Record<string, string>): StackConfig => ({
            ...c,
            authentik: { ...c.authentik, ingress: { ...c.authentik.ingress, annotations } },
        });
        assert.equal(httpsOnlyBy(config), "Traefik websecure entrypoint, HSTS");
        assert.equal(httpsOnlyBy(withAnnotations(config, { "gethomepage.dev/enabled": "true" })), "Traefik websecure entrypoint, HSTS");
        assert.equal(httpsOnlyBy(withAnnotations(config, { "traefik.ingress.kubernetes.io/router.entrypoints": "web,websecure" })), undefined);
        assert.equal(httpsOnlyBy(withAnnotations(config, { "traefik.ingress.kubernetes.io/router.entrypoints": "web" })), undefined);
        assert.equal(httpsOnlyBy(withAnnotations(config, { "traefik.ingress.kubernetes.io/router.tls": "false" })), undefined);
        assert.equal(httpsOnlyBy(withAnnotations(config, { "traefik.ingress.kubernetes.io/router.middlewares": "kube-system-x@kubernetescrd" })), undefined);
        assert.equal(
            httpsOnlyBy(
                withAnnotations(config, {
                    "traefik.ingress.kubernetes.io/router.middlewares": "kube-system-x@kubernetescrd, authentik-authentik-hsts@kubernetescrd",
                }),
            ),
            "Traefik websecure entrypoint, HSTS",
        );
        const nginx = parse(set(homelab(), "authentik.ingress.className", "ingress-nginx"));
        assert.equal(httpsOnlyBy(nginx), "ingress-nginx redirects to HTTPS");
        assert.equal(httpsOnlyBy(withAnnotations(nginx, { "nginx.ingress.kubernetes.io/ssl-redirect": "false" })), undefined);
        assert.equal(httpsOnlyBy(withAnnotations(nginx, { "nginx.ingress.kubernetes.io/force-ssl-redirect": "false" })), undefined);
        assert.equal(
            httpsOnlyBy(parse(set(homelab(), "authentik.ingress.className", "haproxy"))),
            undefined,
            "an ingress the program knows no HTTPS-only switch for",
        );
        assert.equal(
            httpsOnlyBy(
                parse(set(set(homelab(), "authentik.ingress", { className: "traefik" }), "api.url", "http://authentik-server.authentik.svc.cluster.local")),
            ),
            undefined,
            "no TLS",
        );
    });

    it("names each NetworkPolicy after the release and the pods it guards", () => {
        const policies = authentikNetworkPolicies(config);
        assert.deepEqual(
            policies.map((p) => [p.metadata.name, p.metadata.namespace, p.spec.podSelector.matchLabels]),
            [
                [
                    "authentik-server",
                    "authentik",
                    { "app.kubernetes.io/name": "authentik", "app.kubernetes.io/instance": "authentik", "app.kubernetes.io/component": "server" },
                ],
                [
                    "authentik-worker",
                    "authentik",
                    { "app.kubernetes.io/name": "authentik", "app.kubernetes.io/instance": "authentik", "app.kubernetes.io/component": "worker" },
                ],
                [
                    "authentik-proxy-outposts",
                    "authentik-outposts",
                    { "app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "proxy" },
                ],
                [
                    "authentik-radius-outposts",
                    "authentik-outposts",
                    { "app.kubernetes.io/managed-by": "goauthentik.io", "goauthentik.io/outpost-type": "radius" },
                ],
            ],
        );
        for (const p of policies)
            assert.deepEqual(p.metadata.labels, { "app.kubernetes.io/part-of": "authentik-platform", "app.kubernetes.io/managed-by": "pulumi" });
    });

    it("switches authentik to PgBouncer transaction mode only when told, and pins an image tag and digest when set", () => {
        const digest = `sha256:${"a".repeat(64)}`;
        let c = set(set(set(homelab(), "pgbouncer.poolMode", "transaction"), "authentik.database.usePgbouncer", true), "authentik.database.connMaxAge", 0);
        c = set(
            set(set(set(c, "authentik.database.disableServerSideCursors", true), "authentik.imageTag", "2026.8.3"), "authentik.imageDigest", digest),
            "authentik.bootstrapEmail",
            "admin@homelab.example",
        );
        const v = valuesOf(parse(c));
        assert.equal(v.authentik.postgresql.use_pgbouncer, true);
        assert.equal(v.authentik.postgresql.disable_server_side_cursors, true);
        assert.equal(v.authentik.postgresql.conn_max_age, 0);
        assert.ok(
            !("use_pgbouncer" in values.authentik.postgresql) && !("disable_server_side_cursors" in values.authentik.postgresql),
            "session pooling leaves both to authentik's defaults",
        );
        assert.deepEqual(v.global.image, { tag: "2026.8.3", digest });
        assert.deepEqual(v.global.env.at(-1), { name: "AUTHENTIK_BOOTSTRAP_EMAIL", value: "admin@homelab.example" });
        assert.deepEqual(valuesOf(parse(set(homelab(), "authentik.imageDigest", digest))).global.image, { digest });
    });

    it("leaves the chart's own rules off (this program writes a validated PrometheusRule)", () => {
        assert.deepEqual(values.prometheus, { rules: { enabled: false } });
    });
});

describe("authentik rules reject bad input", () => {
    it("server minAvailable >= replicas", () => {
        expectIssue(set(homelab(), "authentik.server.minAvailable", 3), "authentik.server.minAvailable", /below authentik.server.replicas/);
    });
    it("worker maxUnavailable >= replicas", () => {
        expectIssue(set(homelab(), "authentik.worker.maxUnavailable", 3), "authentik.worker.maxUnavailable", /every worker/);
    });
    it("worker.concurrency (the old name)", () => {
        expectIssue(set(homelab(), "authentik.worker.concurrency", 4), "authentik.worker.concurrency", /renamed to worker.threads/);
    });
    it("conn_max_age not below PgBouncer's client_idle_timeout, the timeout that closes a connection authentik holds", () => {
        expectIssue(
            set(homelab(), "pgbouncer.clientIdleTimeout", 60),
            "authentik.database.connMaxAge",
            /client_idle_timeout \(60s\).*closes connections authentik still holds/,
        );
        // server_idle_timeout never closes a connection a client holds in session pooling: no rule on it.
        assert.doesNotThrow(() => parse(set(set(homelab(), "authentik.database.connMaxAge", 600), "pgbouncer.serverIdleTimeout", 600)));
        assert.doesNotThrow(() => parse(set(homelab(), "pgbouncer.clientIdleTimeout", 61)), "61 > 60: authentik drops its connection first");
    });
    it("a media volume that is not ReadWriteMany", () => {
        expectIssue(set(homelab(), "authentik.media.accessMode", "ReadWriteOnce"), "authentik.media.accessMode", /Multi-Attach/);
    });
    it("email without an SMTP password source", () => {
        expectIssue(set(homelab(), "credentials.smtpPassword", undefined), "credentials.smtpPassword", /required when authentik.email is set/);
    });
    it("an unpinned chart or image", () => {
        expectIssue(set(homelab(), "authentik.chartVersion", "2026.8"), "authentik.chartVersion", /exact chart version/);
        expectIssue(set(homelab(), "authentik.imageTag", "latest"), "authentik.imageTag", /never latest/);
    });
    it("a host that is not fully qualified", () => {
        expectIssue(set(homelab(), "authentik.host", "authentik"), "authentik.host", /fully qualified/);
    });
});
