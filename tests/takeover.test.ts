/**
 * Off the Terraform stack: Kubernetes objects imported by config, the old database's data imported
 * into the new cluster (or recovered from backups), and a backup before every chart version.
 */
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import Ajv from "ajv";
import YAML from "yaml";
import { planStack } from "../tools/plan";
import { renderTree } from "../tools/plan";
import { Plan, PlanResource } from "../tools/harness";
import type { ResourceTransformationArgs } from "@pulumi/pulumi";
import { importTransformation } from "../lib/imports";
import { HOMELAB_FILE, expectIssue, homelab, set, writeStack } from "./support/helpers";
import { conformanceReferences, referenceFile } from "./support/tools";
import { conformance } from "../tools/conformance";

const find = (plan: Plan, type: string, name?: string): PlanResource => {
    const r = plan.resources.find((x) => x.type === type && (name === undefined || x.name === name));
    assert.ok(r, `${type} ${name ?? ""} is not in the plan`);
    return r;
};
const CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";

describe("importing the Terraform stack's Kubernetes objects", () => {
    const entries = [
        "Namespace/authentik",
        "Deployment/authentik/pgbouncer",
        "Service/authentik/pgbouncer",
        "PodDisruptionBudget/authentik/pgbouncer",
        "ConfigMap/authentik/pgbouncer-config",
        "Release/authentik/authentik",
        "PersistentVolumeClaim/authentik/authentik-media",
    ];
    let plan: Plan;
    before(async () => {
        plan = (await planStack(writeStack(set(homelab(), "import", entries), "homelab"))).plan;
    });

    it("gives each listed object Pulumi's import option with the provider's id format", () => {
        const ids = Object.fromEntries(plan.resources.filter((r) => r.import).map((r) => [`${r.type.split(":").pop()} ${r.name}`, r.import]));
        assert.deepEqual(ids, {
            "Namespace namespace": "authentik",
            "Deployment pgbouncer": "authentik/pgbouncer",
            "Service pgbouncer": "authentik/pgbouncer",
            "PodDisruptionBudget pgbouncer": "authentik/pgbouncer",
            "ConfigMap pgbouncer-config": "authentik/pgbouncer-config",
            "Release authentik": "authentik/authentik",
            "PersistentVolumeClaim authentik-media": "authentik/authentik-media",
        });
        assert.equal(find(plan, CLUSTER).import, null, "nothing else is imported");
    });

    it("keeps imported stateful objects protected, so a change that would replace one fails the preview", () => {
        for (const [type, name] of [
            ["kubernetes:core/v1:Namespace", "namespace"],
            ["kubernetes:core/v1:PersistentVolumeClaim", "authentik-media"],
        ]) {
            const r = find(plan, type, name);
            assert.ok(r.import && r.protect && r.retainOnDelete, type);
        }
    });

    it("leaves an imported Service's cluster IP alone: a changed clusterIP replaces a Service, and an import cannot be replaced", () => {
        const transform = importTransformation(["Service/authentik/pgbouncer", "Deployment/authentik/pgbouncer"], new Set());
        const service = {
            type: "kubernetes:core/v1:Service",
            name: "pgbouncer",
            props: { metadata: { name: "pgbouncer", namespace: "authentik" } },
            opts: { ignoreChanges: ["metadata.annotations"] },
        } as unknown as ResourceTransformationArgs;
        assert.deepEqual(transform(service)?.opts, {
            import: "authentik/pgbouncer",
            ignoreChanges: ["metadata.annotations", "spec.clusterIP", "spec.clusterIPs"],
        });
        const deployment = { ...service, type: "kubernetes:apps/v1:Deployment", opts: {} } as ResourceTransformationArgs;
        assert.deepEqual(transform(deployment)?.opts, { import: "authentik/pgbouncer", ignoreChanges: [] });
    });

    it("applies an imported object with force: its fields belong to the tool that made it, and server-side apply would stop on each", () => {
        for (const [type, name] of [
            ["kubernetes:apps/v1:Deployment", "pgbouncer"],
            ["kubernetes:core/v1:Service", "pgbouncer"],
            ["kubernetes:core/v1:Namespace", "namespace"],
        ]) {
            const annotations = (find(plan, type, name).inputs.metadata as { annotations?: Record<string, string> }).annotations ?? {};
            assert.equal(annotations["pulumi.com/patchForce"], "true", type);
        }
        const created = (find(plan, CLUSTER).inputs.metadata as { annotations?: Record<string, string> }).annotations ?? {};
        assert.equal(created["pulumi.com/patchForce"], undefined, "only what is imported");
        assert.equal((find(plan, "kubernetes:helm.sh/v3:Release").inputs as { metadata?: unknown }).metadata, undefined, "the release is Helm's");
    });

    it("shows each import in the plan", () => {
        assert.match(renderTree(plan), /Deployment pgbouncer.*will import authentik\/pgbouncer/);
    });

    it("refuses an entry that names no object of this program, naming it", async () => {
        await assert.rejects(
            planStack(writeStack(set(homelab(), "import", ["Deployment/authentik/pgbouncr"]))),
            /import lists "Deployment\/authentik\/pgbouncr", which this program does not create/,
        );
        expectIssue(set(homelab(), "import", ["Deployment/pgbouncer/x/y"]), "import[0]", /<Kind>\/<namespace>\/<name>/);
        expectIssue(set(homelab(), "import", ["CronJob/authentik/pg-dump"]), "import[0]", /Kind one of/);
    });
});

describe("the old database's data", () => {
    const withBootstrap = (bootstrap: object, extra: (b: ReturnType<typeof homelab>) => ReturnType<typeof homelab> = (b) => b) =>
        extra(set(homelab(), "database.bootstrap", bootstrap));

    it("imports the authentik database from the Terraform stack's PostgreSQL (CNPG microservice import)", async (t) => {
        const block = set(
            withBootstrap({ mode: "import", source: { host: "postgres.databases.svc.cluster.local", database: "authentik", user: "authentik" } }),
            "credentials.importSourcePassword",
            { onepassword: { item: "old-postgres", field: "password" } },
        );
        const plan = (await planStack(writeStack(block))).plan;
        const spec = find(plan, CLUSTER).inputs.spec as Record<string, unknown>;
        assert.deepEqual(spec.bootstrap, {
            initdb: {
                database: "authentik",
                owner: "authentik",
                secret: { name: "authentik-db-app" },
                import: { type: "microservice", databases: ["authentik"], source: { externalCluster: "import-source" } },
            },
        });
        assert.deepEqual(spec.externalClusters, [
            {
                name: "import-source",
                connectionParameters: {
                    host: "postgres.databases.svc.cluster.local",
                    port: "5432",
                    user: "authentik",
                    dbname: "authentik",
                    sslmode: "require",
                },
                password: { name: "authentik-db-import-source", key: "password" },
            },
        ]);
        // The password comes from 1Password into that Secret (never through Pulumi in this mode).
        const source = plan.resources.find((r) => (r.inputs.metadata as { name?: string })?.name === "authentik-db-import-source");
        assert.equal(source?.type, "kubernetes:external-secrets.io/v1:ExternalSecret");
        assert.ok(find(plan, CLUSTER).dependsOn.includes(source!.urn), "the cluster waits for the source's credentials");
        const references = conformanceReferences(t);
        if (references) assert.deepEqual(conformance(plan.resources, references).failures, [], "the upstream CNPG CRD accepts the cluster");
    });

    it("recovers from this stack's object-store backups (disaster recovery), to a point in time", async (t) => {
        const plan = (
            await planStack(writeStack(withBootstrap({ mode: "recovery", recovery: { serverName: "authentik-db-old", targetTime: "2026-11-30T03:00:00Z" } })))
        ).plan;
        const spec = find(plan, CLUSTER).inputs.spec as { bootstrap: object; externalClusters: { barmanObjectStore: Record<string, unknown> }[] };
        assert.deepEqual(spec.bootstrap, {
            recovery: {
                source: "backup-source",
                database: "authentik",
                owner: "authentik",
                secret: { name: "authentik-db-app" },
                recoveryTarget: { targetTime: "2026-11-30T03:00:00Z" },
            },
        });
        assert.equal(spec.externalClusters[0].barmanObjectStore.destinationPath, "s3://homelab-backups/authentik");
        assert.equal(spec.externalClusters[0].barmanObjectStore.serverName, "authentik-db-old");
        const references = conformanceReferences(t);
        if (references) assert.deepEqual(conformance(plan.resources, references).failures, [], "the upstream CNPG CRD accepts the cluster");
    });

    it("rejects an import without a source or its password, and a recovery without an object store", () => {
        expectIssue(withBootstrap({ mode: "import" }), "database.bootstrap.source", /required for mode import/);
        expectIssue(withBootstrap({ mode: "import" }), "credentials.importSourcePassword", /required for database.bootstrap.mode import/);
        expectIssue(withBootstrap({ mode: "initdb", source: { host: "x" } }), "database.bootstrap.source", /only used by mode import/);
        expectIssue(set(withBootstrap({ mode: "recovery" }), "database.backup", undefined), "database.bootstrap.mode", /no.*object store|there is none/);
    });

    it("starts empty by default", async () => {
        const plan = (await planStack(HOMELAB_FILE)).plan;
        const spec = find(plan, CLUSTER).inputs.spec as Record<string, unknown>;
        assert.deepEqual(spec.bootstrap, { initdb: { database: "authentik", owner: "authentik", secret: { name: "authentik-db-app" } } });
        assert.equal(spec.externalClusters, undefined);
    });
});

describe("a backup before every chart version", () => {
    let plan: Plan;
    before(async () => {
        plan = (await planStack(HOMELAB_FILE)).plan;
    });

    it("takes an on-demand Backup named after the chart version, that the release waits for", () => {
        const backup = find(plan, "kubernetes:postgresql.cnpg.io/v1:Backup");
        assert.deepEqual(backup.inputs.metadata, {
            name: "authentik-db-before-authentik-2026-8-0",
            namespace: "authentik",
            labels: (backup.inputs.metadata as { labels: object }).labels,
            annotations: { "pulumi.com/waitFor": "jsonpath={.status.phase}=completed" },
        });
        assert.deepEqual(backup.inputs.spec, { cluster: { name: "authentik-db" }, method: "barmanObjectStore" });
        assert.equal(backup.retainOnDelete, true, "kept when the next version takes its place");
        assert.ok(find(plan, "kubernetes:helm.sh/v3:Release", "authentik").dependsOn.includes(backup.urn));
    });

    it("validates against the upstream Backup CRD", (t) => {
        const file = referenceFile(t, "cnpg/postgresql.cnpg.io_backups.yaml");
        if (!file) return;
        const crd = YAML.parse(fs.readFileSync(file, "utf8")) as { spec: { versions: { name: string; schema: { openAPIV3Schema: object } }[] } };
        const schema = crd.spec.versions.find((v) => v.name === "v1")!.schema.openAPIV3Schema;
        const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
        const backup = find(plan, "kubernetes:postgresql.cnpg.io/v1:Backup").inputs;
        assert.ok(validate(backup), JSON.stringify(validate.errors));
        assert.ok(!validate({ ...backup, spec: { cluster: { name: "x" }, method: "rsync" } }), "the schema does check the method");
    });

    it("takes a new one when the chart version changes", async () => {
        const next = (await planStack(writeStack(set(set(homelab(), "authentik.chartVersion", "2026.10.1"), "authentik.chartDigest", "b".repeat(64))))).plan;
        assert.equal(
            (find(next, "kubernetes:postgresql.cnpg.io/v1:Backup").inputs.metadata as { name: string }).name,
            "authentik-db-before-authentik-2026-10-1",
        );
    });

    it("is switchable, and absent without backups", async () => {
        for (const block of [set(homelab(), "database.backup.beforeUpgrade", false), set(homelab(), "database.backup", undefined)]) {
            const p = (await planStack(writeStack(block))).plan;
            assert.ok(!p.resources.some((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:Backup"));
        }
    });
});
