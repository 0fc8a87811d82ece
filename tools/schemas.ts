/**
 * Validates every Kubernetes object in a plan against published schemas: `kubernetes-models` for
 * built-in kinds, `@kubernetes-models/*` for Prometheus Operator and External Secrets CRDs. CNPG
 * objects are checked against the upstream CRDs by ../shared/tools/conformance.mjs (see README).
 */
import { Plan, PlanResource, SECRET } from "./harness";
import type { CheckResult } from "./checks";

/** Where each API group's models live (packages are ESM; loaded with dynamic import). */
function modelModule(group: string, version: string): string | undefined {
    if (group === "core") return `kubernetes-models/${version}`;
    if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}`;
    if (group === "external-secrets.io") return `@kubernetes-models/external-secrets/${group}/${version}`;
    if (group === "postgresql.cnpg.io" || group === "helm.sh") return undefined; // checked elsewhere
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
        return errors
            .filter((err) => valueAt(inputs, err.instancePath) !== SECRET)
            .map((err) => `${err.instancePath || "/"} ${err.message}`);
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
    let validated = 0;
    for (const r of kubernetesObjects(plan)) {
        const t = parseKubernetesType(r.type);
        if (!t || !modelModule(t.group, t.version)) continue;
        validated++;
        for (const e of await validateObject(r.type, r.inputs)) findings.push(`${r.type} ${r.name}: ${e}`);
    }
    return {
        name: "Kubernetes schemas",
        severity: "fail",
        findings,
        passed: `${validated} objects valid against kubernetes-models (CNPG: run ../shared/tools/conformance.mjs)`,
    };
}
