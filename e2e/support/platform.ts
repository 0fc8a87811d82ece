/**
 * What every suite that runs the whole platform needs beside its cluster: the CRDs of the objects
 * it writes that no operator here brings, and a chart repository for the authentik chart.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import YAML from "yaml";
import { checkedReferencePath, referenceFiles } from "../../tools/reference";

/** The CRDs of REFERENCE_DIR in these groups (its folders: cnpg, external-secrets, prometheus-operator), checked against tools/reference.json. */
export function referenceCrds(groups: string[]): string[] {
    return referenceFiles()
        .filter((r) => groups.some((g) => r.file.startsWith(`${g}/`)))
        .map((r) => checkedReferencePath(r.file));
}

/** The Traefik Middleware CRD is not among the references: a schema-less stand-in for its kind. */
export function traefikMiddlewareCrd(dir: string): string {
    const file = path.join(dir, "traefik-middleware-crd.yaml");
    fs.writeFileSync(
        file,
        YAML.stringify({
            apiVersion: "apiextensions.k8s.io/v1",
            kind: "CustomResourceDefinition",
            metadata: { name: "middlewares.traefik.io" },
            spec: {
                group: "traefik.io",
                scope: "Namespaced",
                names: { kind: "Middleware", listKind: "MiddlewareList", plural: "middlewares", singular: "middleware" },
                versions: [
                    {
                        name: "v1alpha1",
                        served: true,
                        storage: true,
                        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
                    },
                ],
            },
        }),
    );
    return file;
}

/** A chart repository on loopback serving the packaged chart under its version, as charts.goauthentik.io does. */
export async function chartRepository(file: string): Promise<string> {
    const version = /authentik-([\d.]+)\.tgz$/.exec(file)![1];
    const index = YAML.stringify({ apiVersion: "v1", entries: { authentik: [{ name: "authentik", version, urls: [`authentik-${version}.tgz`] }] } });
    const server = http.createServer((req, res) => {
        if (req.url === "/index.yaml") res.end(index);
        else if (req.url === `/authentik-${version}.tgz`) res.end(fs.readFileSync(file));
        else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    server.unref();
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
