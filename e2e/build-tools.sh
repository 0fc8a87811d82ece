#!/usr/bin/env bash
# The real programs `npm run e2e` runs, and the directory to put first on PATH for them (printed on
# stdout; progress goes to stderr). Each program is taken from PATH when the machine has it (a
# laptop with the Pulumi CLI and its plugins, GitHub after pulumi/actions), else built from its
# published Go module, as the Go module proxy serves it, into a cache keyed by the module's go.sum:
#
# - pulumi: the CLI and engine, github.com/pulumi/pulumi/pkg/v3 at @pulumi/pulumi's version
#   (e2e/tools/pulumi), its version stamped so that `pulumi version` prints it and the Automation
#   API's version check passes. The suites run their programs inline through the Automation API,
#   so no Node.js language host is needed.
# - pulumi-resource-kubernetes: the Kubernetes provider, github.com/pulumi/pulumi-kubernetes/provider/v4
#   (e2e/tools/kubernetes: the one version the proxy serves), its schema embedded by the module's
#   own generator and its version stamped with the module's version.
# - etcd and kube-apiserver (e2e/tools/etcd, e2e/tools/kube-apiserver), and kube-controller-manager
#   (e2e/tools/kube-controller-manager, the same Kubernetes release) for a suite that needs its
#   garbage collector.
# - pulumi-resource-pulumi-nodejs: the dynamic-provider host, a two-line shim over the SDK's own
#   entry point (what the CLI distribution ships).
# - external-secrets: the External Secrets Operator's controller, github.com/external-secrets/external-secrets
#   v0.16.2 (e2e/tools/external-secrets; v1.3.2 cannot be built from the proxy: its apis, runtime and
#   providers are nested modules the proxy does not serve), and beside it the CRDs of that same
#   version (external-secrets-crds, copied from the module's config/crds/bases).
# - reloader: stakater Reloader (e2e/tools/reloader), which rolls the Deployments whose Secrets
#   External Secrets changes.
# These two are always built: a controller on PATH would not match the CRDs.
#
# E2E_BUILD=1 builds every program even where PATH has one.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/authentik-platform-tools"
OUT="$TOOLS/e2e-bin"
mkdir -p "$OUT"
log() { echo "e2e tools: $*" >&2; }

# The program <name> from PATH (not from $OUT, which holds this script's own links).
on_path() {
  [ "${E2E_BUILD:-}" = 1 ] && return 1
  local found
  found="$(PATH="$(echo "$PATH" | tr : '\n' | grep -vxF "$OUT" | paste -sd:)" command -v "$1" 2>/dev/null)" || return 1
  echo "$found"
}

# The cache directory of the module in e2e/tools/<tool>: keyed by its go.sum and by this script.
build_dir() { echo "$TOOLS/go-$1-$(cat "e2e/tools/$1/go.sum" "$0" | sha256sum | cut -c1-12)"; }

# The version e2e/tools/<tool>/go.mod requires of <module>.
required() { (cd "e2e/tools/$1" && go list -m -f '{{.Version}}' "$2"); }

# Builds <package> of the module in e2e/tools/<tool> into its cache directory, once; prints the binary.
build() { # <tool> <binary> <package> [go build flags…]
  local tool="$1" binary="$2" package="$3" dir start
  shift 3
  dir="$(build_dir "$tool")"
  if [ ! -x "$dir/$binary" ]; then
    log "building $binary from its Go module (first run: a few minutes)"
    start=$SECONDS
    mkdir -p "$dir"
    (cd "e2e/tools/$tool" && go build -o "$dir/$binary.tmp" "$@" "$package") >&2
    mv "$dir/$binary.tmp" "$dir/$binary"
    log "$binary built in $((SECONDS - start)) s, $(du -m "$dir/$binary" | cut -f1) MB"
  fi
  echo "$dir/$binary"
}

# The Kubernetes provider's command is a main package that embeds schema-embed.json, which its
# generate.go writes from the module's schema.json: both run in a copy of the command beside
# e2e/tools/kubernetes's go.mod.
build_kubernetes() {
  local dir version work start module
  dir="$(build_dir kubernetes)"
  if [ ! -x "$dir/pulumi-resource-kubernetes" ]; then
    module=github.com/pulumi/pulumi-kubernetes/provider/v4
    version="$(required kubernetes "$module")"
    log "building pulumi-resource-kubernetes $version from its Go module (first run: several minutes)"
    start=$SECONDS
    work="$(mktemp -d)"
    cp e2e/tools/kubernetes/go.mod e2e/tools/kubernetes/go.sum "$work/"
    mkdir "$work/cmd"
    (cd e2e/tools/kubernetes && go mod download "$module")
    cp "$(cd e2e/tools/kubernetes && go list -m -f '{{.Dir}}' "$module")"/cmd/pulumi-resource-kubernetes/* "$work/cmd/"
    chmod -R u+w "$work"
    mkdir -p "$dir"
    (cd "$work/cmd" && VERSION="${version#v}" go run generate.go &&
      CGO_ENABLED=0 go build -o "$dir/pulumi-resource-kubernetes.tmp" \
        -ldflags "-X $module/pkg/version.Version=${version#v}" .) >&2
    rm -rf "$work"
    mv "$dir/pulumi-resource-kubernetes.tmp" "$dir/pulumi-resource-kubernetes"
    log "pulumi-resource-kubernetes built in $((SECONDS - start)) s, $(du -m "$dir/pulumi-resource-kubernetes" | cut -f1) MB"
  fi
  echo "$dir/pulumi-resource-kubernetes"
}

# External Secrets' controller, and beside it (crds/) the CRDs of the same module version, once.
build_external_secrets() {
  local binary dir module=github.com/external-secrets/external-secrets
  binary="$(build external-secrets external-secrets .)"
  dir="$(dirname "$binary")"
  if [ ! -d "$dir/crds" ]; then
    rm -rf "$dir/crds.tmp" && mkdir "$dir/crds.tmp"
    cp "$(cd e2e/tools/external-secrets && go list -m -f '{{.Dir}}' "$module")"/config/crds/bases/*.yaml "$dir/crds.tmp/"
    rm -f "$dir/crds.tmp/kustomization.yaml"
    chmod -R u+w "$dir/crds.tmp" && mv "$dir/crds.tmp" "$dir/crds"
  fi
  echo "$binary"
}

# Where a program comes from: PATH, else its build.
provide() { # <binary> <build command…>
  local binary="$1" found
  shift
  if found="$(on_path "$binary")"; then
    log "$binary from PATH: $found"
  else
    found="$("$@")"
  fi
  ln -sfn "$found" "$OUT/$binary"
}

PULUMI_VERSION="$(node -p 'require("./package.json").dependencies["@pulumi/pulumi"]')"
provide pulumi build pulumi pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
provide pulumi-resource-kubernetes build_kubernetes
provide etcd build etcd etcd .
provide kube-apiserver build kube-apiserver kube-apiserver .
provide kube-controller-manager build kube-controller-manager kube-controller-manager .
ESO="$(build_external_secrets)"
ln -sfn "$ESO" "$OUT/external-secrets"
ln -sfn "$(dirname "$ESO")/crds" "$OUT/external-secrets-crds"
ln -sfn "$(build reloader reloader github.com/stakater/Reloader)" "$OUT/reloader"

rm -f "$OUT/pulumi-resource-pulumi-nodejs"
cat > "$OUT/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
# Pulumi's dynamic-provider host: the SDK's own entry point, run by node.
exec node "$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" "$@"
EOF
chmod +x "$OUT/pulumi-resource-pulumi-nodejs"
log "pulumi $("$OUT/pulumi" version)"
echo "$OUT"
