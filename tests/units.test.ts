import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { parsePgMemory, parseQuantity, quantityHint } from "../lib/units";

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
