/**
 * The homelab policy pack (`pulumi preview --policy-pack policy`): every rule of rules.ts as a
 * mandatory stack policy. Usable by any stack of the homelab; the preview workflow runs it.
 * Creating a PolicyPack starts its gRPC server, so nothing else imports this module.
 */
import { PolicyPack } from "@pulumi/policy";
import { RULES } from "./rules";

new PolicyPack("homelab", {
    policies: RULES.map((rule) => ({
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation) => {
            const resources = args.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.props, protect: r.opts.protect }));
            for (const v of rule.check(resources)) reportViolation(v.message, v.urn);
        },
    })),
});
