/**
 * The automation service account's API token as a Pulumi dynamic resource: issued once with the
 * admin credential, then renewed by itself before it expires, so the admin credential can leave.
 *
 * authentik's semantics (authentik/core/api/tokens.py, authentik/api/authentication.py):
 * - only tokens with intent `api` authenticate API calls; their expiry is not the caller's choice:
 *   every create sets it to now + the brand's default token duration (System > Settings);
 * - any authenticated user may create, read the key of, and delete its own tokens;
 * - an expired or deleted token is refused with 403 before anything else is looked at.
 * Rotation issues a new token and keeps the previous one until the next rotation (it expires on
 * its own), so objects whose state still holds it during a failed run are not locked out. Every
 * issue also deletes every other API token of the account: one minted by whoever stole a key dies
 * at the next rotation.
 *
 * A token renews itself only for `maxSelfRenewalMs` after the admin credential last issued one (the
 * chain's start): a stolen key could otherwise keep itself alive forever. After that the next up
 * needs api.admin; it issues a new chain and deletes every other token, the previous one included.
 */
import type * as pulumi from "@pulumi/pulumi";
import { apisFor } from "../../lib/authentik-api/client";
import { listAll } from "../../lib/authentik-api/kinds";
import { readyApis } from "../../lib/authentik-api/provider";
import { PermanentError, RetryPolicy, isRefused, statusOf, withRetry } from "../../lib/authentik-api/retry";
import { rotationDue, tokenIdentifier } from "./model";

/** Bump when this provider's behaviour changes. */
export const TOKEN_ENGINE_VERSION = "1";

export interface TokenInputs {
    apiUrl: string;
    /** Secret. The admin credential (bootstrap or api token), or "" once it was dropped (api.admin: none). */
    adminToken: string;
    /** The service account's username. */
    account: string;
    /** Its pk ("" when the account is no longer managed: then only self-renewal is possible). */
    user: string;
    /** Rotate once this fraction of the token's lifetime has passed. */
    rotateAfter: number;
    /** How long after the admin credential last issued a token the chain may renew itself (ms). */
    maxSelfRenewalMs: number;
    policy: RetryPolicy;
    engineVersion: string;
}

export interface TokenOutputs extends TokenInputs {
    /** Secret: the token itself. */
    key: string;
    identifier: string;
    issued: string;
    /** When authentik lets it expire (null: authentik made it non-expiring). */
    expires: string | null;
    /** The token it replaced, still valid until it expires or the next rotation deletes it. */
    previous?: string;
    /** The last read was refused: the token expired or was revoked. */
    refused?: boolean;
    /** When the admin credential issued the first token of this self-renewed chain (absent in state from before: then `issued`). */
    chainStarted?: string;
}

const DESCRIPTION = "authentik-platform automation (issued and rotated by pulumi up)";

/** When a token expires as authentik answers it: null when authentik made it non-expiring. */
const expiryOf = (token: { expiring?: boolean; expires?: Date | null }) => (token.expiring === false || !token.expires ? null : token.expires.toISOString());

/** The chain has renewed itself for as long as it may: only the admin credential may issue the next token. */
const chainOver = (olds: TokenOutputs, news: TokenInputs, now: Date) => now.getTime() >= Date.parse(olds.chainStarted ?? olds.issued) + news.maxSelfRenewalMs;

/** A new token is due: the stored one was refused, has lived past the rotation point, or its chain is over. */
const dueForRotation = (olds: TokenOutputs, news: TokenInputs, now: Date) =>
    olds.refused === true || rotationDue(olds, now, news.rotateAfter) || chainOver(olds, news, now);

const connect = (url: string, token: string, policy: RetryPolicy, failFast = false) => readyApis({ url, token, policy }, { failFast });

/**
 * Issues a new API token: with the account's own (valid) token it is the account's by definition;
 * with the admin credential it is issued for `user`. Returns the token and its key.
 */
async function issue(i: TokenInputs, credential: { own: string } | { admin: string }, now: Date) {
    const identifier = tokenIdentifier(i.account, now);
    const api = await connect(i.apiUrl, "own" in credential ? credential.own : credential.admin, i.policy);
    if ("admin" in credential && !i.user)
        throw new PermanentError(`automation token for ${i.account}: the account's pk is unknown (api.admin is none); set api.admin for one run`);
    const request = {
        identifier,
        intent: "api" as never,
        description: DESCRIPTION,
        ...("admin" in credential ? { user: Number(i.user), expiring: true } : {}),
    };
    const made = await withRetry(`automation token ${identifier}: create`, () => api.core.coreTokensCreate({ tokenRequest: request }), i.policy);
    const { key } = await withRetry(`automation token ${identifier}: key`, () => api.core.coreTokensViewKeyRetrieve({ identifier }), i.policy);
    return { key, identifier, issued: now.toISOString(), expires: expiryOf(made) };
}

/** Deletes tokens of the account, ignoring those already gone or already refused (expired: authentik cleans them up). */
async function discard(i: TokenInputs, token: string, identifiers: (string | undefined)[]) {
    const api = apisFor({ url: i.apiUrl, token, policy: i.policy });
    for (const identifier of identifiers) {
        if (!identifier) continue;
        try {
            await withRetry(`automation token ${identifier}: delete`, () => api.core.coreTokensDestroy({ identifier }), i.policy);
        } catch (e) {
            if (!isRefused(e) && statusOf(e) !== 404) throw e;
        }
    }
}

/**
 * Deletes every API token of the account but `keep`, listed with the account's own new token (a
 * user sees and may delete its own tokens): whatever a stolen key minted goes with them.
 */
async function sweep(i: TokenInputs, token: string, keep: (string | undefined)[]) {
    const api = apisFor({ url: i.apiUrl, token, policy: i.policy });
    const what = `API tokens of ${i.account}`;
    const own = await listAll(what, (p) =>
        withRetry(`${what}: list`, () => api.core.coreTokensList({ userUsername: i.account, intent: "api" as never, ...p }), i.policy),
    );
    const others = own.filter((t) => t.intent === "api" && !keep.includes(t.identifier)).map((t) => t.identifier);
    await discard(i, token, others);
}

const REFUSED = "authentik refuses it (expired: it was last renewed longer ago than authentik's default token duration, or revoked)";

function noIssuerMessage(account: string, why: string): string {
    return (
        `automation token of ${account}: ${why}, ` +
        `and api.admin is none, so nothing can issue a new one. Set api.admin to bootstrap or apiToken (with a valid admin token) for one pulumi up, ` +
        `then back to none; to stop this recurring, run pulumi up more often than the token lifetime or raise System > Settings > Default token duration`
    );
}

const sameTarget = (a: TokenInputs, b: TokenInputs) => a.apiUrl === b.apiUrl && a.account === b.account;

export const automationTokenProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: TokenInputs, news: TokenInputs) {
        return { inputs: news, failures: [] };
    },

    async diff(_id: string, olds: TokenOutputs, news: TokenInputs) {
        const due = dueForRotation(olds, news, new Date());
        const inputsChanged = ["apiUrl", "adminToken", "account", "user", "rotateAfter", "maxSelfRenewalMs", "engineVersion"].some(
            (k) => olds[k as keyof TokenInputs] !== news[k as keyof TokenInputs],
        );
        return { changes: due || inputsChanged, replaces: olds.account !== news.account ? ["account"] : [], deleteBeforeReplace: false };
    },

    async create(inputs: TokenInputs) {
        if (!inputs.adminToken) throw new PermanentError(noIssuerMessage(inputs.account, "there is none yet"));
        const issued = await issue(inputs, { admin: inputs.adminToken }, new Date());
        await sweep(inputs, issued.key, [issued.identifier]);
        return { id: inputs.account, outs: { ...inputs, ...issued, refused: false, chainStarted: issued.issued } satisfies TokenOutputs };
    },

    async read(id: string, props: TokenOutputs) {
        const api = await connect(props.apiUrl, props.key, props.policy, true);
        try {
            const token = await withRetry(
                `automation token ${props.identifier}: read`,
                () => api.core.coreTokensRetrieve({ identifier: props.identifier }),
                props.policy,
            );
            return { id, props: { ...props, expires: expiryOf(token), refused: false } };
        } catch (e) {
            if (isRefused(e)) return { id, props: { ...props, refused: true } };
            throw e;
        }
    },

    async update(_id: string, olds: TokenOutputs, news: TokenInputs) {
        const now = new Date();
        const due = dueForRotation(olds, news, now) || !sameTarget(olds, news);
        if (!due) return { outs: { ...olds, ...news } };
        // The admin credential issues a new chain when the stored token is refused or the chain is over.
        const byAdmin = olds.refused === true || chainOver(olds, news, now);
        if (byAdmin && !news.adminToken) {
            const days = Math.round(news.maxSelfRenewalMs / 86_400_000);
            throw new PermanentError(
                noIssuerMessage(
                    news.account,
                    olds.refused
                        ? REFUSED
                        : `it has renewed itself for ${days} days since the admin credential last issued it (api.automation.maxSelfRenewalDays)`,
                ),
            );
        }
        const issued = await issue(news, byAdmin ? { admin: news.adminToken } : { own: olds.key }, now);
        // Self-renewal keeps the previous token valid until it expires, for any object whose state
        // still holds it (a run that failed half-way); a new chain keeps nothing a stolen key could have read.
        const previous = byAdmin ? undefined : olds.identifier;
        await sweep(news, issued.key, [issued.identifier, previous]);
        return {
            outs: {
                ...news,
                ...issued,
                previous,
                refused: false,
                chainStarted: byAdmin ? issued.issued : (olds.chainStarted ?? olds.issued),
            } satisfies TokenOutputs,
        };
    },

    async delete(_id: string, props: TokenOutputs) {
        await discard(props, props.key, [props.previous, props.identifier]);
    },
};
