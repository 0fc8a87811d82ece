/**
 * authentik's own objects, in the same graph and after the release is ready: groups; per app a
 * provider, an application, group bindings and an outpost membership; the embedded outpost
 * (adopted), an optional dedicated proxy outpost and an optional RADIUS provider + outpost.
 * Removing an app from the config removes its provider, application and bindings and detaches
 * only its provider: whatever else is on an outpost (hand-made, Terraform's, another stack's) stays.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { StackConfig, outpostOfApp } from "../../config";
import { AuthentikConnection, AuthentikObject, AuthentikObjectArgs, KindName } from "../../lib/authentik-api/resource";
import { CredentialValue } from "../secrets";
import { ADMIN_WRITES } from "../../lib/authentik-api/permissions";
import type { AppOutputs } from "../../packages/contract";
import { EMBEDDED_DISABLED_COMPONENTS } from "../authentik/outposts";
import {
    EMBEDDED_OUTPOST,
    INVALIDATION_FLOW,
    LOCAL_CLUSTER,
    RADIUS_PORT,
    applicationSpec,
    managedOutpostConfig,
    previousNames,
    providerSpec,
    publishedApp,
    resourceNames,
} from "./model";

export interface AuthentikObjectsArgs {
    /** The stack configuration: apps, groups, outposts and the authentik and API sections they read. */
    config: StackConfig;
    /** How every object is read and written (the automation token). */
    connection: AuthentikConnection;
    /**
     * The admin credential, which alone writes groups (ADMIN_WRITES: a token that may change a group
     * may change its members). Absent (api.admin: none): groups are read with `connection`, and a
     * change to one is refused by authentik, the error naming api.admin.
     */
    adminConnection?: AuthentikConnection;
    /** With a scoped token: its role, which owns every object here but the groups (see AuthentikObjectArgs.grant). */
    grant?: AuthentikObjectArgs["grant"];
    /**
     * Consuming stacks' roles, and the resources that make them: each gets change on the outposts
     * its ProtectedApps may attach to (the embedded and the dedicated proxy outpost), since a
     * membership is a write of the outpost's provider list.
     */
    consumers?: { roles: string[]; made: pulumi.Resource[] };
    /** Public URL of authentik (what outposts and OIDC clients use). */
    authentikUrl: string;
    /** The RADIUS outpost's shared secret (credentials.radiusSharedSecret), when outposts.radius is set. */
    radiusSharedSecret?: CredentialValue;
    /** Everything here waits for these (the release, hence a ready authentik). */
    dependsOn: pulumi.Resource[];
}

export class AuthentikObjects extends pulumi.ComponentResource {
    readonly apps: pulumi.Output<Record<string, AppOutputs>>;
    /** OIDC client secrets by app slug: secret. */
    readonly oidcClientSecrets: pulumi.Output<Record<string, string>>;
    readonly radius?: { host: string; port: number };

    constructor(name: string, args: AuthentikObjectsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("authentik-platform:authentik:AuthentikObjects", name, {}, opts);
        const c = args.config;
        /** Groups are written with the admin credential when there is one; everything else with the token. */
        const connectionFor = (kind: KindName) => (ADMIN_WRITES.includes(kind) ? (args.adminConnection ?? args.connection) : args.connection);
        /** One authentik object; `formerly` are its resource names under an app's previous slugs. */
        const object = (
            kind: KindName,
            resourceName: string,
            spec: pulumi.Input<Record<string, pulumi.Input<unknown>>>,
            adopt: boolean,
            formerly: string[] = [],
            shared = false,
        ) =>
            new AuthentikObject(
                kind,
                resourceName,
                {
                    connection: connectionFor(kind),
                    spec,
                    adopt,
                    ...(ADMIN_WRITES.includes(kind) ? {} : { grant: shared && consumers ? { ...args.grant, sharedWith: consumers.roles } : args.grant }),
                },
                {
                    parent: this,
                    dependsOn: shared && consumers ? [...args.dependsOn, ...consumers.made] : args.dependsOn,
                    aliases: formerly.map((n) => ({ name: n })),
                },
            );
        const consumers = args.consumers?.roles.length ? args.consumers : undefined;

        const groups = new Map(c.groups.map((g) => [g.name, object("Group", `group-${g.name}`, { name: g.name, isSuperuser: g.superuser }, g.adopt)]));
        const bind = (
            target: AuthentikObject,
            groupNames: string[],
            names: (g: string) => string,
            adopt: boolean,
            formerly: (g: string) => string[] = () => [],
        ) => groupNames.map((g, order) => object("PolicyBinding", names(g), { target: target.uuid, group: groups.get(g)!.pk, order }, adopt, formerly(g)));
        /** Attaches one provider to an outpost and detaches only it on removal: other members stay. */
        const member = (resourceName: string, outpost: AuthentikObject, outpostName: string, provider: AuthentikObject, formerly: string[] = []) =>
            object("OutpostMember", resourceName, { outpost: outpost.pk, outpostName, provider: provider.pk }, false, formerly);

        // The embedded outpost runs inside the server pods (its /dev/shm is set in the release values).
        // It is adopted, never created or deleted; only authentik_host in its config is ours.
        const embedded = object(
            "Outpost",
            "outpost-embedded",
            // Its Secret reconciler is off: the worker may not write Secrets in authentik's namespace.
            {
                name: EMBEDDED_OUTPOST.name,
                type: "proxy",
                managed: EMBEDDED_OUTPOST.managed,
                config: { authentik_host: args.authentikUrl, kubernetes_disabled_components: EMBEDDED_DISABLED_COMPONENTS },
            },
            true,
            [],
            true,
        );
        const appsOn = (outpost: "embedded" | "proxy") => c.apps.filter((a) => outpostOfApp(a) === outpost);
        const providers = new Map<string, AuthentikObject>();
        const appOutputs: Record<string, pulumi.Output<AppOutputs>> = {};
        const secrets: Record<string, pulumi.Output<string>> = {};
        for (const app of c.apps) {
            const names = resourceNames(app.slug);
            const formerly = previousNames(app);
            const { kind, spec } = providerSpec(app);
            let clientSecret: pulumi.Output<string> | undefined;
            if (kind === "OAuth2Provider" && app.clientType === "confidential") {
                const generated = new random.RandomPassword(
                    names.secret,
                    { length: 64, special: false },
                    { parent: this, additionalSecretOutputs: ["result"], aliases: formerly.secret.map((n) => ({ name: n })) },
                );
                clientSecret = pulumi.secret(generated.result);
                secrets[app.slug] = clientSecret;
            }
            const provider = object(kind, names.provider, clientSecret ? { ...spec, clientSecret } : spec, app.adopt, formerly.provider);
            providers.set(app.slug, provider);
            const appSpec = applicationSpec(app);
            const application = object("Application", names.application, { ...appSpec, provider: provider.pk }, app.adopt, formerly.application);
            bind(application, app.groups, names.binding, app.adopt, formerly.binding);
            const outpost = outpostOfApp(app);
            if (outpost === "embedded") member(names.member, embedded, EMBEDDED_OUTPOST.name, provider, formerly.member);
            const outpostName = outpost && (outpost === "embedded" ? EMBEDDED_OUTPOST.name : c.outposts.proxy.name);
            appOutputs[app.slug] = pulumi
                .all([provider.pk, provider.clientId])
                .apply(([pk, clientId]) => publishedApp(app, { pk, clientId }, { authentikUrl: args.authentikUrl, outpost: outpostName }));
        }

        if (c.outposts.proxy.enabled) {
            // Created with its apps' providers (authentik refuses an empty one); afterwards each app's
            // membership attaches and detaches only its own provider.
            const onProxy = appsOn("proxy").map((a) => providers.get(a.slug)!);
            const proxy = object(
                "Outpost",
                "outpost-proxy",
                {
                    name: c.outposts.proxy.name,
                    type: "proxy",
                    serviceConnection: LOCAL_CLUSTER,
                    initialProviders: onProxy.map((p) => p.pk),
                    config: managedOutpostConfig({
                        authentikUrl: args.authentikUrl,
                        namespace: c.outposts.namespace,
                        replicas: c.outposts.proxy.replicas,
                        shmSizeLimit: c.outposts.shmSizeLimit,
                    }),
                },
                c.outposts.proxy.adopt,
                [],
                true,
            );
            for (const app of appsOn("proxy"))
                member(resourceNames(app.slug).member, proxy, c.outposts.proxy.name, providers.get(app.slug)!, previousNames(app).member);
        }

        const radius = c.outposts.radius;
        if (radius) {
            const secret = args.radiusSharedSecret;
            if (!secret || secret.kind !== "value")
                throw new Error("the RADIUS shared secret must be held by Pulumi (generate, config or 1Password provider mode)");
            const provider = object(
                "RadiusProvider",
                `radius-${radius.name}-provider`,
                {
                    name: radius.name,
                    authorizationFlow: radius.authenticationFlow,
                    invalidationFlow: INVALIDATION_FLOW,
                    clientNetworks: radius.clientNetworks.join(","),
                    sharedSecret: secret.value,
                },
                radius.adopt,
            );
            const application = object(
                "Application",
                `radius-${radius.name}`,
                { name: radius.name, slug: radius.name, provider: provider.pk, policyEngineMode: "any" },
                radius.adopt,
            );
            bind(application, radius.groups, (g) => `radius-${radius.name}-allow-${g}`, radius.adopt);
            const outpost = object(
                "Outpost",
                `outpost-${radius.name}`,
                {
                    name: radius.name,
                    type: "radius",
                    serviceConnection: LOCAL_CLUSTER,
                    initialProviders: [provider.pk],
                    config: managedOutpostConfig({
                        authentikUrl: args.authentikUrl,
                        namespace: c.outposts.namespace,
                        replicas: radius.replicas,
                        shmSizeLimit: c.outposts.shmSizeLimit,
                        serviceType: "LoadBalancer",
                        clientNetworks: radius.clientNetworks,
                    }),
                },
                radius.adopt,
            );
            member(`radius-${radius.name}-on-outpost`, outpost, radius.name, provider);
            // authentik names an outpost's Service ak-outpost-<name>.
            this.radius = { host: `ak-outpost-${radius.name}.${c.outposts.namespace}.svc.cluster.local`, port: RADIUS_PORT };
        }

        this.apps = pulumi.all(appOutputs);
        this.oidcClientSecrets = pulumi.secret(pulumi.all(secrets));
        this.registerOutputs({ apps: this.apps, oidcClientSecrets: this.oidcClientSecrets });
    }
}
