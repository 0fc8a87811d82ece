/**
 * Pure rendering of credential-bearing Kubernetes Secrets.
 *
 * A secret's data is written as templates with `{{credentialName}}` placeholders, e.g.
 * `"userlist.txt": '"authentik" "{{databasePassword}}"'`. When every credential it uses is known to
 * Pulumi (generated, secure config, 1Password provider), the component fills the placeholders inside
 * a secret Output and writes a Secret. When every credential is a 1Password reference in
 * external-secrets mode, the same templates become an ExternalSecret with a Go template, so the
 * values never pass through Pulumi at all.
 */
import type { CredentialName } from "../../stacks/config";

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** The credential names a set of templates uses, in first-use order. */
export function placeholdersOf(templates: Record<string, string>): CredentialName[] {
    const names = new Set<string>();
    for (const t of Object.values(templates)) for (const m of t.matchAll(PLACEHOLDER)) names.add(m[1]);
    return [...names] as CredentialName[];
}

/** Fills the placeholders with values (used inside an Output.apply over secret values). */
export function fillTemplates(
    templates: Record<string, string>,
    values: Partial<Record<CredentialName, string>>,
): Record<string, string> {
    return Object.fromEntries(
        Object.entries(templates).map(([k, t]) => [
            k,
            t.replace(PLACEHOLDER, (_, name: string) => {
                const v = values[name as CredentialName];
                if (v === undefined) throw new Error(`template ${k} uses {{${name}}}, which has no value`);
                return v;
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
        Object.entries(input.templates).map(([k, t]) => [k, t.replace(PLACEHOLDER, (_, n: string) => `{{ .${n} }}`)]),
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
                // The Secret outlives the ExternalSecret: deleting the object must not cut authentik off.
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
