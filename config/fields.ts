/**
 * Field helpers every section of the stack configuration uses: names, quantities, pinned images,
 * resources, and where a credential comes from.
 */
import { parseQuantity, quantityHint } from "../lib/units";
import { isPinnedImage, isReleaseTag } from "../lib/images";
import { Infer, Spec, custom, obj, str } from "./schema";

export const PROJECT = "authentik-platform";

/** The full config key of a path, as Pulumi and the error messages spell it. */
export const key = (path: string) => `${PROJECT}:${path}`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsName = (doc: string, def?: string) =>
    str({ doc, default: def, pattern: DNS_LABEL, patternText: "a DNS label (lower case letters, digits, '-')" });

/**
 * A name authentik shows and the program puts in resource names (and so in Pulumi URNs, where `::`
 * separates parts): printable, no quotes or backslashes, no `::`, no edge spaces, at most 100 characters.
 */
const DISPLAY_NAME = /^(?!.*::)(?! )(?!.* $)[^\x00-\x1f\x7f"'`\\]{1,100}$/;
export const displayName = (doc: string, def?: string) =>
    str({ doc, default: def, pattern: DISPLAY_NAME, patternText: "a name of 1 to 100 printable characters without quotes, backslashes, '::' or edge spaces" });

/** A link users follow from authentik: http(s), or one of the extra schemes authentik itself gives a meaning. */
export const link = (doc: string, extraSchemes: string[] = []) =>
    custom<string>(`an https:// or http:// URL${extraSchemes.map((x) => ` or ${x}`).join("")}`, { doc }, (v) => {
        if (typeof v !== "string" || /\s/.test(v)) return undefined;
        // "fa://" introduces an icon name; "blank://blank" is the whole value.
        if (extraSchemes.some((x) => (x.endsWith("://") ? v.startsWith(x) && v.length > x.length : v === x))) return v;
        return /^https?:\/\/[^/\s]+/.test(v) && URL.canParse(v) ? v : undefined;
    });

export const releaseTag = (doc: string, typeText: string) =>
    custom<string>(typeText, { doc }, (v) => (typeof v === "string" && isReleaseTag(v) && /^[\w][\w.-]{0,127}$/.test(v) ? v : undefined));

export const quantity = (doc: string, def?: string) =>
    custom<string>("a Kubernetes quantity (e.g. 512Mi, 3Gi, 500m)", { doc, default: def, hint: quantityHint }, (v) =>
        parseQuantity(v) === undefined ? undefined : (v as string),
    );

export const image = (doc: string, def: string) =>
    custom<string>(
        "an image pinned to an exact release (repo:1.2.3, repo:v1.2.3-p1 or repo@sha256:…; never latest, a bare major or a channel)",
        { doc, default: def },
        (v) => (typeof v === "string" && isPinnedImage(v) ? v : undefined),
    );

export const resources = (doc: string, def: { cpuRequest: string; memoryRequest: string; memoryLimit: string }) =>
    obj(
        {
            cpuRequest: quantity("CPU request.", def.cpuRequest),
            memoryRequest: quantity("Memory request.", def.memoryRequest),
            memoryLimit: quantity("Memory limit (the container is OOM-killed above it).", def.memoryLimit),
        },
        { doc },
    );
export type Resources = Infer<ReturnType<typeof resources>>;

/** Where a credential's value comes from. */
export type CredentialSource = { kind: "generate" } | { kind: "config" } | { kind: "onepassword"; item: string; field: string };

const CREDENTIAL_TYPE =
    '"generate" (random, kept in Pulumi state as a secret), "config" (the secure stack key of the same name), or {onepassword: {item, field}}';

export function credential(doc: string, def?: "generate"): Spec<CredentialSource | undefined> {
    return {
        type: CREDENTIAL_TYPE,
        doc,
        required: false,
        defaultText: def ? JSON.stringify(def) : "unset",
        parse(value, key, log) {
            if (value === undefined || value === null) return def ? { kind: def } : undefined;
            if (value === "generate" || value === "config") return { kind: value };
            if (typeof value === "object" && !Array.isArray(value)) {
                const op = (value as Record<string, unknown>).onepassword as Record<string, unknown> | undefined;
                const extra = Object.keys(value).filter((k) => k !== "onepassword");
                if (op && typeof op === "object" && extra.length === 0) {
                    const item = op.item;
                    const field = op.field;
                    const unknown = Object.keys(op).filter((k) => k !== "item" && k !== "field");
                    if (typeof item === "string" && item && typeof field === "string" && field && unknown.length === 0) {
                        return { kind: "onepassword", item, field };
                    }
                }
            }
            // A string here may be the password itself, put in the wrong place: never echo it.
            log.add(key, typeof value === "string" ? "[redacted]" : value, "is not a credential source", `use ${CREDENTIAL_TYPE}`);
            return undefined;
        },
    };
}

/** Every credential the platform uses. The same names are the secure stack keys for source "config". */
export const CREDENTIAL_NAMES = [
    "databasePassword",
    "secretKey",
    "bootstrapToken",
    "bootstrapPassword",
    "smtpPassword",
    "radiusSharedSecret",
    "apiToken",
    "importSourcePassword",
] as const;
export type CredentialName = (typeof CREDENTIAL_NAMES)[number];
