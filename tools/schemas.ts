/**
 * Validates every Kubernetes object in a plan against published schemas: `kubernetes-models` for
 * built-in kinds, `@kubernetes-models/*` for Prometheus Operator and External Secrets CRDs. CNPG
 * objects (no published model) are checked against their upstream CRDs by the conformance check in
 * CI, and the Helm release by rendering the real chart in the tests.
 */
import { Plan, PlanResource, SECRET } from "./harness";
import type { CheckResult } from "./checks";

/** Where each API group's models live (packages are ESM; loaded with dynamic import). */
function modelModule(group: string, version: string): string | undefined {
    if (group === "core") return `kubernetes-models/${version}`;
    if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}`;
    if (group === "external-secrets.io") return `@kubernetes-models/external-secrets/${group}/${version}`;
    // Built-in groups are unqualified or end in .k8s.io; any other custom resource has no model here.
    if (group.includes(".") && !group.endsWith(".k8s.io")) return undefined;
    return `kubernetes-models/${group}/${version}`;
}

/** `kubernetes:apps/v1:Deployment` → its group, version and kind. */
export function parseKubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
    const m = /^kubernetes:(?:([^/:]+)\/)?([^/:]+):(\w+)$/.exec(type);
    if (!m) return undefined;
    return { group: m[1] ?? "core", version: m[2], kind: m[3] };
}

type Model = new (data: unknown) => { validate(): void };

/** Validates one object; returns the schema errors (empty when valid). Throws for unknown kinds. */
export async function validateObject(type: string, inputs: Record<string, unknown>): Promise<string[]> {
    const t = parseKubernetesType(type);
    if (!t) throw new Error(`${type} is not a Kubernetes type`);
    const module = modelModule(t.group, t.version);
    if (!module) return [];
    // The kind's own module only: an API group's index loads every kind's validator (slow).
    const models = (await import(`${module}/${t.kind}`)) as Record<string, Model>;
    const Model = models[t.kind];
    if (!Model) throw new Error(`no schema for ${type} in ${module}`);
    try {
        new Model(inputs).validate();
        return [];
    } catch (e) {
        const errors = (e as { errors?: { instancePath: string; message: string }[] }).errors;
        if (!errors) return [String((e as Error).message)];
        // A redacted secret cannot be shape-checked offline; every other error counts.
        return errors.filter((err) => valueAt(inputs, err.instancePath) !== SECRET).map((err) => `${err.instancePath || "/"} ${err.message}`);
    }
}

/** The value at a JSON pointer such as `/spec/template/0`. */
function valueAt(root: unknown, pointer: string): unknown {
    return pointer
        .split("/")
        .slice(1)
        .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
        .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), root);
}

export function kubernetesObjects(plan: Plan): PlanResource[] {
    return plan.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"));
}

export async function checkKubernetesSchemas(plan: Plan): Promise<CheckResult> {
    const findings: string[] = [];
    const checked = new Set<string>();
    const unchecked = new Set<string>();
    for (const r of kubernetesObjects(plan)) {
        const t = parseKubernetesType(r.type);
        if (!t || !modelModule(t.group, t.version)) {
            if (t) unchecked.add(t.kind);
            continue;
        }
        checked.add(t.kind);
        for (const e of await validateObject(r.type, r.inputs)) findings.push(`${r.type} ${r.name}: ${e}`);
    }
    const count = kubernetesObjects(plan).length;
    return {
        name: "Kubernetes schemas",
        severity: "fail",
        findings,
        passed:
            `${count - [...kubernetesObjects(plan)].filter((r) => unchecked.has(parseKubernetesType(r.type)?.kind ?? "")).length} objects valid against kubernetes-models (${[...checked].sort().join(", ")})` +
            (unchecked.size
                ? `; ${[...unchecked].sort().join(", ")} have no published model: CNPG's are checked against their upstream CRDs by the conformance check in CI, the Helm release by rendering the real chart in the tests, Traefik's Middleware by its test`
                : ""),
    };
}
