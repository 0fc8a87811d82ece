/**
 * The stack config outside this project's namespace that the program relies on: the Kubernetes
 * context every object is deployed to (an explicit provider, so a typo can never reach whatever
 * context happens to be current) and the 1Password provider's credentials in provider mode.
 * Pure: takes the raw config map, the secret keys and the environment.
 */
import { IssueLog, closest } from "./schema";

/** What the explicit Kubernetes provider is built from. */
export interface KubernetesTarget {
    /** The kubeconfig context to deploy to (required). */
    context: string;
    /** Whether `kubernetes:kubeconfig` is set (read as a secret at run time). */
    kubeconfig: boolean;
}

/** `kubernetes:` keys the program's explicit provider reads; any other is a typo. */
export const KUBERNETES_KEYS = ["context", "kubeconfig"] as const;

export function parseKubernetes(raw: Record<string, string>, log: IssueLog): KubernetesTarget {
    for (const fullKey of Object.keys(raw).filter((k) => k.startsWith("kubernetes:"))) {
        const name = fullKey.slice("kubernetes:".length);
        if (!(KUBERNETES_KEYS as readonly string[]).includes(name)) {
            const hint = closest(name, [...KUBERNETES_KEYS]);
            log.add(
                fullKey,
                raw[fullKey],
                "is not read by this program's Kubernetes provider",
                hint
                    ? `did you mean kubernetes:${hint}? (pulumi config rm ${fullKey})`
                    : `use one of ${KUBERNETES_KEYS.map((k) => `kubernetes:${k}`).join(", ")}`,
            );
        }
    }
    const context = raw["kubernetes:context"];
    if (!context) {
        log.add(
            "kubernetes:context",
            undefined,
            "is required: every object is deployed to the kubeconfig context named here, never to whichever context is current",
            "pulumi config set kubernetes:context <context> (kubectl config get-contexts lists them; CI's kubeconfig must hold the same context)",
        );
    }
    return { context: context ?? "", kubeconfig: "kubernetes:kubeconfig" in raw };
}

/** The 1Password provider needs Connect (url + token) or a service account, from config or the environment. */
export function checkOnePasswordProvider(raw: Record<string, string>, env: Record<string, string | undefined>, log: IssueLog): void {
    const has = (key: string, envName: string) => !!raw[`onepassword:${key}`] || !!env[envName];
    const connect = has("url", "OP_CONNECT_HOST") && has("token", "OP_CONNECT_TOKEN");
    const serviceAccount = has("serviceAccountToken", "OP_SERVICE_ACCOUNT_TOKEN");
    if (!connect && !serviceAccount) {
        log.add(
            "onepassword:serviceAccountToken",
            undefined,
            "is missing, and so is 1Password Connect (onepassword:url + onepassword:token): onepassword.mode provider cannot read any item",
            "pulumi config set --secret onepassword:serviceAccountToken <token> (needs the op CLI), or set onepassword:url and pulumi config set --secret onepassword:token <token> (or OP_SERVICE_ACCOUNT_TOKEN / OP_CONNECT_HOST + OP_CONNECT_TOKEN in the environment)",
        );
    }
}
