/**
 * The authentik chart checked before it is installed: the package the repository serves for the
 * pinned version must have the recorded digest (values and templates, lib/chart.ts), or
 * the up stops before Helm runs. A dynamic resource, so the check runs at deploy time, once per
 * version and digest (the offline plan only shows it); the release depends on it.
 */
import type * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { chartDigest } from "../../lib/chart";

/** Bump when this provider's behaviour changes. */
export const PROVENANCE_ENGINE_VERSION = "1";

export interface ProvenanceInputs {
    /** The chart repository (an index.yaml beside the packages). */
    repo: string;
    chart: string;
    version: string;
    /** The digest the package must have (authentik.chartDigest or the recorded one). */
    digest: string;
    engineVersion: string;
}

async function get(url: string): Promise<Buffer> {
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
}

/** The package URL of `chart` `version` in the repository's index (a relative URL is relative to the repository). */
export function packageUrl(index: string, repo: string, chart: string, version: string): string {
    const entries = (YAML.parse(index) as { entries?: Record<string, { version: string; urls?: string[] }[]> })?.entries?.[chart] ?? [];
    const url = entries.find((e) => e.version === version)?.urls?.[0];
    if (!url) throw new Error(`${repo} serves no ${chart} chart ${version}`);
    return new URL(url, repo.endsWith("/") ? repo : `${repo}/`).toString();
}

/** Fetches the package and compares its digest; throws naming both when they differ. */
export async function checkChart(i: ProvenanceInputs): Promise<{ url: string }> {
    const url = packageUrl((await get(`${i.repo.replace(/\/$/, "")}/index.yaml`)).toString("utf8"), i.repo, i.chart, i.version);
    const got = chartDigest(await get(url), i.chart);
    if (got !== i.digest) {
        throw new Error(
            `the ${i.chart} chart ${i.version} at ${url} is not the one recorded: its values and templates digest to ${got}, not ${i.digest}. Nothing was installed. If the repository republished it on purpose, review the change and set authentik.chartDigest`,
        );
    }
    return { url };
}

export const chartProvenanceProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: ProvenanceInputs, news: ProvenanceInputs) {
        return { inputs: news, failures: [] };
    },
    async diff(_id: string, olds: ProvenanceInputs, news: ProvenanceInputs) {
        const changed = (["repo", "chart", "version", "digest", "engineVersion"] as const).filter((k) => olds[k] !== news[k]);
        return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: ProvenanceInputs) {
        return { id: `${inputs.chart}-${inputs.version}`, outs: { ...inputs, ...(await checkChart(inputs)) } };
    },
    async update(_id: string, _olds: ProvenanceInputs, news: ProvenanceInputs) {
        return { outs: { ...news, ...(await checkChart(news)) } };
    },
    async read(id: string, props: ProvenanceInputs) {
        return { id, props };
    },
    async delete() {},
};
