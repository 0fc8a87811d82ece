/**
 * Runs the real program (index.ts) under Pulumi's own mocks (`pulumi.runtime.setMocks`, real SDK)
 * and records every resource registration exactly as the engine would receive it: type, name,
 * parent, all dependencies (explicit and implied by inputs), protect, retainOnDelete, import id and
 * fully resolved inputs. Secret values come out as "[secret]".
 *
 * Mocked values are recognisable placeholders (`plan-secret-…`), so a scan of the plan for that
 * prefix proves no secret leaked into any input or output in plain text.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";

/** Every mocked secret value starts with this; it must never appear in a plan. */
export const SECRET_PLACEHOLDER_PREFIX = "plan-secret-";
export const SECRET = "[secret]";

export interface PlanResource {
    urn: string;
    type: string;
    name: string;
    parent: string | null;
    dependsOn: string[];
    protect: boolean;
    retainOnDelete: boolean;
    import: string | null;
    /** Engine URNs this resource had before (Pulumi aliases: a renamed app's objects), else []. */
    aliases: string[];
    /** URN of the explicit provider it is registered with, or null for the default provider. */
    provider: string | null;
    inputs: Record<string, unknown>;
}

export interface Plan {
    project: string;
    stack: string;
    resources: PlanResource[];
    outputs: Record<string, unknown>;
}

export interface RunOptions {
    project: string;
    stack: string;
    /** Pulumi's flat config map, `project:key` → string (structured values as JSON). */
    config: Record<string, string>;
    /** Full keys whose values are secret. */
    secretKeys: string[];
    /** Answers for provider functions (invokes), by token. */
    invoke?: (token: string, inputs: Record<string, unknown>) => Record<string, unknown>;
}

// Pulumi's wire-format signatures (sdk/nodejs/runtime/rpc.ts).
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Replaces secrets by "[secret]" and resource references by their URN; drops serialized code. */
export function scrub(value: unknown): unknown {
    if (value === UNKNOWN) return "[unknown]";
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o[SIG] === SECRET_SIG) return SECRET;
        if (o[SIG] === RESOURCE_SIG) return o.urn;
        return Object.fromEntries(
            Object.entries(o)
                .filter(([k]) => k !== "__provider") // dynamic providers' serialized code
                .map(([k, v]) => [k, scrub(v)]),
        );
    }
    return value;
}

/** Computed outputs a real provider would return, so the program's applies resolve. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (type.startsWith("pulumi-nodejs:dynamic/authentik:")) {
        // What authentik would answer: a pk, an application uuid, an OAuth2 client id.
        const spec = (inputs.spec ?? {}) as Record<string, unknown>;
        return { ...inputs, pk: `${name}-pk`, uuid: `${name}-uuid`, clientId: spec.clientId };
    }
    switch (type) {
        case "pulumi-nodejs:dynamic/secrets:RolloutKey":
            return { ...inputs, key: `${SECRET_PLACEHOLDER_PREFIX}${name}` };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: `${SECRET_PLACEHOLDER_PREFIX}${name}` };
        case "kubernetes:helm.sh/v3:Release":
            return { ...inputs, status: { status: "deployed", namespace: inputs.namespace, name: inputs.name } };
        default:
            return inputs;
    }
}

interface MonitorLike {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp?: unknown) => void): unknown;
    registerResourceOutputs(req: OutputsRequest, callback: (err: unknown, resp?: unknown) => void): unknown;
}
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getProtect(): boolean;
    getRetainondelete(): boolean;
    getImportid(): string;
    getAliasesList(): WireAlias[];
    getProvider(): string;
    getObject(): WireStruct;
}
/** pulumi/proto alias_pb.Alias: a URN, or a spec relative to the resource. */
interface WireAlias {
    hasUrn(): boolean;
    getUrn(): string;
    getSpec():
        { getName(): string; getType(): string; hasParenturn(): boolean; getParenturn(): string; hasNoparent(): boolean; getNoparent(): boolean } | undefined;
}
interface OutputsRequest {
    getUrn(): string;
    getOutputs(): WireStruct | undefined;
}
interface WireStruct {
    toJavaScript(): Record<string, unknown>;
}

/**
 * The URN the engine gives a resource: its type qualified by every ancestor's type except the root
 * stack's (`Parent$Child$Type`). `parentUrn` is the parent's engine URN.
 */
export function engineUrn(stack: string, project: string, parentUrn: string | null, type: string, name: string): string {
    const parentType = parentUrn?.split("::")[2];
    const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The URN Pulumi's MockMonitor hands out (immediate parent type only); the runtime uses these. */
function mockUrn(stack: string, project: string, parent: string, type: string, name: string): string {
    const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/**
 * Runs index.ts once under mocks and returns the plan. One run at a time per process (Pulumi's
 * runtime is process-global); each run starts from fresh mocks and config.
 */
export async function runProgram(options: RunOptions): Promise<Plan> {
    const registered: PlanResource[] = [];
    const outputsByUrn = new Map<string, unknown>();

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) }),
            call: (args) => options.invoke?.(args.token, args.inputs) ?? {},
        },
        options.project,
        options.stack,
        false,
    );
    const monitor = settings.getMonitor() as unknown as MonitorLike;
    const register = monitor.registerResource.bind(monitor);
    // Mock URNs (what the runtime sees) → engine URNs (what the plan reports).
    const toEngine = new Map<string, string>();
    const { project, stack } = options;
    monitor.registerResource = (req, callback) => {
        const parent = req.getParent() ? (toEngine.get(req.getParent()) ?? req.getParent()) : null;
        const urn = engineUrn(stack, project, parent, req.getType(), req.getName());
        toEngine.set(mockUrn(stack, project, req.getParent(), req.getType(), req.getName()), urn);
        registered.push({
            urn,
            type: req.getType(),
            name: req.getName(),
            parent,
            dependsOn: [...new Set(req.getDependenciesList().map((d) => toEngine.get(d) ?? d))].sort(),
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
            import: req.getImportid() || null,
            aliases: req.getAliasesList().map((a) => {
                if (a.hasUrn()) return a.getUrn();
                const spec = a.getSpec()!;
                const aliasParent =
                    spec.hasNoparent() && spec.getNoparent() ? null : spec.hasParenturn() ? (toEngine.get(spec.getParenturn()) ?? spec.getParenturn()) : parent;
                return engineUrn(stack, project, aliasParent, spec.getType() || req.getType(), spec.getName() || req.getName());
            }),
            // A provider reference is `<urn>::<id>`.
            provider: req.getProvider()
                ? (toEngine.get(req.getProvider().split("::").slice(0, -1).join("::")) ?? req.getProvider().split("::").slice(0, -1).join("::"))
                : null,
            // The wire form keeps secret and resource-reference markers, which scrub() rewrites.
            inputs: scrub(req.getObject().toJavaScript()) as Record<string, unknown>,
        });
        return register(req, callback);
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        outputsByUrn.set(toEngine.get(req.getUrn()) ?? req.getUrn(), scrub(req.getOutputs()?.toJavaScript() ?? {}));
        return registerOutputs(req, callback);
    };

    pulumi.runtime.setAllConfig(options.config, options.secretKeys);
    const entry = require.resolve(path.join(__dirname, "..", "index"));
    delete require.cache[entry];
    // The program's own error (e.g. an invalid config) is caught here and rethrown once the stack has
    // settled; letting it escape the stack's init leaves a dangling rejection inside the SDK.
    let programError: unknown;
    await pulumi.runtime.runInPulumiStack(async () => {
        try {
            // A fresh require runs index.ts again (its cache entry was dropped above).
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            return require(entry);
        } catch (e) {
            programError = e;
            return {};
        }
    });
    await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    if (programError) throw programError;

    const stackUrn = engineUrn(stack, project, null, "pulumi:pulumi:Stack", `${project}-${stack}`);
    return {
        project: options.project,
        stack: options.stack,
        resources: registered,
        outputs: (outputsByUrn.get(stackUrn) as Record<string, unknown>) ?? {},
    };
}
