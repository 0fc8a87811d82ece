/**
 * The whole stack configuration schema, assembled from one section per concern, and the type
 * the program reads.
 */
import { KubernetesTarget } from "./providers";
import { Infer, obj } from "./schema";
import { REDIS_GONE, authentik } from "./authentik";
import { namespaceFields, networkPolicies, observability } from "./cluster";
import { credentialFields } from "./credentials";
import { databaseFields } from "./database";
import { CredentialName } from "./fields";
import { objectFields } from "./objects";
import { pgbouncer } from "./pgbouncer";

export const schema = obj(
    {
        ...namespaceFields,
        ...databaseFields,
        pgbouncer,
        networkPolicies,
        observability,
        ...objectFields,
        ...credentialFields,
        authentik,
    },
    { doc: "Stack configuration.", retired: { redis: REDIS_GONE } },
);

export type StackConfig = Infer<typeof schema> & {
    /** Credential names whose source is "config" and whose secure key is set. */
    readonly secretConfigKeys: readonly CredentialName[];
    /** Where every Kubernetes object goes (`kubernetes:context`). */
    readonly kubernetes: KubernetesTarget;
};
