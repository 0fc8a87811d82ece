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
export const IMPORTABLE_KINDS = ["Namespace", "Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret", "PersistentVolumeClaim", "Release", "Cluster"] as const;

export const IMPORT_ENTRY = new RegExp(`^(${IMPORTABLE_KINDS.join("|")})/(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$`);

/** The Kubernetes identity of a resource about to be registered, as an import entry, if it has one. */
export function identityOf(type: string, props: Record<string, unknown>): string | undefined {
    const kind = type.split(":").pop()!;
    if (!(IMPORTABLE_KINDS as readonly string[]).includes(kind)) return undefined;
    const meta = (type === "kubernetes:helm.sh/v3:Release" ? props : props.metadata) as { name?: unknown; namespace?: unknown } | undefined;
    if (typeof meta?.name !== "string") return undefined;
    return typeof meta.namespace === "string" ? `${kind}/${meta.namespace}/${meta.name}` : `${kind}/${meta.name}`;
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
        return { props, opts: { ...opts, import: importIdOf(identity) } };
    };
}
