/** The schema language the stack configuration is written in, on its own: each kind of field, every message. */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ConfigError, IssueLog, bool, closest, formatIssues, int, list, obj, oneOf, optional, record, str } from "../config/schema";

type Row = [key: string, value: unknown, problem: string, fix: string];

/** Parses `value` with `spec` at key `p:x`; returns what it parsed and every issue as a row. */
function run<T>(spec: { parse(v: unknown, key: string, log: IssueLog): T }, value: unknown): { value: T; issues: Row[] } {
    const log = new IssueLog();
    const parsed = spec.parse(value, "p:x", log);
    return { value: parsed, issues: log.issues.map((i) => [i.key, i.value, i.problem, i.fix]) };
}

describe("schema language: leaves", () => {
    it("str: required without a default, never empty, matched against its pattern", () => {
        const name = str({ doc: "d" });
        assert.deepEqual(run(name, undefined).issues, [["p:x", undefined, "is required", "set it to a string"]]);
        assert.deepEqual(run(name, null).issues, [["p:x", null, "is required", "set it to a string"]]);
        assert.deepEqual(run(name, "").issues, [["p:x", "", "is not a string", "use a string"]]);
        assert.deepEqual(run(name, "a"), { value: "a", issues: [] });
        const host = str({ doc: "d", pattern: /^[a-z]+$/, patternText: "lower-case letters", default: "abc" });
        assert.deepEqual(
            run(host, "ABC"),
            { value: "abc", issues: [["p:x", "ABC", "is not lower-case letters", "use lower-case letters"]] },
            "the default stands in, so later rules judge a sane value",
        );
        assert.deepEqual(run(host, undefined), { value: "abc", issues: [] });
    });

    it("int: whole numbers, bounds inclusive, and numbers that arrive as strings", () => {
        const n = int({ doc: "d", min: 1, max: 9 });
        assert.deepEqual(run(n, 1), { value: 1, issues: [] });
        assert.deepEqual(run(n, 9), { value: 9, issues: [] });
        assert.deepEqual(run(n, 0).issues, [["p:x", 0, "is out of range", "use a whole number from 1 to 9"]]);
        assert.deepEqual(run(n, 10).issues, [["p:x", 10, "is out of range", "use a whole number from 1 to 9"]]);
        assert.deepEqual(run(n, 2.5).issues, [["p:x", 2.5, "is not a whole number from 1 to 9", "use a whole number from 1 to 9"]]);
        assert.deepEqual(run(n, "7"), { value: 7, issues: [] }, "a flat config key arrives as a string");
        assert.deepEqual(run(int({ doc: "d" }), "42"), { value: 42, issues: [] }, "of any length");
        assert.deepEqual(run(n, true).issues, [["p:x", true, "is not a whole number from 1 to 9", "use a whole number from 1 to 9"]], "a boolean is not 1");
        assert.deepEqual(run(int({ doc: "d" }), "-3"), { value: -3, issues: [] });
        for (const text of ["7x", "x7", "", "1.5", "-"]) assert.equal(run(n, text).issues.length, 1, text);
        assert.deepEqual(run(int({ doc: "d", min: 0 }), -1).issues, [["p:x", -1, "is out of range", "use a whole number of at least 0"]]);
        assert.deepEqual(run(int({ doc: "d" }), "x").issues, [["p:x", "x", "is not a whole number", "use a whole number"]]);
        assert.deepEqual(run(int({ doc: "d", max: 5 }), 6).issues, [["p:x", 6, "is out of range", "use a whole number"]]);
    });

    it("bool: true and false, also as strings, nothing else", () => {
        const b = bool({ doc: "d", default: true });
        assert.equal(run(b, false).value, false);
        assert.equal(run(b, "false").value, false);
        assert.equal(run(b, "true").value, true);
        assert.equal(run(b, undefined).value, true);
        assert.deepEqual(run(b, "yes").issues, [["p:x", "yes", "is not true or false", "use true or false"]]);
        assert.deepEqual(run(b, 1).issues, [["p:x", 1, "is not true or false", "use true or false"]]);
    });

    it("oneOf: only the listed values, named in the fix", () => {
        const mode = oneOf(["session", "transaction"] as const, { doc: "d" });
        assert.equal(run(mode, "transaction").value, "transaction");
        assert.deepEqual(run(mode, "statement").issues, [
            ["p:x", "statement", 'is not one of "session", "transaction"', 'use one of "session", "transaction"'],
        ]);
        assert.deepEqual(run(mode, 1).issues, [["p:x", 1, 'is not one of "session", "transaction"', 'use one of "session", "transaction"']]);
    });

    it("optional: absent stays absent, present is still checked", () => {
        const o = optional(str({ doc: "d" }));
        assert.equal(o.required, false);
        assert.deepEqual(run(o, undefined), { value: undefined, issues: [] });
        assert.deepEqual(run(o, "").issues, [["p:x", "", "is not a string", "use a string"]]);
    });
});

describe("schema language: lists, maps and objects", () => {
    it("list: each item checked at its index; a non-list named", () => {
        const l = list(int({ doc: "d" }), { doc: "d", default: [1] });
        assert.deepEqual(run(l, undefined).value, [1]);
        assert.deepEqual(run(l, [2, "x"]).issues, [["p:x[1]", "x", "is not a whole number", "use a whole number"]]);
        assert.deepEqual(run(l, "2"), { value: [1], issues: [["p:x", "2", "is not a list", "use a YAML list of a whole number"]] });
    });

    it("record: any keys, each value checked; a non-map named", () => {
        const r = record(str({ doc: "d" }), { doc: "d" });
        assert.deepEqual(run(r, undefined), { value: {}, issues: [] });
        assert.deepEqual(run(r, { a: "1", b: "2" }), { value: { a: "1", b: "2" }, issues: [] });
        assert.deepEqual(run(r, { a: "" }).issues, [["p:x.a", "", "is not a string", "use a string"]]);
        for (const bad of ["a", ["a"]]) assert.deepEqual(run(r, bad), { value: {}, issues: [["p:x", bad, "is not a map", "use a YAML map of a string"]] });
    });

    it("obj: required when a field is, defaults filled in, a non-map named", () => {
        const withRequired = obj({ host: str({ doc: "d" }), port: int({ doc: "d", default: 5432 }) }, { doc: "d" });
        assert.equal(withRequired.required, true);
        assert.equal(obj({ port: int({ doc: "d", default: 5432 }) }, { doc: "d" }).required, false);
        assert.deepEqual(run(withRequired, { host: "db" }), { value: { host: "db", port: 5432 }, issues: [] });
        assert.deepEqual(run(withRequired, undefined).issues, [["p:x.host", undefined, "is required", "set it to a string"]]);
        for (const bad of ["db", ["db"]]) {
            assert.deepEqual(run(withRequired, bad).issues[0], ["p:x", bad, "is not a map", "use a YAML map with keys host, port"]);
        }
    });

    it("obj: an unknown key is an error, with the nearest known key or the list of them, and its value never shown", () => {
        const o = obj(
            { replicas: int({ doc: "d", default: 1 }), image: str({ doc: "d", default: "i" }) },
            { doc: "d", retired: { concurrency: "renamed to threads" } },
        );
        // Its value may be a credential in the wrong place: the issue never carries it.
        assert.deepEqual(run(o, { replica: 2 }).issues, [
            ["p:x.replica", "[not shown: unknown key]", "is not a known key", 'did you mean "replicas"? Known keys: replicas, image'],
        ]);
        assert.deepEqual(run(o, { zzzzzz: "hunter2" }).issues, [
            ["p:x.zzzzzz", "[not shown: unknown key]", "is not a known key", "remove it; known keys: replicas, image"],
        ]);
        assert.deepEqual(run(o, { concurrency: 4 }).issues, [["p:x.concurrency", "[not shown: unknown key]", "renamed to threads", "remove it"]]);
        const top = obj({ namespace: str({ doc: "d", default: "n" }) }, { doc: "d" });
        const log = new IssueLog();
        top.parse({ namespce: "a" }, "project:", log);
        assert.equal(log.issues[0].key, "project:namespce", "top-level keys join without a dot");
    });

    it("suggests only a close key: a typo, not another word", () => {
        assert.equal(closest("replica", ["replicas", "image"]), "replicas");
        assert.equal(closest("REPLICAS", ["replicas"]), "replicas", "case does not count");
        assert.equal(closest("imgae", ["image"]), "image", "two edits in a short word");
        assert.equal(closest("ixxxe", ["image"]), undefined, "three edits in a short word: another word");
        assert.equal(closest("maxclientconnxxxx", ["maxClientConn"]), "maxClientConn", "longer words allow a third of their length");
        assert.equal(closest("mxxxxxentConn", ["maxClientConn"]), "maxClientConn", "13 letters: 4 edits still a typo");
        assert.equal(closest("mxyxxxentConn", ["maxClientConn"]), undefined, "13 letters: 5 edits another word");
        assert.equal(closest("ab", ["ax", "ay"]), "ax", "a tie goes to the first known key");
        assert.equal(closest("abc", ["abcd", "ab"]), "abcd", "ties keep the first");
        assert.equal(closest("abcdef", ["abcdef"]), "abcdef");
        assert.equal(closest("x", []), undefined);
    });
});

describe("schema language: the error", () => {
    it("lists every problem with key, value and fix, in one message", () => {
        const one = formatIssues([{ key: "p:a", value: 3, problem: "is too big", fix: "use 2" }]);
        assert.equal(one, "invalid stack configuration (1 problem):\n  - p:a = 3: is too big\n    fix: use 2");
        const two = formatIssues([
            { key: "p:a", value: undefined, problem: "is required", fix: "set it" },
            { key: "p:b", value: "x", problem: "is wrong", fix: "use y" },
        ]);
        assert.equal(
            two,
            'invalid stack configuration (2 problems):\n  - p:a = (not set): is required\n    fix: set it\n  - p:b = "x": is wrong\n    fix: use y',
        );
        const e = new ConfigError([{ key: "p:a", value: 3, problem: "is too big", fix: "use 2" }]);
        assert.equal(e.name, "ConfigError");
        assert.equal(e.message, one);
    });
});
