/** lib/k8s.ts: label selectors and Pod Security labels. Pure. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { podSecurityLabels, selectorMatches } from "../lib/k8s";

describe("labels", () => {
    it("a selector matches only when every label matches", () => {
        assert.equal(selectorMatches({ a: "1", b: "2" }, { a: "1", b: "2", c: "3" }), true);
        assert.equal(selectorMatches({ a: "1", b: "2" }, { a: "1" }), false);
    });

    it("Pod Security: enforce, warn and audit at the level", () => {
        assert.deepEqual(podSecurityLabels("restricted"), {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        });
    });
});
