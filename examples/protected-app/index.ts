/**
 * A service's own stack protecting its host with the authentik platform: forward auth for the
 * wiki, allowed to one of the platform's groups, on the platform's embedded outpost. The platform
 * is read through a StackReference (@authentik-platform/contract); the objects are created with
 * this stack's own authentik token, the one the platform issues it (@authentik-platform/protected-app).
 * `pulumi destroy` removes exactly them.
 */
import * as pulumi from "@pulumi/pulumi";
import { readPlatformOutputs } from "@authentik-platform/contract";
import { ProtectedApp } from "@authentik-platform/protected-app";

const config = new pulumi.Config();
const platform = readPlatformOutputs(new pulumi.StackReference(config.require("platformStack")));

const wiki = new ProtectedApp("wiki", {
    authentikUrl: platform.authentik.apply((a) => a.url),
    // Where this machine reaches authentik's API, when not at its public URL.
    apiUrl: config.get("authentikApiUrl"),
    // This stack's own token: the one the platform issues it (config `consumers` there), or one set here.
    token:
        config.getSecret("authentikToken") ??
        platform.consumerTokens.apply((tokens) => {
            const name = config.get("consumerName") ?? "wiki";
            if (!tokens[name])
                throw new Error(`the platform stack issues no token for consumer "${name}": add {name: ${name}} to its consumers, or set authentikToken`);
            return tokens[name];
        }),
    app: {
        name: "Wiki",
        slug: "wiki",
        mode: "forward_single",
        host: config.get("host") ?? "wiki.homelab.example",
        groups: config.getObject<string[]>("groups") ?? ["homelab-users"],
    },
});

/** As an entry of the platform's `apps` output: the provider, the outpost serving it, the URL. */
export const wikiAuth = wiki.outputs;
