import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { renderConfigReference, withReference } from "../tools/docs";
import { ROOT } from "./support/helpers";

describe("README", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("carries the configuration reference generated from the schema (run `npm run docs`)", () => {
        assert.equal(withReference(readme), readme);
    });

    it("documents every key, with its default", () => {
        const reference = renderConfigReference();
        for (const key of ["pgbouncer.minAvailable", "database.sharedBuffers", "onepassword.mode", "credentials.secretKey"]) {
            assert.match(reference, new RegExp(`\`authentik-platform:${key.replace(".", "\\.")}\``));
        }
        assert.match(reference, /`authentik-platform:pgbouncer\.poolMode` \| one of "session", "transaction" \| `"session"`/);
    });

    it("gives the two commands CI runs", () => {
        assert.match(readme, /npm ci && npm run plan/);
        assert.match(readme, /^npm test/m);
        assert.match(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8"), /^npm test$/m);
    });

    it("never writes stack outputs with secrets into the repository, and git ignores them if someone does", () => {
        for (const doc of ["README.md", "docs/migration.md"]) {
            const text = fs.readFileSync(path.join(ROOT, doc), "utf8");
            assert.ok(text.includes("--show-secrets"), doc);
            for (const line of text.split("\n").filter((l) => /pulumi stack output[^\n]*--show-secrets[^\n]*>/.test(l)))
                assert.match(line, /> "\$out"/, `${doc}: ${line.trim()} writes the outputs into the working directory; use out="$(mktemp)"`);
        }
        const ignored = execFileSync("git", ["check-ignore", "--no-index", "outputs.json", "outputs-homelab.json", "examples/consumer/outputs.json"], {
            cwd: ROOT,
            encoding: "utf8",
        });
        assert.deepEqual(ignored.trim().split("\n"), ["outputs.json", "outputs-homelab.json", "examples/consumer/outputs.json"]);
    });
});

describe("cross-references", () => {
    it("every section of the README a document names exists, and every in-page link of the README has its heading", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const headings = [...readme.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1].trim());
        const anchor = (heading: string) =>
            heading
                .toLowerCase()
                .replace(/[^\w\s-]/g, "")
                .replace(/\s/g, "-");
        for (const doc of ["docs/testing.md", "docs/migration.md", "docs/plan-format.md", "README.md"]) {
            const text = fs.readFileSync(path.join(ROOT, doc), "utf8");
            for (const [, name] of text.matchAll(/README's "([^"]+)" section/g))
                assert.ok(headings.includes(name), `${doc} names the README's "${name}" section`);
        }
        for (const [, target] of readme.matchAll(/\]\(#([\w-]+)\)/g)) assert.ok(headings.map(anchor).includes(target), `README links to #${target}`);
    });
});

describe("the Node version, said once everywhere", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
    const nvmrc = fs.readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim();
    const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");

    it("targets the current LTS lines: 22 and 24, not 20", () => {
        assert.equal(pkg.engines.node, "^22.13.0 || >=24");
        assert.equal(nvmrc, "24");
        assert.equal(/^NODE_VERSION=(\d+)\./m.exec(ci)?.[1], nvmrc, ".ci/run runs the suite on the .nvmrc line");
        assert.match(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"), /Node\.js 22 \(≥ 22\.13\) or\s+24/);
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const commands = readme.slice(readme.indexOf("## The two commands"), readme.indexOf("```bash"));
        assert.match(
            commands,
            /Both need Node\.js 22 \(≥ 22\.13\) or 24 \(`\.nvmrc`\); on an older Node\.js they stop at once/,
            "the two commands say which Node.js they need",
        );
    });

    it("npm run docs says when nothing changed", () => {
        const out = execFileSync(process.execPath, [path.join(ROOT, "bin", "tools", "docs.js")], { encoding: "utf8" });
        assert.match(out, /is unchanged/);
    });
});
