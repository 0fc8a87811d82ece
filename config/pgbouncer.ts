/** The PgBouncer pool between authentik and PostgreSQL. */
import { int, obj, oneOf } from "./schema";
import { image, resources } from "./fields";

export const pgbouncer = obj(
    {
        image: image("PgBouncer image.", "edoburu/pgbouncer:v1.24.1-p1"),
        replicas: int({ doc: "PgBouncer pods.", default: 3, min: 1, max: 20 }),
        minAvailable: int({
            doc: "PodDisruptionBudget minAvailable; must be below replicas so a node can drain.",
            default: 2,
            min: 0,
        }),
        poolMode: oneOf(["session", "transaction"] as const, {
            doc: "session (authentik's persistent connections need it) or transaction (only with authentik.database.usePgbouncer).",
            default: "session",
        }),
        maxClientConn: int({ doc: "max_client_conn per PgBouncer pod.", default: 400, min: 1 }),
        defaultPoolSize: int({
            doc: "default_pool_size: server connections per pod for the authentik database/user, the ones that serve without waiting. 45 holds authentik's default concurrency (64 clients) spread at random over the PDB minimum of 2 pods with a 99.9% chance (the capacity model).",
            default: 45,
            min: 1,
        }),
        reservePoolSize: int({ doc: "reserve_pool_size per pod: extra connections for clients that waited reserve_pool_timeout (5 s).", default: 3, min: 0 }),
        serverIdleTimeout: int({ doc: "server_idle_timeout (seconds): closes server connections no client holds.", default: 600, min: 1 }),
        serverTls: oneOf(["verify-full", "require"] as const, {
            doc: "server_tls_sslmode towards PostgreSQL: verify-full checks the server's certificate against CNPG's CA (<cluster>-ca, only ca.crt mounted) and host name; require only encrypts. A renewed CA rolls PgBouncer through stakater Reloader.",
            default: "verify-full",
        }),
        clientIdleTimeout: int({
            doc: "client_idle_timeout (seconds): closes client connections idle this long; 0 never. In session pooling this, not server_idle_timeout, is what closes a connection authentik holds.",
            default: 0,
            min: 0,
        }),
        resources: resources("Resources of each PgBouncer container.", {
            cpuRequest: "50m",
            memoryRequest: "128Mi",
            memoryLimit: "512Mi",
        }),
    },
    {
        doc: "The PgBouncer pool between authentik and PostgreSQL.",
        retired: { networkPolicy: "moved to networkPolicies.enabled: one switch for the policies of every tier" },
    },
);
