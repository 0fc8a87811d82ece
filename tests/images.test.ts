/** lib/images.ts at its edges: what counts as a pinned image, a release tag and a chart digest. Pure. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { IMAGE_DIGEST, isPinnedImage, isReleaseTag } from "../lib/images";

const HEX = "0123456789abcdef".repeat(4);

describe("pinned images", () => {
    it("a digest of exactly 64 hex digits pins, wherever the reference starts", () => {
        assert.equal(isPinnedImage(`ghcr.io/x/pgbouncer@sha256:${HEX}`), true);
        assert.equal(isPinnedImage(`x@sha256:${HEX}`), true);
        assert.equal(isPinnedImage(`@sha256:${HEX}`), false, "no repository: not an image reference");
        assert.equal(isPinnedImage(`x@sha256:${HEX}0`), false, "65 digits");
        assert.equal(isPinnedImage(`x@sha256:zz${HEX}`), false, "not hex from the start");
    });

    it("the tag is what follows the last colon, not a registry's port", () => {
        assert.equal(isPinnedImage("registry.local:5000/pgbouncer:1.24.1"), true);
        assert.equal(isPinnedImage("registry.local:5000/pgbouncer"), false);
    });

    it("a release tag starts with major.minor", () => {
        assert.equal(isReleaseTag("v1.24.1-p1"), true);
        assert.equal(isReleaseTag("latest-1.2"), false);
    });

    it("a moving word anywhere in the tag unpins it; a word that only contains one does not", () => {
        for (const tag of ["rc1.2", "1.2-latest", "17.6-stable", "1.2.dev", "2026.8_nightly", "1.0-main", "3.1-EDGE"])
            assert.equal(isReleaseTag(tag), false, tag);
        for (const tag of ["17.6-system-trixie", "1.2-development", "2.0-mainline", "1.24.1-p1"]) assert.equal(isReleaseTag(tag), true, tag);
    });

    it("only a well-formed reference pins: no space, newline, upper-case path or empty component", () => {
        for (const image of [
            "x:1.2.3 ",
            " x:1.2.3",
            "x:1.2.3\n",
            "x:1.2 3",
            "x/Y:1.2.3",
            "x//y:1.2.3",
            "x/:1.2.3",
            "x:1.2.3:1.2.4",
            `x:1.2.3@sha256:${HEX} `,
            "x:-1.2",
        ]) {
            assert.equal(isPinnedImage(image), false, JSON.stringify(image));
        }
        for (const image of ["x:1.2.3", "Registry.Local:5000/a/b__c/d-e.f:1.2.3", `x:1.2.3@sha256:${HEX}`, "localhost/x:v1.2"])
            assert.equal(isPinnedImage(image), true, image);
    });

    it("a chart digest is sha256: and 64 hex digits, nothing around them", () => {
        assert.equal(IMAGE_DIGEST.test(`sha256:${HEX}`), true);
        assert.equal(IMAGE_DIGEST.test(`xsha256:${HEX}`), false);
        assert.equal(IMAGE_DIGEST.test(`sha256:${HEX}0`), false);
    });
});
