/**
 * e2e/build-tools.sh where the machine already has the programs (a laptop with the Pulumi CLI and
 * its plugins, GitHub after pulumi/actions): it takes them from PATH, the controllers it always
 * builds from its cache, and builds nothing. (Building them from their Go modules is what
 * `npm run e2e` exercises in .ci/run.)
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { ROOT } from "./support/helpers";

const PROGRAMS = ["pulumi", "pulumi-resource-kubernetes", "etcd", "kube-apiserver", "kube-controller-manager"];
/** Built always, never taken from PATH (a controller there would not match the CRDs beside it). */
const ALWAYS_BUILT = ["external-secrets", "reloader"];

describe("e2e/build-tools.sh", () => {
    it("links the programs PATH has into the directory it prints, builds nothing, and adds the dynamic-provider host", () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "build-tools-"));
        const installed = path.join(home, "installed");
        fs.mkdirSync(installed);
        for (const name of PROGRAMS) fs.writeFileSync(path.join(installed, name), `#!/bin/sh\necho "${name} v9.9.9"\n`, { mode: 0o755 });
        // A cache as an earlier run left it: the directory of each tool is keyed by its go.sum and the script.
        const script = fs.readFileSync(path.join(ROOT, "e2e", "build-tools.sh"));
        const cached = (tool: string) => {
            const key = createHash("sha256")
                .update(fs.readFileSync(path.join(ROOT, "e2e", "tools", tool, "go.sum")))
                .update(script)
                .digest("hex")
                .slice(0, 12);
            return path.join(home, "cache", "authentik-platform-tools", `go-${tool}-${key}`);
        };
        for (const tool of ALWAYS_BUILT) {
            fs.mkdirSync(cached(tool), { recursive: true });
            fs.writeFileSync(path.join(cached(tool), tool), "#!/bin/sh\n", { mode: 0o755 });
        }
        fs.mkdirSync(path.join(cached("external-secrets"), "crds"));
        // No go on this PATH: a build would fail loudly.
        const PATH = [installed, path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter);
        const run = spawnSync("bash", [path.join(ROOT, "e2e", "build-tools.sh")], {
            cwd: ROOT,
            encoding: "utf8",
            env: { PATH, HOME: home, XDG_CACHE_HOME: path.join(home, "cache") },
        });
        assert.equal(run.status, 0, run.stderr);
        const out = path.join(home, "cache", "authentik-platform-tools", "e2e-bin");
        assert.equal(run.stdout, `${out}\n`);
        for (const name of PROGRAMS) {
            assert.equal(fs.readlinkSync(path.join(out, name)), path.join(installed, name), name);
            assert.match(run.stderr, new RegExp(`^e2e tools: ${name} from PATH: ${path.join(installed, name).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
        }
        for (const tool of ALWAYS_BUILT) assert.equal(fs.readlinkSync(path.join(out, tool)), path.join(cached(tool), tool), `${tool}, from the cache`);
        assert.equal(
            fs.readlinkSync(path.join(out, "external-secrets-crds")),
            path.join(cached("external-secrets"), "crds"),
            "the CRDs of the controller's version, beside it",
        );
        assert.doesNotMatch(run.stderr, /building/);
        assert.match(run.stderr, /^e2e tools: pulumi pulumi v9\.9\.9$/m, "the CLI it will run says its version");
        const host = fs.readFileSync(path.join(out, "pulumi-resource-pulumi-nodejs"), "utf8");
        assert.match(host, /require\.resolve\('@pulumi\/pulumi\/cmd\/dynamic-provider'\)/);
        assert.equal(fs.statSync(path.join(out, "pulumi-resource-pulumi-nodejs")).mode & 0o111, 0o111, "executable");
    });
});
