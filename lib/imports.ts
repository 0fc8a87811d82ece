/**
 * Taking over Kubernetes objects another tool created (the Terraform stack): the stack config names
 * each object to import as `<Kind>/<namespace>/<name>` (`Namespace/<name>` for the namespace,
 * `Release/<namespace>/<name>` for the Helm release). A stack transformation gives the resource that
 * creates that object Pulumi's `import` option with the id the Kubernetes provider expects
 * (`<namespace>/<name>`, or `<name>`), so the first `pulumi up` adopts it instead of failing on
 * "already exists". Pure matching here; the transformation is wired in platform.ts.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Kinds that can be imported, by the last segment of their Pulumi type. */
export const IMPORTABLE_KINDS = [
    "Namespace",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Release",
    "Cluster",
] as const;

export const IMPORT_ENTRY = new RegExp(`^(${IMPORTABLE_KINDS.join("|")})/(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$`);

/** The Kubernetes identity of a resource about to be registered, as an import entry, if it has one. */
export function identityOf(type: string, props: Record<string, unknown>): string | undefined {
    const kind = type.split(":").pop()!;
    if (!(IMPORTABLE_KINDS as readonly string[]).includes(kind)) return undefined;
    const meta = (type === "kubernetes:helm.sh/v3:Release" ? props : props.metadata) as { name?: unknown; namespace?: unknown } | undefined;
    if (typeof meta?.name !== "string") return undefined;
    return typeof meta.namespace === "string" ? `${kind}/${meta.namespace}/${meta.name}` : `${kind}/${meta.name}`;
}

/**
 * Fields the cluster assigns and this program never sets, which an imported object holds: left as
 * they are. A Service's IP is one: the provider replaces a Service whose clusterIP changes, and an
 * imported object cannot be replaced, so the first `up` would fail.
 */
export const CLUSTER_ASSIGNED: Readonly<Partial<Record<(typeof IMPORTABLE_KINDS)[number], readonly string[]>>> = {
    Service: ["spec.clusterIP", "spec.clusterIPs"],
};

/**
 * An imported object's fields belong to the tool that made it (Terraform, kubectl), so the
 * provider's server-side apply would stop on every field this program sets differently ("apply
 * conflict"). The object changes owner on purpose (Terraform forgets it first, docs/migration.md):
 * Pulumi applies it with force. The Helm release is not applied that way.
 */
function takenOver(kind: (typeof IMPORTABLE_KINDS)[number], props: Record<string, unknown>): Record<string, unknown> {
    if (kind === "Release") return props;
    const metadata = (props.metadata ?? {}) as { annotations?: Record<string, string> };
    return { ...props, metadata: { ...metadata, annotations: { ...metadata.annotations, "pulumi.com/patchForce": "true" } } };
}

/** Pulumi's import id for an entry: what follows the kind. */
export function importIdOf(entry: string): string {
    return entry.slice(entry.indexOf("/") + 1);
}

/**
 * A stack transformation that imports the listed objects, and records which entries it matched
 * (an entry no resource matches is a typo or an object this program does not manage).
 */
export function importTransformation(entries: readonly string[], matched: Set<string>): pulumi.ResourceTransformation {
    const wanted = new Set(entries);
    return ({ type, props, opts }) => {
        const identity = identityOf(type, props);
        if (!identity || !wanted.has(identity)) return undefined;
        matched.add(identity);
        const kind = identity.split("/")[0] as (typeof IMPORTABLE_KINDS)[number];
        const assigned = CLUSTER_ASSIGNED[kind] ?? [];
        return { props: takenOver(kind, props), opts: { ...opts, import: importIdOf(identity), ignoreChanges: [...(opts.ignoreChanges ?? []), ...assigned] } };
    };
}
