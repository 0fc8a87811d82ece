/**
 * The end-to-end stack program: the same configuration schema and the same wiring as the platform
 * (authentikObjectsFor), without the Kubernetes half, so the real engine can drive authentik's
 * objects against the stand-in on a machine with no cluster.
 */
import { loadStackConfig } from "../../../stacks/load";
import { adminCredential } from "../../../stacks/config";
import { authentikObjectsFor } from "../../../components/platform";

const { config, configValues } = loadStackConfig();
const admin = adminCredential(config);
const objects = authentikObjectsFor(config, { adminToken: admin ? configValues[admin] : undefined, dependsOn: [] });

export const apps = objects.apps;
export const oidcClientSecrets = objects.oidcClientSecrets;
