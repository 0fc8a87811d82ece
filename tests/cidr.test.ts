/** lib/cidr.ts: reading IPv4 and IPv6 networks, and counting the addresses a set of them covers. Pure. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { coveredAddresses, parseCidr } from "../lib/cidr";

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
