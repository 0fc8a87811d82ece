/**
 * The stack configuration: one typed object, parsed and validated once at the edge.
 * `parseStackConfig` is pure: it takes Pulumi's flat config map (`project:key` → string) and the
 * names of the keys that are secret, and returns the typed config or throws a ConfigError that
 * lists every problem with its key, its value and the fix. Secret values never enter this object:
 * it only records that they exist; components read them as `pulumi.secret` Outputs.
 */
import { checkOnePasswordProvider, parseKubernetes } from "./providers";
import { ConfigError, IssueLog, NOT_SHOWN, closest } from "./schema";
import { CREDENTIAL_NAMES, CredentialName, PROJECT } from "./fields";
import { unreadSecret, validateRules } from "./rules";
import { StackConfig, schema } from "./stack";

export { ConfigError };
export { CREDENTIAL_NAMES, PROJECT } from "./fields";
export type { CredentialName, CredentialSource, Resources } from "./fields";
export { schema } from "./stack";
export type { StackConfig } from "./stack";
export { RECORDED_CHART_DIGESTS, adminCredential, credentialsInUse, expectedChartDigest, outpostOfApp, usesApi } from "./derived";
export {
    authentikUrl,
    hstsMiddlewareName,
    httpsOnlyAnnotations,
    httpsOnlyBy,
    httpsOnlyOverrides,
    ingressAnnotations,
    isTraefik,
    serverServiceUrl,
    tlsSecretName,
} from "./ingress";

/** Keys of this project's namespace that hold secrets rather than settings. */
const SECRET_KEYS = new Set<string>(CREDENTIAL_NAMES);

/**
 * Decodes a structured value (an object or a list: Pulumi hands them over as JSON). Scalars stay
 * text: the schema reads numbers and booleans from their text itself.
 */
function decode(text: string): unknown {
    const t = text.trim();
    if (!t.startsWith("{") && !t.startsWith("[")) return text;
    try {
        return JSON.parse(t);
    } catch {
        return text; // not JSON (e.g. YAML flow style): the schema reports the text
    }
}

/**
 * Top-level keys nearer to a credential's name than to any setting's: reported with the credential
 * to set as a secret (the schema's own suggestion knows only settings), and kept out of the settings.
 */
function credentialTypos(settings: Record<string, unknown>, prefix: string, log: IssueLog): void {
    const known = Object.keys(schema.fields!);
    for (const key of Object.keys(settings)) {
        // A known key is its own nearest (distance 0), never a credential's.
        const near = closest(key, [...known, ...CREDENTIAL_NAMES]);
        if (!near || !SECRET_KEYS.has(near)) continue;
        log.add(
            `${prefix}${key}`,
            NOT_SHOWN,
            "is not a known key",
            `did you mean the credential "${near}"? pulumi config rm ${key}, then pulumi config set --secret ${near} <value>`,
        );
        delete settings[key];
    }
}

/**
 * Parses and validates the stack configuration.
 * @param raw Pulumi's config map: `project:key` → string (structured values as JSON).
 * @param secretKeys the full keys (`project:key`) whose values are secret (`secure:`).
 */
export function parseStackConfig(raw: Record<string, string>, secretKeys: Iterable<string>, env: Record<string, string | undefined> = {}): StackConfig {
    const log = new IssueLog();
    const secret = new Set(secretKeys);
    const prefix = `${PROJECT}:`;
    const settings: Record<string, unknown> = {};
    const presentSecrets = new Set<string>();
    for (const [fullKey, text] of Object.entries(raw)) {
        if (!fullKey.startsWith(prefix)) continue; // other namespaces belong to providers
        const key = fullKey.slice(prefix.length);
        if (SECRET_KEYS.has(key)) {
            if (!secret.has(fullKey)) {
                log.add(fullKey, "[redacted]", "holds a credential in plain text", `pulumi config set --secret ${key} <value>`);
            }
            presentSecrets.add(key);
            continue;
        }
        if (secret.has(fullKey)) {
            // A setting stored as a secret: never echo it (it may be a credential in the wrong key), never use it.
            log.add(
                fullKey,
                "[secret]",
                "is stored as a secret, but it is a setting, not a credential (settings are plain, credentials go under credentials)",
                `pulumi config set ${key} <value> (without --secret), or move a credential to its own key`,
            );
            continue;
        }
        settings[key] = decode(text);
    }
    credentialTypos(settings, prefix, log);
    const parsed = schema.parse(settings, prefix, log);
    const config: StackConfig = {
        ...parsed,
        secretConfigKeys: CREDENTIAL_NAMES.filter((n) => presentSecrets.has(n)),
        kubernetes: parseKubernetes(raw, log),
    };
    for (const name of presentSecrets) unreadSecret(config, name as CredentialName, log);
    if (config.onepassword.mode === "provider") checkOnePasswordProvider(raw, env, log);
    // Rules run even when some fields failed, so every problem is reported at once; a rule is not
    // reported for a key that already failed (it would be judging the fallback, not the user's value).
    const failedKeys = new Set(log.issues.map((i) => i.key));
    const rules = new IssueLog();
    validateRules(config, rules);
    log.issues.push(...rules.issues.filter((i) => !failedKeys.has(i.key)));
    if (log.issues.length > 0) throw new ConfigError(log.issues);
    return config;
}
