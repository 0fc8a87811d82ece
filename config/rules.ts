/** Rules across fields. Each names the key, the value and the fix. */
import { capacityProblems } from "./capacity";
import { formatBytes, parsePgMemory, parseQuantity } from "../lib/units";
import { coveredAddresses, parseCidr } from "../lib/cidr";
import { authentikUrl, httpsOnlyOverrides, serverServiceUrl } from "./ingress";
import { IssueLog } from "./schema";
import { adminCredential, credentialsInUse, expectedChartDigest, outpostOfApp, usesApi } from "./derived";
import { CREDENTIAL_NAMES, CredentialName, key } from "./fields";
import { StackConfig } from "./stack";

/** A secure key no credential reads (e.g. `bootstrapToken` set while its source is "generate"). */
export function unreadSecret(c: StackConfig, name: CredentialName, log: IssueLog): void {
    const source = c.credentials[name];
    if (!credentialsInUse(c).includes(name)) {
        log.add(
            key(name),
            "[secret]",
            `is set, but this stack uses no ${name} (see credentials.${name} in the configuration reference)`,
            `pulumi config rm ${name}`,
        );
    } else if (source?.kind !== "config") {
        const from = source?.kind === "onepassword" ? "1Password" : (source?.kind ?? "unset");
        log.add(
            key(name),
            "[secret]",
            `is set, but credentials.${name} is ${JSON.stringify(from)}, so nothing reads it`,
            `set credentials.${name}: config to use this value, or pulumi config rm ${name}`,
        );
    }
}

export function validateRules(c: StackConfig, log: IssueLog): void {
    const pg = c.pgbouncer;
    if (pg.minAvailable >= pg.replicas) {
        log.add(
            key("pgbouncer.minAvailable"),
            pg.minAvailable,
            `must be below pgbouncer.replicas (${pg.replicas}), or no PgBouncer pod can ever be evicted and node drains hang`,
            `set pgbouncer.minAvailable to at most ${pg.replicas - 1}, or raise pgbouncer.replicas`,
        );
    }

    for (const [path, r] of [
        ["database.resources", c.database.resources],
        ["pgbouncer.resources", pg.resources],
        ["authentik.server.resources", c.authentik.server.resources],
        ["authentik.worker.resources", c.authentik.worker.resources],
    ] as const) {
        if (parseQuantity(r.memoryRequest)! > parseQuantity(r.memoryLimit)!) {
            log.add(
                key(`${path}.memoryRequest`),
                r.memoryRequest,
                `is above the memory limit ${r.memoryLimit}`,
                `set ${path}.memoryRequest to at most ${r.memoryLimit}`,
            );
        }
    }

    const buffers = parsePgMemory(c.database.sharedBuffers)!;
    const limit = parseQuantity(c.database.resources.memoryLimit)!;
    if (buffers >= limit) {
        log.add(
            key("database.sharedBuffers"),
            c.database.sharedBuffers,
            `is not below the PostgreSQL memory limit ${c.database.resources.memoryLimit}: the instance would be OOM-killed`,
            `set database.sharedBuffers to about 25% of the limit (${formatBytes(Math.floor(limit / 4))}B in PostgreSQL units is ${Math.floor(limit / 4 / 2 ** 20)}MB), or raise database.resources.memoryLimit`,
        );
    }

    if (pg.poolMode === "transaction" && !(c.authentik.database.usePgbouncer || c.authentik.database.disableServerSideCursors)) {
        log.add(
            key("pgbouncer.poolMode"),
            pg.poolMode,
            "transaction pooling breaks authentik's server-side cursors and persistent connections",
            "keep poolMode session, or set authentik.database.usePgbouncer: true (authentik then disables server-side cursors)",
        );
    }

    const backup = c.database.backup;
    if (backup?.method === "objectStore" && !backup.objectStore) {
        log.add(key("database.backup.objectStore"), undefined, "is required for method objectStore", "set destinationPath and credentialsSecret");
    }
    if (backup?.method === "volumeSnapshot" && !backup.volumeSnapshotClass) {
        log.add(
            key("database.backup.volumeSnapshotClass"),
            undefined,
            "is required for method volumeSnapshot",
            "set it to a VolumeSnapshotClass of your CSI driver",
        );
    }

    const boot = c.database.bootstrap;
    if (boot.mode === "import") {
        if (!boot.source)
            log.add(
                key("database.bootstrap.source"),
                undefined,
                "is required for mode import",
                "set host (and port, database, user, sslMode) of the PostgreSQL to import from",
            );
        if (!c.credentials.importSourcePassword) {
            log.add(
                key("credentials.importSourcePassword"),
                undefined,
                "is required for database.bootstrap.mode import",
                'set it to "config" (pulumi config set --secret importSourcePassword …) or {onepassword: {item, field}}',
            );
        }
    }
    if (boot.mode !== "import" && boot.source)
        log.add(
            key("database.bootstrap.source"),
            boot.source,
            `is only used by mode import, not ${boot.mode}`,
            "remove it, or set database.bootstrap.mode: import",
        );
    if (boot.mode === "recovery" && backup?.method !== "objectStore") {
        log.add(
            key("database.bootstrap.mode"),
            "recovery",
            "recovers from the object store of database.backup, and there is none",
            "configure database.backup with method objectStore (the store the old cluster backed up to)",
        );
    }

    validateAuthentik(c, log);
    validateApps(c, log);
    validateCredentials(c, log);
    for (const p of capacityProblems(c)) log.add(key(p.key), p.value, p.problem, p.fix);
}

function validateAuthentik(c: StackConfig, log: IssueLog): void {
    const a = c.authentik;
    if (a.server.minAvailable >= a.server.replicas) {
        log.add(
            key("authentik.server.minAvailable"),
            a.server.minAvailable,
            `must be below authentik.server.replicas (${a.server.replicas}), or node drains hang`,
            `set it to at most ${a.server.replicas - 1}, or raise authentik.server.replicas`,
        );
    }
    if (a.worker.maxUnavailable >= a.worker.replicas) {
        log.add(
            key("authentik.worker.maxUnavailable"),
            a.worker.maxUnavailable,
            `lets every worker (${a.worker.replicas}) be evicted at once: background tasks and outpost syncs stop`,
            a.worker.replicas > 1 ? `set it to at most ${a.worker.replicas - 1}` : "raise authentik.worker.replicas to 2 or more",
        );
    }
    const db = a.database;
    if (c.pgbouncer.poolMode === "transaction" && db.connMaxAge > 0) {
        log.add(
            key("authentik.database.connMaxAge"),
            db.connMaxAge,
            "persistent connections are only safe with session pooling; in transaction pooling each query may land on another server connection",
            "set authentik.database.connMaxAge to 0, or use pgbouncer.poolMode session",
        );
    }
    // In session pooling server_idle_timeout never closes a connection a client holds; an idle client
    // connection is closed by client_idle_timeout, and authentik must drop it first.
    const idle = c.pgbouncer.clientIdleTimeout;
    if (idle > 0 && db.connMaxAge >= idle) {
        log.add(
            key("authentik.database.connMaxAge"),
            db.connMaxAge,
            `must be below PgBouncer's client_idle_timeout (${idle}s), or PgBouncer closes connections authentik still holds and its next query on one fails`,
            `set it below ${idle}, e.g. ${Math.min(60, idle - 1)}, or raise pgbouncer.clientIdleTimeout (0 disables it)`,
        );
    }
    if (a.media && a.media.accessMode !== "ReadWriteMany") {
        log.add(
            key("authentik.media.accessMode"),
            a.media.accessMode,
            "the media volume is mounted by server and worker pods on different nodes: anything but ReadWriteMany ends in Multi-Attach errors and stuck pods",
            "set it to ReadWriteMany with a StorageClass that supports it (authentik.media.storageClass)",
        );
    }
    if (a.email && !c.credentials.smtpPassword) {
        log.add(
            key("credentials.smtpPassword"),
            undefined,
            "is required when authentik.email is set",
            'set credentials.smtpPassword to "config" (with pulumi config set --secret smtpPassword …) or {onepassword: {item, field}}',
        );
    }
}

function duplicates(values: string[]): string[] {
    return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

function validateApps(c: StackConfig, log: IssueLog): void {
    const consumers = c.consumers.map((x) => x.name);
    for (const d of duplicates(consumers)) log.add(key(`consumers[${consumers.lastIndexOf(d)}].name`), d, "is listed twice", "list each consuming stack once");
    const groups = new Set(c.groups.map((g) => g.name));
    for (const d of duplicates(c.groups.map((g) => g.name))) log.add(key("groups"), d, "names a group twice", "keep one entry per group");
    const radiusName = c.outposts.radius?.name;
    // The RADIUS provider and application are named after the outpost: they share both namespaces.
    const radiusNames = radiusName ? [radiusName] : [];
    const providerNames = [...c.apps.map((a) => a.name), ...radiusNames];
    for (const d of duplicates(providerNames)) {
        log.add(
            key("apps"),
            d,
            "is used by two apps (or an app and the RADIUS provider); provider names are unique across all provider kinds in authentik",
            "give each app its own name",
        );
    }
    for (const d of duplicates([...c.apps.map((a) => a.slug), ...radiusNames]))
        log.add(key("apps"), d, "is the slug of two applications", "give each app its own slug");
    c.apps.forEach((a, i) => {
        const at = (field: string) => key(`apps[${i}].${field}`);
        if (a.mode === "proxy" && !a.upstream)
            log.add(
                at("upstream"),
                undefined,
                "is required for mode proxy (authentik forwards to it)",
                "set it to the app's in-cluster URL, e.g. http://app.ns.svc.cluster.local:8080",
            );
        if (a.mode !== "proxy" && a.upstream) log.add(at("upstream"), a.upstream, `is only used by mode proxy, not ${a.mode}`, "remove it, or use mode proxy");
        if (a.mode === "forward_domain" && !a.cookieDomain)
            log.add(
                at("cookieDomain"),
                undefined,
                "is required for mode forward_domain",
                "set it to the parent domain of the protected hosts, e.g. example.com",
            );
        if (a.mode !== "forward_domain" && a.cookieDomain)
            log.add(at("cookieDomain"), a.cookieDomain, `is only used by mode forward_domain, not ${a.mode}`, "remove it, or use mode forward_domain");
        if (a.mode === "forward_domain" && a.cookieDomain && !a.host.endsWith(`.${a.cookieDomain}`)) {
            log.add(
                at("host"),
                a.host,
                `is not inside the cookie domain ${a.cookieDomain}, so the session cookie would not reach it`,
                `use a host under ${a.cookieDomain}`,
            );
        }
        if (a.mode === "oidc" && a.redirectUris.length === 0)
            log.add(at("redirectUris"), [], "is required for mode oidc", "list the app's callback URLs, e.g. https://grafana.example.com/login/generic_oauth");
        if (a.mode !== "oidc" && a.redirectUris.length > 0)
            log.add(at("redirectUris"), a.redirectUris, `is only used by mode oidc, not ${a.mode}`, "remove it");
        if (a.mode !== "oidc" && a.outpost === "proxy" && !c.outposts.proxy.enabled)
            log.add(
                at("outpost"),
                a.outpost,
                "uses the dedicated proxy outpost, which is not enabled",
                "set outposts.proxy.enabled: true, or outpost: embedded",
            );
        if (a.renamedFrom.includes(a.slug)) log.add(at("renamedFrom"), a.slug, "lists the app's current slug", "list only slugs the app had before");
        for (const old of a.renamedFrom) {
            if (c.apps.some((other) => other !== a && other.slug === old))
                log.add(
                    at("renamedFrom"),
                    old,
                    "is the slug of another app in this stack",
                    "a slug belongs to one app: remove it here, or rename the other app",
                );
        }
        for (const g of a.groups) if (!groups.has(g)) log.add(at("groups"), g, "is not a group of this stack", `add {name: ${g}} to groups, or remove it here`);
    });
    if (c.outposts.proxy.enabled && !c.apps.some((a) => outpostOfApp(a) === "proxy")) {
        log.add(
            key("outposts.proxy.enabled"),
            true,
            'enables the dedicated proxy outpost, but no app is on it (authentik refuses an outpost without providers: "This list may not be empty.")',
            "set outposts.proxy.enabled: false (the outpost is then deleted), or give an app outpost: proxy",
        );
    }
    const radius = c.outposts.radius;
    if (radius) {
        if (radius.clientNetworks.length === 0)
            log.add(
                key("outposts.radius.clientNetworks"),
                [],
                "is empty: no client could reach RADIUS",
                "list your NAS/access point networks, e.g. 10.0.10.0/24",
            );
        validateClientNetworks(radius.clientNetworks, log);
        for (const g of radius.groups)
            if (!groups.has(g)) log.add(key("outposts.radius.groups"), g, "is not a group of this stack", `add {name: ${g}} to groups`);
    }
    validateApiTransport(c, log);
    if (!expectedChartDigest(c)) {
        log.add(
            key("authentik.chartVersion"),
            c.authentik.chartVersion,
            "has no recorded digest: this program was not tested with it, and could not check the chart the repository serves before installing it",
            `use a tested version, or set authentik.chartDigest (helm pull authentik --repo https://charts.goauthentik.io --version ${c.authentik.chartVersion} --untar; (echo authentik/values.yaml; find authentik/templates -type f) | LC_ALL=C sort | xargs sha256sum | sha256sum)`,
        );
    }
    validateRedirects(c, log);
    for (const o of httpsOnlyOverrides(c)) {
        log.add(key(`authentik.ingress.annotations.${o.annotation}`), o.value, o.problem, o.fix);
    }
    const admin = adminCredential(c);
    // The settings that chose the admin credential, as the operator wrote them.
    const chosenBy = `api.token: ${c.api.token}${c.api.token === "scoped" ? `, api.admin: ${c.api.admin}` : ""}`;
    if (!c.authentik.bootstrapCredentials && admin === "bootstrapToken") {
        log.add(
            key("authentik.bootstrapCredentials"),
            false,
            `drops the bootstrap token, which the program still uses (${chosenBy})`,
            "after one pulumi up with api.token: scoped, set api.admin: none as well (or api.admin: apiToken with credentials.apiToken), or keep bootstrapCredentials: true",
        );
    }
    if (admin) {
        const source = c.credentials[admin];
        if (!source) {
            log.add(key(`credentials.${admin}`), undefined, `is required (${chosenBy})`, 'set it to "config" or {onepassword: {item, field}}');
        } else if (source.kind === "onepassword" && c.onepassword.mode === "external-secrets") {
            log.add(
                key(`credentials.${admin}`),
                source,
                "is resolved only inside the cluster (external-secrets mode), but the program needs it to call authentik's API",
                'use "generate"/"config" for it, or onepassword.mode: provider',
            );
        }
    }
}
/** The API tokens travel only over HTTPS, or over HTTP to the in-cluster server Service. */
function validateApiTransport(c: StackConfig, log: IssueLog): void {
    if (!usesApi(c)) return;
    const inCluster = `the in-cluster service URL (${serverServiceUrl(c)}) from a runner inside the cluster`;
    if (c.api.url?.startsWith("http://") && !/^http:\/\/[^/:]+\.svc\.cluster\.local(:\d+)?\/?$/.test(c.api.url)) {
        log.add(key("api.url"), c.api.url, "sends authentik's API tokens unencrypted over the network", `use https://, or ${inCluster}`);
    } else if (!c.api.url && authentikUrl(c).startsWith("http://")) {
        log.add(
            key("api.url"),
            undefined,
            `is unset, so the API tokens would go to ${authentikUrl(c)}: authentik is served without TLS (neither authentik.ingress.clusterIssuer nor authentik.ingress.tlsSecret is set)`,
            `set authentik.ingress.clusterIssuer (or tlsSecret), or set api.url to an https:// URL, or ${inCluster}`,
        );
    }
}

/**
 * What a redirect URI may not be: a script, inline data or a local file. authentik itself refuses
 * javascript:, data: and vbscript: at authorization time (FORBIDDEN_URI_SCHEMES,
 * authentik/providers/oauth2/views/authorize.py); the plan refuses them, and file: and blob:, before.
 */
const UNSAFE_SCHEMES = ["javascript:", "data:", "vbscript:", "file:", "blob:"];
/**
 * authentik matches a regex redirect against the whole URL (re.fullmatch, authorize.py), so anchors
 * are optional; what keeps codes at the app is a literal scheme and host: escaped dots, no
 * wildcard, class or group before the path, and no top-level `|` that starts another URL.
 */
const SAFE_REDIRECT_REGEX = /^\^?https?:\/\/(?:[a-z0-9-]|\\\.)+(?::\d+)?(?:\/.*)?\$?$/;

/** Whether a `|` stands outside every group (escaped characters and character classes skipped). */
function topLevelAlternation(pattern: string): boolean {
    let depth = 0;
    let inClass = false;
    for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i];
        if (ch === "\\") i++;
        else if (inClass) inClass = ch !== "]";
        else if (ch === "[") inClass = true;
        else if (ch === "(") depth++;
        else if (ch === ")") depth--;
        else if (ch === "|" && depth === 0) return true;
    }
    return false;
}

function validateRedirects(c: StackConfig, log: IssueLog): void {
    c.apps.forEach((a, i) => {
        for (const uri of a.redirectUris) {
            const at = key(`apps[${i}].redirectUris`);
            if (uri.startsWith("regex:")) {
                const pattern = uri.slice("regex:".length);
                let compiles = true;
                try {
                    new RegExp(pattern);
                } catch {
                    compiles = false;
                }
                if (!compiles || !SAFE_REDIRECT_REGEX.test(pattern) || /^\^?https?:\/\/\\\./.test(pattern) || topLevelAlternation(pattern)) {
                    log.add(
                        at,
                        uri,
                        "is a regex that could match a host other than the app's (authentik matches it against the whole redirect URL)",
                        `write the scheme and host literally, dots escaped, e.g. regex:https://${a.host.replace(/\./g, "\\.")}/login/.*`,
                    );
                }
            } else if (!URL.canParse(uri) || UNSAFE_SCHEMES.includes(new URL(uri).protocol) || /\s/.test(uri)) {
                log.add(
                    at,
                    uri,
                    "is not a redirect URL authentik may send an authorization code to",
                    `use the app's absolute callback URL, e.g. https://${a.host}/login/generic_oauth`,
                );
            }
        }
    });
}

const WHOLE = { 4: 1n << 32n, 6: 1n << 128n } as const;
/** The most addresses RADIUS may answer together: a /8 of IPv4 (10.0.0.0/8), all unique-local IPv6 (fc00::/7). */
const LIMIT = { 4: { addresses: 1n << 24n, size: "/8" }, 6: { addresses: 1n << 121n, size: "/7" } } as const;

/** RADIUS answers only the networks listed: real CIDRs that together stay within the limits above. */
function validateClientNetworks(networks: string[], log: IssueLog): void {
    const at = key("outposts.radius.clientNetworks");
    const parsed = networks.map((text) => ({ text, net: parseCidr(text) }));
    for (const p of parsed) {
        if (!p.net) log.add(at, p.text, "is not a CIDR network", "write it as address/prefix, e.g. 10.0.10.0/24 or fd00:10::/64");
        else if (p.net.last - p.net.first + 1n === WHOLE[p.net.family])
            log.add(at, p.text, "lets every network on earth talk to RADIUS (the seeds' mistake)", "list only your NAS/access point networks");
    }
    for (const family of [4, 6] as const) {
        const mine = parsed.filter((p) => p.net?.family === family);
        const covered = coveredAddresses(
            mine.map((p) => p.net!),
            family,
        );
        if (covered > LIMIT[family].addresses && !mine.some((p) => p.net!.last - p.net!.first + 1n === WHOLE[family])) {
            log.add(
                at,
                mine.map((p) => p.text),
                `together cover ${covered} IPv${family} addresses, more than a ${LIMIT[family].size}: a large part of the internet could talk to RADIUS`,
                "list only your NAS/access point networks, e.g. 10.0.10.0/24",
            );
        }
    }
}

function validateCredentials(c: StackConfig, log: IssueLog): void {
    for (const name of CREDENTIAL_NAMES) {
        const source = c.credentials[name];
        if (!source) continue;
        if (source.kind === "config" && !c.secretConfigKeys.includes(name)) {
            log.add(
                key(name),
                undefined,
                `is missing: credentials.${name} says "config" but the secure key is not set`,
                `pulumi config set --secret ${name} <value>`,
            );
        }
        if (source.kind === "onepassword" && c.onepassword.mode === "none") {
            log.add(
                key(`credentials.${name}`),
                source,
                "comes from 1Password but onepassword.mode is none",
                'set onepassword.mode to "provider" or "external-secrets"',
            );
        }
    }
    if (c.onepassword.mode === "provider" && !c.onepassword.vault) {
        log.add(key("onepassword.vault"), undefined, "is required in provider mode", "set it to the vault's UUID (op vault list)");
    }
    if (c.onepassword.writeBack && c.onepassword.mode !== "provider") {
        log.add(
            key("onepassword.writeBack"),
            true,
            "needs onepassword.mode provider (writing items goes through the 1Password provider)",
            "set onepassword.mode: provider, or writeBack: false",
        );
    }
}
