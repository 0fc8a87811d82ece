/**
 * ProtectedApp: protect a host from the stack that deploys it, with the platform stack's outputs.
 * It creates what an `apps` entry of the platform's config creates (a provider, an application,
 * its group bindings and, for the proxy modes, the provider's membership of an outpost) through the
 * same engine, and removes exactly those on `pulumi destroy`. The platform's own objects, other
 * stacks' apps and other members of the outpost are never touched.
 *
 * - The application records its owner (`meta_publisher`: `pulumi:<project>/<stack>`), so a slug
 *   another stack already uses is refused naming that stack; taking over is `adopt: true`.
 * - Groups and the outpost are referenced by name: the platform stack owns them. A group that does
 *   not exist fails the preview with its name.
 * - The token is this stack's own (a secret): the README lists the permissions it needs.
 */
import * as pulumi from "@pulumi/pulumi";
import { AuthentikObject, KindName } from "../../lib/authentik-api/resource";
import type { RetryPolicy } from "../../lib/authentik-api/retry";
import { AppInput, applicationSpec, providerSpec, publishedApp } from "../../lib/authentik-api/app";
import type { AppOutputs } from "../contract";

/** The embedded outpost, which serves proxy modes unless another outpost is named. */
export const EMBEDDED_OUTPOST_NAME = "authentik Embedded Outpost";

export interface ProtectedAppArgs {
    /** authentik's public URL: the platform's `authentik.url` output. */
    authentikUrl: pulumi.Input<string>;
    /** Where this stack reaches authentik's API; default `authentikUrl`. */
    apiUrl?: pulumi.Input<string>;
    /** An authentik API token this stack holds (a secret). */
    token: pulumi.Input<string>;
    /** The app, as an `apps` entry of the platform's stack config. */
    app: {
        name: string;
        slug: string;
        mode: AppInput["mode"];
        host: string;
        upstream?: string;
        cookieDomain?: string;
        /** Groups allowed in (they must exist); empty: every user. */
        groups?: string[];
        clientId?: string;
        clientType?: AppInput["clientType"];
        redirectUris?: string[];
        scopes?: string[];
        launchUrl?: string;
        icon?: string;
        description?: string;
        authorizationFlow?: string;
    };
    /** A confidential OIDC client's secret (this stack holds it; e.g. a RandomPassword's result). */
    clientSecret?: pulumi.Input<string>;
    /** The outpost serving the proxy modes, by name; default the embedded one. */
    outpost?: string;
    /** Take over existing objects of this name and slug (migration). Default false. */
    adopt?: boolean;
    /** Recorded as the application's publisher; default `pulumi:<project>/<stack>`. */
    owner?: string;
    /** API timeouts and backoff; defaults suit a homelab authentik. */
    policy?: Partial<RetryPolicy>;
}

const DEFAULT_POLICY: RetryPolicy = { deadlineMs: 300_000, baseDelayMs: 1000, maxDelayMs: 15_000, requestTimeoutMs: 30_000 };

export class ProtectedApp extends pulumi.ComponentResource {
    /** The same shape as an entry of the platform's `apps` output. */
    readonly outputs: pulumi.Output<AppOutputs>;
    /** A confidential OIDC client's secret, as given (secret). */
    readonly clientSecret?: pulumi.Output<string>;

    constructor(name: string, args: ProtectedAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:index:ProtectedApp", name, {}, opts);
        const app: AppInput = {
            clientType: "confidential",
            redirectUris: [],
            scopes: ["openid", "email", "profile"],
            authorizationFlow: "default-provider-authorization-implicit-consent",
            ...args.app,
        };
        if (app.mode === "oidc" && app.clientType === "confidential" && args.clientSecret === undefined) {
            throw new Error(
                `ProtectedApp ${name}: a confidential OIDC client needs clientSecret (e.g. new random.RandomPassword(...).result), or clientType: "public"`,
            );
        }
        const connection = { url: args.apiUrl ?? args.authentikUrl, token: pulumi.secret(args.token), policy: { ...DEFAULT_POLICY, ...args.policy } };
        const adopt = args.adopt ?? false;
        const object = (kind: KindName, resourceName: string, spec: pulumi.Input<Record<string, pulumi.Input<unknown>>>) =>
            new AuthentikObject(kind, `${name}-${resourceName}`, { connection, spec, adopt: kind === "OutpostMember" ? false : adopt }, { parent: this });

        const { kind, spec } = providerSpec(app);
        const secret = args.clientSecret === undefined ? undefined : pulumi.secret(args.clientSecret);
        const provider = object(kind, "provider", secret ? { ...spec, clientSecret: secret } : spec);
        const owner = args.owner ?? `pulumi:${pulumi.getProject()}/${pulumi.getStack()}`;
        const application = object("Application", "application", { ...applicationSpec(app), metaPublisher: owner, provider: provider.pk });
        (args.app.groups ?? []).forEach((group, order) => object("PolicyBinding", `allow-${group}`, { target: application.uuid, groupName: group, order }));
        const outpost = app.mode === "oidc" ? undefined : (args.outpost ?? EMBEDDED_OUTPOST_NAME);
        if (outpost) object("OutpostMember", "on-outpost", { outpostName: outpost, provider: provider.pk });

        this.clientSecret = secret;
        this.outputs = pulumi
            .all([args.authentikUrl, provider.pk, provider.clientId])
            .apply(([url, pk, clientId]) => publishedApp(app, { pk, clientId }, { authentikUrl: url, outpost }));
        this.registerOutputs({ outputs: this.outputs, clientSecret: this.clientSecret });
    }
}
