/**
 * Pure rendering of credential-bearing Kubernetes Secrets.
 *
 * A secret's data is written as templates with `{{credentialName}}` placeholders, or
 * `{{credentialName|escape}}` where the value sits inside a quoted syntax, e.g.
 * `"userlist.txt": '"authentik" "{{databasePassword|userlist}}"'`. The escape is applied the same way
 * in both render paths (here, and as a Go template function chain in an ExternalSecret), so a
 * password with `"`, `'` or `\` from config or 1Password works either way. When every credential it uses is known to
 * Pulumi (generated, secure config, 1Password provider), the component fills the placeholders inside
 * a secret Output and writes a Secret. When every credential is a 1Password reference in
 * external-secrets mode, the same templates become an ExternalSecret with a Go template, so the
 * values never pass through Pulumi at all.
 */
import { createHash, createHmac } from "node:crypto";
import type { CredentialName } from "../../config";

const PLACEHOLDER = /\{\{(\w+)(?:\|(\w+))?\}\}/g;

/**
 * Escapes by context: the value as JavaScript writes it, and the same as an ExternalSecret (Go
 * text/template with sprig's `replace`) writes it.
 */
export const ESCAPES: Record<string, { escape(v: string): string; go: string }> = {
    /** PgBouncer's auth_file: `"user" "password"`, a `"` inside a field is written `""`. */
    userlist: { escape: (v) => v.replaceAll('"', '""'), go: String.raw`replace "\"" "\"\""` },
};

function escapeOf(template: string, name: string | undefined) {
    if (name === undefined) return undefined;
    const e = ESCAPES[name];
    if (!e) throw new Error(`template ${template} uses the unknown escape |${name} (known: ${Object.keys(ESCAPES).join(", ")})`);
    return e;
}

/** The credential names a set of templates uses, in first-use order. */
export function placeholdersOf(templates: Record<string, string>): CredentialName[] {
    const names = new Set<string>();
    for (const t of Object.values(templates)) for (const m of t.matchAll(PLACEHOLDER)) names.add(m[1]);
    return [...names] as CredentialName[];
}

/** Fills the placeholders with values (used inside an Output.apply over secret values). */
export function fillTemplates(templates: Record<string, string>, values: Partial<Record<CredentialName, string>>): Record<string, string> {
    return Object.fromEntries(
        Object.entries(templates).map(([k, t]) => [
            k,
            t.replace(PLACEHOLDER, (_, name: string, escape: string | undefined) => {
                const v = values[name as CredentialName];
                if (v === undefined) throw new Error(`template ${k} uses {{${name}}}, which has no value`);
                return escapeOf(k, escape)?.escape(v) ?? v;
            }),
        ]),
    );
}

export interface OnePasswordRef {
    item: string;
    field: string;
}

export interface ExternalSecretInput {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    secretType: string;
    templates: Record<string, string>;
    refs: Partial<Record<CredentialName, OnePasswordRef>>;
    store: string;
    refreshInterval: string;
}

/** An `external-secrets.io/v1` ExternalSecret that renders `templates` from 1Password fields. */
export function externalSecretManifest(input: ExternalSecretInput) {
    const used = placeholdersOf(input.templates);
    const data = used.map((name) => {
        const ref = input.refs[name];
        if (!ref) throw new Error(`ExternalSecret ${input.name} uses ${name}, which is not a 1Password reference`);
        return { secretKey: name, remoteRef: { key: ref.item, property: ref.field } };
    });
    const goTemplates = Object.fromEntries(
        Object.entries(input.templates).map(([k, t]) => [
            k,
            t.replace(PLACEHOLDER, (_, n: string, escape: string | undefined) => {
                const e = escapeOf(k, escape);
                return e ? `{{ .${n} | ${e.go} }}` : `{{ .${n} }}`;
            }),
        ]),
    );
    return {
        apiVersion: "external-secrets.io/v1",
        kind: "ExternalSecret",
        metadata: { name: input.name, namespace: input.namespace, labels: input.labels },
        spec: {
            refreshInterval: input.refreshInterval,
            secretStoreRef: { kind: "ClusterSecretStore", name: input.store },
            target: {
                name: input.name,
                creationPolicy: "Owner",
                // Keep the Secret when the 1Password item disappears (Retain is about the provider side:
                // with creationPolicy Owner, deleting the ExternalSecret still deletes the Secret).
                deletionPolicy: "Retain",
                template: { type: input.secretType, engineVersion: "v2", data: goTemplates },
            },
            data,
        },
    };
}

/** Settings of a generated credential: long, and without characters that need quoting in ini/URLs. */
export function generatedCredentialSpec(name: CredentialName): { length: number; special: boolean } {
    // authentik's secret key signs cookies and tokens: 64 characters as its docs suggest (openssl rand 60 base64).
    return name === "secretKey" ? { length: 64, special: false } : { length: 40, special: false };
}

// ---------------------------------------------------------------------------------------------
// Rolling the pods that read a Secret when its content changes
// ---------------------------------------------------------------------------------------------

/** Pod-template annotation holding a digest of the Pulumi-held credentials the pods read. */
export const DIGEST_ANNOTATION = "authentik-platform/credentials-digest";
/**
 * stakater Reloader's annotation (on the Deployment): roll it when one of these Secrets changes.
 * ExternalSecret-held values change in the cluster, where Pulumi never sees them.
 */
export const RELOADER_ANNOTATION = "secret.reloader.stakater.com/reload";

/** How a Secret's changes reach the pods that read it. */
export interface Rollout {
    /** A digest of the Secret's content (Pulumi-held values). */
    digest?: string;
    /** Secrets External Secrets writes, for Reloader. */
    reloadSecrets: string[];
}

/**
 * A digest of a Secret's content for a pod annotation: HMAC-SHA256 keyed with the stack's generated
 * rollout key (`Credentials.rolloutKey`, a secret in state, never in an annotation), over the
 * Secret's name and content. Without the key nobody can test a guessed password against it, however
 * weak the password; never the value itself.
 */
export function credentialsDigest(content: Record<string, string>, secretName: string, key: string): string {
    const text = Object.keys(content)
        .sort()
        .map((k) => `${k}=${content[k]}`)
        .join("\0");
    return createHmac("sha256", key).update(`${secretName}\0${text}`).digest("hex");
}

/** The annotations for pods reading several Secrets: one digest over all digests, Reloader's list. */
export function rolloutAnnotations(rollouts: Rollout[]): { pod: Record<string, string>; deployment: Record<string, string> } {
    const digests = rollouts.map((r) => r.digest).filter((d): d is string => !!d);
    const reload = rollouts.flatMap((r) => r.reloadSecrets);
    return {
        // Keyed digests hashed together stay unguessable: a plain hash suffices.
        pod: digests.length ? { [DIGEST_ANNOTATION]: digests.length === 1 ? digests[0] : createHash("sha256").update(digests.join("\0")).digest("hex") } : {},
        deployment: reload.length ? { [RELOADER_ANNOTATION]: reload.join(",") } : {},
    };
}
