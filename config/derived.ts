/** What a parsed configuration implies: pure functions the rules and the components share. */
import { CREDENTIAL_NAMES, CredentialName } from "./fields";
import { StackConfig } from "./stack";

/** The outpost that serves an app's provider: OIDC needs none. */
export function outpostOfApp(app: { mode: string; outpost: "embedded" | "proxy" }): "embedded" | "proxy" | undefined {
    return app.mode === "oidc" ? undefined : app.outpost;
}

/** The credentials this stack actually uses (only these are generated or read). */
export function credentialsInUse(c: StackConfig): CredentialName[] {
    return CREDENTIAL_NAMES.filter((name) => {
        if (name === "smtpPassword") return c.authentik.email !== undefined;
        if (name === "radiusSharedSecret") return c.outposts.radius !== undefined;
        if (name === "importSourcePassword") return c.database.bootstrap.mode === "import";
        if (name === "apiToken") return adminCredential(c) === "apiToken";
        if (name === "bootstrapToken" || name === "bootstrapPassword") return c.authentik.bootstrapCredentials || adminCredential(c) === "bootstrapToken";
        return true;
    });
}

/**
 * The superuser credential the program holds for authentik's API: the one it uses for everything
 * (api.token bootstrap or apiToken), or the one that makes the scoped account (api.admin); none
 * when the stack manages no authentik objects or the scoped account renews its own token.
 */
export function adminCredential(c: StackConfig): "bootstrapToken" | "apiToken" | undefined {
    if (!usesApi(c)) return undefined;
    const source = c.api.token === "scoped" ? c.api.admin : c.api.token;
    return source === "bootstrap" ? "bootstrapToken" : source === "apiToken" ? "apiToken" : undefined;
}

/** Whether the stack manages objects through authentik's API. */
export function usesApi(c: StackConfig): boolean {
    return c.apps.length > 0 || c.groups.length > 0 || c.consumers.length > 0 || c.outposts.radius !== undefined || c.outposts.proxy.enabled;
}

/**
 * The chart versions this program was tested with, and the digest of each one's values and
 * templates (lib/chart.ts chartDigest): every up checks what the repository serves
 * against it before installing. tools/reference.json records the same (a test keeps them equal).
 */
export const RECORDED_CHART_DIGESTS: Readonly<Record<string, string>> = {
    "2026.8.0": "e1a5f2560fae8958bf5a5f3cfbefc285e0ea8e5943d100cf1c5b302d68099e61",
};

/** The digest the chart of this stack must have: authentik.chartDigest, else the recorded one; undefined if neither. */
export function expectedChartDigest(c: StackConfig): string | undefined {
    return c.authentik.chartDigest ?? RECORDED_CHART_DIGESTS[c.authentik.chartVersion];
}
