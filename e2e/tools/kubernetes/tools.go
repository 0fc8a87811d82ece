//go:build tools

// The Kubernetes provider's module as the Go module proxy serves it. e2e/build-tools.sh builds its
// cmd/pulumi-resource-kubernetes (a main package, so it cannot be imported here) against these
// requirements; the imports below keep them tidy: the provider, its version stamp, and the schema
// package its embed generator uses.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	_ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)
