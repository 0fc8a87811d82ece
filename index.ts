/**
 * Pulumi entry point: refuse a stale build, read and validate the stack configuration once, then
 * build the platform. Pulumi executes the compiled bin/index.js: `npm run build` first.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { staleBuild } from "./lib/build-stamp";
import { loadStackConfig } from "./config/load";
import { createPlatform } from "./components/platform";

const stale = staleBuild(path.resolve(__dirname, ".."), __dirname);
if (stale) throw new pulumi.RunError(stale);

export = createPlatform(loadStackConfig());
