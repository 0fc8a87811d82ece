/**
 * A small typed schema for stack configuration. One definition gives the parsed type, the defaults,
 * the validation (unknown keys are errors) and the documented reference (see `describe`).
 * Pure: no Pulumi, no I/O.
 */

/** One problem found in the stack configuration. `value` is already safe to print. */
export interface ConfigIssue {
    /** Full config key, e.g. `authentik-platform:pgbouncer.minAvailable`. */
    key: string;
    /** The offending value (never a secret: secret values are shown as "[secret]"). */
    value: unknown;
    /** What is wrong. */
    problem: string;
    /** What would be valid, or the command that fixes it. */
    fix: string;
}

export class ConfigError extends Error {
    constructor(readonly issues: ConfigIssue[]) {
        super(formatIssues(issues));
        this.name = "ConfigError";
    }
}

export function formatIssues(issues: ConfigIssue[]): string {
    const lines = issues.map((i) => `  - ${i.key} = ${showValue(i.value)}: ${i.problem}\n    fix: ${i.fix}`);
    return `invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines.join("\n")}`;
}

/**
 * What an issue shows of a value under a key the schema does not know: nothing, since it may be a
 * credential written in the wrong place.
 */
export const NOT_SHOWN = "[not shown: unknown key]";

export function showValue(value: unknown): string {
    if (value === undefined) return "(not set)";
    return JSON.stringify(value);
}

/** Collects issues while a config tree is parsed. */
export class IssueLog {
    readonly issues: ConfigIssue[] = [];
    add(key: string, value: unknown, problem: string, fix: string): void {
        this.issues.push({ key, value, problem, fix });
    }
}

/** A field of the schema: parses one (possibly absent) value at `key`. */
export interface Spec<T> {
    /** Human description of the accepted values, used in messages and the reference. */
    readonly type: string;
    readonly doc: string;
    /** The default as documented (undefined when required or optional without default). */
    readonly defaultText?: string;
    readonly required: boolean;
    /** Nested fields, for objects (used by `describe`). */
    readonly fields?: Record<string, Spec<unknown>>;
    parse(value: unknown, key: string, log: IssueLog): T;
}

export type Infer<S> = S extends Spec<infer T> ? T : never;

interface Common<T> {
    doc: string;
    default?: T;
}

/** Joins a parent key and a field name: `project:` + `db` → `project:db`, `project:db` + `size` → `project:db.size`. */
export function childKey(parent: string, name: string): string {
    return parent.endsWith(":") ? `${parent}${name}` : `${parent}.${name}`;
}

function absent(value: unknown): boolean {
    return value === undefined || value === null;
}

function leaf<T>(type: string, opts: Common<T>, check: (value: unknown) => { ok: true; value: T } | { ok: false; problem?: string; fix?: string }): Spec<T> {
    return {
        type,
        doc: opts.doc,
        required: opts.default === undefined,
        defaultText: opts.default === undefined ? undefined : JSON.stringify(opts.default),
        parse(value, key, log) {
            if (absent(value)) {
                if (opts.default !== undefined) return opts.default;
                log.add(key, value, "is required", `set it to ${type}`);
                return undefined as T;
            }
            const result = check(value);
            if (result.ok) return result.value;
            log.add(key, value, result.problem ?? `is not ${type}`, result.fix ?? `use ${type}`);
            return (opts.default ?? undefined) as T;
        },
    };
}

export function str(opts: Common<string> & { pattern?: RegExp; patternText?: string }): Spec<string> {
    const type = opts.patternText ?? "a string";
    return leaf<string>(type, opts, (v) =>
        typeof v === "string" && v.length > 0 && (!opts.pattern || opts.pattern.test(v)) ? { ok: true, value: v } : { ok: false },
    );
}

export function int(opts: Common<number> & { min?: number; max?: number }): Spec<number> {
    const range =
        opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}` : opts.min !== undefined ? ` of at least ${opts.min}` : "";
    const type = `a whole number${range}`;
    return leaf<number>(type, opts, (v) => {
        // Pulumi passes structured config through JSON, so "3" may arrive for 3 from a flat key.
        const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n)) return { ok: false };
        if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
            return { ok: false, problem: `is out of range` };
        }
        return { ok: true, value: n };
    });
}

export function bool(opts: Common<boolean>): Spec<boolean> {
    return leaf<boolean>("true or false", opts, (v) =>
        typeof v === "boolean" ? { ok: true, value: v } : v === "true" || v === "false" ? { ok: true, value: v === "true" } : { ok: false },
    );
}

export function oneOf<const V extends string>(values: readonly V[], opts: Common<V>): Spec<V> {
    const type = `one of ${values.map((v) => `"${v}"`).join(", ")}`;
    return leaf<V>(type, opts, (v) => (typeof v === "string" && (values as readonly string[]).includes(v) ? { ok: true, value: v as V } : { ok: false }));
}

/** A value checked by a custom predicate, e.g. a Kubernetes quantity. */
export function custom<T>(type: string, opts: Common<T> & { hint?: (value: unknown) => string }, check: (value: unknown) => T | undefined): Spec<T> {
    return leaf<T>(type, opts, (v) => {
        const parsed = check(v);
        return parsed === undefined ? { ok: false, fix: opts.hint?.(v) } : { ok: true, value: parsed };
    });
}

/** Makes a spec optional: absent stays `undefined` instead of an error. */
export function optional<T>(spec: Spec<T>): Spec<T | undefined> {
    return {
        ...spec,
        required: false,
        parse(value, key, log) {
            return absent(value) ? undefined : spec.parse(value, key, log);
        },
    };
}

export function list<T>(item: Spec<T>, opts: { doc: string; default?: T[] }): Spec<T[]> {
    return {
        type: `a list of ${item.type}`,
        doc: opts.doc,
        required: false,
        defaultText: JSON.stringify(opts.default ?? []),
        fields: item.fields,
        parse(value, key, log) {
            if (absent(value)) return opts.default ?? [];
            if (!Array.isArray(value)) {
                log.add(key, value, "is not a list", `use a YAML list of ${item.type}`);
                return opts.default ?? [];
            }
            return value.map((v, i) => item.parse(v, `${key}[${i}]`, log));
        },
    };
}

/** A free-form map from string keys to values of one spec. */
export function record<T>(item: Spec<T>, opts: { doc: string }): Spec<Record<string, T>> {
    return {
        type: `a map of ${item.type}`,
        doc: opts.doc,
        required: false,
        defaultText: "{}",
        parse(value, key, log) {
            if (absent(value)) return {};
            if (typeof value !== "object" || Array.isArray(value)) {
                log.add(key, value, "is not a map", `use a YAML map of ${item.type}`);
                return {};
            }
            return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, item.parse(v, childKey(key, k), log)]));
        },
    };
}

type ObjectOf<F extends Record<string, Spec<unknown>>> = { [K in keyof F]: Infer<F[K]> };

/**
 * An object with known fields. Absent objects parse as `{}` so field defaults apply; unknown keys
 * are errors with the closest known key suggested (typos must never be silently ignored).
 */
export function obj<F extends Record<string, Spec<unknown>>>(
    fields: F,
    opts: {
        doc: string;
        /** Keys that once existed, with why they are gone; reported instead of "not a known key". */
        retired?: Record<string, string>;
    },
): Spec<ObjectOf<F>> {
    const required = Object.values(fields).some((f) => f.required);
    return {
        type: "a map",
        doc: opts.doc,
        required,
        fields,
        parse(value, key, log) {
            let input: Record<string, unknown> = {};
            if (!absent(value)) {
                if (typeof value !== "object" || Array.isArray(value)) {
                    log.add(key, value, "is not a map", `use a YAML map with keys ${Object.keys(fields).join(", ")}`);
                } else {
                    input = value as Record<string, unknown>;
                }
            }
            for (const extra of Object.keys(input).filter((k) => !(k in fields))) {
                const why = opts.retired?.[extra];
                if (why) {
                    log.add(childKey(key, extra), NOT_SHOWN, why, "remove it");
                    continue;
                }
                const near = closest(extra, Object.keys(fields));
                log.add(
                    childKey(key, extra),
                    NOT_SHOWN,
                    "is not a known key",
                    near ? `did you mean "${near}"? Known keys: ${Object.keys(fields).join(", ")}` : `remove it; known keys: ${Object.keys(fields).join(", ")}`,
                );
            }
            const out: Record<string, unknown> = {};
            for (const [name, spec] of Object.entries(fields)) {
                out[name] = spec.parse(input[name], childKey(key, name), log);
            }
            return out as ObjectOf<F>;
        },
    };
}

/** The known key nearest to `word` by edit distance, if it is close enough to be a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
    let best: { name: string; distance: number } | undefined;
    for (const name of candidates) {
        const d = editDistance(word.toLowerCase(), name.toLowerCase());
        if (!best || d < best.distance) best = { name, distance: d };
    }
    return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const next = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = next;
        }
    }
    return row[b.length];
}

/** One row of the configuration reference. */
export interface ReferenceRow {
    key: string;
    type: string;
    default: string;
    doc: string;
}

/** Flattens a schema into reference rows (the README's config table is generated from this). */
export function describe(spec: Spec<unknown>, key: string): ReferenceRow[] {
    const rows: ReferenceRow[] = [];
    if (spec.fields && spec.type === "a map") {
        rows.push({ key, type: "map", default: "", doc: spec.doc });
        for (const [name, field] of Object.entries(spec.fields)) rows.push(...describe(field, childKey(key, name)));
        return rows;
    }
    rows.push({
        key,
        type: spec.type,
        default: spec.defaultText ?? (spec.required ? "required" : "unset"),
        doc: spec.doc,
    });
    if (spec.fields) {
        for (const [name, field] of Object.entries(spec.fields)) rows.push(...describe(field, `${key}[].${name}`));
    }
    return rows;
}
