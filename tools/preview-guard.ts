/**
 * `npm run guard -- preview.json`: fails when a preview would delete or replace a stateful resource
 * (policy/rules.ts statefulOf), whether or not it is still protected: `pulumi state unprotect` and a
 * branch that edits the policy pack cannot get a database deleted past it. Policy packs see only the
 * desired state, never a deletion, so this reads the preview itself: `pulumi preview --json`.
 *
 * Exit 0: nothing stateful goes; 1: something would (each named); 2: not a preview.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { statefulOf } from "../policy/rules";

/** A step as the guard reads it: the operation, and the state it would replace or delete. */
export interface GuardStep {
    op: string;
    urn: string;
    old?: { type: string; inputs: Record<string, unknown> };
}

/** The operations that lose the old object (Pulumi's step ops: engine/steps.go). */
export const DESTRUCTIVE_OPS = ["delete", "replace", "create-replacement", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"];

/** The destructive steps of stateful resources, one line each. */
export function destructiveStatefulSteps(steps: GuardStep[]): string[] {
    const known = steps.filter((s) => s.old).map((s) => ({ type: s.old!.type, urn: s.urn, props: s.old!.inputs ?? {}, op: s.op }));
    const stateful = new Set(statefulOf(known).map((s) => s.urn));
    const seen = new Set<string>();
    const out: string[] = [];
    for (const s of steps) {
        if (!DESTRUCTIVE_OPS.includes(s.op) || !stateful.has(s.urn) || seen.has(s.urn)) continue;
        seen.add(s.urn);
        out.push(
            `${s.op}: ${s.old!.type} ${s.urn.split("::").pop()} (${s.urn}) holds data; restore its config, move it with an alias, or take it out of the stack deliberately (docs: Data safety)`,
        );
    }
    return out;
}

/** The steps of `pulumi preview --json`: `{ steps: [{ op, urn, oldState: { type, inputs } }] }`. */
export function stepsOfPreview(text: string): GuardStep[] {
    const parsed = JSON.parse(text) as { steps?: unknown };
    if (!parsed || !Array.isArray(parsed.steps)) throw new Error("not the output of pulumi preview --json (no steps)");
    return parsed.steps.map((raw) => {
        const s = raw as { op: string; urn: string; oldState?: { type: string; inputs?: Record<string, unknown> } };
        return { op: s.op, urn: s.urn, old: s.oldState ? { type: s.oldState.type, inputs: s.oldState.inputs ?? {} } : undefined };
    });
}

export function main(argv: string[]): number {
    const [file] = argv;
    if (!file || argv.length !== 1) {
        console.error("usage: npm run guard -- PREVIEW.json   (pulumi preview --json > PREVIEW.json)");
        return 2;
    }
    let steps: GuardStep[];
    try {
        // Relative to where the user ran npm (npm runs scripts in the project root).
        steps = stepsOfPreview(fs.readFileSync(path.resolve(process.env.INIT_CWD ?? process.cwd(), file), "utf8"));
    } catch (e) {
        console.error(`${file}: ${(e as Error).message}`);
        return 2;
    }
    const findings = destructiveStatefulSteps(steps);
    if (findings.length === 0) {
        console.log(`guard ok: ${steps.length} steps, no stateful resource deleted or replaced`);
        return 0;
    }
    console.error(`guard FAILED: this preview deletes or replaces what holds data:\n${findings.map((f) => `  ${f}`).join("\n")}`);
    return 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
