/**
 * lib/authentik-api/permissions.ts and the access model over it: the permission each engine
 * operation needs, from the model each kind names, written out as authentik's RBAC names them
 * (`<app_label>.<verb>_<model>`, authentik/rbac). Pure.
 */
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { modelOf, objectPermissionsFor, permissionFor, referencePermissions } from "../lib/authentik-api/permissions";
import { consumerInitialPermissions, consumerPermissions, consumerSummary } from "../components/authentik-access/model";

describe("the permission of each engine operation", () => {
    it("is the verb on the kind's model; a membership changes its outpost, whatever it does", () => {
        assert.equal(permissionFor("Application", "delete"), "authentik_core.delete_application");
        assert.equal(permissionFor("OAuth2Provider", "add"), "authentik_providers_oauth2.add_oauth2provider");
        assert.equal(permissionFor("OutpostMember", "add"), "authentik_outposts.change_outpost");
        assert.equal(permissionFor("OutpostMember", "delete"), "authentik_outposts.change_outpost");
        assert.equal(permissionFor("OutpostMember", "view"), "authentik_outposts.view_outpost");
    });

    it("is none for the kinds only a superuser manages, and for a kind the engine does not have", () => {
        assert.equal(permissionFor("ServiceAccount", "add"), undefined);
        assert.equal(permissionFor("Role", "view"), undefined);
        assert.equal(permissionFor("NoSuchKind", "view"), undefined);
        assert.deepEqual(objectPermissionsFor("NoSuchKind", {}), []);
    });

    it("hands over change and delete on an object, only change on a managed outpost, nothing on groups or memberships", () => {
        assert.deepEqual(objectPermissionsFor("ProxyProvider", {}), [
            "authentik_providers_proxy.change_proxyprovider",
            "authentik_providers_proxy.delete_proxyprovider",
        ]);
        assert.deepEqual(objectPermissionsFor("Outpost", { managed: "goauthentik.io/outposts/embedded" }), ["authentik_outposts.change_outpost"]);
        assert.deepEqual(objectPermissionsFor("Group", {}), [], "groups are the admin credential's");
        assert.deepEqual(objectPermissionsFor("OutpostMember", {}), [], "a membership's permission is its outpost's");
        assert.deepEqual(objectPermissionsFor("Role", {}), []);
    });

    it("names the model of an object permission, and the views that references need", () => {
        assert.equal(modelOf("authentik_core.change_application"), "authentik_core.application");
        assert.equal(modelOf("authentik_providers_oauth2.view_oauth2provider"), "authentik_providers_oauth2.oauth2provider");
        assert.deepEqual(referencePermissions(), [
            "authentik_flows.view_flow",
            "authentik_providers_oauth2.view_scopemapping",
            "authentik_crypto.view_certificatekeypair",
            "authentik_outposts.view_kubernetesserviceconnection",
        ]);
    });
});

describe("a consuming stack's permissions", () => {
    it("are sorted: view and add on what ProtectedApp writes, view on groups, outposts and references", () => {
        assert.deepEqual(consumerPermissions(), [
            "authentik_core.add_application",
            "authentik_core.view_application",
            "authentik_core.view_group",
            "authentik_crypto.view_certificatekeypair",
            "authentik_flows.view_flow",
            "authentik_outposts.view_kubernetesserviceconnection",
            "authentik_outposts.view_outpost",
            "authentik_policies.add_policybinding",
            "authentik_policies.view_policybinding",
            "authentik_providers_oauth2.add_oauth2provider",
            "authentik_providers_oauth2.view_oauth2provider",
            "authentik_providers_oauth2.view_scopemapping",
            "authentik_providers_proxy.add_proxyprovider",
            "authentik_providers_proxy.view_proxyprovider",
        ]);
        assert.deepEqual(consumerInitialPermissions(), [
            "authentik_core.change_application",
            "authentik_core.delete_application",
            "authentik_policies.change_policybinding",
            "authentik_policies.delete_policybinding",
            "authentik_providers_oauth2.change_oauth2provider",
            "authentik_providers_oauth2.delete_oauth2provider",
            "authentik_providers_proxy.change_proxyprovider",
            "authentik_providers_proxy.delete_proxyprovider",
        ]);
    });

    it("are summed up for the plan in one line naming the consumers, and not at all without any", () => {
        assert.equal(consumerSummary([]), undefined);
        assert.match(
            consumerSummary(["wiki", "grafana"])!,
            /^Consumer tokens \(wiki, grafana\): 14 global permissions \(view; add on applications, bindings and proxy\/OAuth2 providers\), change and delete only on the objects each token's ProtectedApps created/,
        );
    });
});
