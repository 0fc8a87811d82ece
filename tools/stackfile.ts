/**
 * Reads Pulumi.yaml and a stack file into Pulumi's flat config map, the way the CLI hands config
 * to a program: `project:key` → string, structured values as JSON. `secure:` values (ciphertext)
 * become recognisable placeholder secrets, so no decryption is needed and leaks are detectable; a
 * placeholder carries a hash of its ciphertext, so a rotated secret plans as a changed value.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { createHash } from "node:crypto";
import { SECRET_PLACEHOLDER_PREFIX } from "./harness";

export interface StackFile {
    project: string;
    stack: string;
    config: Record<string, string>;
    secretKeys: string[];
    /** The `config:` block as written (for fragments the user pastes back). */
    rawConfig: Record<string, unknown>;
}

/** The project's own Pulumi.yaml, for a stack file kept elsewhere. */
const PROJECT_FILE = path.join(__dirname, "..", "..", "Pulumi.yaml");

export function readStackFile(stackFile: string, projectFile = besideOrProject(stackFile)): StackFile {
    const project = (YAML.parse(fs.readFileSync(projectFile, "utf8")) as { name: string }).name;
    const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(stackFile))?.[1];
    if (!stack) throw new Error(`${stackFile}: a stack file is named Pulumi.<stack>.yaml`);
    const doc = (YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    return { project, stack, ...flattenConfig(project, doc.config ?? {}), rawConfig: doc.config ?? {} };
}

function besideOrProject(stackFile: string): string {
    const beside = path.join(path.dirname(stackFile), "Pulumi.yaml");
    return fs.existsSync(beside) ? beside : PROJECT_FILE;
}

/** Pulumi's config map from a stack file's `config:` block. Pure. */
export function flattenConfig(project: string, block: Record<string, unknown>): { config: Record<string, string>; secretKeys: string[] } {
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(block)) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        const { text, secret } = encode(value, key);
        config[key] = text;
        if (secret) secretKeys.push(key);
    }
    return { config, secretKeys };
}

function placeholder(key: string, secure: unknown): string {
    const cipher = String((secure as { secure: unknown }).secure);
    return `${SECRET_PLACEHOLDER_PREFIX}config-${key}-${createHash("sha256").update(cipher).digest("hex").slice(0, 8)}`;
}

function isSecure(v: unknown): boolean {
    return !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** A value as the CLI passes it; nested `secure:` values make the whole key secret, as in Pulumi. */
function encode(value: unknown, key: string): { text: string; secret: boolean } {
    if (isSecure(value)) return { text: placeholder(key, value), secret: true };
    if (typeof value === "string") return { text: value, secret: false };
    let secret = false;
    const plain = JSON.stringify(value, (k, v) => {
        if (isSecure(v)) {
            secret = true;
            return placeholder(`${key}.${k}`, v);
        }
        return v;
    });
    return { text: plain, secret };
}
