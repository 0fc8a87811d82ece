/**
 * The homelab's policy rules: the incidents of the stacks this program replaced, as checks over a
 * stack's resources. Pure functions over plain data: the Pulumi policy pack (policy/index.ts) runs
 * them on every preview of any stack, and the offline plan (`npm run plan`) runs the same functions
 * over the planned resources — one implementation, two entry points.
 *
 * What they see: Kubernetes objects as their inputs, the authentik Helm release's values (objects
 * inside a Helm release are invisible to policies), and authentik outposts (dynamic resources).
 */

import { isPinnedImage } from "../lib/images";
import { CRITICAL_ANNOTATION } from "../lib/k8s";

/** A resource as the rules see it (a policy pack's PolicyResource or a plan resource). */
export interface PolicyInput {
    type: string;
    name: string;
    /** Where a violation is reported; defaults to the name. */
    urn?: string;
    props: Record<string, unknown>;
    protect: boolean;
}

export interface Violation {
    urn: string;
    message: string;
}

export interface Rule {
    /** Policy name: lower case and dashes (Pulumi's policy naming). */
    name: string;
    description: string;
    check(resources: PolicyInput[]): Violation[];
}

/** Outposts authentik deploys: at least this many replicas. */
export const MIN_OUTPOST_REPLICAS = 2;
export const MIN_CRITICAL_REPLICAS = 3;
/** Resources that hold data: replacing or deleting one loses it. */
export const STATEFUL_TYPES = ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolumeClaim", "kubernetes:postgresql.cnpg.io/v1:Cluster"];

/** What the stateful classification reads of a resource: a policy input, a plan resource or a preview step's old state. */
export interface Classified {
    type: string;
    urn?: string;
    props: Record<string, unknown>;
}

/**
 * The stateful resources among `resources` (one definition for the policy pack, the plan's checks
 * and the preview guard): namespaces, volume claims and CNPG clusters; the platform's generated
 * credentials (a replaced password locks authentik out; per-app OIDC client secrets are not: removing
 * an app removes its secret); and the Secret (or ExternalSecret) a CNPG cluster bootstraps its owner from.
 */
export function statefulOf<T extends Classified>(resources: T[]): T[] {
    const metadata = (r: Classified) => obj(r.props.metadata);
    const bootstrapSecrets = new Set(
        resources
            .filter((r) => r.type === CLUSTER)
            .map((r) => `${str(metadata(r).namespace)}/${str(obj(obj(obj(obj(r.props.spec).bootstrap).initdb).secret).name)}`),
    );
    return resources.filter(
        (r) =>
            STATEFUL_TYPES.includes(r.type) ||
            (r.type === "random:index/randomPassword:RandomPassword" && (r.urn ?? "").includes("authentik-platform:secrets:Credentials$")) ||
            ((r.type === "kubernetes:core/v1:Secret" || r.type === "kubernetes:external-secrets.io/v1:ExternalSecret") &&
                bootstrapSecrets.has(`${str(metadata(r).namespace)}/${str(metadata(r).name)}`)),
    );
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown) => (typeof v === "string" ? v : undefined);

interface Container {
    name: string;
    image?: string;
    command?: unknown;
    env: Obj[];
    resources: Obj;
    securityContext: Obj;
}

/** A set of identical pods: a Deployment, or a component of the authentik Helm release. */
interface PodSet {
    at: PolicyInput;
    what: string;
    namespace?: string;
    replicas: number;
    critical: boolean;
    authentik: boolean;
    labels: Record<string, string>;
    containers: Container[];
    claims: string[];
    /** The pod-level securityContext. */
    podSecurity: Obj;
    /** The release's own PodDisruptionBudget values, for pod sets a Helm release renders. */
    pdb?: { minAvailable?: number | string; maxUnavailable?: number | string };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const PVC = "kubernetes:core/v1:PersistentVolumeClaim";
const CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster";
const OUTPOST = "pulumi-nodejs:dynamic/authentik:Outpost";

const urnOf = (r: PolicyInput) => r.urn ?? r.name;
const isAuthentikRelease = (r: PolicyInput) => r.type === RELEASE && (r.props.chart === "authentik" || String(r.props.chart).endsWith("/authentik"));

function claimsOf(volumes: unknown): string[] {
    return arr(volumes)
        .map((v) => str(obj(obj(v).persistentVolumeClaim).claimName))
        .filter((c): c is string => !!c);
}

function containerOf(c: unknown): Container {
    const o = obj(c);
    return {
        name: str(o.name) ?? "?",
        image: str(o.image),
        command: o.command,
        env: arr(o.env).map(obj),
        resources: obj(o.resources),
        securityContext: obj(o.securityContext),
    };
}

/** Every pod set in the stack. */
export function podSets(resources: PolicyInput[]): PodSet[] {
    const sets: PodSet[] = [];
    for (const r of resources) {
        if (r.type === DEPLOYMENT) {
            const meta = obj(r.props.metadata);
            const spec = obj(r.props.spec);
            const pod = obj(obj(spec.template).spec);
            const containers = [...arr(pod.initContainers), ...arr(pod.containers)].map(containerOf);
            sets.push({
                at: r,
                what: `Deployment ${str(meta.name) ?? r.name}`,
                namespace: str(meta.namespace),
                replicas: typeof spec.replicas === "number" ? spec.replicas : 1,
                critical: obj(meta.annotations)[CRITICAL_ANNOTATION] === "true",
                authentik: containers.some((c) => /goauthentik\/(server|proxy|radius|ldap)/.test(c.image ?? "")),
                labels: obj(obj(obj(spec.template).metadata).labels) as Record<string, string>,
                containers,
                claims: claimsOf(pod.volumes),
                podSecurity: obj(pod.securityContext),
            });
        } else if (isAuthentikRelease(r)) {
            const values = obj(r.props.values);
            const globalEnv = arr(obj(values.global).env).map(obj);
            for (const component of ["server", "worker"]) {
                const v = obj(values[component]);
                const pdb = obj(v.pdb);
                sets.push({
                    at: r,
                    what: `authentik ${component} (Helm release ${str(r.props.name) ?? r.name})`,
                    namespace: str(r.props.namespace),
                    replicas: typeof v.replicas === "number" ? v.replicas : 1,
                    critical: true,
                    authentik: true,
                    labels: {},
                    containers: [
                        {
                            name: component,
                            image: imageOfValues(values, v),
                            command: v.command,
                            env: [...globalEnv, ...arr(v.env).map(obj)],
                            resources: obj(v.resources),
                            securityContext: obj(v.containerSecurityContext),
                        },
                    ],
                    claims: claimsOf(v.volumes),
                    podSecurity: obj(v.securityContext),
                    pdb: pdb.enabled === true ? { minAvailable: pdb.minAvailable as number, maxUnavailable: pdb.maxUnavailable as number } : {},
                });
            }
        }
    }
    return sets;
}

/** The image a chart component runs: its own image values over global.image; unset means the chart's pinned default. */
function imageOfValues(values: Obj, component: Obj): string | undefined {
    const image = { ...obj(obj(values.global).image), ...obj(component.image) };
    if (!image.repository && !image.tag && !image.digest) return undefined;
    const repo = str(image.repository) ?? "ghcr.io/goauthentik/server";
    return `${repo}${image.tag ? `:${image.tag}` : ""}${image.digest ? `@${image.digest}` : ""}`;
}

/** The smallest number of pods a disruption budget keeps, or undefined without one. */
export function keptPods(replicas: number, pdb: { minAvailable?: unknown; maxUnavailable?: unknown } | undefined): number | undefined {
    if (!pdb) return undefined;
    const resolve = (v: unknown) =>
        typeof v === "string" && v.endsWith("%") ? Math.ceil((replicas * Number(v.slice(0, -1))) / 100) : typeof v === "number" ? v : undefined;
    const min = resolve(pdb.minAvailable);
    if (min !== undefined) return min;
    const maxUnavailable = resolve(pdb.maxUnavailable);
    return maxUnavailable !== undefined ? replicas - maxUnavailable : undefined;
}

function pdbFor(set: PodSet, resources: PolicyInput[]) {
    if (set.pdb) return Object.keys(set.pdb).length ? set.pdb : undefined;
    const pdb = resources.find((r) => {
        if (r.type !== PDB || str(obj(r.props.metadata).namespace) !== set.namespace) return false;
        const match = obj(obj(obj(r.props.spec).selector).matchLabels);
        return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => set.labels[k] === v);
    });
    return pdb ? (obj(pdb.props.spec) as { minAvailable?: unknown; maxUnavailable?: unknown }) : undefined;
}

/** Not pinned to an exact release (the one definition the config validation uses too). */
export function isUnpinned(image: string): boolean {
    return !isPinnedImage(image);
}

/** Strings anywhere in a value, with their paths. */
function strings(value: unknown, at = ""): [string, string][] {
    if (typeof value === "string") return [[at, value]];
    if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => strings(v, at ? `${at}.${k}` : k));
    return [];
}

/** `name.namespace.svc` or `.svc.cluster` without `.local`: resolves only with the pod's search path, or not at all. */
const SHORT_SERVICE_NAME = /\b[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\.svc(\.cluster)?(?![\w.-])/;
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|SECRET_?KEY|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)$/i;
const SECRET_IN_TEXT = [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, /\b(password|passwd|secret|token|api[_-]?key)\s*[=:]\s*["']?[^\s"'#;]{6,}/i];

export const RULES: Rule[] = [
    {
        name: "authentik-no-command-override",
        description: "authentik containers keep the image's entrypoint: set args, never command (a `command: [server]` put the seeds in CrashLoopBackOff).",
        check: (resources) =>
            podSets(resources)
                .filter((s) => s.authentik)
                .flatMap((s) =>
                    s.containers
                        .filter((c) => c.command !== undefined && c.command !== null)
                        .map((c) => ({ urn: urnOf(s.at), message: `${s.what}: container ${c.name} overrides command; use args` })),
                ),
    },
    {
        name: "in-cluster-fqdn",
        description: "In-cluster hosts are full <service>.<namespace>.svc.cluster.local names (short names broke the seeds when the search path differed).",
        check: (resources) =>
            resources.flatMap((r) =>
                strings(r.props)
                    .filter(([, v]) => SHORT_SERVICE_NAME.test(v))
                    .map(([path, v]) => ({
                        urn: urnOf(r),
                        message: `${r.type.split(":").pop()} ${r.name}: ${path} = "${SHORT_SERVICE_NAME.exec(v)![0]}" is not a full name; use <service>.<namespace>.svc.cluster.local`,
                    })),
            ),
    },
    {
        name: "critical-replicas-and-disruption-budget",
        description: `Critical Deployments (the authentik release, or annotated ${CRITICAL_ANNOTATION}: "true") run ${MIN_CRITICAL_REPLICAS}+ replicas with a PodDisruptionBudget that keeps 2 or more and fewer than all; outposts authentik deploys run ${MIN_OUTPOST_REPLICAS}+.`,
        check: (resources) => [
            ...podSets(resources)
                .filter((s) => s.critical)
                .flatMap((s) => {
                    const out: Violation[] = [];
                    if (s.replicas < MIN_CRITICAL_REPLICAS)
                        out.push({ urn: urnOf(s.at), message: `${s.what}: ${s.replicas} replicas, a critical workload needs ${MIN_CRITICAL_REPLICAS}` });
                    const kept = keptPods(s.replicas, pdbFor(s, resources));
                    if (kept === undefined) out.push({ urn: urnOf(s.at), message: `${s.what}: no PodDisruptionBudget selects its pods` });
                    else if (kept < 2 || kept >= s.replicas)
                        out.push({
                            urn: urnOf(s.at),
                            message: `${s.what}: its PodDisruptionBudget keeps ${kept} of ${s.replicas} pods; keep at least 2 and fewer than all (or drains hang)`,
                        });
                    return out;
                }),
            ...resources
                .filter((r) => r.type === OUTPOST && !obj(r.props.spec).managed)
                .flatMap((r) => {
                    const replicas = obj(obj(r.props.spec).config).kubernetes_replicas;
                    return typeof replicas === "number" && replicas < MIN_OUTPOST_REPLICAS
                        ? [{ urn: urnOf(r), message: `outpost ${r.name}: ${replicas} replica(s); run at least ${MIN_OUTPOST_REPLICAS}` }]
                        : [];
                }),
        ],
    },
    {
        name: "container-resources",
        description: "Every container requests CPU and memory and has a memory limit.",
        check: (resources) =>
            podSets(resources).flatMap((s) =>
                s.containers.flatMap((c) => {
                    const requests = obj(c.resources.requests);
                    const missing = [
                        !requests.cpu && "requests.cpu",
                        !requests.memory && "requests.memory",
                        !obj(c.resources.limits).memory && "limits.memory",
                    ].filter(Boolean);
                    return missing.length ? [{ urn: urnOf(s.at), message: `${s.what}: container ${c.name} has no ${missing.join(", ")}` }] : [];
                }),
            ),
    },
    {
        name: "shared-volume-read-write-many",
        description:
            "A PersistentVolumeClaim mounted by more than one pod is ReadWriteMany (a ReadWriteOnce media volume left the seeds' pods stuck on Multi-Attach).",
        check: (resources) => {
            const pods = new Map<string, number>();
            for (const s of podSets(resources))
                for (const claim of s.claims) pods.set(`${s.namespace}/${claim}`, (pods.get(`${s.namespace}/${claim}`) ?? 0) + s.replicas);
            return resources
                .filter((r) => r.type === PVC)
                .flatMap((r) => {
                    const meta = obj(r.props.metadata);
                    const count = pods.get(`${str(meta.namespace)}/${str(meta.name)}`) ?? 0;
                    const modes = arr(obj(r.props.spec).accessModes);
                    return count > 1 && !modes.includes("ReadWriteMany")
                        ? [
                              {
                                  urn: urnOf(r),
                                  message: `PersistentVolumeClaim ${str(meta.name)}: mounted by ${count} pods but ${modes.join(", ") || "no access mode"}; use ReadWriteMany`,
                              },
                          ]
                        : [];
                });
        },
    },
    {
        name: "pinned-images",
        description: "Every image is pinned to an exact release: a digest, or a tag starting with major.minor (never latest, a bare major or a channel).",
        check: (resources) => [
            ...podSets(resources).flatMap((s) =>
                s.containers
                    .filter((c) => c.image !== undefined && isUnpinned(c.image))
                    .map((c) => ({ urn: urnOf(s.at), message: `${s.what}: container ${c.name} runs ${c.image}, which is not pinned` })),
            ),
            ...resources
                .filter((r) => r.type === CLUSTER && typeof obj(r.props.spec).imageName === "string" && isUnpinned(obj(r.props.spec).imageName as string))
                .map((r) => ({ urn: urnOf(r), message: `Cluster ${r.name}: imageName ${obj(r.props.spec).imageName} is not pinned` })),
        ],
    },
    {
        name: "pod-security-restricted",
        description:
            'Every pod meets the Pod Security Standard "restricted": non-root, a RuntimeDefault seccomp profile, no privilege escalation, all capabilities dropped.',
        check: (resources) =>
            podSets(resources).flatMap((s) => restrictedViolations(s.podSecurity, s.containers).map((m) => ({ urn: urnOf(s.at), message: `${s.what}: ${m}` }))),
    },
    {
        name: "stateful-protected",
        description:
            "Namespaces, volume claims, databases, the database's credentials Secret and generated credentials are protected: a change that would replace or delete one fails instead (retainOnDelete, which policies cannot see, is checked by the plan; deletions by npm run guard).",
        check: (resources) =>
            statefulOf(resources)
                .filter((r) => !r.protect)
                .map((r) => ({ urn: urnOf(r), message: `${r.type.split(":").pop()} ${r.name} is not protected` })),
    },
    {
        name: "no-literal-secrets",
        description: "No secret material in ConfigMaps or in literal env values: secrets come from Secrets (valueFrom.secretKeyRef).",
        check: (resources) => [
            ...resources
                .filter((r) => r.type === CONFIGMAP)
                .flatMap((r) =>
                    Object.entries(obj(r.props.data))
                        .filter(([, v]) => typeof v === "string" && SECRET_IN_TEXT.some((p) => p.test(v)))
                        .map(([k]) => ({ urn: urnOf(r), message: `ConfigMap ${r.name}: key ${k} holds secret material; move it to a Secret` })),
                ),
            ...podSets(resources).flatMap((s) =>
                s.containers.flatMap((c) =>
                    c.env
                        .filter((e) => SECRET_NAME.test(String(e.name)) && typeof e.value === "string" && e.value !== "")
                        .map((e) => ({ urn: urnOf(s.at), message: `${s.what}: env ${e.name} is a literal value; use valueFrom.secretKeyRef` })),
                ),
            ),
        ],
    },
];

/**
 * What keeps a pod out of a namespace that enforces Pod Security "restricted" (the checks a homelab
 * hits: non-root, seccomp, no privilege escalation, all capabilities dropped), from its pod and
 * container security contexts.
 */
export function restrictedViolations(pod: Obj, containers: { name: string; securityContext: Obj }[]): string[] {
    const out: string[] = [];
    for (const c of containers) {
        const sc = c.securityContext;
        if (sc.allowPrivilegeEscalation !== false) out.push(`container ${c.name}: allowPrivilegeEscalation is not false`);
        if (!arr(obj(sc.capabilities).drop).includes("ALL")) out.push(`container ${c.name}: capabilities do not drop ALL`);
        if (sc.runAsNonRoot !== true && pod.runAsNonRoot !== true) out.push(`container ${c.name}: runAsNonRoot is not true`);
        const seccomp = str(obj(sc.seccompProfile).type) ?? str(obj(pod.seccompProfile).type);
        if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") out.push(`container ${c.name}: no RuntimeDefault seccomp profile`);
        if (sc.privileged === true) out.push(`container ${c.name}: privileged`);
    }
    return out;
}

/** Runs every rule; the violations by rule name. */
export function evaluate(resources: PolicyInput[]): { rule: Rule; violations: Violation[] }[] {
    return RULES.map((rule) => ({ rule, violations: rule.check(resources) }));
}
