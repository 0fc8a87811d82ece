/**
 * authentik's objects as the stack config means them, spelled out (components/authentik-objects):
 * the outpost patches that harden every deployed outpost, the RADIUS LoadBalancer's firewall, the
 * retry budget, the names a renamed app keeps, an app's optional fields and its OIDC endpoints.
 * Pure, no Pulumi runtime.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
    LOCAL_CLUSTER,
    applicationSpec,
    managedOutpostConfig,
    oidcUrls,
    outpostPatches,
    previousNames,
    providerSpec,
    retryPolicyOf,
} from "../components/authentik-objects/model";
import { homelab, parse } from "./support/helpers";

describe("outposts authentik deploys", () => {
    it("patches each Deployment: a memory /dev/shm, Pod Security restricted, requests and a limit, no API token", () => {
        assert.deepEqual(outpostPatches("64Mi"), {
            deployment: [
                { op: "add", path: "/spec/template/spec/volumes", value: [{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } }] },
                { op: "add", path: "/spec/template/spec/containers/0/volumeMounts", value: [{ name: "dshm", mountPath: "/dev/shm" }] },
                {
                    op: "add",
                    path: "/spec/template/spec/securityContext",
                    value: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
                },
                {
                    op: "add",
                    path: "/spec/template/spec/containers/0/securityContext",
                    value: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                },
                {
                    op: "add",
                    path: "/spec/template/spec/containers/0/resources",
                    value: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                },
                { op: "add", path: "/spec/template/spec/automountServiceAccountToken", value: false },
            ],
        });
    });

    it("opens a RADIUS LoadBalancer only to the client networks, keeping their source address; nothing else gets those patches", () => {
        const base = { authentikUrl: "https://auth.homelab.example", namespace: "authentik-outposts", replicas: 2, shmSizeLimit: "64Mi" };
        const radius = managedOutpostConfig({ ...base, serviceType: "LoadBalancer", clientNetworks: ["10.0.10.0/24"] });
        assert.deepEqual(radius.kubernetes_json_patches.service, [
            { op: "add", path: "/spec/loadBalancerSourceRanges", value: ["10.0.10.0/24"] },
            { op: "add", path: "/spec/externalTrafficPolicy", value: "Local" },
        ]);
        assert.equal(radius.kubernetes_service_type, "LoadBalancer");
        assert.equal(
            "service" in managedOutpostConfig({ ...base, serviceType: "LoadBalancer" }).kubernetes_json_patches,
            false,
            "no networks: no firewall patch",
        );
        assert.equal(
            "service" in managedOutpostConfig({ ...base, serviceType: "ClusterIP", clientNetworks: ["10.0.10.0/24"] }).kubernetes_json_patches,
            false,
            "not a LoadBalancer",
        );
    });

    it("deploys through authentik's own service connection, by its default name", () => {
        assert.equal(LOCAL_CLUSTER, "Local Kubernetes Cluster");
    });
});

describe("the API client's budget, renamed apps, an app's fields", () => {
    it("waits readyTimeoutSeconds for authentik and requestTimeoutSeconds per request, backing off from 1 s to 15 s", () => {
        assert.deepEqual(retryPolicyOf(parse(homelab())), { deadlineMs: 600_000, baseDelayMs: 1000, maxDelayMs: 15_000, requestTimeoutMs: 30_000 });
    });

    it("a renamed app's objects keep the names they had under each earlier slug", () => {
        const names = previousNames({ renamedFrom: ["old-wiki", "older-wiki"] });
        assert.deepEqual(names.provider, ["app-old-wiki-provider", "app-older-wiki-provider"]);
        assert.deepEqual(names.application, ["app-old-wiki", "app-older-wiki"]);
        assert.deepEqual(names.secret, ["app-old-wiki-client-secret", "app-older-wiki-client-secret"]);
        assert.deepEqual(names.member, ["app-old-wiki-on-outpost", "app-older-wiki-on-outpost"]);
    });

    it("carries an app's icon, description and upstream when given", () => {
        const app = parse(homelab()).apps.find((a) => a.slug === "sonarr")!;
        const spec = applicationSpec({ ...app, description: "TV series" });
        assert.equal(spec.metaIcon, "https://sonarr.homelab.example/Content/Images/logo.svg");
        assert.equal(spec.metaDescription, "TV series");
        const proxy = providerSpec({ ...app, mode: "proxy", upstream: "http://sonarr.media.svc.cluster.local:8989" });
        assert.equal(proxy.spec.internalHost, "http://sonarr.media.svc.cluster.local:8989");
    });

    it("publishes an OIDC app's endpoints at authentik's fixed paths", () => {
        assert.deepEqual(oidcUrls("https://auth.homelab.example", "grafana"), {
            issuer: "https://auth.homelab.example/application/o/grafana/",
            discovery: "https://auth.homelab.example/application/o/grafana/.well-known/openid-configuration",
            authorize: "https://auth.homelab.example/application/o/authorize/",
            token: "https://auth.homelab.example/application/o/token/",
            userinfo: "https://auth.homelab.example/application/o/userinfo/",
        });
    });
});
