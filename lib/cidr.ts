/** CIDR networks as address ranges: how much of the internet a list of networks lets in. Pure. */

export interface Network {
    family: 4 | 6;
    /** First and last address of the range, as integers. */
    first: bigint;
    last: bigint;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function ipv4(text: string): bigint | undefined {
    const parts = text.split(".");
    if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
    return parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n);
}

function ipv6(text: string): bigint | undefined {
    const halves = text.split("::");
    if (halves.length > 2) return undefined;
    const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
    if (!groups.flat().every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
    const given = groups.flat().length;
    if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
    const all = halves.length === 1 ? groups[0] : [...groups[0], ...Array<string>(8 - given).fill("0"), ...groups[1]];
    return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** `10.0.10.0/24` or `fd00::/64`; undefined when it is not a CIDR (a bare address is a /32 or /128). */
export function parseCidr(text: string): Network | undefined {
    const [address, prefixText, ...rest] = text.split("/");
    if (rest.length || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return undefined;
    const family = address.includes(":") ? 6 : 4;
    const start = family === 4 ? ipv4(address) : ipv6(address);
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (start === undefined || prefix > bits) return undefined;
    const size = 1n << BigInt(bits - prefix);
    const first = start - (start % size);
    return { family, first, last: first + size - 1n };
}

/** How many distinct addresses of one family the networks cover together (overlaps counted once). */
export function coveredAddresses(networks: Network[], family: 4 | 6): bigint {
    const ranges = networks.filter((n) => n.family === family).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let total = 0n;
    let end = -1n;
    for (const r of ranges) {
        if (r.last <= end) continue;
        total += r.last - (r.first > end ? r.first : end + 1n) + 1n;
        end = r.last;
    }
    return total;
}
