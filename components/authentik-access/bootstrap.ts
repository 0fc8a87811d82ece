/**
 * Revoking authentik's bootstrap token once the program no longer relies on it (api.token scoped
 * with api.admin apiToken or none). The token is akadmin's, made from AUTHENTIK_BOOTSTRAP_TOKEN on
 * authentik's first start, and never expires: left alone it outlives every other credential.
 *
 * authentik's semantics (authentik/core/api/tokens.py): a user may delete its own tokens, so the
 * bootstrap token deletes itself; a superuser (credentials.apiToken) may delete any token. A token
 * already deleted answers 403 when used (it no longer authenticates) and 404 when looked up.
 */
import type * as pulumi from "@pulumi/pulumi";
import { readyApis } from "../../lib/authentik-api/provider";
import { RetryPolicy, isRefused, statusOf, withRetry } from "../../lib/authentik-api/retry";

/** The identifier authentik gives the token it makes from AUTHENTIK_BOOTSTRAP_TOKEN. */
export const BOOTSTRAP_TOKEN_IDENTIFIER = "authentik-bootstrap-token";

/** Bump when this provider's behaviour changes. */
export const REVOCATION_ENGINE_VERSION = "1";

export interface RevocationInputs {
    apiUrl: string;
    /** Secret. The bootstrap token itself while the stack still holds it, else "". */
    bootstrapToken: string;
    /** Secret. A superuser's API token (api.admin: apiToken), else "". */
    adminToken: string;
    policy: RetryPolicy;
    engineVersion: string;
}

/** Kept in state: no credential, only whether and how the token was revoked. */
export interface RevocationOutputs {
    apiUrl: string;
    revoked: boolean;
    /** Which credential deleted it: the bootstrap token itself, or the admin's. */
    by?: "itself" | "admin";
    at?: string;
}

/** Deletes the bootstrap token with whichever credential the stack holds; says whether it is gone. */
async function revoke(i: RevocationInputs): Promise<RevocationOutputs> {
    const credential = i.bootstrapToken
        ? { token: i.bootstrapToken, by: "itself" as const }
        : i.adminToken
          ? { token: i.adminToken, by: "admin" as const }
          : undefined;
    if (!credential) return { apiUrl: i.apiUrl, revoked: false };
    const api = await readyApis({ url: i.apiUrl, token: credential.token, policy: i.policy });
    try {
        await withRetry(`${BOOTSTRAP_TOKEN_IDENTIFIER}: delete`, () => api.core.coreTokensDestroy({ identifier: BOOTSTRAP_TOKEN_IDENTIFIER }), i.policy);
    } catch (e) {
        // Gone already: deleted in the UI (404), or the bootstrap token no longer authenticates (403).
        const alreadyGone = statusOf(e) === 404 || (credential.by === "itself" && isRefused(e));
        if (!alreadyGone) throw e;
    }
    return { apiUrl: i.apiUrl, revoked: true, by: credential.by, at: new Date().toISOString() };
}

export const bootstrapRevocationProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: RevocationInputs, news: RevocationInputs) {
        return { inputs: news, failures: [] };
    },

    /** Only an unrevoked token with a credential now at hand is work; once revoked, nothing is. */
    async diff(_id: string, olds: RevocationOutputs, news: RevocationInputs) {
        return { changes: !olds.revoked && Boolean(news.bootstrapToken || news.adminToken), replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs: RevocationInputs) {
        return { id: BOOTSTRAP_TOKEN_IDENTIFIER, outs: await revoke(inputs) };
    },

    async read(id: string, props: RevocationOutputs) {
        return { id, props };
    },

    async update(_id: string, _olds: RevocationOutputs, news: RevocationInputs) {
        return { outs: await revoke(news) };
    },

    // Nothing to undo: a revoked token stays revoked.
    async delete() {},
};
