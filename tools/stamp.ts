/** `npm run build`'s last step: stamps bin/ with the digest of the sources it was built from. */
import * as path from "node:path";
import { writeStamp } from "../lib/build-stamp";

const root = path.resolve(__dirname, "..", "..");
writeStamp(root, path.join(root, "bin"));
