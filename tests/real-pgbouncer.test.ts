/**
 * The real PgBouncer and PostgreSQL (Debian's `pgbouncer` and `postgresql`, also on GitHub's
 * runners): PostgreSQL started with the CNPG Cluster's parameters verbatim and TLS only, PgBouncer
 * with the generated pgbouncer.ini (only addresses, ports and file paths rewritten) and the auth
 * Secret as the program renders it, on both paths: filled by Pulumi, and as the ExternalSecret's Go
 * template renders it (sprig, as External Secrets Operator does).
 */
import { after, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { EXPORTER_DSN, HBA_FILE, USERLIST_KEY, authTemplates, renderHba, renderIni } from "../components/pgbouncer/manifests";
import { postgresParameters } from "../components/database/manifests";
import { externalSecretManifest, fillTemplates } from "../components/secrets/render";
import { capacityOf } from "../config/capacity";
import { homelab, parse } from "./support/helpers";
import { SkippableTest, realTool } from "./support/tools";

const config = parse(homelab());
/** Every character that broke a quoting rule somewhere, and non-ASCII. */
const PASSWORDS = [
    "plain-Alnum123",
    `pa"ss`,
    `it's`,
    String.raw`back\slash`,
    "with space",
    "%=$",
    "{{ databasePassword }}",
    "pässwörd-ß",
    String.raw`all"'\ %=$ {{x}} ü`,
];

interface Tools {
    bin: string;
    pgbouncer: string;
    psql: string;
    eso?: string;
}

/** The PostgreSQL server binaries: PG_BIN, or Debian's /usr/lib/postgresql/<major>/bin. */
function postgresBin(): string | undefined {
    if (process.env.PG_BIN && fs.existsSync(path.join(process.env.PG_BIN, "postgres"))) return process.env.PG_BIN;
    const root = "/usr/lib/postgresql";
    if (!fs.existsSync(root)) return undefined;
    const major = fs
        .readdirSync(root)
        .sort((a, b) => Number(b) - Number(a))
        .find((v) => fs.existsSync(path.join(root, v, "bin", "postgres")));
    return major ? path.join(root, major, "bin") : undefined;
}

function tools(t: SkippableTest): Tools | undefined {
    const install = "apt-get install postgresql pgbouncer (Debian/Ubuntu), as .ci/run does";
    const bin = postgresBin();
    if (!bin) {
        realTool(t, "postgres", "PG_BIN", install); // skips (or fails under REQUIRE_REAL_TOOLS)
        return undefined;
    }
    process.env.PATH = `${process.env.PATH}:/usr/sbin`; // Debian puts pgbouncer there
    const pgbouncer = realTool(t, "pgbouncer", "PGBOUNCER", install);
    const psql = realTool(t, "psql", "PSQL", install);
    if (!pgbouncer || !psql) return undefined;
    t.diagnostic(`using PostgreSQL from ${bin}`);
    return { bin, pgbouncer, psql, eso: process.env.ESO_TEMPLATE };
}

/** PostgreSQL and PgBouncer refuse to run as root: then everything runs as the `postgres` user. */
const asServiceUser = (command: string, args: string[]) =>
    (process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args]) as [string, string[]];

/** Where the kernel's ephemeral ports (every other test's listeners and clients) begin. */
const EPHEMERAL_START = (() => {
    try {
        return Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
    } catch {
        return 32768;
    }
})();

function freePort(): number {
    // A port below the ephemeral range, so no other test's listener or client is given it meanwhile.
    return 20000 + ((process.pid * 7 + Math.floor(Math.random() * 1000)) % Math.max(EPHEMERAL_START - 20002, 1000));
}

describe("real PgBouncer in front of real PostgreSQL", () => {
    let env: Tools | undefined;
    let dir = "";
    let pgPort = 0;
    let bouncerPort = 0;
    const processes: ChildProcess[] = [];
    const run = (command: string, args: string[], input?: string, extraEnv: Record<string, string> = {}) => {
        const [c, a] = asServiceUser(command, args);
        return execFileSync(c, a, { encoding: "utf8", input, cwd: dir, env: { ...process.env, ...extraEnv }, stdio: ["pipe", "pipe", "pipe"] });
    };
    const psql = (conninfo: string, sql: string, password?: string) =>
        execFileSync(env!.psql, [conninfo, "-X", "-A", "-t", "-c", sql], {
            encoding: "utf8",
            env: { ...process.env, ...(password !== undefined ? { PGPASSWORD: password } : {}) },
            stdio: ["ignore", "pipe", "pipe"],
        }).trim();

    /** Starts PgBouncer with the generated ini, HBA and `userlist`; resolves once it listens. */
    async function startPgBouncer(userlist: string, caFile = `${dir}/ca.crt`): Promise<ChildProcess> {
        bouncerPort = freePort();
        // The server is dialled as 127.0.0.1: its certificate names that address, signed by the test CA.
        const ini = renderIni({ pgbouncer: config.pgbouncer, databaseHost: "127.0.0.1", databasePort: pgPort, database: "authentik" })
            .replace(/^listen_addr = .*$/m, "listen_addr = 127.0.0.1")
            .replace(/^listen_port = .*$/m, `listen_port = ${bouncerPort}`)
            .replace(/^auth_file = .*$/m, `auth_file = ${dir}/${USERLIST_KEY}`)
            .replace(/^auth_hba_file = .*$/m, `auth_hba_file = ${dir}/${HBA_FILE}`)
            .replace(/^server_tls_ca_file = .*$/m, `server_tls_ca_file = ${caFile}`);
        fs.writeFileSync(path.join(dir, USERLIST_KEY), userlist);
        fs.writeFileSync(path.join(dir, HBA_FILE), renderHba());
        fs.writeFileSync(path.join(dir, "pgbouncer.ini"), ini);
        if (process.getuid?.() === 0) execFileSync("chown", ["-R", "postgres:postgres", dir]);
        const [c, a] = asServiceUser(env!.pgbouncer, [path.join(dir, "pgbouncer.ini")]);
        const child = spawn(c, a, { stdio: ["ignore", "pipe", "pipe"] });
        processes.push(child);
        let log = "";
        await new Promise<void>((resolve, reject) => {
            const onData = (d: Buffer) => {
                log += d.toString();
                if (/listening on/.test(log)) resolve();
            };
            child.stdout!.on("data", onData);
            child.stderr!.on("data", onData);
            child.once("exit", (code) => reject(new Error(`pgbouncer exited with ${code}: ${log}`)));
        });
        return child;
    }

    let started: Promise<Tools | undefined> | undefined;
    /** Starts PostgreSQL once, from the first test (which reports which binaries it used). */
    const setup = (t: SkippableTest) => (started ??= Promise.resolve().then(() => startPostgres(t)));
    async function startPostgres(t: SkippableTest): Promise<Tools | undefined> {
        env = tools(t);
        if (!env) return undefined;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-"));
        fs.chmodSync(dir, 0o755);
        if (process.getuid?.() === 0) execFileSync("chown", ["postgres:postgres", dir]);
        pgPort = freePort() + 1;
        // A CA (as CNPG's <cluster>-ca) and a server certificate it signed for the address PgBouncer dials.
        run("openssl", [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=test-ca",
            "-days",
            "1",
            "-keyout",
            `${dir}/ca.key`,
            "-out",
            `${dir}/ca.crt`,
        ]);
        run("openssl", [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=other-ca",
            "-days",
            "1",
            "-keyout",
            `${dir}/other.key`,
            "-out",
            `${dir}/other-ca.crt`,
        ]);
        run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=authentik-db-rw", "-keyout", `${dir}/server.key`, "-out", `${dir}/server.csr`]);
        fs.writeFileSync(`${dir}/san.ext`, "subjectAltName=IP:127.0.0.1,DNS:authentik-db-rw.authentik.svc.cluster.local\n");
        run("openssl", [
            "x509",
            "-req",
            "-in",
            `${dir}/server.csr`,
            "-CA",
            `${dir}/ca.crt`,
            "-CAkey",
            `${dir}/ca.key`,
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            `${dir}/san.ext`,
            "-out",
            `${dir}/server.crt`,
        ]);
        run("chmod", ["600", `${dir}/server.key`]);
        run(path.join(env.bin, "initdb"), [
            "-D",
            `${dir}/data`,
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        // TLS only over TCP, as the CNPG cluster serves PgBouncer.
        fs.writeFileSync(`${dir}/data/pg_hba.conf`, "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n");
        const parameters = { ...postgresParameters(config.database), shared_preload_libraries: "pg_stat_statements" };
        const options = [
            `-c port=${pgPort}`,
            "-c listen_addresses=127.0.0.1",
            `-c unix_socket_directories=${dir}`,
            "-c ssl=on",
            `-c ssl_cert_file=${dir}/server.crt`,
            `-c ssl_key_file=${dir}/server.key`,
            ...Object.entries(parameters).map(([k, v]) => `-c ${k}=${v}`),
        ];
        run(path.join(env.bin, "pg_ctl"), ["-D", `${dir}/data`, "-l", `${dir}/postgres.log`, "-w", "-o", options.join(" "), "start"]);
        run(env.psql, ["-h", dir, "-p", String(pgPort), "-U", "postgres", "-d", "postgres", "-X", "-c", "CREATE DATABASE authentik"]);
        run(env.psql, ["-h", dir, "-p", String(pgPort), "-U", "postgres", "-d", "authentik", "-X", "-c", "CREATE EXTENSION pg_stat_statements"]);
        return env;
    }

    after(() => {
        for (const p of processes) p.kill();
        if (env && dir) {
            try {
                run(path.join(env.bin, "pg_ctl"), ["-D", `${dir}/data`, "-m", "fast", "-w", "stop"]);
            } catch {
                // already down
            }
        }
    });

    const setPassword = (password: string) => {
        // psql's :'var' quotes the value as a literal, whatever it contains.
        const sql = `SELECT set_config('app.pw', :'pw', false);\nDO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authentik') THEN CREATE ROLE authentik LOGIN; END IF; END $$;\nSELECT format('ALTER ROLE authentik PASSWORD %L', current_setting('app.pw')) \\gexec\nALTER DATABASE authentik OWNER TO authentik;\n`;
        run(env!.psql, ["-h", dir, "-p", String(pgPort), "-U", "postgres", "-d", "postgres", "-X", "-q", "-v", `pw=${password}`, "-v", "ON_ERROR_STOP=1"], sql);
    };
    const exporterDsn = () => EXPORTER_DSN.replace(/port=\d+/, `port=${bouncerPort}`);
    const through = () => `host=127.0.0.1 port=${bouncerPort} dbname=authentik user=authentik sslmode=disable connect_timeout=5`;

    it("runs PostgreSQL with the Cluster's parameters verbatim", async (t) => {
        if (!(await setup(t))) return;
        const shown = run(env!.psql, [
            "-h",
            dir,
            "-p",
            String(pgPort),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-X",
            "-A",
            "-t",
            "-c",
            "SHOW max_connections; SHOW shared_buffers; SHOW pg_stat_statements.track",
        ]);
        assert.deepEqual(shown.trim().split("\n"), ["200", "768MB", "all"]);
    });

    for (const password of PASSWORDS) {
        it(`logs in through PgBouncer with a password like ${JSON.stringify(password)}, over TLS to the server; a wrong one is refused`, async (t) => {
            if (!(await setup(t))) return;
            setPassword(password);
            const userlist = fillTemplates(authTemplates(), { databasePassword: password });
            const bouncer = await startPgBouncer(userlist[USERLIST_KEY]);
            try {
                assert.equal(
                    psql(through(), "SELECT current_user || ' ' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", password),
                    "authentik true",
                    "PgBouncer's server connection uses TLS",
                );
                assert.throws(() => psql(through(), "SELECT 1", `${password}x`), /password authentication failed|SASL authentication failed/);
                // The exporter's DSN, as rendered (port rewritten), reaches the admin console with no password.
                assert.match(psql(exporterDsn(), "SHOW LISTS"), /^databases\|\d+$/m);
            } finally {
                bouncer.kill();
            }
        });
    }

    it("works the same with the ExternalSecret's template, rendered as External Secrets Operator renders it", async (t) => {
        if (!(await setup(t))) return;
        const eso = realTool(t, "esotemplate", "ESO_TEMPLATE", "go build ./tests/support/esotemplate, as .ci/run does");
        if (!eso) return;
        const password = PASSWORDS[PASSWORDS.length - 1];
        setPassword(password);
        const manifest = externalSecretManifest({
            name: "pgbouncer-auth",
            namespace: "authentik",
            labels: {},
            secretType: "Opaque",
            templates: authTemplates(),
            refs: { databasePassword: { item: "authentik", field: "db" } },
            store: "onepassword-connect",
            refreshInterval: "1h",
        });
        const renderEso = (databasePassword: string) =>
            JSON.parse(
                execFileSync(eso, { input: JSON.stringify({ templates: manifest.spec.target.template.data, data: { databasePassword } }), encoding: "utf8" }),
            ) as Record<string, string>;
        for (const p of PASSWORDS)
            assert.deepEqual(
                renderEso(p),
                fillTemplates(authTemplates(), { databasePassword: p }),
                `both render paths write the same bytes for ${JSON.stringify(p)}`,
            );
        const rendered = renderEso(password);
        const bouncer = await startPgBouncer(rendered[USERLIST_KEY]);
        try {
            assert.equal(psql(through(), "SELECT current_user", password), "authentik");
        } finally {
            bouncer.kill();
        }
    });

    it("verifies the server's certificate: a server signed by another CA is refused", async (t) => {
        if (!(await setup(t))) return;
        setPassword("verify-check-1");
        const bouncer = await startPgBouncer(fillTemplates(authTemplates(), { databasePassword: "verify-check-1" })[USERLIST_KEY], `${dir}/other-ca.crt`);
        try {
            assert.throws(() => psql(through(), "SELECT 1", "verify-check-1"), /server login|SSL|certificate|closed the connection/i);
        } finally {
            bouncer.kill();
        }
    });

    it("keeps the admin console from the database owner: only the stats user, only from loopback", async (t) => {
        if (!(await setup(t))) return;
        setPassword("stats-check-1");
        const bouncer = await startPgBouncer(fillTemplates(authTemplates(), { databasePassword: "stats-check-1" })[USERLIST_KEY]);
        try {
            assert.throws(
                () => psql(`host=127.0.0.1 port=${bouncerPort} dbname=pgbouncer user=authentik sslmode=disable`, "SHOW CONFIG", "stats-check-1"),
                /not allowed|admin/i,
            );
            assert.throws(() => psql(exporterDsn(), "SET default_pool_size = 1"), /admin access needed|not allowed/i, "stats only: no admin command");
        } finally {
            bouncer.kill();
        }
    });

    it("sets the pool where the capacity model says", async (t) => {
        if (!(await setup(t))) return;
        setPassword("pool-check-1");
        const userlist = fillTemplates(authTemplates(), { databasePassword: "pool-check-1" });
        const bouncer = await startPgBouncer(userlist[USERLIST_KEY]);
        try {
            const settings = Object.fromEntries(
                psql(exporterDsn(), "SHOW CONFIG")
                    .split("\n")
                    .map((l) => l.split("|").slice(0, 2)),
            );
            assert.deepEqual(
                [settings.default_pool_size, settings.reserve_pool_size, settings.max_client_conn, settings.pool_mode, settings.server_tls_sslmode],
                ["45", "3", "400", "session", "verify-full"],
            );
            const model = capacityOf(config).connections;
            assert.equal(Number(settings.default_pool_size), model.poolNeededPerPod, "the pool the spread needs");
            assert.equal(Number(settings.default_pool_size) + Number(settings.reserve_pool_size), model.poolPerPod);
        } finally {
            bouncer.kill();
        }
    });
});
