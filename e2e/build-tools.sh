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
# Progress goes to stderr; stdout is only the directory.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/authentik-platform-tools"
PULUMI_VERSION="$(node -p 'require("./package.json").dependencies["@pulumi/pulumi"]')"
PULUMI_SOURCE="${PULUMI_SOURCE:-/work/.mirror/pulumi+pulumi/repo}"
BIN="$TOOLS/e2e-pulumi-$PULUMI_VERSION-$(sha256sum e2e/tools/pulumi/go.sum e2e/build-tools.sh | sha256sum | cut -c1-12)"
mkdir -p "$BIN"
log() { echo "e2e tools: $*" >&2; }

if [ ! -x "$BIN/pulumi" ]; then
  log "building the Pulumi CLI $PULUMI_VERSION (first run: a few minutes)"
  start=$SECONDS
  (cd e2e/tools/pulumi && go build -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >&2
  mv "$BIN/pulumi.tmp" "$BIN/pulumi"
  log "pulumi built in $((SECONDS - start)) s, $(du -m "$BIN/pulumi" | cut -f1) MB"
fi

if [ ! -x "$BIN/pulumi-language-nodejs" ]; then
  if ! git -C "$PULUMI_SOURCE" rev-parse --git-dir >/dev/null 2>&1; then
    log "no pulumi/pulumi clone at PULUMI_SOURCE=$PULUMI_SOURCE: the Node.js language host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not on the Go module proxy, so it is built from a clone; set PULUMI_SOURCE to one"
    exit 1
  fi
  tag="v$PULUMI_VERSION"
  if ! git -C "$PULUMI_SOURCE" rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
    tag="$(git -C "$PULUMI_SOURCE" tag --list 'v3.*' --sort=-version:refname | head -1)"
    log "the clone has no tag v$PULUMI_VERSION: building the language host at $tag (the protocol between CLI and language host is stable across these versions)"
  fi
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

cat > "$BIN/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
# Pulumi's dynamic-provider host: the SDK's own entry point, run by node.
exec node "$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")" "$@"
EOF
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"
echo "$BIN"
