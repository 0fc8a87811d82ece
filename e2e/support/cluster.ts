/**
 * A real Kubernetes API server on loopback: etcd and kube-apiserver (built by e2e/build-tools.sh
 * from their Go modules), a service-account key pair and a bearer token for a cluster admin, a
 * kubeconfig with one context, and the CRDs the platform's objects need. No controller manager,
 * scheduler or kubelet runs: objects are stored and validated (schemas, CRDs, admission), nothing
 * becomes ready, and a namespace being deleted stays Terminating. A suite may start controllers of
 * its own against it (`run`: External Secrets, Reloader).
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as path from "node:path";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import YAML from "yaml";

export const CONTEXT = "e2e";
const TOKEN = "e2e-cluster-admin-token";

export interface Cluster {
    /** The kubeconfig file (context CONTEXT). */
    kubeconfig: string;
    /** A request to the API server as cluster admin; undefined on 404. */
    get(apiPath: string): Promise<KubeObject | undefined>;
    /** Deletes an object, and waits until it is gone. */
    remove(apiPath: string): Promise<void>;
    /** Creates an object (POST to its collection). */
    create(collection: string, object: object): Promise<KubeObject>;
    /**
     * Starts the program `name` of the e2e bin directory as a controller of this cluster (KUBECONFIG
     * set, output in logs/<name>.log); it stops with the cluster.
     */
    run(name: string, args: string[]): void;
    /** Where the programs' logs are. */
    logs: string;
    stop(): Promise<void>;
}

export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        namespace?: string;
        annotations?: Record<string, string>;
        labels?: Record<string, string>;
        uid?: string;
        resourceVersion?: string;
    };
    [key: string]: unknown;
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

/** Starts etcd and kube-apiserver from `bin` in `dir`, and installs `crds` (YAML files). */
export async function startCluster(bin: string, dir: string, crds: string[]): Promise<Cluster> {
    const children: ChildProcess[] = [];
    const logs = path.join(dir, "logs");
    fs.mkdirSync(logs, { recursive: true });
    const start = (name: string, args: string[], env?: NodeJS.ProcessEnv) => {
        const out = fs.openSync(path.join(logs, `${name}.log`), "w");
        const child = spawn(path.join(bin, name), args, { stdio: ["ignore", out, out], env: env ?? process.env });
        children.push(child);
        return child;
    };

    const [client, peer, secure] = [await freePort(), await freePort(), await freePort()];
    start("etcd", [
        "--name=e2e",
        `--data-dir=${path.join(dir, "etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=e2e=http://127.0.0.1:${peer}`,
        "--unsafe-no-fsync",
    ]);

    const pki = path.join(dir, "pki");
    fs.mkdirSync(pki, { recursive: true });
    execFileSync("openssl", ["genrsa", "-out", path.join(pki, "sa.key"), "2048"], { stdio: "ignore" });
    execFileSync("openssl", ["rsa", "-in", path.join(pki, "sa.key"), "-pubout", "-out", path.join(pki, "sa.pub")], { stdio: "ignore" });
    fs.writeFileSync(path.join(pki, "tokens.csv"), `${TOKEN},e2e-admin,e2e-admin,"system:masters"\n`);
    start("kube-apiserver", [
        `--etcd-servers=http://127.0.0.1:${client}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${secure}`,
        `--cert-dir=${pki}`,
        `--token-auth-file=${path.join(pki, "tokens.csv")}`,
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${path.join(pki, "sa.pub")}`,
        `--service-account-signing-key-file=${path.join(pki, "sa.key")}`,
        "--service-cluster-ip-range=10.96.0.0/16",
    ]);

    const server = `https://127.0.0.1:${secure}`;
    const caFile = path.join(pki, "apiserver.crt");
    // The API server writes its self-signed certificate (with its CA) into --cert-dir on start.
    await until(() => fs.existsSync(caFile), "kube-apiserver writes its certificate", logs);
    const ca = fs.readFileSync(caFile);
    const request = (method: string, apiPath: string, body?: object) => fetchWithCa(ca, `${server}${apiPath}`, method, body);
    await until(async () => (await request("GET", "/readyz").catch(() => ({ status: 0 }))).status === 200, "kube-apiserver is ready", logs);

    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(
        kubeconfig,
        YAML.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: CONTEXT, cluster: { server, "certificate-authority-data": ca.toString("base64") } }],
            users: [{ name: CONTEXT, user: { token: TOKEN } }],
            contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT } }],
            "current-context": CONTEXT,
        }),
    );

    const cluster: Cluster = {
        kubeconfig,
        logs,
        run(name, args) {
            start(name, args, { ...process.env, KUBECONFIG: kubeconfig });
        },
        async get(apiPath) {
            const res = await request("GET", apiPath);
            if (res.status === 404) return undefined;
            if (res.status !== 200) throw new Error(`GET ${apiPath}: ${res.status} ${JSON.stringify(res.body)}`);
            return res.body as KubeObject;
        },
        async create(collection, object) {
            const res = await request("POST", collection, object);
            if (res.status !== 201) throw new Error(`POST ${collection}: ${res.status} ${JSON.stringify(res.body)}`);
            return res.body as KubeObject;
        },
        async remove(apiPath) {
            const res = await request("DELETE", apiPath);
            if (res.status !== 200 && res.status !== 202) throw new Error(`DELETE ${apiPath}: ${res.status} ${JSON.stringify(res.body)}`);
            await until(async () => (await request("GET", apiPath)).status === 404, `${apiPath} is gone`, logs);
        },
        async stop() {
            for (const child of children.reverse()) {
                child.kill("SIGTERM");
                await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
            }
        },
    };

    for (const file of crds) {
        for (const crd of YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS() as KubeObject | null)) {
            if (!crd) continue;
            await cluster.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
            await until(
                async () => {
                    const got = await cluster.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
                    const conditions = (got?.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
                    return conditions.some((c) => c.type === "Established" && c.status === "True");
                },
                `CRD ${crd.metadata.name} is established`,
                logs,
            );
        }
    }
    return cluster;
}

/**
 * Polls `check` every 200 ms until it gives a value other than `undefined` or `false`, and returns
 * it; after `timeoutMs`, fails naming `what` and where the programs' logs are.
 */
export async function until<T>(
    check: () => T | undefined | false | Promise<T | undefined | false>,
    what: string,
    logs: string,
    timeoutMs = 60_000,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const value = await check();
        if (value !== undefined && value !== false) return value;
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`timed out waiting until ${what} (logs in ${logs})`);
}

/** An HTTPS request trusting exactly the API server's CA. */
async function fetchWithCa(ca: Buffer, url: string, method: string, body?: object): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
        const req = https.request(url, { method, ca, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text.startsWith("{") ? JSON.parse(text) : text }));
        });
        req.on("error", reject);
        if (body) req.write(JSON.stringify(body));
        req.end();
    });
}
