/**
 * Credentials and the Kubernetes Secrets that carry them.
 *
 * `Credentials` turns each configured source into a value Pulumi holds as a secret (generated with
 * @pulumi/random, a secure config key, or a 1Password item read through the provider) or into a
 * 1Password reference that External Secrets resolves in the cluster (external-secrets mode).
 * `CredentialSecret` writes one Kubernetes Secret (or ExternalSecret) from templates over them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as onepassword from "@1password/pulumi-onepassword";
import type { CredentialName, CredentialSource, StackConfig } from "../../config";
import { rolloutKeyProvider } from "./rollout-key";
import { OnePasswordRef, credentialsDigest, externalSecretManifest, fillTemplates, generatedCredentialSpec, placeholdersOf } from "./render";

/** A credential as the graph sees it: a secret Output, or a reference resolved in-cluster. */
export type CredentialValue = { kind: "value"; value: pulumi.Output<string> } | { kind: "reference"; ref: OnePasswordRef };

export interface CredentialsArgs {
    /** Source of each credential; absent credentials are simply not available. */
    sources: Partial<Record<CredentialName, CredentialSource>>;
    /** The onepassword section: the mode, and the vault in provider mode. */
    onepassword: StackConfig["onepassword"];
    /** Values of secure stack keys for credentials whose source is "config" (already secret). */
    configValues: Partial<Record<CredentialName, pulumi.Output<string>>>;
}

/** The generated key of the rollout digests (rollout-key.ts). */
class RolloutKey extends pulumi.dynamic.Resource {
    declare readonly key: pulumi.Output<string>;
    constructor(name: string, opts: pulumi.CustomResourceOptions) {
        super(rolloutKeyProvider, name, { key: undefined }, { ...opts, additionalSecretOutputs: ["key"] }, "secrets", "RolloutKey");
    }
}

/** Resolves every credential. Generated ones are protected: a replaced password locks authentik out. */
export class Credentials extends pulumi.ComponentResource {
    readonly values: Partial<Record<CredentialName, CredentialValue>> = {};
    /**
     * The key of the pods' rollout digests (`CredentialSecretArgs.rolloutKey`): generated, secret, only
     * in state. Protected like every generated value: a replaced key would roll every pod at once.
     */
    readonly rolloutKey: pulumi.Output<string>;

    constructor(name: string, args: CredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:secrets:Credentials", name, {}, opts);
        const op = args.onepassword;
        const key = new RolloutKey(`${name}-rollout-key`, { parent: this, protect: true, retainOnDelete: true });
        this.rolloutKey = pulumi.secret(key.key);
        for (const [credential, source] of Object.entries(args.sources) as [CredentialName, CredentialSource][]) {
            if (!source) continue;
            switch (source.kind) {
                case "generate": {
                    const password = new random.RandomPassword(`${name}-${credential}`, generatedCredentialSpec(credential), {
                        parent: this,
                        protect: true,
                        retainOnDelete: true,
                        additionalSecretOutputs: ["result"],
                    });
                    const value = pulumi.secret(password.result);
                    this.values[credential] = { kind: "value", value };
                    if (op.writeBack && op.mode === "provider") {
                        new onepassword.Item(
                            `${name}-${credential}-1password`,
                            {
                                vault: op.vault!,
                                title: `authentik-platform ${pulumi.getStack()} ${credential}`,
                                category: "password",
                                password: value,
                                tags: ["authentik-platform", "pulumi-generated"],
                            },
                            { parent: this, additionalSecretOutputs: ["password"] },
                        );
                    }
                    break;
                }
                case "config": {
                    const value = args.configValues[credential];
                    if (!value) throw new Error(`credential ${credential} has source "config" but no value was passed`);
                    this.values[credential] = { kind: "value", value: pulumi.secret(value) };
                    break;
                }
                case "onepassword": {
                    if (op.mode === "external-secrets") {
                        this.values[credential] = { kind: "reference", ref: { item: source.item, field: source.field } };
                    } else {
                        const item = onepassword.getItemOutput({ vault: op.vault!, title: source.item }, { parent: this });
                        const value = item.apply((i) => fieldOf(i, source.item, source.field));
                        this.values[credential] = { kind: "value", value: pulumi.secret(value) };
                    }
                    break;
                }
            }
        }
        this.registerOutputs({});
    }
}

/** A field of a 1Password item by label (sections first, then the item's built-in fields). */
export function fieldOf(item: onepassword.GetItemResult, title: string, label: string): string {
    for (const section of item.sections ?? []) {
        const field = section.fields?.find((f) => f.label === label);
        if (field) return field.value;
    }
    const builtin = (item as unknown as Record<string, unknown>)[label];
    if (typeof builtin === "string" && builtin !== "") return builtin;
    throw new Error(`1Password item "${title}" has no field labelled "${label}"`);
}

/** How ExternalSecrets reach 1Password: the ClusterSecretStore, and how often they read it again. */
export interface ExternalSecretsSettings {
    store: string;
    refreshInterval: string;
}

export interface CredentialSecretArgs {
    /** Namespace of the Secret. */
    namespace: string;
    /** Name of the Kubernetes Secret (also of the ExternalSecret that owns it). */
    secretName: string;
    /** Labels of the Secret (or ExternalSecret). */
    labels: Record<string, string>;
    /** Secret type, e.g. Opaque or kubernetes.io/basic-auth. */
    secretType?: string;
    /** Data keys → templates with `{{credentialName}}` placeholders. */
    templates: Record<string, string>;
    /** The credentials the templates' placeholders name (Credentials.values). */
    credentials: Partial<Record<CredentialName, CredentialValue>>;
    /** External Secrets settings, needed when the credentials are 1Password references. */
    externalSecrets?: ExternalSecretsSettings;
    /** Protect and retain (for credentials of stateful things such as the database). Default false. */
    stateful?: boolean;
    /**
     * Key of the rollout digest (`Credentials.rolloutKey`), needed to read `digest` of Pulumi-held
     * content: the digest is an HMAC with it, so the annotation leaks nothing guessable.
     */
    rolloutKey?: pulumi.Input<string>;
    /** What the Secret waits for (the namespace, the database): passed to its Secret or ExternalSecret. */
    dependsOn?: pulumi.Resource[];
}

/** One Kubernetes Secret over credentials of one kind: all Pulumi-held values, or all references. */
export class CredentialSecret extends pulumi.ComponentResource {
    /** The Secret's name, resolved once the object exists (depend on this, not on the literal name). */
    readonly secretName: pulumi.Output<string>;
    /** The resource to depend on: the Secret or the ExternalSecret. */
    readonly resource: pulumi.Resource;
    /**
     * What rolls the pods reading it when its content changes: a digest of Pulumi-held content (for a
     * pod annotation), or, for an ExternalSecret, its name for Reloader (known up front).
     */
    get digest(): pulumi.Output<string | undefined> {
        // Computed only for the Secrets whose readers roll on it.
        return (this.digestOutput ??= this.makeDigest());
    }
    readonly reloadSecrets: string[];
    private digestOutput?: pulumi.Output<string | undefined>;
    private readonly makeDigest: () => pulumi.Output<string | undefined>;

    constructor(name: string, args: CredentialSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        // Recorded on the component too, so plans show what each Secret waits for.
        super("authentik-platform:secrets:CredentialSecret", name, {}, { ...opts, dependsOn: args.dependsOn });
        const used = placeholdersOf(args.templates);
        const kinds = new Set(used.map((c) => requireCredential(args, c).kind));
        if (kinds.size > 1) {
            throw new Error(`secret ${args.secretName} mixes Pulumi-held credentials and 1Password references (${used.join(", ")}); split it by source`);
        }
        const childOpts: pulumi.CustomResourceOptions = {
            parent: this,
            // A component's dependsOn does not reach its children's registration: pass it on.
            dependsOn: args.dependsOn,
            protect: args.stateful ?? false,
            retainOnDelete: args.stateful ?? false,
        };
        const secretType = args.secretType ?? "Opaque";
        if (kinds.has("reference")) {
            if (!args.externalSecrets) throw new Error(`secret ${args.secretName} needs External Secrets settings`);
            const refs = Object.fromEntries(used.map((c) => [c, (requireCredential(args, c) as { ref: OnePasswordRef }).ref]));
            const manifest = externalSecretManifest({
                name: args.secretName,
                namespace: args.namespace,
                labels: args.labels,
                secretType,
                templates: args.templates,
                refs,
                store: args.externalSecrets.store,
                refreshInterval: args.externalSecrets.refreshInterval,
            });
            const external = new k8s.apiextensions.CustomResource(name, manifest, childOpts);
            this.resource = external;
            this.secretName = external.metadata.name.apply(() => args.secretName);
            this.makeDigest = () => pulumi.output(undefined);
            this.reloadSecrets = [args.secretName];
        } else {
            const values = Object.fromEntries(used.map((c) => [c, (requireCredential(args, c) as { value: pulumi.Output<string> }).value]));
            const filled = pulumi.all(values).apply((v) => fillTemplates(args.templates, v));
            // One secret Output per key: the keys stay visible in plans, every value stays secret.
            const stringData = Object.fromEntries(Object.keys(args.templates).map((k) => [k, pulumi.secret(filled.apply((f) => f[k]))]));
            const secret = new k8s.core.v1.Secret(
                name,
                { metadata: { name: args.secretName, namespace: args.namespace, labels: args.labels }, type: secretType, stringData },
                { ...childOpts, additionalSecretOutputs: ["data", "stringData"] },
            );
            this.resource = secret;
            this.secretName = secret.metadata.name;
            // Keyed with a secret that is not in the annotation, the digest is safe in plain sight, and must be: it sits in pod templates.
            this.makeDigest = () => {
                if (args.rolloutKey === undefined) throw new Error(`secret ${args.secretName}: its digest needs rolloutKey (Credentials.rolloutKey)`);
                return pulumi.unsecret(pulumi.all([filled, args.rolloutKey]).apply(([f, k]) => credentialsDigest(f, args.secretName, k)));
            };
            this.reloadSecrets = [];
        }
        this.registerOutputs({ secretName: this.secretName });
    }
}

function requireCredential(args: CredentialSecretArgs, name: CredentialName): CredentialValue {
    const c = args.credentials[name];
    if (!c) throw new Error(`secret ${args.secretName} uses credential ${name}, which is not configured`);
    return c;
}

/** Splits credential names into Pulumi-held values and in-cluster references. */
export function splitBySource(
    names: CredentialName[],
    credentials: Partial<Record<CredentialName, CredentialValue>>,
): { values: CredentialName[]; references: CredentialName[] } {
    const present = names.filter((n) => credentials[n]);
    return {
        values: present.filter((n) => credentials[n]!.kind === "value"),
        references: present.filter((n) => credentials[n]!.kind === "reference"),
    };
}
