/**
 * How long a deploy may take at most: the timeouts the program declares, in the order an up meets
 * them. Pure; the offline plan prints them and writes their sum, which the deploy job takes as its
 * time limit.
 */
import { StackConfig, usesApi } from "../config";
import { releaseTimeoutSeconds } from "./authentik/values";
import { OPERATOR_TIMEOUT_SECONDS, UPGRADE_BACKUP_TIMEOUT_MINUTES } from "./database/manifests";

/** npm ci, the build, `npm run verify` and the steps around them in the deploy job. */
export const DEPLOY_JOB_OVERHEAD_MINUTES = 15;

/**
 * What a deploy may wait for at most, stage by stage (minutes, each rounded up): the timeouts this
 * program declares, in the order an up meets them. The deploy job's time limit is their sum, so a
 * slow but healthy up is never cut off half-way.
 */
export function deployWaits(config: StackConfig): { stage: string; minutes: number }[] {
    const minutes = (seconds: number) => Math.ceil(seconds / 60);
    const api = usesApi(config);
    return [
        ...(api
            ? [
                  {
                      stage: "the preview before up: authentik API ready for the refresh (api.readyTimeoutSeconds)",
                      minutes: minutes(config.api.readyTimeoutSeconds),
                  },
              ]
            : []),
        ...(config.cnpgOperator.install ? [{ stage: "the CloudNativePG operator's Helm release", minutes: minutes(OPERATOR_TIMEOUT_SECONDS) }] : []),
        ...(config.database.backup?.beforeUpgrade ? [{ stage: "the backup before an authentik upgrade", minutes: UPGRADE_BACKUP_TIMEOUT_MINUTES }] : []),
        { stage: "authentik's Helm release (authentik.startupProbeSeconds × 2 + 5 min)", minutes: minutes(releaseTimeoutSeconds(config)) },
        ...(api ? [{ stage: "authentik API ready after the release (api.readyTimeoutSeconds)", minutes: minutes(config.api.readyTimeoutSeconds) }] : []),
        { stage: "npm ci, build, verify", minutes: DEPLOY_JOB_OVERHEAD_MINUTES },
    ];
}

/** The deploy job's time limit: the sum of the waits. */
export function deployLimit(config: StackConfig): { timeoutMinutes: number; waits: { stage: string; minutes: number }[] } {
    const waits = deployWaits(config);
    return { timeoutMinutes: waits.reduce((sum, w) => sum + w.minutes, 0), waits };
}
