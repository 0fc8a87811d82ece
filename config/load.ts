/**
 * The edge where Pulumi's configuration enters the program: read once, validated once. A bad config
 * stops the program before any resource is registered, with every problem listed.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./schema";
import { CredentialName, PROJECT, StackConfig, parseStackConfig } from ".";

export interface LoadedConfig {
    config: StackConfig;
    /** Secure stack keys for credentials with source "config": secret from birth. */
    configValues: Partial<Record<CredentialName, pulumi.Output<string>>>;
}

/**
 * Whether Pulumi holds `key` as a secret. The SDK exports this at runtime (it reads the engine's
 * PULUMI_CONFIG_SECRET_KEYS) but marks it internal in its typings.
 */
function isSecretKey(key: string): boolean {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    if (typeof runtime.isConfigSecret !== "function") {
        throw new Error("this @pulumi/pulumi version does not expose isConfigSecret; secrets cannot be checked");
    }
    return runtime.isConfigSecret(key);
}

export function loadStackConfig(): LoadedConfig {
    const raw = pulumi.runtime.allConfig();
    const secretKeys = Object.keys(raw).filter(isSecretKey);
    let config: StackConfig;
    try {
        config = parseStackConfig(raw, secretKeys, process.env);
    } catch (e) {
        // RunError prints the message alone: the operator needs the list of fixes, not a stack trace.
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
    const stackConfig = new pulumi.Config(PROJECT);
    const configValues = Object.fromEntries(config.secretConfigKeys.map((name) => [name, stackConfig.requireSecret(name)])) as LoadedConfig["configValues"];
    return { config, configValues };
}
