// Renders ExternalSecret templates the way External Secrets Operator's template engine v2 does:
// Go text/template with sprig's functions. Reads {"templates": {key: template}, "data": {name:
// value}} as JSON on stdin and writes {key: rendered} as JSON. A test helper, built by .ci/run.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

func main() {
	var input struct {
		Templates map[string]string `json:"templates"`
		Data      map[string]string `json:"data"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&input); err != nil {
		fail(err)
	}
	out := map[string]string{}
	for key, text := range input.Templates {
		t, err := template.New(key).Funcs(sprig.TxtFuncMap()).Option("missingkey=error").Parse(text)
		if err != nil {
			fail(fmt.Errorf("%s: %w", key, err))
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, input.Data); err != nil {
			fail(fmt.Errorf("%s: %w", key, err))
		}
		out[key] = buf.String()
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
