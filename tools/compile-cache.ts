/**
 * Node.js's module compile cache: V8 keeps the code it compiled for each module on disk (in the
 * system's temporary directory), so the next run of a command skips compiling the SDKs and the
 * TypeScript parser Pulumi's closure serializer loads. Imported first by the commands a user waits
 * for; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import * as nodeModule from "node:module";

(nodeModule as { enableCompileCache?(): unknown }).enableCompileCache?.();
