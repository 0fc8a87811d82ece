/** lib/units.ts: Kubernetes quantities, PostgreSQL sizes, the hint for a byte suffix, byte formatting. Pure. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { formatBytes, parsePgMemory, parseQuantity, quantityHint } from "../lib/units";

describe("units", () => {
    it("parses Kubernetes quantities", () => {
        const cases: [string, number | undefined][] = [
            ["3Gi", 3 * 2 ** 30],
            ["512Mi", 512 * 2 ** 20],
            ["500m", 0.5],
            ["2G", 2e9],
            ["1.5Gi", 1.5 * 2 ** 30],
            ["2GB", undefined],
            ["Gi", undefined],
            ["-1Gi", undefined],
        ];
        for (const [text, bytes] of cases) assert.equal(parseQuantity(text), bytes, text);
    });

    it("parses PostgreSQL sizes (1024-based, unit required)", () => {
        assert.equal(parsePgMemory("768MB"), 768 * 2 ** 20);
        assert.equal(parsePgMemory("1GB"), 2 ** 30);
        assert.equal(parsePgMemory("768"), undefined);
        assert.equal(parsePgMemory("768Mi"), undefined);
    });

    it("hints the right spelling for a byte-suffixed quantity", () => {
        assert.match(quantityHint("2GB"), /"2Gi".*"2G"/);
        assert.match(quantityHint("lots"), /Kubernetes quantity/);
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
