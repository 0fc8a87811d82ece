/**
 * authentik's own objects, in the same graph and after the release is ready: groups; per app a
 * provider, an application, group bindings and an outpost attachment; the embedded outpost
 * (adopted), an optional dedicated proxy outpost and an optional RADIUS provider + outpost.
 * Removing an app from the config removes its provider, application and bindings.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { StackConfig } from "../../stacks/config";
import { AuthentikConnection, AuthentikObject, KindName } from "../authentik-api/resource";
import { CredentialValue } from "../secrets";
import {
    EMBEDDED_OUTPOST,
    INVALIDATION_FLOW,
    LOCAL_CLUSTER,
    RADIUS_PORT,
    applicationSpec,
    managedOutpostConfig,
    oidcUrls,
    outpostOf,
    providerSpec,
    resourceNames,
} from "./model";

export interface AuthentikObjectsArgs {
    config: StackConfig;
    connection: AuthentikConnection;
    /** Public URL of authentik (what outposts and OIDC clients use). */
    authentikUrl: string;
    radiusSharedSecret?: CredentialValue;
    /** Everything here waits for these (the release, hence a ready authentik). */
    dependsOn: pulumi.Resource[];
}

export interface AppOutputs {
    mode: string;
    url: string;
    /** Proxy modes: the provider's pk and the outpost serving it. */
    providerId?: string;
    outpost?: string;
    /** OIDC: client id and endpoints (the secret is in oidcClientSecrets). */
    clientId?: string;
    issuer?: string;
    discovery?: string;
}

export class AuthentikObjects extends pulumi.ComponentResource {
    readonly apps: pulumi.Output<Record<string, AppOutputs>>;
    /** OIDC client secrets by app slug: secret. */
    readonly oidcClientSecrets: pulumi.Output<Record<string, string>>;
    readonly radius?: { host: string; port: number };

    constructor(name: string, args: AuthentikObjectsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:authentik:AuthentikObjects", name, {}, opts);
        const c = args.config;
        const child: pulumi.CustomResourceOptions = { parent: this, dependsOn: args.dependsOn };
        const object = (kind: KindName, resourceName: string, spec: pulumi.Input<Record<string, pulumi.Input<unknown>>>, adopt: boolean) =>
            new AuthentikObject(kind, resourceName, { connection: args.connection, spec, adopt }, child);

        const groups = new Map(c.groups.map((g) => [g.name, object("Group", `group-${g.name}`, { name: g.name, isSuperuser: g.superuser }, g.adopt)]));
        const bind = (target: AuthentikObject, groupNames: string[], names: (g: string) => string, adopt: boolean) =>
            groupNames.map((g, order) => object("PolicyBinding", names(g), { target: target.uuid, group: groups.get(g)!.pk, order }, adopt));

        const outpostProviders: Record<"embedded" | "proxy", pulumi.Output<string>[]> = { embedded: [], proxy: [] };
        const appOutputs: Record<string, pulumi.Output<AppOutputs>> = {};
        const secrets: Record<string, pulumi.Output<string>> = {};
        for (const app of c.apps) {
            const names = resourceNames(app.slug);
            const { kind, spec } = providerSpec(app);
            let clientSecret: pulumi.Output<string> | undefined;
            if (kind === "OAuth2Provider" && app.clientType === "confidential") {
                const generated = new random.RandomPassword(names.secret, { length: 64, special: false }, { parent: this, additionalSecretOutputs: ["result"] });
                clientSecret = pulumi.secret(generated.result);
                secrets[app.slug] = clientSecret;
            }
            const provider = object(kind, names.provider, clientSecret ? { ...spec, clientSecret } : spec, app.adopt);
            const appSpec = applicationSpec(app);
            const application = object("Application", names.application, { ...appSpec, provider: provider.pk }, app.adopt);
            bind(application, app.groups, names.binding, app.adopt);
            const outpost = outpostOf(app);
            if (outpost) outpostProviders[outpost].push(provider.pk);
            const urls = oidcUrls(args.authentikUrl, app.slug);
            appOutputs[app.slug] = pulumi.all([provider.pk, provider.clientId]).apply(([pk, clientId]) => ({
                mode: app.mode,
                url: String(appSpec.metaLaunchUrl),
                ...(outpost ? { providerId: pk, outpost: outpost === "embedded" ? EMBEDDED_OUTPOST.name : c.outposts.proxy.name } : {}),
                ...(kind === "OAuth2Provider" ? { clientId: clientId ?? String(spec.clientId), issuer: urls.issuer, discovery: urls.discovery } : {}),
            }));
        }

        // The embedded outpost runs inside the server pods (its /dev/shm is set in the release values).
        // It is adopted, never created or deleted, and its providers list is set whole.
        object(
            "Outpost",
            "outpost-embedded",
            { name: EMBEDDED_OUTPOST.name, type: "proxy", managed: EMBEDDED_OUTPOST.managed, providers: outpostProviders.embedded, config: { authentik_host: args.authentikUrl } },
            true,
        );
        if (c.outposts.proxy.enabled) {
            object(
                "Outpost",
                "outpost-proxy",
                {
                    name: c.outposts.proxy.name,
                    type: "proxy",
                    serviceConnection: LOCAL_CLUSTER,
                    providers: outpostProviders.proxy,
                    config: managedOutpostConfig({ authentikUrl: args.authentikUrl, namespace: c.namespace, replicas: c.outposts.proxy.replicas, shmSizeLimit: c.outposts.shmSizeLimit }),
                },
                false,
            );
        }

        const radius = c.outposts.radius;
        if (radius) {
            const secret = args.radiusSharedSecret;
            if (!secret || secret.kind !== "value") throw new Error("the RADIUS shared secret must be held by Pulumi (generate, config or 1Password provider mode)");
            const provider = object(
                "RadiusProvider",
                `radius-${radius.name}-provider`,
                { name: radius.name, authorizationFlow: radius.authenticationFlow, invalidationFlow: INVALIDATION_FLOW, clientNetworks: radius.clientNetworks.join(","), sharedSecret: secret.value },
                false,
            );
            const application = object("Application", `radius-${radius.name}`, { name: radius.name, slug: radius.name, provider: provider.pk, policyEngineMode: "any" }, false);
            bind(application, radius.groups, (g) => `radius-${radius.name}-allow-${g}`, false);
            object(
                "Outpost",
                `outpost-${radius.name}`,
                {
                    name: radius.name,
                    type: "radius",
                    serviceConnection: LOCAL_CLUSTER,
                    providers: [provider.pk],
                    config: managedOutpostConfig({ authentikUrl: args.authentikUrl, namespace: c.namespace, replicas: radius.replicas, shmSizeLimit: c.outposts.shmSizeLimit, serviceType: "LoadBalancer" }),
                },
                false,
            );
            // authentik names an outpost's Service ak-outpost-<name>.
            this.radius = { host: `ak-outpost-${radius.name}.${c.namespace}.svc.cluster.local`, port: RADIUS_PORT };
        }

        this.apps = pulumi.all(appOutputs);
        this.oidcClientSecrets = pulumi.secret(pulumi.all(secrets));
        this.registerOutputs({ apps: this.apps, oidcClientSecrets: this.oidcClientSecrets });
    }
}
