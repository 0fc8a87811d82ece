/**
 * The key of the pods' rollout digests (render.ts credentialsDigest): 32 random bytes, generated
 * once by this dynamic provider and kept only in Pulumi state as a secret. A dynamic resource
 * rather than a RandomPassword, so no provider plugin beyond the program's own is needed.
 */
import type * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "node:crypto";

export const rolloutKeyProvider: pulumi.dynamic.ResourceProvider = {
    async create() {
        return { id: "rollout-key", outs: { key: randomBytes(32).toString("hex") } };
    },
    // Never regenerated: a new key would roll every pod at once.
    async diff() {
        return { changes: false, replaces: [], deleteBeforeReplace: false };
    },
    async read(id: string, props: Record<string, unknown>) {
        return { id, props };
    },
    async delete() {},
};
