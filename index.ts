/**
 * Pulumi entry point: read and validate the stack configuration once, then build the platform.
 * Run `npm run build` first; Pulumi executes the compiled bin/index.js.
 */
import { loadStackConfig } from "./stacks/load";
import { createPlatform } from "./components/platform";

export = createPlatform(loadStackConfig());
