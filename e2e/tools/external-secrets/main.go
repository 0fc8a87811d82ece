// The External Secrets Operator's controller, as its own main.go builds it: the module's
// cmd/controller with every provider registered (1Password Connect among them).
package main

import "github.com/external-secrets/external-secrets/cmd/controller"

func main() { controller.Execute() }
