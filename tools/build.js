#!/usr/bin/env node
// `npm run build`, the first step of `npm test`, `npm run plan` and every script that runs the
// compiled code. It stops at once, naming the Node.js version needed, on a Node.js that
// package.json's engines exclude (`npm ci` is held to the same range by .npmrc's engine-strict).
// Then it compiles (tsc) and stamps bin/ (lib/build-stamp.ts), unless bin/ was compiled
// from exactly the inputs beside it: then there is nothing to do. Plain JavaScript, so it runs
// before anything is compiled, on any Node.js.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const ROOT = path.join(__dirname, "..");
const BIN = path.join(ROOT, "bin");

/** Whether `version` (e.g. "22.13.0") is in `range`: alternatives "^X.Y.Z" or ">=X[.Y.Z]" joined by "||". */
function satisfies(version, range) {
    const parse = (v) =>
        v
            .replace(/^v/, "")
            .split(".")
            .map((n) => Number(n) || 0);
    const atLeast = (v, min) => {
        for (let i = 0; i < 3; i++) if ((v[i] || 0) !== (min[i] || 0)) return (v[i] || 0) > (min[i] || 0);
        return true;
    };
    const v = parse(version);
    return range.split("||").some((alternative) => {
        const a = alternative.trim();
        if (a.startsWith("^")) {
            const min = parse(a.slice(1));
            return v[0] === min[0] && atLeast(v, min);
        }
        if (a.startsWith(">=")) return atLeast(v, parse(a.slice(2)));
        throw new Error(`package.json engines.node: "${a}" is not ^X.Y.Z or >=X`);
    });
}

/** Runs a Node.js script of the project, its output passed through; its exit status. */
function node(...args) {
    return spawnSync(process.execPath, args, { cwd: ROOT, stdio: "inherit" }).status ?? 1;
}

function main() {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const range = pkg.engines.node;
    if (!satisfies(process.versions.node, range)) {
        console.error(
            `authentik-platform needs Node.js ${range} (package.json engines; .nvmrc names the LTS line to install), ` +
                `and this is Node.js ${process.versions.node} (${process.execPath}). Install Node.js 24 (e.g. \`nvm install\` in this directory) and run the command again.`,
        );
        return 1;
    }
    // The compiled stamp module decides (a bin/ from before it could: compile).
    const stamp = path.join(BIN, "lib", "build-stamp.js");
    const { builtFrom } = fs.existsSync(stamp) ? require(stamp) : {};
    if (typeof builtFrom === "function" && builtFrom(ROOT, BIN)) return 0;
    // tsc emits even when it fails: a stamp left from the last good compile would then vouch for
    // that output once the sources are taken back. The stamp comes back only with a clean compile.
    fs.rmSync(path.join(BIN, ".build-digest"), { force: true });
    // (Resolved as Node.js does: a copy of the project, as Stryker's sandbox, finds it further up.)
    return node(require.resolve("typescript/bin/tsc", { paths: [ROOT] }), "-p", "tsconfig.json") || node(path.join(BIN, "tools", "stamp.js"));
}

module.exports = { satisfies };
if (require.main === module) process.exitCode = main();
