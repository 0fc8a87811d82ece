/**
 * One generic Pulumi dynamic provider for every authentik kind (see kinds.ts).
 *
 * - Every operation first waits for /-/health/ready/ (bounded backoff), so a fresh install
 *   converges in one `pulumi up`; transient failures are retried with jitter; 4xx fail at once
 *   with authentik's response body.
 * - Creates are idempotent: before a retried POST the object is looked up by its natural key, so a
 *   create that committed but timed out is taken over, never duplicated. An object that already
 *   exists before the first attempt is only taken over with `adopt: true` (the migration path
 *   from the Terraform stack; Pulumi's import does not work for dynamic resources).
 * - Drift: `read` (run by every `pulumi up`, as Pulumi.yaml sets refresh: always) compares what
 *   authentik holds with what was applied; a difference makes the next diff an update. An object
 *   deleted outside Pulumi reads as gone (404) and is created again.
 * - Serialization: nothing is captured but this module's functions and `@goauthentik/api`
 *   (required by name); clients are built inside each call. `engineVersion` in the inputs makes a
 *   change of this code show up as an update.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Apis, Connection, apisFor } from "./client";
import { KindSpec, Remote, kinds } from "./kinds";
import { PermanentError, RetryPolicy, statusOf, waitForReady, withRetry } from "./retry";

/** Bump when the engine's behaviour changes, so existing objects are re-applied. */
export const ENGINE_VERSION = "1";

export interface ObjectInputs {
    kind: string;
    apiUrl: string;
    /** Secret. */
    apiToken: string;
    policy: RetryPolicy;
    /** Kind-specific desired state, references by slug/name. */
    spec: Record<string, unknown>;
    adopt: boolean;
    engineVersion: string;
}

export interface ObjectOutputs extends ObjectInputs {
    /** authentik's primary key of the object. */
    pk: string;
    /** The applied body with secret fields hashed, and its digest; `observedDigest` is set by read. */
    applied: Record<string, unknown>;
    appliedDigest: string;
    observedDigest: string;
    [extra: string]: unknown;
}

/** Fields that hold secrets in request bodies: stored only as hashes. */
const SECRET_FIELDS = ["clientSecret", "sharedSecret"];

/** JSON with sorted keys, so equal values digest equally. */
export function stableJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
    if (value && typeof value === "object") {
        return `{${Object.keys(value)
            .sort()
            .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * Required at call time: a captured `createHash` makes Pulumi's closure serializer scan every Node
 * built-in to find where it came from (slow, and noisy deprecation warnings).
 */
function sha256(text: string): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHash } = require("node:crypto") as typeof import("node:crypto");
    return createHash("sha256").update(text).digest("hex");
}

/** Digest of a value as it is compared (applied body vs. what authentik holds). */
function digestOf(value: unknown): string {
    return sha256(stableJson(value));
}

/** The body as stored in state: secret fields replaced by their hash. */
export function redactBody(body: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, SECRET_FIELDS.includes(k) && typeof v === "string" ? `sha256:${sha256(v)}` : v]));
}

/**
 * What authentik holds, shaped like `applied`: only the applied fields, compared the way they were
 * sent (objects by the applied keys; secret fields hashed). Fields authentik never returns count as
 * unchanged.
 */
export function project(applied: unknown, remote: unknown, key = ""): unknown {
    if (remote === undefined) return applied;
    if (SECRET_FIELDS.includes(key) && typeof remote === "string") return `sha256:${sha256(remote)}`;
    if (Array.isArray(applied) && Array.isArray(remote)) {
        return remote.length === applied.length ? applied.map((a, i) => project(a, remote[i])) : remote;
    }
    if (applied && typeof applied === "object" && remote && typeof remote === "object" && !Array.isArray(remote)) {
        return Object.fromEntries(Object.keys(applied).map((k) => [k, project((applied as Record<string, unknown>)[k], (remote as Record<string, unknown>)[k], k)]));
    }
    return remote;
}

function kindOf(inputs: ObjectInputs): KindSpec {
    const kind = kinds[inputs.kind];
    if (!kind) throw new PermanentError(`unknown authentik kind ${inputs.kind}`);
    return kind;
}

function connectionOf(inputs: ObjectInputs): Connection {
    return { url: inputs.apiUrl, token: inputs.apiToken, policy: inputs.policy };
}

/** Waits for authentik, then returns clients for it. */
async function ready(inputs: ObjectInputs): Promise<Apis> {
    await waitForReady(inputs.apiUrl, inputs.policy);
    return apisFor(connectionOf(inputs));
}

function outputsOf(inputs: ObjectInputs, kind: KindSpec, remote: Remote, body: Record<string, unknown>): ObjectOutputs {
    const applied = redactBody(body);
    const digest = digestOf(applied);
    return { ...inputs, ...(kind.outputs?.(remote) ?? {}), pk: String(remote.pk), applied, appliedDigest: digest, observedDigest: digest };
}

/** Creates the object, or takes over the one a timed-out attempt (or, with adopt, someone else) made. */
async function createOrAdopt(inputs: ObjectInputs, api: Apis): Promise<{ id: string; outs: ObjectOutputs }> {
    const kind = kindOf(inputs);
    const what = `${inputs.kind} ${kind.naturalKey(inputs.spec)}`;
    const body = await withRetry(`${what}: resolving references`, () => kind.body(api, inputs.spec), inputs.policy);
    const existing = await withRetry(`${what}: lookup`, () => kind.find(api, inputs.spec), inputs.policy);
    if (existing && !inputs.adopt) {
        throw new PermanentError(
            `${what} already exists in authentik (pk ${existing.pk}) and is not managed by this stack; set adopt: true for it to take it over (e.g. when migrating from Terraform)`,
        );
    }
    const remote = existing
        ? await withRetry(`${what}: adopt`, () => kind.update(api, kind.idOf(existing), body), inputs.policy)
        : await withRetry(
              `${what}: create`,
              async (attempt) => {
                  if (attempt > 1) {
                      // The previous POST may have committed before its answer was lost.
                      const committed = await kind.find(api, inputs.spec);
                      if (committed) return kind.update(api, kind.idOf(committed), body);
                  }
                  return kind.create(api, body);
              },
              inputs.policy,
          );
    return { id: kind.idOf(remote), outs: outputsOf(inputs, kind, remote, body) };
}

/** Inputs that decide what authentik should hold (not the token: rotating it changes nothing there). */
function desired(i: ObjectInputs): string {
    return stableJson({ kind: i.kind, apiUrl: i.apiUrl, spec: i.spec, engineVersion: i.engineVersion });
}

export const authentikProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: ObjectInputs, news: ObjectInputs) {
        const failures = kinds[news.kind] ? [] : [{ property: "kind", reason: `unknown authentik kind ${news.kind}` }];
        return { inputs: news, failures };
    },

    async diff(_id: string, olds: ObjectOutputs, news: ObjectInputs) {
        const drifted = olds.observedDigest !== olds.appliedDigest;
        const changes = drifted || desired(olds) !== desired(news);
        const replaces = olds.kind !== news.kind ? ["kind"] : news.kind === "Application" && olds.spec?.slug !== news.spec.slug ? ["spec"] : [];
        // An application is addressed by slug and a provider serves one application: replace in place.
        return { changes, replaces, deleteBeforeReplace: replaces.length > 0 };
    },

    async create(inputs: ObjectInputs) {
        return createOrAdopt(inputs, await ready(inputs));
    },

    async read(id: string, props: ObjectOutputs) {
        const kind = kindOf(props);
        const api = await ready(props);
        try {
            const remote = await withRetry(`${props.kind} ${id}: read`, () => kind.retrieve(api, id), props.policy);
            const observed = digestOf(project(props.applied, remote));
            return { id, props: { ...props, observedDigest: observed } };
        } catch (e) {
            if (statusOf(e) === 404) return { id: undefined, props: {} };
            throw e;
        }
    },

    async update(id: string, _olds: ObjectOutputs, news: ObjectInputs) {
        const kind = kindOf(news);
        const api = await ready(news);
        const body = await withRetry(`${news.kind} ${id}: resolving references`, () => kind.body(api, news.spec), news.policy);
        // An object deleted outside Pulumi was already reported gone by read (refresh: always) and is
        // created again by the engine; an update never has to change the id.
        const remote = await withRetry(`${news.kind} ${id}: update`, () => kind.update(api, id, body), news.policy);
        return { outs: outputsOf(news, kind, remote, body) };
    },

    async delete(id: string, props: ObjectOutputs) {
        const kind = kindOf(props);
        const api = await ready(props);
        try {
            await withRetry(`${props.kind} ${id}: delete`, () => kind.destroy(api, id, props.spec), props.policy);
        } catch (e) {
            if (statusOf(e) === 404) return; // already gone
            throw e;
        }
    },
};
