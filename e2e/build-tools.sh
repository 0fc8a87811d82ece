#!/usr/bin/env bash
# Builds the real Pulumi pieces `npm run e2e` runs, from Go modules, into a cache keyed by version
# (reused when present), and prints the directory to put first on PATH. Installers that download
# binaries fail here; the Go module proxy does not.
#
# - pulumi: the CLI and engine, github.com/pulumi/pulumi/pkg/v3 at @pulumi/pulumi's version
#   (e2e/tools/pulumi pins it, with its go.sum).
# - pulumi-language-nodejs: the Node.js language host. Its module is not served by the Go module
#   proxy, so it is built from a pulumi/pulumi git clone (PULUMI_SOURCE) at the SDK's tag if the
#   clone has it, else its newest v3 tag (said on stderr), with the clone's own go.mod pointed at
#   the proxy's pkg/sdk modules of that tag. Nothing of the clone is copied into this repository.
# - pulumi-resource-pulumi-nodejs: the dynamic-provider host, a two-line shim over the SDK's own
#   entry point (what the CLI distribution ships).
# - etcd and kube-apiserver, from their Go modules (e2e/tools/etcd, e2e/tools/kube-apiserver).
# - pulumi-resource-kubernetes: the Kubernetes provider, from a pulumi/pulumi-kubernetes git clone
#   (PULUMI_KUBERNETES_SOURCE), as described where it is built below.
# Progress goes to stderr; stdout is only the directory.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/authentik-platform-tools"
PULUMI_VERSION="$(node -p 'require("./package.json").dependencies["@pulumi/pulumi"]')"
PULUMI_SOURCE="${PULUMI_SOURCE:-/work/.mirror/pulumi+pulumi/repo}"
K8S_VERSION="$(node -p 'require("./package.json").dependencies["@pulumi/kubernetes"]')"
K8S_SOURCE="${PULUMI_KUBERNETES_SOURCE:-/work/.mirror/pulumi+pulumi-kubernetes/repo}"
BIN="$TOOLS/e2e-pulumi-$PULUMI_VERSION-$(cat e2e/tools/*/go.sum e2e/build-tools.sh | sha256sum | cut -c1-12)"
mkdir -p "$BIN"
log() { echo "e2e tools: $*" >&2; }

# The tag of <version> in a git clone, else the clone's newest release tag (said on stderr).
tag_in_clone() { # <clone> <variable naming it> <version> <tag pattern> <what is built from it>
  local clone="$1" variable="$2" version="$3" pattern="$4" what="$5" newest
  if ! git -C "$clone" rev-parse --git-dir >/dev/null 2>&1; then
    log "no git clone at $variable=$clone: $what is not on the Go module proxy at this version, so it is built from a clone; set $variable to one"
    return 1
  fi
  if git -C "$clone" rev-parse -q --verify "refs/tags/v$version" >/dev/null; then
    echo "v$version"
    return
  fi
  newest="$(git -C "$clone" tag --list "$pattern" --sort=-version:refname | grep -v -- - | head -1)"
  log "the clone has no tag v$version: building $what at $newest"
  echo "$newest"
}

if [ ! -x "$BIN/pulumi" ]; then
  log "building the Pulumi CLI $PULUMI_VERSION (first run: a few minutes)"
  start=$SECONDS
  (cd e2e/tools/pulumi && go build -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >&2
  mv "$BIN/pulumi.tmp" "$BIN/pulumi"
  log "pulumi built in $((SECONDS - start)) s, $(du -m "$BIN/pulumi" | cut -f1) MB"
fi

if [ ! -x "$BIN/pulumi-language-nodejs" ]; then
  # (The protocol between the CLI and the language host is stable across these versions.)
  tag="$(tag_in_clone "$PULUMI_SOURCE" PULUMI_SOURCE "$PULUMI_VERSION" 'v3.*' "the Node.js language host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)")"
  work="$(mktemp -d)"
  dir="$work/pulumi-language-nodejs"
  mkdir -p "$dir"
  git -C "$PULUMI_SOURCE" archive "$tag:sdk/nodejs/cmd/pulumi-language-nodejs" | tar -x -C "$dir"
  # Its go.mod points at the clone's own pkg/ and sdk/ directories: use the proxy's modules of the same tag.
  sed -i "s#github.com/pulumi/pulumi/pkg/v3 => ../../../../pkg#github.com/pulumi/pulumi/pkg/v3 => github.com/pulumi/pulumi/pkg/v3 ${tag}#; s#github.com/pulumi/pulumi/sdk/v3 => ../../..#github.com/pulumi/pulumi/sdk/v3 => github.com/pulumi/pulumi/sdk/v3 ${tag}#" "$dir/go.mod"
  start=$SECONDS
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy && go build -o "$BIN/pulumi-language-nodejs" .) >&2
  rm -rf "$work"
  log "pulumi-language-nodejs ($tag) built in $((SECONDS - start)) s, $(du -m "$BIN/pulumi-language-nodejs" | cut -f1) MB"
fi

# etcd and kube-apiserver, from their Go modules (e2e/tools/* pin them, with their go.sum).
for tool in etcd kube-apiserver; do
  if [ ! -x "$BIN/$tool" ]; then
    log "building $tool (first run: a few minutes)"
    start=$SECONDS
    (cd "e2e/tools/$tool" && go build -o "$BIN/$tool.tmp" .) >&2
    mv "$BIN/$tool.tmp" "$BIN/$tool"
    log "$tool built in $((SECONDS - start)) s, $(du -m "$BIN/$tool" | cut -f1) MB"
  fi
done

# The Kubernetes provider. github.com/pulumi/pulumi-kubernetes/provider/v4 is on the Go module
# proxy only as the v4.25.0 commit, so it is built from a pulumi/pulumi-kubernetes clone
# (PULUMI_KUBERNETES_SOURCE) at @pulumi/kubernetes's tag if the clone has it, else its newest v4 tag
# (said on stderr). The provider embeds its schema.json, a generated file: it is generated again
# with the provider's own generator from Kubernetes' OpenAPI spec (k8s.io/kubernetes's module on the
# proxy, at the KUBE_VERSION of the tag's Makefile), which reproduces the committed file byte for
# byte (checked below against the blob id the tag records). Modules the proxy refuses are swapped
# for the nearest ones it serves, each said below.
if [ ! -x "$BIN/pulumi-resource-kubernetes" ]; then
  tag="$(tag_in_clone "$K8S_SOURCE" PULUMI_KUBERNETES_SOURCE "$K8S_VERSION" 'v4.*' "the Kubernetes provider (github.com/pulumi/pulumi-kubernetes/provider/v4)")"
  start=$SECONDS
  work="$(mktemp -d)"
  schema=provider/cmd/pulumi-resource-kubernetes/schema.json
  terraform=provider/cmd/pulumi-gen-kubernetes/terraform.json
  # Every file of the tag but the two large generated ones (a partial clone may lack their blobs,
  # and git says so even for paths it leaves out).
  git -C "$K8S_SOURCE" archive "$tag" -- provider ":!$schema" ":!$terraform" 2> >(grep -v "^error: invalid object" >&2) | tar -x -C "$work"
  cd "$work/provider"
  export GOFLAGS=-mod=mod
  # The SDK module the provider imports: the proxy's, at the same tag (not the clone's ../sdk).
  go mod edit -replace "github.com/pulumi/pulumi-kubernetes/sdk/v4=github.com/pulumi/pulumi-kubernetes/sdk/v4@$tag"
  # Not served by the proxy: the exact pseudo-version of fluxcd/pkg/ssa (its next release instead),
  # pulumi/pkg v3.243.0 (v3.245.0, the next one served) and the .NET code generator (only the
  # generator's dotnet command uses it; that command is cut out).
  [ "$tag" = v4.32.0 ] && go mod edit \
    -require=github.com/fluxcd/pkg/ssa@v0.72.0 \
    -require=github.com/pulumi/pulumi/pkg/v3@v3.245.0 -require=github.com/pulumi/pulumi/sdk/v3@v3.245.0 \
    -droprequire=github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3
  gen=cmd/pulumi-gen-kubernetes/main.go
  awk '/^func writeDotnetClient\(/ { print; print "\tpanic(\"not built: the .NET code generator\")"; skip = 1; next }
       skip && /^}/ { skip = 0 } !skip' "$gen" > "$gen.tmp" && mv "$gen.tmp" "$gen"
  sed -i '/pulumi-language-dotnet\/v3\/codegen"/d' "$gen"
  (CGO_ENABLED=0 go build -o "$work/pulumi-gen-kubernetes" ./cmd/pulumi-gen-kubernetes) >&2
  # The spec of the tag's Kubernetes version, and the older ones the generator merges in.
  kube_version="$(sed -n 's/^KUBE_VERSION *?= *//p' <(git -C "$K8S_SOURCE" show "$tag:Makefile"))"
  mkdir -p "$work/specs"
  proxy="$(go env GOPROXY | cut -d, -f1)"
  for v in "$kube_version" v1.17.0 v1.18.0 v1.19.0 v1.20.0 v1.26.0 v1.28.0 v1.30.0 v1.31.0; do
    curl -fsS -o "$work/k8s.zip" "$proxy/k8s.io/kubernetes/@v/$v.zip"
    unzip -p "$work/k8s.zip" "k8s.io/kubernetes@$v/api/openapi-spec/swagger.json" > "$work/specs/swagger-$v.json"
  done
  rm -f "$work/k8s.zip"
  echo '{}' > "$work/$terraform" # feeds only terraform-mapping.json, which the tag has: kept as is
  cp cmd/pulumi-resource-kubernetes/terraform-mapping.json "$work/terraform-mapping.json"
  "$work/pulumi-gen-kubernetes" schema "$work/specs/swagger-$kube_version.json" "$work" >&2
  mv "$work/terraform-mapping.json" cmd/pulumi-resource-kubernetes/terraform-mapping.json
  want="$(git -C "$K8S_SOURCE" rev-parse "$tag:$schema")"
  got="$(git hash-object "$work/$schema")"
  [ "$want" = "$got" ] || { log "the regenerated $schema is not the tag's ($got, want $want)"; exit 1; }
  (cd cmd/pulumi-resource-kubernetes && VERSION="${tag#v}" go run ./generate.go) >&2
  (CGO_ENABLED=0 go build -o "$BIN/pulumi-resource-kubernetes.tmp" \
    -ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${tag#v}" \
    ./cmd/pulumi-resource-kubernetes) >&2
  cd - >/dev/null
  rm -rf "$work"
  mv "$BIN/pulumi-resource-kubernetes.tmp" "$BIN/pulumi-resource-kubernetes"
  echo "${tag#v}" > "$BIN/pulumi-resource-kubernetes.version"
  log "pulumi-resource-kubernetes ($tag, schema identical to the tag's) built in $((SECONDS - start)) s, $(du -m "$BIN/pulumi-resource-kubernetes" | cut -f1) MB"
fi

cat > "$BIN/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
# Pulumi's dynamic-provider host: the SDK's own entry point, run by node.
exec node "$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" "$@"
EOF
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"
echo "$BIN"
