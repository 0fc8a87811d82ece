/**
 * The shared helpers at their edges (components/lib): what counts as a pinned image, quantities
 * with decimals and spaces, the hint for a "GB" typo, byte formatting at the GiB boundary, label
 * selectors, NetworkPolicy blocks, which kinds can be imported. Pure, no Pulumi runtime.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { IMAGE_DIGEST, isPinnedImage, isReleaseTag } from "../lib/images";
import { identityOf } from "../lib/imports";
import { coveredAddresses, parseCidr } from "../lib/cidr";
import { podSecurityLabels, selectorMatches } from "../lib/k8s";
import { ANYWHERE, defaultDenyPolicy, fromNamespace, networkPolicy } from "../lib/network";
import { formatBytes, parsePgMemory, parseQuantity, quantityHint } from "../lib/units";
import { SECRET_OUTPUT_KEYS } from "../packages/contract";

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

describe("CIDR networks", () => {
    it("reads IPv4 and IPv6 networks, aligning the address to the prefix", () => {
        assert.deepEqual(parseCidr("10.0.10.7/24"), { family: 4, first: 0x0a000a00n, last: 0x0a000affn });
        assert.deepEqual(parseCidr("192.168.1.1"), { family: 4, first: 0xc0a80101n, last: 0xc0a80101n });
        assert.deepEqual(parseCidr("0.0.0.0/0"), { family: 4, first: 0n, last: 0xffffffffn });
        assert.deepEqual(parseCidr("fd00::/8"), { family: 6, first: 0xfdn << 120n, last: (0xfen << 120n) - 1n });
        assert.deepEqual(parseCidr("::1"), { family: 6, first: 1n, last: 1n });
        assert.deepEqual(parseCidr("10.0.0.240/28"), { family: 4, first: 0x0a0000f0n, last: 0x0a0000ffn });
        assert.deepEqual(parseCidr("1:2:3:4:5:6:7::"), { family: 6, first: 0x00010002000300040005000600070000n, last: 0x00010002000300040005000600070000n });
        assert.deepEqual(parseCidr("1:2:3:4:5:6:7:8/128"), {
            family: 6,
            first: 0x00010002000300040005000600070008n,
            last: 0x00010002000300040005000600070008n,
        });
        assert.deepEqual(parseCidr("fe80::1:2/64"), { family: 6, first: 0xfe80n << 112n, last: (0xfe80n << 112n) + (1n << 64n) - 1n });
    });

    it("refuses what is not a network", () => {
        for (const text of [
            "10.0.0.0/a8",
            "10.0.0.0/8a",
            "10.0.10",
            "10.0.10.256/24",
            "10.0.010.0/24",
            "wifi",
            "10.0.0.0/8/8",
            "10.0.0.0/x",
            "10.0.0.0/",
            "::/129",
            "1::2::3",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7::8",
            "g::/8",
            "12345::/16",
            "",
        ]) {
            assert.equal(parseCidr(text), undefined, text);
        }
    });

    it("counts the addresses of one family, overlaps and nested networks once", () => {
        const nets = ["10.0.0.0/9", "10.0.0.0/8", "10.128.0.0/9", "10.0.0.0/24", "192.168.0.0/16", "192.168.0.0/17", "fd00::/64"].map((t) => parseCidr(t)!);
        assert.equal(coveredAddresses(nets, 4), (1n << 24n) + (1n << 16n));
        assert.equal(coveredAddresses(nets, 6), 1n << 64n);
        assert.equal(
            coveredAddresses(
                ["0.0.0.0/1", "128.0.0.0/1"].map((t) => parseCidr(t)!),
                4,
            ),
            1n << 32n,
        );
        assert.equal(
            coveredAddresses(
                ["10.0.0.0/25", "10.0.0.128/25", "10.0.0.64/26"].map((t) => parseCidr(t)!),
                4,
            ),
            256n,
        );
        assert.equal(coveredAddresses([], 4), 0n);
        assert.equal(
            coveredAddresses(
                ["10.0.0.128/25", "10.0.0.0/24"].map((t) => parseCidr(t)!),
                4,
            ),
            256n,
            "given in any order",
        );
        assert.equal(
            coveredAddresses(
                ["10.1.0.0/16", "10.0.0.0/16", "10.0.0.0/24"].map((t) => parseCidr(t)!),
                4,
            ),
            2n * 65536n,
        );
    });
});

describe("quantities and sizes at their edges", () => {
    it("reads a quantity with two decimals, without a suffix, and around spaces", () => {
        assert.equal(parseQuantity("1.25Gi"), 1.25 * 2 ** 30);
        assert.equal(parseQuantity("512"), 512);
        assert.equal(parseQuantity(" 3Gi "), 3 * 2 ** 30);
    });

    it("says how to write a size given with a B, whatever its digits and spaces", () => {
        assert.equal(quantityHint("12GB"), 'Kubernetes quantities have no "B": use "12Gi" (binary) or "12G" (decimal)');
        assert.equal(quantityHint(" 1.25 GiB "), 'Kubernetes quantities have no "B": use "1.25Gi" (binary) or "1.25G" (decimal)');
        const generic = 'use a Kubernetes quantity such as "512Mi", "3Gi" or "500m"';
        for (const text of ["x2GB", "2GBx", "2.xGB", "2-GB"]) assert.equal(quantityHint(text), generic, text);
    });

    it("reads PostgreSQL sizes only whole, trimmed", () => {
        assert.equal(parsePgMemory(" 768MB "), 768 * 2 ** 20);
        assert.equal(parsePgMemory("x768MB"), undefined);
        assert.equal(parsePgMemory("768MBx"), undefined);
    });

    it("formats bytes in Gi from 1 GiB on, in quarter GiB steps, else in Mi", () => {
        assert.equal(formatBytes(2 ** 30), "1Gi");
        assert.equal(formatBytes(1.25 * 2 ** 30), "1.25Gi");
        assert.equal(formatBytes(1.3 * 2 ** 30), "1331Mi");
        assert.equal(formatBytes(768 * 2 ** 20), "768Mi");
    });
});

describe("labels, NetworkPolicy blocks, importable kinds, secret outputs", () => {
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

    it("a peer in another namespace, optionally narrowed to its pods", () => {
        assert.deepEqual(fromNamespace("monitoring"), { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } });
        assert.deepEqual(fromNamespace("monitoring", { app: "prometheus" }), {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { app: "prometheus" } },
        });
    });

    it("a NetworkPolicy: ingress only, or both ways when egress rules are given; and a namespace's default deny", () => {
        const ingress = [{ from: [fromNamespace("kube-system")], ports: [{ port: 9000, protocol: "TCP" }] }];
        assert.deepEqual(networkPolicy({ name: "n", namespace: "authentik", labels: { l: "v" }, podSelector: { app: "a" }, ingress }), {
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "n", namespace: "authentik", labels: { l: "v" } },
            spec: { podSelector: { matchLabels: { app: "a" } }, policyTypes: ["Ingress"], ingress },
        });
        const egress = [{ to: ANYWHERE }];
        assert.deepEqual(networkPolicy({ name: "n", namespace: "authentik", labels: {}, podSelector: { app: "a" }, ingress: [], egress }).spec, {
            podSelector: { matchLabels: { app: "a" } },
            policyTypes: ["Ingress", "Egress"],
            ingress: [],
            egress,
        });
        assert.deepEqual(defaultDenyPolicy("authentik", { l: "v" }), {
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "default-deny", namespace: "authentik", labels: { l: "v" } },
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        });
        assert.deepEqual(ANYWHERE, [{ namespaceSelector: {} }, { ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }]);
    });

    it("only the kinds the takeover knows have an import identity", () => {
        assert.equal(identityOf("kubernetes:core/v1:ConfigMap", { metadata: { name: "c", namespace: "authentik" } }), "ConfigMap/authentik/c");
        assert.equal(identityOf("kubernetes:batch/v1:CronJob", { metadata: { name: "pg-dump", namespace: "authentik" } }), undefined);
    });

    it("the outputs a consumer must treat as secrets", () => {
        assert.deepEqual(SECRET_OUTPUT_KEYS, ["oidcClientSecrets", "consumerTokens"]);
    });
});
