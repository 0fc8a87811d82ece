/**
 * Every rule across fields, as the user reads it: the key, the value, the problem and the fix,
 * exactly; and the value at each rule's limit that must still pass. Pure: no Pulumi runtime.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ConfigIssue, IssueLog } from "../config/schema";
import { checkOnePasswordProvider, parseKubernetes } from "../config/providers";
import { ConfigBlock, homelab, issuesOf, parse, set } from "./support/helpers";

/** The homelab stack with only these apps (and the dedicated proxy outpost off, since none is on it). */
const withApps = (...apps: Record<string, unknown>[]) => set(set(homelab(), "apps", apps), "outposts.proxy.enabled", false);

type Row = [key: string, value: unknown, problem: string, fix: string];
const oidc = (app: Record<string, unknown>) =>
    withApps({ name: "A", slug: "a", mode: "oidc", host: "a.homelab.example", redirectUris: ["https://a.homelab.example/cb"], ...app });
const withGroup = (name: string) => {
    const block = homelab();
    (block["authentik-platform:groups"] as unknown[]).push({ name });
    return block;
};
const rows = (issues: ConfigIssue[]): Row[] => issues.map((i) => [i.key.replace(/^authentik-platform:/, ""), i.value ?? null, i.problem, i.fix]);

const REJECTED: [string, () => ConfigBlock, Row[]][] = [
    [
        "PgBouncer's budget lets a node drain",
        () => set(homelab(), "pgbouncer.minAvailable", 3),
        [
            [
                "pgbouncer.minAvailable",
                3,
                "must be below pgbouncer.replicas (3), or no PgBouncer pod can ever be evicted and node drains hang",
                "set pgbouncer.minAvailable to at most 2, or raise pgbouncer.replicas",
            ],
        ],
    ],
    [
        "a memory request above its limit",
        () => set(homelab(), "pgbouncer.resources.memoryRequest", "513Mi"),
        [["pgbouncer.resources.memoryRequest", "513Mi", "is above the memory limit 512Mi", "set pgbouncer.resources.memoryRequest to at most 512Mi"]],
    ],
    [
        "shared_buffers equal to the memory limit",
        () => set(homelab(), "database.sharedBuffers", "3GB"),
        [
            [
                "database.sharedBuffers",
                "3GB",
                "is not below the PostgreSQL memory limit 3Gi: the instance would be OOM-killed",
                "set database.sharedBuffers to about 25% of the limit (768MiB in PostgreSQL units is 768MB), or raise database.resources.memoryLimit",
            ],
        ],
    ],
    [
        "transaction pooling without telling authentik",
        () => set(set(homelab(), "pgbouncer.poolMode", "transaction"), "authentik.database.connMaxAge", 0),
        [
            [
                "pgbouncer.poolMode",
                "transaction",
                "transaction pooling breaks authentik's server-side cursors and persistent connections",
                "keep poolMode session, or set authentik.database.usePgbouncer: true (authentik then disables server-side cursors)",
            ],
        ],
    ],
    [
        "a backup method without its target (object store)",
        () => set(homelab(), "database.backup", { method: "objectStore" }),
        [["database.backup.objectStore", null, "is required for method objectStore", "set destinationPath and credentialsSecret"]],
    ],
    [
        "a backup method without its target (volume snapshots)",
        () => set(homelab(), "database.backup", { method: "volumeSnapshot" }),
        [["database.backup.volumeSnapshotClass", null, "is required for method volumeSnapshot", "set it to a VolumeSnapshotClass of your CSI driver"]],
    ],
    [
        "an import without its source or its password",
        () => set(homelab(), "database.bootstrap", { mode: "import" }),
        [
            ["database.bootstrap.source", null, "is required for mode import", "set host (and port, database, user, sslMode) of the PostgreSQL to import from"],
            [
                "credentials.importSourcePassword",
                null,
                "is required for database.bootstrap.mode import",
                'set it to "config" (pulumi config set --secret importSourcePassword …) or {onepassword: {item, field}}',
            ],
        ],
    ],
    [
        "a source for a mode that reads none",
        () => set(homelab(), "database.bootstrap", { mode: "initdb", source: { host: "old-db.example" } }),
        [
            [
                "database.bootstrap.source",
                { host: "old-db.example", port: 5432, database: "authentik", user: "authentik", sslMode: "require" },
                "is only used by mode import, not initdb",
                "remove it, or set database.bootstrap.mode: import",
            ],
        ],
    ],
    [
        "a recovery without an object store",
        () => set(set(homelab(), "database.backup", { method: "volumeSnapshot", volumeSnapshotClass: "csi" }), "database.bootstrap", { mode: "recovery" }),
        [
            [
                "database.bootstrap.mode",
                "recovery",
                "recovers from the object store of database.backup, and there is none",
                "configure database.backup with method objectStore (the store the old cluster backed up to)",
            ],
        ],
    ],
    [
        "the server's budget",
        () => set(homelab(), "authentik.server.minAvailable", 3),
        [
            [
                "authentik.server.minAvailable",
                3,
                "must be below authentik.server.replicas (3), or node drains hang",
                "set it to at most 2, or raise authentik.server.replicas",
            ],
        ],
    ],
    [
        "the worker's budget, with more than one worker",
        () => set(homelab(), "authentik.worker.maxUnavailable", 3),
        [["authentik.worker.maxUnavailable", 3, "lets every worker (3) be evicted at once: background tasks and outpost syncs stop", "set it to at most 2"]],
    ],
    [
        "the worker's budget, with one worker",
        () => set(set(homelab(), "authentik.worker.replicas", 1), "authentik.worker.maxUnavailable", 1),
        [
            [
                "authentik.worker.maxUnavailable",
                1,
                "lets every worker (1) be evicted at once: background tasks and outpost syncs stop",
                "raise authentik.worker.replicas to 2 or more",
            ],
        ],
    ],
    [
        "persistent connections under transaction pooling",
        () => set(set(homelab(), "pgbouncer.poolMode", "transaction"), "authentik.database.usePgbouncer", true),
        [
            [
                "authentik.database.connMaxAge",
                60,
                "persistent connections are only safe with session pooling; in transaction pooling each query may land on another server connection",
                "set authentik.database.connMaxAge to 0, or use pgbouncer.poolMode session",
            ],
        ],
    ],
    [
        "conn_max_age equal to PgBouncer's client_idle_timeout",
        () => set(homelab(), "pgbouncer.clientIdleTimeout", 60),
        [
            [
                "authentik.database.connMaxAge",
                60,
                "must be below PgBouncer's client_idle_timeout (60s), or PgBouncer closes connections authentik still holds and its next query on one fails",
                "set it below 60, e.g. 59, or raise pgbouncer.clientIdleTimeout (0 disables it)",
            ],
        ],
    ],
    [
        "conn_max_age above a long client_idle_timeout",
        () => set(set(homelab(), "pgbouncer.clientIdleTimeout", 300), "authentik.database.connMaxAge", 600),
        [
            [
                "authentik.database.connMaxAge",
                600,
                "must be below PgBouncer's client_idle_timeout (300s), or PgBouncer closes connections authentik still holds and its next query on one fails",
                "set it below 300, e.g. 60, or raise pgbouncer.clientIdleTimeout (0 disables it)",
            ],
        ],
    ],
    [
        "conn_max_age with a one-second client_idle_timeout",
        () => set(homelab(), "pgbouncer.clientIdleTimeout", 1),
        [
            [
                "authentik.database.connMaxAge",
                60,
                "must be below PgBouncer's client_idle_timeout (1s), or PgBouncer closes connections authentik still holds and its next query on one fails",
                "set it below 1, e.g. 0, or raise pgbouncer.clientIdleTimeout (0 disables it)",
            ],
        ],
    ],
    [
        "a media volume only one node can mount",
        () => set(homelab(), "authentik.media", { accessMode: "ReadWriteOnce" }),
        [
            [
                "authentik.media.accessMode",
                "ReadWriteOnce",
                "the media volume is mounted by server and worker pods on different nodes: anything but ReadWriteMany ends in Multi-Attach errors and stuck pods",
                "set it to ReadWriteMany with a StorageClass that supports it (authentik.media.storageClass)",
            ],
        ],
    ],
    [
        "email without its password",
        () => set(set(homelab(), "authentik.email", { host: "smtp.example", username: "u", from: "a@example.com" }), "credentials.smtpPassword", undefined),
        [
            [
                "credentials.smtpPassword",
                null,
                "is required when authentik.email is set",
                'set credentials.smtpPassword to "config" (with pulumi config set --secret smtpPassword …) or {onepassword: {item, field}}',
            ],
        ],
    ],
    [
        "a consumer listed twice",
        () => set(homelab(), "consumers", [{ name: "wiki" }, { name: "blog" }, { name: "wiki" }]),
        [["consumers[2].name", "wiki", "is listed twice", "list each consuming stack once"]],
    ],
    [
        "a group listed twice",
        () =>
            set(homelab(), "groups", [
                { name: "a" },
                { name: "a" },
                { name: "wifi-users" },
                { name: "homelab-users" },
                { name: "homelab-admins" },
                { name: "media-admins" },
                { name: "grafana-editors" },
            ]),
        [["groups", "a", "names a group twice", "keep one entry per group"]],
    ],
    [
        "an app named like the RADIUS provider",
        () => withApps({ name: "radius", slug: "radius", mode: "forward_single", host: "r.homelab.example" }),
        [
            [
                "apps",
                "radius",
                "is used by two apps (or an app and the RADIUS provider); provider names are unique across all provider kinds in authentik",
                "give each app its own name",
            ],
            ["apps", "radius", "is the slug of two applications", "give each app its own slug"],
        ],
    ],
    [
        "two apps with one slug",
        () =>
            withApps(
                { name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example" },
                { name: "B", slug: "a", mode: "forward_single", host: "b.homelab.example" },
            ),
        [["apps", "a", "is the slug of two applications", "give each app its own slug"]],
    ],
    [
        "a proxy app without upstream",
        () => withApps({ name: "A", slug: "a", mode: "proxy", host: "a.homelab.example" }),
        [
            [
                "apps[0].upstream",
                null,
                "is required for mode proxy (authentik forwards to it)",
                "set it to the app's in-cluster URL, e.g. http://app.ns.svc.cluster.local:8080",
            ],
        ],
    ],
    [
        "an upstream on a forward app",
        () => withApps({ name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", upstream: "http://a.a.svc.cluster.local" }),
        [["apps[0].upstream", "http://a.a.svc.cluster.local", "is only used by mode proxy, not forward_single", "remove it, or use mode proxy"]],
    ],
    [
        "forward_domain without cookie domain",
        () => withApps({ name: "A", slug: "a", mode: "forward_domain", host: "a.homelab.example" }),
        [["apps[0].cookieDomain", null, "is required for mode forward_domain", "set it to the parent domain of the protected hosts, e.g. example.com"]],
    ],
    [
        "a host outside the cookie domain",
        () => withApps({ name: "A", slug: "a", mode: "forward_domain", host: "homelab.example", cookieDomain: "homelab.example" }),
        [
            [
                "apps[0].host",
                "homelab.example",
                "is not inside the cookie domain homelab.example, so the session cookie would not reach it",
                "use a host under homelab.example",
            ],
        ],
    ],
    [
        "a cookie domain on an app that sets no cookie for a domain",
        () => withApps({ name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", cookieDomain: "example.com" }),
        [["apps[0].cookieDomain", "example.com", "is only used by mode forward_domain, not forward_single", "remove it, or use mode forward_domain"]],
    ],
    [
        "oidc without redirect URIs",
        () => withApps({ name: "A", slug: "a", mode: "oidc", host: "a.homelab.example" }),
        [["apps[0].redirectUris", [], "is required for mode oidc", "list the app's callback URLs, e.g. https://grafana.example.com/login/generic_oauth"]],
    ],
    [
        "redirect URIs on a forward app",
        () => withApps({ name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", redirectUris: ["https://a.homelab.example/cb"] }),
        [["apps[0].redirectUris", ["https://a.homelab.example/cb"], "is only used by mode oidc, not forward_single", "remove it"]],
    ],
    [
        "the dedicated outpost when it is off",
        () => set(withApps({ name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", outpost: "proxy" }), "outposts.proxy.enabled", false),
        [["apps[0].outpost", "proxy", "uses the dedicated proxy outpost, which is not enabled", "set outposts.proxy.enabled: true, or outpost: embedded"]],
    ],
    [
        "renamedFrom naming the current slug",
        () =>
            withApps(
                { name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", renamedFrom: ["a"] },
                { name: "B", slug: "b", mode: "forward_single", host: "b.homelab.example" },
            ),
        [["apps[0].renamedFrom", "a", "lists the app's current slug", "list only slugs the app had before"]],
    ],
    [
        "renamedFrom naming another app's slug",
        () =>
            withApps(
                { name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", renamedFrom: ["b"] },
                { name: "B", slug: "b", mode: "forward_single", host: "b.homelab.example" },
            ),
        [["apps[0].renamedFrom", "b", "is the slug of another app in this stack", "a slug belongs to one app: remove it here, or rename the other app"]],
    ],
    [
        "an app's unknown group",
        () => withApps({ name: "A", slug: "a", mode: "forward_single", host: "a.homelab.example", groups: ["nobody"] }),
        [["apps[0].groups", "nobody", "is not a group of this stack", "add {name: nobody} to groups, or remove it here"]],
    ],
    [
        "the dedicated outpost with no app on it",
        () => set(homelab(), "apps", []),
        [
            [
                "outposts.proxy.enabled",
                true,
                'enables the dedicated proxy outpost, but no app is on it (authentik refuses an outpost without providers: "This list may not be empty.")',
                "set outposts.proxy.enabled: false (the outpost is then deleted), or give an app outpost: proxy",
            ],
        ],
    ],
    [
        "RADIUS with no client network",
        () => set(homelab(), "outposts.radius.clientNetworks", []),
        [["outposts.radius.clientNetworks", [], "is empty: no client could reach RADIUS", "list your NAS/access point networks, e.g. 10.0.10.0/24"]],
    ],
    [
        "RADIUS open to every IPv4 network",
        () => set(homelab(), "outposts.radius.clientNetworks", ["10.0.10.0/24", "0.0.0.0/0"]),
        [
            [
                "outposts.radius.clientNetworks",
                "0.0.0.0/0",
                "lets every network on earth talk to RADIUS (the seeds' mistake)",
                "list only your NAS/access point networks",
            ],
        ],
    ],
    [
        "RADIUS open to every IPv6 network",
        () => set(homelab(), "outposts.radius.clientNetworks", ["::/0"]),
        [
            [
                "outposts.radius.clientNetworks",
                "::/0",
                "lets every network on earth talk to RADIUS (the seeds' mistake)",
                "list only your NAS/access point networks",
            ],
        ],
    ],
    [
        "RADIUS for an unknown group",
        () => set(homelab(), "outposts.radius.groups", ["nobody"]),
        [["outposts.radius.groups", "nobody", "is not a group of this stack", "add {name: nobody} to groups"]],
    ],
    [
        "an API URL in clear text",
        () => set(homelab(), "api.url", "http://auth.homelab.example"),
        [
            [
                "api.url",
                "http://auth.homelab.example",
                "sends authentik's API tokens unencrypted over the network",
                "use https://, or the in-cluster service URL (http://authentik-server.authentik.svc.cluster.local) from a runner inside the cluster",
            ],
        ],
    ],
    [
        "an API URL in clear text that only starts like the in-cluster one",
        () => set(homelab(), "api.url", "http://authentik-server.authentik.svc.cluster.local.evil.example"),
        [
            [
                "api.url",
                "http://authentik-server.authentik.svc.cluster.local.evil.example",
                "sends authentik's API tokens unencrypted over the network",
                "use https://, or the in-cluster service URL (http://authentik-server.authentik.svc.cluster.local) from a runner inside the cluster",
            ],
        ],
    ],
    [
        "dropping the bootstrap credentials the scoped account is made with",
        () => set(homelab(), "authentik.bootstrapCredentials", false),
        [
            [
                "authentik.bootstrapCredentials",
                false,
                "drops the bootstrap token, which the program still uses (api.token: scoped, api.admin: bootstrap)",
                "after one pulumi up with api.token: scoped, set api.admin: none as well (or api.admin: apiToken with credentials.apiToken), or keep bootstrapCredentials: true",
            ],
        ],
    ],
    [
        "dropping the bootstrap token the program uses for everything",
        () => set(set(homelab(), "api.token", "bootstrap"), "authentik.bootstrapCredentials", false),
        [
            [
                "authentik.bootstrapCredentials",
                false,
                "drops the bootstrap token, which the program still uses (api.token: bootstrap)",
                "after one pulumi up with api.token: scoped, set api.admin: none as well (or api.admin: apiToken with credentials.apiToken), or keep bootstrapCredentials: true",
            ],
        ],
    ],
    [
        "an admin credential that is not set (api.admin)",
        () => set(homelab(), "api.admin", "apiToken"),
        [["credentials.apiToken", null, "is required (api.token: scoped, api.admin: apiToken)", 'set it to "config" or {onepassword: {item, field}}']],
    ],
    [
        "an admin credential that is not set (api.token)",
        () => set(homelab(), "api.token", "apiToken"),
        [["credentials.apiToken", null, "is required (api.token: apiToken)", 'set it to "config" or {onepassword: {item, field}}']],
    ],
    [
        "an admin credential only the cluster can read",
        () => set(homelab(), "credentials.bootstrapToken", { onepassword: { item: "authentik", field: "bootstrap-token" } }),
        [
            [
                "credentials.bootstrapToken",
                { kind: "onepassword", item: "authentik", field: "bootstrap-token" },
                "is resolved only inside the cluster (external-secrets mode), but the program needs it to call authentik's API",
                'use "generate"/"config" for it, or onepassword.mode: provider',
            ],
        ],
    ],
    [
        "a credential from config without its secure key",
        () => set(homelab(), "credentials.databasePassword", "config"),
        [
            [
                "databasePassword",
                null,
                'is missing: credentials.databasePassword says "config" but the secure key is not set',
                "pulumi config set --secret databasePassword <value>",
            ],
        ],
    ],
    [
        "a credential from 1Password with 1Password off",
        () => set(homelab(), "onepassword", { mode: "none" }),
        [
            [
                "credentials.secretKey",
                { kind: "onepassword", item: "authentik", field: "secret-key" },
                "comes from 1Password but onepassword.mode is none",
                'set onepassword.mode to "provider" or "external-secrets"',
            ],
            [
                "credentials.smtpPassword",
                { kind: "onepassword", item: "smtp-relay", field: "password" },
                "comes from 1Password but onepassword.mode is none",
                'set onepassword.mode to "provider" or "external-secrets"',
            ],
        ],
    ],
    [
        "provider mode without a vault",
        () => set(homelab(), "onepassword", { mode: "provider" }),
        [
            [
                "onepassword:serviceAccountToken",
                null,
                "is missing, and so is 1Password Connect (onepassword:url + onepassword:token): onepassword.mode provider cannot read any item",
                "pulumi config set --secret onepassword:serviceAccountToken <token> (needs the op CLI), or set onepassword:url and pulumi config set --secret onepassword:token <token> (or OP_SERVICE_ACCOUNT_TOKEN / OP_CONNECT_HOST + OP_CONNECT_TOKEN in the environment)",
            ],
            ["onepassword.vault", null, "is required in provider mode", "set it to the vault's UUID (op vault list)"],
        ],
    ],
    [
        "write-back without provider mode",
        () => set(homelab(), "onepassword", { mode: "external-secrets", writeBack: true }),
        [
            [
                "onepassword.writeBack",
                true,
                "needs onepassword.mode provider (writing items goes through the 1Password provider)",
                "set onepassword.mode: provider, or writeBack: false",
            ],
        ],
    ],
    [
        "a secure key for a credential the stack does not use",
        () => set(set(homelab(), "database.bootstrap", { mode: "initdb" }), "importSourcePassword", { secure: "v1:abc" }),
        [
            [
                "importSourcePassword",
                "[secret]",
                "is set, but this stack uses no importSourcePassword (see credentials.importSourcePassword in the configuration reference)",
                "pulumi config rm importSourcePassword",
            ],
        ],
    ],
    [
        "a secure key for a credential that is generated",
        () => set(homelab(), "databasePassword", { secure: "v1:abc" }),
        [
            [
                "databasePassword",
                "[secret]",
                'is set, but credentials.databasePassword is "generate", so nothing reads it',
                "set credentials.databasePassword: config to use this value, or pulumi config rm databasePassword",
            ],
        ],
    ],
    [
        "a secure key for a credential read from 1Password",
        () => set(homelab(), "secretKey", { secure: "v1:abc" }),
        [
            [
                "secretKey",
                "[secret]",
                'is set, but credentials.secretKey is "1Password", so nothing reads it',
                "set credentials.secretKey: config to use this value, or pulumi config rm secretKey",
            ],
        ],
    ],
    [
        "a secure key for a credential whose source is unset",
        () =>
            set(
                set(set(homelab(), "authentik.email", { host: "smtp.example", username: "u", from: "a@example.com" }), "credentials.smtpPassword", undefined),
                "smtpPassword",
                { secure: "v1:abc" },
            ),
        [
            [
                "smtpPassword",
                "[secret]",
                'is set, but credentials.smtpPassword is "unset", so nothing reads it',
                "set credentials.smtpPassword: config to use this value, or pulumi config rm smtpPassword",
            ],
            [
                "credentials.smtpPassword",
                null,
                "is required when authentik.email is set",
                'set credentials.smtpPassword to "config" (with pulumi config set --secret smtpPassword …) or {onepassword: {item, field}}',
            ],
        ],
    ],
    // Issue 26: each of these planned with exit 0 before.
    [
        "an image with a space in it",
        () => set(homelab(), "pgbouncer.image", "edoburu/pgbouncer:v1.24.1 --privileged"),
        [
            [
                "pgbouncer.image",
                "edoburu/pgbouncer:v1.24.1 --privileged",
                "is not an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)",
                "use an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)",
            ],
        ],
    ],
    [
        "an image with a newline in it",
        () => set(homelab(), "pgbouncer.image", "edoburu/pgbouncer:v1.24.1\nimage: evil/x:1.0.0"),
        [
            [
                "pgbouncer.image",
                "edoburu/pgbouncer:v1.24.1\nimage: evil/x:1.0.0",
                "is not an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)",
                "use an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)",
            ],
        ],
    ],
    [
        "an image whose tag is a channel after a version",
        () => set(homelab(), "database.imageName", "ghcr.io/cloudnative-pg/postgresql:17.6-latest"),
        [
            [
                "database.imageName",
                "ghcr.io/cloudnative-pg/postgresql:17.6-latest",
                "is not an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)",
                "use an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)",
            ],
        ],
    ],
    [
        "an authentik image tag that is a channel after a version",
        () => set(homelab(), "authentik.imageTag", "2026.8-latest"),
        [
            [
                "authentik.imageTag",
                "2026.8-latest",
                "is not an exact release tag such as 2026.8.3 (never latest, a bare major or a channel such as 2026.8-latest)",
                "use an exact release tag such as 2026.8.3 (never latest, a bare major or a channel such as 2026.8-latest)",
            ],
        ],
    ],
    [
        "a regex redirect URI that matches anything",
        () => oidc({ redirectUris: ["regex:.*"] }),
        [
            [
                "apps[0].redirectUris",
                "regex:.*",
                "is a regex that could match a host other than the app's (authentik matches it against the whole redirect URL)",
                "write the scheme and host literally, dots escaped, e.g. regex:https://a\\.homelab\\.example/login/.*",
            ],
        ],
    ],
    [
        "a regex redirect URI with a wildcard host",
        () => oidc({ redirectUris: ["regex:^https://.*\\.homelab\\.example/cb$"] }),
        [
            [
                "apps[0].redirectUris",
                "regex:^https://.*\\.homelab\\.example/cb$",
                "is a regex that could match a host other than the app's (authentik matches it against the whole redirect URL)",
                "write the scheme and host literally, dots escaped, e.g. regex:https://a\\.homelab\\.example/login/.*",
            ],
        ],
    ],
    [
        "a regex redirect URI with an unescaped dot in the host",
        () => oidc({ redirectUris: ["regex:^https://a.homelab.example/cb$"] }),
        [
            [
                "apps[0].redirectUris",
                "regex:^https://a.homelab.example/cb$",
                "is a regex that could match a host other than the app's (authentik matches it against the whole redirect URL)",
                "write the scheme and host literally, dots escaped, e.g. regex:https://a\\.homelab\\.example/login/.*",
            ],
        ],
    ],
    [
        "a regex redirect URI whose alternation starts another URL",
        () => oidc({ redirectUris: ["regex:https://a\\.homelab\\.example/cb|https://evil\\.example/.*"] }),
        [
            [
                "apps[0].redirectUris",
                "regex:https://a\\.homelab\\.example/cb|https://evil\\.example/.*",
                "is a regex that could match a host other than the app's (authentik matches it against the whole redirect URL)",
                "write the scheme and host literally, dots escaped, e.g. regex:https://a\\.homelab\\.example/login/.*",
            ],
        ],
    ],
    [
        "a javascript: redirect URI",
        () => oidc({ redirectUris: ["javascript:alert(1)//"] }),
        [
            [
                "apps[0].redirectUris",
                "javascript:alert(1)//",
                "is not a redirect URL authentik may send an authorization code to",
                "use the app's absolute callback URL, e.g. https://a.homelab.example/login/generic_oauth",
            ],
        ],
    ],
    [
        "a relative redirect URI",
        () => oidc({ redirectUris: ["/login/cb"] }),
        [
            [
                "apps[0].redirectUris",
                "/login/cb",
                "is not a redirect URL authentik may send an authorization code to",
                "use the app's absolute callback URL, e.g. https://a.homelab.example/login/generic_oauth",
            ],
        ],
    ],
    [
        "a javascript: launch URL and a data: icon",
        () => oidc({ launchUrl: "javascript:alert(document.cookie)", icon: "data:image/svg+xml,<svg onload=alert(1)>" }),
        [
            [
                "apps[0].launchUrl",
                "javascript:alert(document.cookie)",
                "is not an https:// or http:// URL or blank://blank",
                "use an https:// or http:// URL or blank://blank",
            ],
            [
                "apps[0].icon",
                "data:image/svg+xml,<svg onload=alert(1)>",
                "is not an https:// or http:// URL or fa://",
                "use an https:// or http:// URL or fa://",
            ],
        ],
    ],
    [
        "a group name with ::",
        () => withGroup("homelab::admins"),
        [
            [
                "groups[5].name",
                "homelab::admins",
                "is not a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
                "use a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
            ],
        ],
    ],
    [
        "a group name with a quote",
        () => withGroup('homelab "admins"'),
        [
            [
                "groups[5].name",
                'homelab "admins"',
                "is not a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
                "use a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
            ],
        ],
    ],
    [
        "a group name with a newline",
        () => withGroup("homelab\nadmins"),
        [
            [
                "groups[5].name",
                "homelab\nadmins",
                "is not a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
                "use a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
            ],
        ],
    ],
    [
        "a RADIUS name with ::",
        () => set(homelab(), "outposts.radius.name", "radius::x"),
        [
            [
                "outposts.radius.name",
                "radius::x",
                "is not a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
                "use a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
            ],
        ],
    ],
    [
        "an app name with a trailing space",
        () => oidc({ name: "A " }),
        [
            [
                "apps[0].name",
                "A ",
                "is not a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
                "use a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces",
            ],
        ],
    ],
    [
        "RADIUS open to half the internet twice",
        () => set(homelab(), "outposts.radius.clientNetworks", ["0.0.0.0/1", "128.0.0.0/1"]),
        [
            [
                "outposts.radius.clientNetworks",
                ["0.0.0.0/1", "128.0.0.0/1"],
                "together cover 4294967296 IPv4 addresses, more than a /8: a large part of the internet could talk to RADIUS",
                "list only your NAS/access point networks, e.g. 10.0.10.0/24",
            ],
        ],
    ],
    [
        "RADIUS open to more than a /8",
        () => set(homelab(), "outposts.radius.clientNetworks", ["10.0.0.0/8", "192.168.0.0/16"]),
        [
            [
                "outposts.radius.clientNetworks",
                ["10.0.0.0/8", "192.168.0.0/16"],
                "together cover 16842752 IPv4 addresses, more than a /8: a large part of the internet could talk to RADIUS",
                "list only your NAS/access point networks, e.g. 10.0.10.0/24",
            ],
        ],
    ],
    [
        "RADIUS networks that are not CIDRs",
        () => set(homelab(), "outposts.radius.clientNetworks", ["10.0.10.0/33", "10.0.10", "wifi"]),
        [
            ["outposts.radius.clientNetworks", "10.0.10.0/33", "is not a CIDR network", "write it as address/prefix, e.g. 10.0.10.0/24 or fd00:10::/64"],
            ["outposts.radius.clientNetworks", "10.0.10", "is not a CIDR network", "write it as address/prefix, e.g. 10.0.10.0/24 or fd00:10::/64"],
            ["outposts.radius.clientNetworks", "wifi", "is not a CIDR network", "write it as address/prefix, e.g. 10.0.10.0/24 or fd00:10::/64"],
        ],
    ],
    [
        "the API over plain HTTP because authentik has no TLS",
        () => set(homelab(), "authentik.ingress", { className: "traefik" }),
        [
            [
                "api.url",
                null,
                "is unset, so the API tokens would go to http://auth.homelab.example: authentik is served without TLS (neither authentik.ingress.clusterIssuer nor authentik.ingress.tlsSecret is set)",
                "set authentik.ingress.clusterIssuer (or tlsSecret), or set api.url to an https:// URL, or the in-cluster service URL (http://authentik-server.authentik.svc.cluster.local) from a runner inside the cluster",
            ],
        ],
    ],
    [
        "extra Traefik annotations that open plain HTTP",
        () =>
            set(homelab(), "authentik.ingress.annotations", {
                "traefik.ingress.kubernetes.io/router.entrypoints": "web,websecure",
                "traefik.ingress.kubernetes.io/router.tls": "false",
            }),
        [
            [
                "authentik.ingress.annotations.traefik.ingress.kubernetes.io/router.entrypoints",
                "web,websecure",
                "would let authentik's login pages answer over plain HTTP (it overrides the program's HTTPS-only annotation)",
                'remove it: the program sets "websecure" for HTTPS only',
            ],
            [
                "authentik.ingress.annotations.traefik.ingress.kubernetes.io/router.tls",
                "false",
                "would let authentik's login pages answer over plain HTTP (it overrides the program's HTTPS-only annotation)",
                'remove it: the program sets "true" for HTTPS only',
            ],
        ],
    ],
    [
        "an extra Traefik middleware list without HSTS",
        () => set(homelab(), "authentik.ingress.annotations", { "traefik.ingress.kubernetes.io/router.middlewares": "kube-system-ratelimit@kubernetescrd" }),
        [
            [
                "authentik.ingress.annotations.traefik.ingress.kubernetes.io/router.middlewares",
                "kube-system-ratelimit@kubernetescrd",
                "drops the HSTS middleware the program sets, so browsers may go back to plain HTTP",
                'keep it in the list: "authentik-authentik-hsts@kubernetescrd,kube-system-ratelimit@kubernetescrd"',
            ],
        ],
    ],
    [
        "a chart version with no recorded digest",
        () => set(homelab(), "authentik.chartVersion", "2026.10.0"),
        [
            [
                "authentik.chartVersion",
                "2026.10.0",
                "has no recorded digest: this program was not tested with it, and could not check the chart the repository serves before installing it",
                "use a tested version, or set authentik.chartDigest (helm pull authentik --repo https://charts.goauthentik.io --version 2026.10.0 --untar; (echo authentik/values.yaml; find authentik/templates -type f) | LC_ALL=C sort | xargs sha256sum | sha256sum)",
            ],
        ],
    ],
    [
        "ingress-nginx told not to redirect to HTTPS",
        () =>
            set(set(homelab(), "authentik.ingress.className", "nginx"), "authentik.ingress.annotations", {
                "nginx.ingress.kubernetes.io/ssl-redirect": "false",
            }),
        [
            [
                "authentik.ingress.annotations.nginx.ingress.kubernetes.io/ssl-redirect",
                "false",
                "would let authentik's login pages answer over plain HTTP (it overrides the program's HTTPS-only annotation)",
                "remove it: ingress-nginx redirects to HTTPS once TLS is set",
            ],
        ],
    ],
];

const ACCEPTED: [string, () => ConfigBlock][] = [
    ["a PDB minimum one below the replicas", () => set(homelab(), "pgbouncer.minAvailable", 2)],
    ["a memory request equal to its limit", () => set(homelab(), "pgbouncer.resources.memoryRequest", "512Mi")],
    ["shared_buffers just below the memory limit", () => set(homelab(), "database.sharedBuffers", "3071MB")],
    [
        "transaction pooling with authentik told, without persistent connections",
        () => set(set(set(homelab(), "pgbouncer.poolMode", "transaction"), "authentik.database.usePgbouncer", true), "authentik.database.connMaxAge", 0),
    ],
    [
        "transaction pooling with server-side cursors off, without persistent connections",
        () =>
            set(
                set(set(homelab(), "pgbouncer.poolMode", "transaction"), "authentik.database.disableServerSideCursors", true),
                "authentik.database.connMaxAge",
                0,
            ),
    ],
    ["a worker budget one below the replicas", () => set(homelab(), "authentik.worker.maxUnavailable", 2)],
    ["a server budget one below the replicas", () => set(homelab(), "authentik.server.minAvailable", 2)],
    ["conn_max_age one second below client_idle_timeout", () => set(homelab(), "pgbouncer.clientIdleTimeout", 61)],
    ["a shared media volume", () => set(homelab(), "authentik.media", { accessMode: "ReadWriteMany" })],
    ["the in-cluster API URL with its port", () => set(homelab(), "api.url", "http://authentik-server.authentik.svc.cluster.local:9000/")],
    [
        "an OIDC app marked for the dedicated outpost while it is off (OIDC needs no outpost)",
        () => withApps({ name: "A", slug: "a", mode: "oidc", host: "a.homelab.example", outpost: "proxy", redirectUris: ["https://a.homelab.example/cb"] }),
    ],
    [
        "a proxy app with its upstream",
        () => withApps({ name: "A", slug: "a", mode: "proxy", host: "a.homelab.example", upstream: "http://a.a.svc.cluster.local:8080" }),
    ],
    [
        "the admin credential from 1Password in provider mode",
        () =>
            set(
                set(set(homelab(), "onepassword", { mode: "provider", vault: "vault-uuid" }), "onepassword:serviceAccountToken", { secure: "v1:t" }),
                "credentials.bootstrapToken",
                { onepassword: { item: "authentik", field: "bootstrap-token" } },
            ),
    ],
    [
        "write-back in provider mode",
        () =>
            set(set(homelab(), "onepassword", { mode: "provider", vault: "vault-uuid", writeBack: true }), "onepassword:serviceAccountToken", {
                secure: "v1:t",
            }),
    ],
    ["RADIUS for a private network", () => set(homelab(), "outposts.radius.clientNetworks", ["10.0.0.0/8", "fd00::/8"])],
    [
        "RADIUS for networks that overlap inside a /8, and all unique-local IPv6",
        () => set(homelab(), "outposts.radius.clientNetworks", ["10.0.0.0/9", "10.0.0.0/8", "10.128.0.0/9", "fc00::/7"]),
    ],
    [
        "images by digest, with a registry port, and a -p1 release",
        () =>
            set(
                set(homelab(), "pgbouncer.image", "registry.local:5000/edoburu/pgbouncer:v1.24.1-p1"),
                "database.imageName",
                `ghcr.io/cloudnative-pg/postgresql:17.6@sha256:${"a".repeat(64)}`,
            ),
    ],
    [
        "regex redirects with a literal host, anchored or not, a launch URL of blank://blank and a Font Awesome icon",
        () =>
            oidc({
                redirectUris: [
                    "regex:^https://a\\.homelab\\.example/login/.*$",
                    "regex:https://a\\.homelab\\.example:8443/(cb|callback)\\?(x|y)=.*",
                    "https://a.homelab.example/cb",
                    "com.example.app:/oauth2redirect",
                ],
                launchUrl: "blank://blank",
                icon: "fa://fa-home",
            }),
    ],
    ["a group name with spaces, dots and an apostrophe-free unicode letter", () => withGroup("Homelab Admins (ops) · é")],
    [
        "an untested chart version with the operator's digest of it",
        () => set(set(homelab(), "authentik.chartVersion", "2026.10.0"), "authentik.chartDigest", "a".repeat(64)),
    ],
    [
        "the API at the in-cluster URL while authentik has no TLS",
        () => set(set(homelab(), "authentik.ingress", { className: "traefik" }), "api.url", "http://authentik-server.authentik.svc.cluster.local"),
    ],
    [
        "an extra Traefik middleware beside HSTS, and an unrelated annotation",
        () =>
            set(homelab(), "authentik.ingress.annotations", {
                "traefik.ingress.kubernetes.io/router.middlewares": "authentik-authentik-hsts@kubernetescrd,kube-system-ratelimit@kubernetescrd",
                "gethomepage.dev/enabled": "true",
            }),
    ],
];

describe("rules across fields: each names the key, the value and the fix", () => {
    for (const [title, block, expected] of REJECTED) {
        it(`rejects ${title}`, () => assert.deepEqual(rows(issuesOf(block())), expected));
    }
});

describe("rules across fields: the value at each limit still passes", () => {
    for (const [title, block] of ACCEPTED) {
        it(`accepts ${title}`, () => assert.doesNotThrow(() => parse(block())));
    }
});

describe("a credential source: exactly one of three shapes", () => {
    const SOURCE_FIX =
        'use "generate" (random, kept in Pulumi state as a secret), "config" (the secure stack key of the same name), or {onepassword: {item, field}}';
    it("reads each shape, and the default of each credential", () => {
        const with_ = (v: unknown) => parse(set(homelab(), "credentials.databasePassword", v)).credentials.databasePassword;
        assert.deepEqual(with_("generate"), { kind: "generate" });
        assert.deepEqual(with_({ onepassword: { item: "authentik-db", field: "password" } }), { kind: "onepassword", item: "authentik-db", field: "password" });
        assert.deepEqual(with_(undefined), { kind: "generate" }, "generated unless said otherwise");
        const bare = parse({ "kubernetes:context": "homelab", "authentik-platform:authentik": { host: "auth.example.com" } });
        assert.equal(bare.credentials.smtpPassword, undefined, "no default where a value cannot be generated");
        assert.deepEqual(bare.credentials.secretKey, { kind: "generate" });
    });
    for (const bad of [
        { onepassword: { item: "a", field: "b" }, extra: 1 },
        { onepassword: { item: "a", field: "b", vault: "x" } },
        { onepassword: { item: "", field: "b" } },
        { onepassword: { item: "a", field: "" } },
        { onepassword: { item: 1, field: "b" } },
        { onepassword: "a" },
        ["generate"],
        42,
    ]) {
        it(`rejects ${JSON.stringify(bad)}, showing it`, () => {
            const found = issuesOf(set(homelab(), "credentials.databasePassword", bad)).filter(
                (i) => i.key === "authentik-platform:credentials.databasePassword",
            );
            assert.deepEqual(rows(found), [["credentials.databasePassword", bad, "is not a credential source", SOURCE_FIX]]);
        });
    }
});

describe("config outside the project: the Kubernetes context and the 1Password provider's credentials", () => {
    const kube = (raw: Record<string, string>) => {
        const log = new IssueLog();
        const target = parseKubernetes(raw, log);
        return { target, issues: rows(log.issues) };
    };
    it("deploys to the named context, and says whether a kubeconfig is given", () => {
        assert.deepEqual(kube({ "kubernetes:context": "homelab" }), { target: { context: "homelab", kubeconfig: false }, issues: [] });
        assert.deepEqual(kube({ "kubernetes:context": "homelab", "kubernetes:kubeconfig": "{}" }).target, { context: "homelab", kubeconfig: true });
        assert.deepEqual(kube({}), {
            target: { context: "", kubeconfig: false },
            issues: [
                [
                    "kubernetes:context",
                    null,
                    "is required: every object is deployed to the kubeconfig context named here, never to whichever context is current",
                    "pulumi config set kubernetes:context <context> (kubectl config get-contexts lists them; CI's kubeconfig must hold the same context)",
                ],
            ],
        });
    });
    it("names a kubernetes: key the provider does not read, with the key meant", () => {
        assert.deepEqual(kube({ "kubernetes:context": "homelab", "kubernetes:contxt": "x" }).issues, [
            [
                "kubernetes:contxt",
                "x",
                "is not read by this program's Kubernetes provider",
                "did you mean kubernetes:context? (pulumi config rm kubernetes:contxt)",
            ],
        ]);
        assert.deepEqual(kube({ "kubernetes:context": "homelab", "kubernetes:namespace": "x" }).issues, [
            ["kubernetes:namespace", "x", "is not read by this program's Kubernetes provider", "use one of kubernetes:context, kubernetes:kubeconfig"],
        ]);
    });
    it("needs 1Password Connect (URL and token) or a service account token, from config or the environment", () => {
        const missing = (raw: Record<string, string>, env: Record<string, string> = {}) => {
            const log = new IssueLog();
            checkOnePasswordProvider(raw, env, log);
            return log.issues.map((i) => i.key);
        };
        const MISSING = ["onepassword:serviceAccountToken"];
        assert.deepEqual(missing({}), MISSING);
        assert.deepEqual(missing({ "onepassword:url": "https://op" }), MISSING, "Connect needs its token too");
        assert.deepEqual(missing({ "onepassword:token": "t" }), MISSING, "and its URL");
        assert.deepEqual(missing({}, { OP_CONNECT_HOST: "https://op" }), MISSING);
        assert.deepEqual(missing({ "onepassword:url": "https://op", "onepassword:token": "t" }), []);
        assert.deepEqual(missing({ "onepassword:url": "https://op" }, { OP_CONNECT_TOKEN: "t" }), []);
        assert.deepEqual(missing({}, { OP_CONNECT_HOST: "https://op", OP_CONNECT_TOKEN: "t" }), []);
        assert.deepEqual(missing({ "onepassword:serviceAccountToken": "t" }), []);
        assert.deepEqual(missing({}, { OP_SERVICE_ACCOUNT_TOKEN: "t" }), []);
        assert.deepEqual(missing({}, { OP_SERVICE_ACCOUNT_TOKEN: "" }), MISSING, "an empty variable is no token");
    });
});
