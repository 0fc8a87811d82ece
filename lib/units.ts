/**
 * Units: Kubernetes resource quantities ("3Gi", "500m") and PostgreSQL memory sizes ("768MB").
 * They look alike but are not interchangeable: Kubernetes "2G" is 2e9 bytes and "2GB" is invalid,
 * PostgreSQL "2GB" is 2 GiB. Pure functions.
 */

const K8S_QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;
const K8S_FACTORS: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};

/** The value of a Kubernetes quantity (bytes for memory, cores for cpu), or undefined if malformed. */
export function parseQuantity(text: unknown): number | undefined {
    if (typeof text !== "string") return undefined;
    const m = K8S_QUANTITY.exec(text.trim());
    if (!m) return undefined;
    return Number(m[1]) * K8S_FACTORS[m[2] ?? ""];
}

/** A hint for a malformed memory quantity, e.g. "2GB" → use "2Gi" (binary) or "2G" (decimal). */
export function quantityHint(text: unknown): string {
    const m = typeof text === "string" ? /^(\d+(?:\.\d+)?)\s*([kKMGTPE])i?B$/.exec(text.trim()) : null;
    if (m) return `Kubernetes quantities have no "B": use "${m[1]}${m[2].toUpperCase()}i" (binary) or "${m[1]}${m[2].toUpperCase()}" (decimal)`;
    return `use a Kubernetes quantity such as "512Mi", "3Gi" or "500m"`;
}

const PG_MEMORY = /^(\d+)(kB|MB|GB|TB)$/;
const PG_FACTORS: Record<string, number> = { kB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };

/** Bytes of a PostgreSQL memory setting with an explicit unit ("768MB"), or undefined. */
export function parsePgMemory(text: unknown): number | undefined {
    if (typeof text !== "string") return undefined;
    const m = PG_MEMORY.exec(text.trim());
    return m ? Number(m[1]) * PG_FACTORS[m[2]] : undefined;
}

export const MiB = 2 ** 20;

/** Bytes as a short human string in MiB/GiB, for messages. */
export function formatBytes(bytes: number): string {
    return bytes >= 2 ** 30 && bytes % 2 ** 28 === 0 ? `${bytes / 2 ** 30}Gi` : `${Math.round(bytes / MiB)}Mi`;
}
