/**
 * The end-to-end stack program: the same configuration schema and the same wiring as the platform
 * (authentikObjectsFor), without the Kubernetes half, so the real engine can drive authentik's
 * objects against the stand-in on a machine with no cluster. Run inline by the Automation API
 * (e2e/support/pulumi.ts); it returns the stack's outputs.
 */
import { loadStackConfig } from "../../../config/load";
import { adminCredential } from "../../../config";
import { authentikObjectsFor, bootstrapRevocationFor, consumerAccessFor } from "../../../components/platform";
import { authentikUrl } from "../../../config";
import { CONTRACT_VERSION } from "../../../packages/contract";

export async function program(): Promise<Record<string, unknown>> {
    const { config, configValues } = loadStackConfig();
    const admin = adminCredential(config);
    const adminToken = admin ? configValues[admin] : undefined;
    const consumers = consumerAccessFor(config, { adminToken, dependsOn: [] });
    const objects = authentikObjectsFor(config, { adminToken, dependsOn: [], consumers });
    bootstrapRevocationFor(config, {
        bootstrapToken: config.authentik.bootstrapCredentials ? configValues.bootstrapToken : undefined,
        adminToken,
        after: [objects, ...consumers.made],
    });
    // What a consuming stack reads through a StackReference (the contract's keys this stack can fill).
    return {
        contractVersion: CONTRACT_VERSION,
        authentik: { url: authentikUrl(config), host: config.authentik.host },
        apps: objects.apps,
        consumerTokens: consumers.tokens,
        oidcClientSecrets: objects.oidcClientSecrets,
    };
}
