/**
 * A takeover plan from the Terraform stack's state (`npm run plan -- --from-terraform FILE`): for
 * each resource Terraform manages, which resource of this program takes it over and how (Pulumi
 * `import` for Kubernetes objects and the Helm release, `adopt` by natural key for authentik
 * objects), or that it would be left unmanaged; which of this program's objects are new; for
 * taken-over objects, the settings the first `up` changes, with stateful risks flagged; and the
 * stack-config fragment (import entries, adopt flags) that makes the first `up` a takeover.
 *
 * Terraform state holds secrets in plain text: this reads only the attributes it compares, shows
 * secret-bearing content as SHA-256 prefixes, and never prints a value Terraform marks sensitive.
 */
import { createHash } from "node:crypto";
import YAML from "yaml";
import type { Plan, PlanResource } from "./harness";
import type { StackConfig } from "../config";
import { identityOf, importIdOf } from "../lib/imports";
import { parseQuantity } from "../lib/units";

// ---------------------------------------------------------------------------------------------
// Terraform state (format version 4, as `terraform state pull` prints it)
// ---------------------------------------------------------------------------------------------

type Attrs = Record<string, unknown>;

export interface TerraformResource {
    /** `type.name` or `type.name["key"]` (module prefix included). */
    address: string;
    type: string;
    attributes: Attrs;
}

export function readTerraformState(text: string): { version: string; serial: number; resources: TerraformResource[] } {
    let doc: { version?: number; terraform_version?: string; serial?: number; resources?: unknown[] };
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new Error(`not a Terraform state (not JSON: ${(e as Error).message}); write one with terraform state pull > terraform.tfstate`);
    }
    if (doc.version !== 4 || !Array.isArray(doc.resources))
        throw new Error(`not a Terraform state in format version 4 (version ${doc.version}); terraform state pull writes one`);
    const resources: TerraformResource[] = [];
    for (const r of doc.resources as { mode: string; type: string; name: string; module?: string; instances: { index_key?: unknown; attributes: Attrs }[] }[]) {
        if (r.mode !== "managed") continue; // data sources own nothing
        for (const i of r.instances) {
            const key = i.index_key === undefined ? "" : `[${JSON.stringify(i.index_key)}]`;
            resources.push({ address: `${r.module ? `${r.module}.` : ""}${r.type}.${r.name}${key}`, type: r.type, attributes: i.attributes });
        }
    }
    return { version: doc.terraform_version ?? "?", serial: doc.serial ?? 0, resources };
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

export interface Difference {
    field: string;
    terraform: string;
    program: string;
}

export interface Mapping {
    terraform: string;
    type: string;
    /**
     * import: Pulumi import id; recreate: cannot be imported (a field that cannot change differs),
     * deleted before the first up; adopt: taken over by natural key; external-secret: rewritten
     * from 1Password; none: left unmanaged.
     */
    how: "import" | "recreate" | "adopt" | "external-secret" | "none";
    /** The program's resource (URN) that takes it over, when any. */
    resource: string | null;
    /** Import id, or the natural key it is adopted by, or why it is left alone. */
    detail: string;
    differences: Difference[];
    /** Stateful or availability risks of the first `up`. */
    risks: string[];
}

export interface TakeoverReport {
    terraformVersion: string;
    serial: number;
    mappings: Mapping[];
    /** The program's objects no Terraform resource stands for: created by the first `up`. */
    creates: { resource: string; type: string; name: string }[];
    /** Terraform resources of types this program does not know (listed, never dropped). */
    unknown: { terraform: string; type: string }[];
    /** Stack config (keys → values) that turns the first `up` into a takeover. */
    configFragment: Record<string, unknown>;
}

const list0 = (v: unknown): Attrs => (Array.isArray(v) && v[0] && typeof v[0] === "object" ? (v[0] as Attrs) : {});
const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
/** Content shown only as a digest prefix. */
export const digest = (v: unknown) =>
    `sha256:${createHash("sha256")
        .update(typeof v === "string" ? v : JSON.stringify(v))
        .digest("hex")
        .slice(0, 12)}`;

const K8S_KINDS: Record<string, string> = {
    kubernetes_namespace: "Namespace",
    kubernetes_deployment: "Deployment",
    kubernetes_service: "Service",
    kubernetes_config_map: "ConfigMap",
    kubernetes_secret: "Secret",
    kubernetes_pod_disruption_budget: "PodDisruptionBudget",
    kubernetes_persistent_volume_claim: "PersistentVolumeClaim",
};
const AUTHENTIK_KINDS: Record<string, string> = {
    authentik_provider_proxy: "ProxyProvider",
    authentik_provider_oauth2: "OAuth2Provider",
    authentik_provider_radius: "RadiusProvider",
    authentik_provider_ldap: "LdapProvider",
    authentik_application: "Application",
    authentik_group: "Group",
    authentik_policy_binding: "PolicyBinding",
    authentik_outpost: "Outpost",
};
const DYNAMIC = "pulumi-nodejs:dynamic/authentik:";
const EMBEDDED = "authentik Embedded Outpost";

/** The Kubernetes identity (`Kind/ns/name`) a Terraform resource manages, if it manages one. */
export function terraformIdentity(r: TerraformResource): string | undefined {
    const k8s = K8S_KINDS[r.type.replace(/_v1$/, "")];
    if (k8s) {
        const meta = list0(r.attributes.metadata);
        return meta.namespace ? `${k8s}/${str(meta.namespace)}/${str(meta.name)}` : `${k8s}/${str(meta.name)}`;
    }
    if (r.type === "helm_release") return `Release/${str(r.attributes.namespace) || "default"}/${str(r.attributes.name)}`;
    if (r.type === "kubectl_manifest") {
        const body = YAML.parse(str(r.attributes.yaml_body)) as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
        if (!body?.kind || !body.metadata?.name) return undefined;
        return body.metadata.namespace ? `${body.kind}/${body.metadata.namespace}/${body.metadata.name}` : `${body.kind}/${body.metadata.name}`;
    }
    return undefined;
}

/** What the program manages, by the keys Terraform's resources are matched on. */
function programIndex(plan: Plan) {
    const byIdentity = new Map<string, PlanResource>();
    const externalSecrets = new Map<string, PlanResource>();
    for (const r of plan.resources) {
        const id = identityOf(r.type, r.inputs);
        if (id) byIdentity.set(id, r);
        if (r.type === "kubernetes:external-secrets.io/v1:ExternalSecret") {
            const meta = r.inputs.metadata as { name: string; namespace: string };
            externalSecrets.set(`Secret/${meta.namespace}/${meta.name}`, r);
        }
    }
    const authentik = plan.resources.filter((r) => r.type.startsWith(DYNAMIC));
    const spec = (r: PlanResource) => (r.inputs.spec ?? {}) as Record<string, unknown>;
    const kindOf = (r: PlanResource) => r.type.slice(DYNAMIC.length);
    const byName = new Map(plan.resources.map((r) => [r.name, r]));
    /** `<resource name>-pk` / `-uuid` placeholders → the resource they stand for. */
    const referenced = (placeholder: unknown) => byName.get(String(placeholder).replace(/-(pk|uuid)$/, ""));
    return { byIdentity, externalSecrets, authentik, spec, kindOf, referenced };
}

export function takeoverReport(
    state: ReturnType<typeof readTerraformState>,
    plan: Plan,
    config: StackConfig,
    rawConfig: Record<string, unknown>,
): TakeoverReport {
    const p = programIndex(plan);
    const mappings: Mapping[] = [];
    const unknown: TakeoverReport["unknown"] = [];
    const taken = new Set<string>();
    const imports: string[] = [];
    const adoptApps = new Set<string>();
    const adoptGroups = new Set<string>();
    const adoptOutposts = new Set<"proxy" | "radius">();

    // Terraform's authentik ids → names, to read its bindings and outposts.
    const tfApps = new Map<string, Attrs>();
    const tfGroups = new Map<string, Attrs>();
    const tfProviders = new Map<string, Attrs>();
    for (const r of state.resources) {
        if (r.type === "authentik_application") tfApps.set(str(r.attributes.id), r.attributes);
        if (r.type === "authentik_group") tfGroups.set(str(r.attributes.id), r.attributes);
        if (r.type.startsWith("authentik_provider_")) tfProviders.set(str(r.attributes.id), r.attributes);
    }
    const leftAlone = (r: TerraformResource, why: string): Mapping => ({
        terraform: r.address,
        type: r.type,
        how: "none",
        resource: null,
        detail: `not covered: ${why}; it stays as it is, unmanaged by this program. Terraform still owns it (terraform destroy would delete it): terraform state rm ${r.address} to keep it`,
        differences: [],
        risks: [],
    });

    for (const r of state.resources) {
        const identity = terraformIdentity(r);
        if (identity) {
            const target = p.byIdentity.get(identity);
            if (target) {
                taken.add(target.urn);
                const { differences, risks, importable } = kubernetesDifferences(r, target, config);
                if (importable) imports.push(identity);
                const detail = importable
                    ? `import ${importIdOf(identity)}, then terraform state rm ${r.address}`
                    : `recreate ${importIdOf(identity)} (see the risk), then terraform state rm ${r.address}`;
                mappings.push({
                    terraform: r.address,
                    type: r.type,
                    how: importable ? "import" : "recreate",
                    resource: target.urn,
                    detail,
                    differences,
                    risks,
                });
                continue;
            }
            const external = p.externalSecrets.get(identity);
            if (external) {
                taken.add(external.urn);
                mappings.push({
                    terraform: r.address,
                    type: r.type,
                    how: "external-secret",
                    resource: external.urn,
                    detail: `External Secrets rewrites this Secret from 1Password (the program's ExternalSecret of the same name); terraform state rm ${r.address} first`,
                    differences: [],
                    risks: [
                        `a secret rotated: Secret ${identity.slice("Secret/".length)} gets 1Password's values in place of Terraform's (${Object.keys(
                            (r.attributes.data as Attrs) ?? {},
                        )
                            .sort()
                            .join(", ")})`,
                    ],
                });
                continue;
            }
            const kind = identity.split("/")[0];
            const ours = [...p.byIdentity.keys()].filter((k) => k.startsWith(`${kind}/`));
            const mapping = leftAlone(
                r,
                `this program creates no ${identity}${ours.length ? ` (its ${kind}: ${ours.map((o) => o.slice(kind.length + 1)).join(", ")})` : ""}`,
            );
            if (kind === "Cluster") {
                mapping.risks.push(
                    config.database.bootstrap.mode === "import"
                        ? `the data: database.bootstrap imports from ${config.database.bootstrap.source?.host}; check that it is this cluster (${identity})`
                        : `a database replaced: Terraform's CNPG cluster ${identity.slice(8)} keeps the data while this program starts a new, EMPTY cluster ${config.namespace}/${config.database.name}; set database.bootstrap.mode: import (source: its -rw service) to start with the data`,
                );
            }
            if (kind === "Release")
                mapping.risks.push(
                    `two authentik releases: this program installs ${[...p.byIdentity.keys()].find((k) => k.startsWith("Release/"))?.slice(8)} beside Terraform's ${identity.slice(8)}; set authentik.releaseName: ${identity.split("/").pop()} to take Terraform's over instead`,
                );
            mappings.push(mapping);
            continue;
        }
        const kind = AUTHENTIK_KINDS[r.type];
        if (kind) {
            const m = authentikMapping(r, kind, p, { tfApps, tfGroups, tfProviders }, config);
            if (!m) {
                mappings.push(leftAlone(r, notDeclared(r, kind, { tfApps, tfGroups })));
                continue;
            }
            taken.add(m.target.urn);
            if (m.adopt?.app) adoptApps.add(m.adopt.app);
            if (m.adopt?.group) adoptGroups.add(m.adopt.group);
            if (m.adopt?.outpost) adoptOutposts.add(m.adopt.outpost);
            mappings.push({
                terraform: r.address,
                type: r.type,
                how: "adopt",
                resource: m.target.urn,
                detail: `${m.detail}, then terraform state rm ${r.address}`,
                differences: m.differences,
                risks: m.risks,
            });
            continue;
        }
        if (r.type.startsWith("authentik_")) {
            mappings.push(leftAlone(r, `this program does not manage ${r.type.slice("authentik_".length).replace(/_/g, " ")}s`));
            continue;
        }
        unknown.push({ terraform: r.address, type: r.type });
    }

    const creates = plan.resources
        .filter((r) => !taken.has(r.urn) && (r.type.startsWith(DYNAMIC) || (r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes")))
        .map((r) => ({ resource: r.urn, type: r.type, name: r.name }));
    return {
        terraformVersion: state.version,
        serial: state.serial,
        mappings,
        creates,
        unknown,
        configFragment: fragment(rawConfig, imports, adoptApps, adoptGroups, adoptOutposts),
    };
}

// ---------------------------------------------------------------------------------------------
// Kubernetes objects: what the first up changes
// ---------------------------------------------------------------------------------------------

/** What the first up changes on a taken-over object, its risks, and whether Pulumi can import it as it is. */
function kubernetesDifferences(
    r: TerraformResource,
    target: PlanResource,
    config: StackConfig,
): { differences: Difference[]; risks: string[]; importable: boolean } {
    const differences: Difference[] = [];
    const risks: string[] = [];
    let importable = true;
    const diff = (field: string, terraform: unknown, program: unknown) => {
        if (str(terraform) !== str(program)) differences.push({ field, terraform: str(terraform), program: str(program) });
    };
    const a = r.attributes;
    const spec = list0(a.spec);
    const inputs = target.inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    switch (target.type.split(":").pop()) {
        case "Deployment": {
            diff("spec.replicas", spec.replicas, inputs.spec?.replicas);
            const selector = [JSON.stringify(list0(spec.selector).match_labels ?? {}), JSON.stringify(inputs.spec?.selector?.matchLabels ?? {})];
            diff("selector", selector[0], selector[1]);
            if (selector[0] !== selector[1]) {
                importable = false;
                risks.push(
                    `an import that cannot work: its selector ${selector[0]} → ${selector[1]} cannot change on a Deployment, and an imported object cannot be replaced, so the up would fail; it is left out of import: delete it right before the first up (kubectl -n ${str(inputs.metadata?.namespace)} delete deployment ${str(inputs.metadata?.name)}), which creates it (its pods are down in between)`,
                );
            }
            const tfContainers = (list0(list0(spec.template).spec).container as Attrs[] | undefined) ?? [];
            const ours = (inputs.spec?.template?.spec?.containers ?? []) as { name: string; image: string }[];
            for (const c of tfContainers) diff(`container ${str(c.name)} image`, c.image, ours.find((o) => o.name === c.name)?.image ?? "(none)");
            if (tfContainers.some((c) => ((c.env as Attrs[]) ?? []).some((e) => /PASSWORD|SECRET|TOKEN/i.test(str(e.name)) && e.value))) {
                risks.push("a credential in a literal env value (Terraform's): the program's pods read it from a Secret instead");
            }
            break;
        }
        case "Release":
            diff("version", a.version, inputs.version);
            diff("chart", a.chart, inputs.chart);
            diff("repository", a.repository, (inputs.repositoryOpts as { repo?: string })?.repo);
            differences.push({ field: "values", terraform: digest(a.values), program: "(the program's values; compare with npm run plan)" });
            break;
        case "PersistentVolumeClaim": {
            const was = str(list0(spec.resources).requests && (list0(spec.resources).requests as Attrs).storage);
            const is = str(inputs.spec?.resources?.requests?.storage);
            diff("storage", was, is);
            if (was && is && parseQuantity(is)! < parseQuantity(was)!)
                risks.push(`a volume replaced: ${is} is smaller than the existing ${was}, and volumes cannot shrink; keep ${was} or more`);
            const modes = ((spec.access_modes as string[]) ?? []).join(",");
            const ourModes = ((inputs.spec?.accessModes as string[]) ?? []).join(",");
            if (modes !== ourModes) risks.push(`a volume replaced: access modes ${modes} → ${ourModes} cannot change on a claim`);
            diff("access modes", modes, ourModes);
            const ourClass = str(inputs.spec?.storageClassName ?? "");
            diff("storage class", spec.storage_class_name, ourClass || "(cluster default)");
            if (ourClass && str(spec.storage_class_name) !== ourClass)
                risks.push(
                    `a volume replaced: storage class ${str(spec.storage_class_name)} → ${ourClass} cannot change on a claim; keep ${str(spec.storage_class_name)}`,
                );
            break;
        }
        case "PodDisruptionBudget":
            diff("minAvailable", spec.min_available, inputs.spec?.minAvailable);
            diff("selector", JSON.stringify(list0(spec.selector).match_labels ?? {}), JSON.stringify(inputs.spec?.selector?.matchLabels ?? {}));
            break;
        case "ConfigMap": {
            // Content only as digests: the Terraform stack kept a password in its ini.
            const data = (a.data as Attrs) ?? {};
            for (const k of new Set([...Object.keys(data), ...Object.keys((inputs.data as Attrs) ?? {})])) {
                if (data[k] !== inputs.data?.[k])
                    differences.push({
                        field: `data.${k}`,
                        terraform: k in data ? digest(data[k]) : "(none)",
                        program: inputs.data?.[k] !== undefined ? digest(inputs.data[k]) : "(none)",
                    });
            }
            if (Object.values(data).some((v) => /password\s*=/i.test(str(v))))
                risks.push("a credential in a ConfigMap (Terraform's): the program's holds none");
            break;
        }
        case "Secret":
            differences.push({
                field: "data",
                terraform: `keys ${Object.keys((a.data as Attrs) ?? {})
                    .sort()
                    .join(", ")}`,
                program: "the program's (secret)",
            });
            risks.push(
                `a secret rotated: the program writes its own values into ${target.name} (from credential databasePassword, now ${JSON.stringify(config.credentials.databasePassword?.kind ?? "unset")}); give it Terraform's value (credentials.databasePassword: config or 1Password) before the first up`,
            );
            break;
        case "Service":
            diff(
                "ports",
                ((spec.port as Attrs[]) ?? []).map((x) => x.port).join(","),
                ((inputs.spec?.ports as { port: number }[]) ?? []).map((x) => x.port).join(","),
            );
            break;
        case "Cluster": {
            const body = YAML.parse(str(a.yaml_body)) as { spec?: { instances?: number; storage?: { size?: string }; imageName?: string } };
            diff("instances", body.spec?.instances, inputs.spec?.instances);
            diff("storage.size", body.spec?.storage?.size, inputs.spec?.storage?.size);
            const was = body.spec?.storage?.size;
            const is = inputs.spec?.storage?.size as string | undefined;
            if (was && is && parseQuantity(is)! < parseQuantity(was)!)
                risks.push(`a database volume replaced: ${is} is smaller than ${was}; keep ${was} or more`);
            break;
        }
    }
    return { differences, risks, importable };
}

// ---------------------------------------------------------------------------------------------
// authentik objects: adopted by natural key
// ---------------------------------------------------------------------------------------------

interface AuthentikMatch {
    target: PlanResource;
    detail: string;
    differences: Difference[];
    risks: string[];
    adopt?: { app?: string; group?: string; outpost?: "proxy" | "radius" };
}

function authentikMapping(
    r: TerraformResource,
    kind: string,
    p: ReturnType<typeof programIndex>,
    tf: { tfApps: Map<string, Attrs>; tfGroups: Map<string, Attrs>; tfProviders: Map<string, Attrs> },
    config: StackConfig,
): AuthentikMatch | undefined {
    const a = r.attributes;
    const ofKind = p.authentik.filter((x) => p.kindOf(x) === kind);
    const differences: Difference[] = [];
    const diff = (field: string, terraform: unknown, program: unknown) => {
        if (str(terraform) !== str(program)) differences.push({ field, terraform: str(terraform), program: str(program) });
    };
    /** The app (slug) whose provider resource is `x`, from the resource name app-<slug>-provider. */
    const appOfProvider = (x: PlanResource) => /^app-(.+)-provider$/.exec(x.name)?.[1];
    const radius = config.outposts.radius;
    switch (kind) {
        case "ProxyProvider":
        case "OAuth2Provider":
        case "RadiusProvider": {
            const target = ofKind.find((x) => p.spec(x).name === a.name);
            if (!target) return undefined;
            const spec = p.spec(target);
            const risks: string[] = [];
            if (kind === "ProxyProvider") {
                diff("mode", a.mode, spec.mode);
                diff("external_host", a.external_host, spec.externalHost);
                diff("internal_host", a.internal_host, spec.internalHost ?? "");
                diff("cookie_domain", a.cookie_domain, spec.cookieDomain ?? "");
            }
            if (kind === "OAuth2Provider") {
                diff("client_id", a.client_id, spec.clientId);
                diff("client_type", a.client_type, spec.clientType);
                const uris = (v: unknown) =>
                    ((v as { url: string }[]) ?? [])
                        .map((u) => u.url)
                        .sort()
                        .join(" ");
                diff("redirect URIs", uris(a.allowed_redirect_uris ?? a.redirect_uris), uris(spec.redirectUris));
                if (spec.clientType === "confidential")
                    risks.push(
                        `a secret rotated: the program sets its own generated client secret on "${a.name}"; every client of it (${a.client_id}) needs the new one (stack output oidcClientSecrets) at the first up`,
                    );
            }
            if (kind === "RadiusProvider") {
                diff("client_networks", a.client_networks, spec.clientNetworks);
                if (config.credentials.radiusSharedSecret?.kind === "generate")
                    risks.push(
                        `a secret rotated: the program generates a new RADIUS shared secret; every NAS and access point must get it, or set credentials.radiusSharedSecret to Terraform's value (config or 1Password)`,
                    );
            }
            const slug = kind === "RadiusProvider" ? undefined : appOfProvider(target);
            return {
                target,
                detail: `adopt by name "${a.name}" (${slug ? `apps[slug=${slug}].adopt: true` : "outposts.radius.adopt: true"})`,
                differences,
                risks,
                adopt: slug ? { app: slug } : { outpost: "radius" },
            };
        }
        case "Application": {
            const target = ofKind.find((x) => p.spec(x).slug === a.slug);
            if (!target) return undefined;
            const spec = p.spec(target);
            diff("name", a.name, spec.name);
            diff("meta_launch_url", a.meta_launch_url, spec.metaLaunchUrl ?? "");
            diff("meta_icon", a.meta_icon, spec.metaIcon ?? "");
            diff("meta_description", a.meta_description, spec.metaDescription ?? "");
            diff("policy_engine_mode", a.policy_engine_mode, spec.policyEngineMode ?? "any");
            const isRadius = radius && a.slug === radius.name;
            return {
                target,
                detail: `adopt by slug "${a.slug}" (${isRadius ? "outposts.radius.adopt" : `apps[slug=${a.slug}].adopt`}: true)`,
                differences,
                risks: [],
                adopt: isRadius ? { outpost: "radius" } : { app: str(a.slug) },
            };
        }
        case "Group": {
            const target = ofKind.find((x) => p.spec(x).name === a.name);
            if (!target) return undefined;
            diff("is_superuser", a.is_superuser, p.spec(target).isSuperuser);
            return { target, detail: `adopt by name "${a.name}" (groups[name=${a.name}].adopt: true)`, differences, risks: [], adopt: { group: str(a.name) } };
        }
        case "PolicyBinding": {
            const app = tf.tfApps.get(str(a.target));
            const group = tf.tfGroups.get(str(a.group));
            if (!app || !group) return undefined;
            const target = ofKind.find(
                (x) =>
                    p.referenced(p.spec(x).target)?.inputs &&
                    p.spec(p.referenced(p.spec(x).target)!).slug === app.slug &&
                    p.spec(p.referenced(p.spec(x).group)!).name === group.name,
            );
            if (!target) return undefined;
            diff("order", a.order, p.spec(target).order);
            const isRadius = radius && app.slug === radius.name;
            return {
                target,
                detail: `adopt by target "${app.slug}" and group "${group.name}" (with ${isRadius ? "outposts.radius" : `apps[slug=${app.slug}]`}.adopt)`,
                differences,
                risks: [],
                adopt: isRadius ? { outpost: "radius" } : { app: str(app.slug) },
            };
        }
        case "Outpost": {
            const target = ofKind.find((x) => (a.name === EMBEDDED ? p.spec(x).managed !== undefined : p.spec(x).name === a.name));
            if (!target) return undefined;
            const names = ((a.protocol_providers as number[]) ?? []).map((id) => str(tf.tfProviders.get(String(id))?.name ?? `#${id}`));
            const declared = new Set(
                p.authentik
                    .filter((x) => p.kindOf(x) === "OutpostMember" && p.referenced(p.spec(x).outpost) === target)
                    .map((x) => str(p.spec(p.referenced(p.spec(x).provider)!).name)),
            );
            const others = names.filter((n) => !declared.has(n));
            const risks = [
                `a provider detached from an outpost: Terraform's authentik_outpost writes the whole provider list, so its next apply would detach what this program attaches: terraform state rm ${r.address} before the first up`,
            ];
            const dedicated = a.name === config.outposts.proxy.name ? "proxy" : radius && a.name === radius.name ? "radius" : undefined;
            return {
                target,
                detail: `${a.name === EMBEDDED ? "the embedded outpost, always adopted" : `adopt by name "${a.name}" (outposts.${dedicated}.adopt: true)`}; providers this stack does not declare stay attached${others.length ? ` (${others.join(", ")})` : ""}`,
                differences,
                risks,
                adopt: dedicated ? { outpost: dedicated } : undefined,
            };
        }
    }
    return undefined;
}

/** Why an authentik object of Terraform's is not this stack's, by its natural key. */
function notDeclared(r: TerraformResource, kind: string, tf: { tfApps: Map<string, Attrs>; tfGroups: Map<string, Attrs> }): string {
    const a = r.attributes;
    if (kind === "LdapProvider") return "this stack declares no LDAP provider";
    if (kind === "Application") return `this stack has no app with slug "${str(a.slug)}"`;
    if (kind === "PolicyBinding") {
        const app = tf.tfApps.get(str(a.target))?.slug ?? str(a.target);
        const who = a.group ? `group "${str(tf.tfGroups.get(str(a.group))?.name ?? a.group)}"` : a.policy ? `policy ${str(a.policy)}` : `user ${str(a.user)}`;
        return `this stack does not bind ${who} to "${str(app)}"`;
    }
    return `this stack has no ${kind} named "${str(a.name)}"`;
}

// ---------------------------------------------------------------------------------------------
// The stack-config fragment
// ---------------------------------------------------------------------------------------------

const PROJECT = "authentik-platform";

/** The stack file's own entries with import and adopt set: review, then paste over the stack file's keys. */
function fragment(
    raw: Record<string, unknown>,
    imports: string[],
    apps: Set<string>,
    groups: Set<string>,
    outposts: Set<"proxy" | "radius">,
): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const existing = ((raw[`${PROJECT}:import`] as string[]) ?? []).filter((e) => !imports.includes(e));
    if (imports.length) out[`${PROJECT}:import`] = [...existing, ...imports];
    const withAdopt = (key: string, match: (e: Record<string, unknown>) => boolean) => {
        const entries = (raw[`${PROJECT}:${key}`] as Record<string, unknown>[]) ?? [];
        if (entries.some(match)) out[`${PROJECT}:${key}`] = entries.map((e) => (match(e) ? { ...e, adopt: true } : e));
    };
    withAdopt("apps", (e) => apps.has(String(e.slug)));
    withAdopt("groups", (e) => groups.has(String(e.name)));
    if (outposts.size) {
        const current = (raw[`${PROJECT}:outposts`] as Record<string, Record<string, unknown>>) ?? {};
        out[`${PROJECT}:outposts`] = { ...current, ...Object.fromEntries([...outposts].map((o) => [o, { ...(current[o] ?? {}), adopt: true }])) };
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

/** Each fate's heading, in the order printed: one for every value of `how`. */
const HEADINGS: Record<Mapping["how"], string> = {
    import: "Imported (Pulumi import):",
    recreate: "Recreated (cannot be imported; delete right before the first up):",
    adopt: "Adopted (authentik, by natural key):",
    "external-secret": "Rewritten by External Secrets:",
    none: "Left alone:",
};

export function renderTakeover(report: TakeoverReport, plan: Plan): string {
    const name = (urn: string | null) => (urn ? (plan.resources.find((r) => r.urn === urn)?.name ?? urn) : "");
    const lines = [
        `Takeover from Terraform ${report.terraformVersion} state (serial ${report.serial}): ${report.mappings.length} resources, ${report.unknown.length} of unknown type`,
    ];
    for (const [how, heading] of Object.entries(HEADINGS)) {
        const group = report.mappings.filter((m) => m.how === how);
        if (!group.length) continue;
        lines.push("", heading);
        for (const m of group) {
            lines.push(`  ${m.terraform}${m.resource ? ` → ${name(m.resource)}` : ""}: ${m.detail}`);
            for (const d of m.differences) lines.push(`      changes ${d.field}: ${d.terraform} → ${d.program}`);
            for (const r of m.risks) lines.push(`      RISK ${r}`);
        }
    }
    if (report.unknown.length)
        lines.push("", "Unknown types (not covered, listed so nothing is dropped silently):", ...report.unknown.map((u) => `  ${u.terraform}`));
    lines.push("", `Will be created (${report.creates.length}): ${report.creates.map((c) => c.name).join(", ") || "nothing"}`);
    return lines.join("\n");
}
