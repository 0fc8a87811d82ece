/**
 * components/deploy-waits.ts: the longest a deploy may wait, which the deploy job takes as its time
 * limit. Each stage is one timeout the program declares; a stack without it has no such stage.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { deployLimit } from "../components/deploy-waits";
import { homelab, parse, set } from "./support/helpers";

const stages = (block: ReturnType<typeof homelab>) => deployLimit(parse(block)).waits.map((w) => [w.minutes, w.stage.split(" (")[0]]);

describe("the deploy job's time limit", () => {
    it("adds every wait of the homelab stack: a slow but healthy up fits in it", () => {
        assert.equal(deployLimit(parse(homelab())).timeoutMinutes, 110);
    });

    it("counts the operator's release when the stack installs it, and rounds each wait up to a minute", () => {
        const block = set(set(set(homelab(), "cnpgOperator.install", true), "authentik.startupProbeSeconds", 301), "api.readyTimeoutSeconds", 61);
        assert.deepEqual(stages(block), [
            [2, "the preview before up: authentik API ready for the refresh"],
            [10, "the CloudNativePG operator's Helm release"],
            [60, "the backup before an authentik upgrade"],
            [16, "authentik's Helm release"],
            [2, "authentik API ready after the release"],
            [15, "npm ci, build, verify"],
        ]);
        assert.equal(deployLimit(parse(block)).timeoutMinutes, 105);
    });

    it("has no backup wait without a backup before upgrades, and no API waits for a stack that manages no authentik objects", () => {
        let block = set(homelab(), "database.backup.beforeUpgrade", false);
        for (const key of ["apps", "groups", "consumers"]) block = set(block, key, []);
        block = set(set(block, "outposts.radius", undefined), "outposts.proxy.enabled", false);
        assert.deepEqual(stages(block), [
            [15, "authentik's Helm release"],
            [15, "npm ci, build, verify"],
        ]);
        assert.equal(deployLimit(parse(block)).timeoutMinutes, 30);
    });
});
