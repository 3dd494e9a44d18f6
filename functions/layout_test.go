//go:build !js

// Package functions_test keeps the shell's layout: one direction of travel
// from the HTTP layer to the service to a store adapter, and none back.
// core's own purity (no I/O, no clock) is kept by core/purity_test.go.
package functions_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "cloudcredits/"

// adapters are the store adapters and the conformance suite that drives them.
var adapters = []string{
	"cloudcredits/functions/credits/sqlite",
	"cloudcredits/functions/credits/dynamo",
	"cloudcredits/functions/credits/storetest",
}

// deps returns the module's packages in pkg's import graph (tests excluded).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	var own []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, module) && p != pkg {
			own = append(own, p)
		}
	}
	return own
}

func TestLayout(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string // import path prefixes
		why       string
	}{
		{"cloudcredits/functions/api", adapters,
			"the API talks to the ledger service only; the service owns the store"},
		{"cloudcredits/functions/credits", adapters,
			"the service depends on the port (core/ledger.Store), never on an adapter"},
		{"cloudcredits/functions/credits/sqlite", []string{"cloudcredits/functions/credits", "cloudcredits/functions/api"},
			"an adapter serves the port; it never reaches back up to the service or the API"},
		{"cloudcredits/functions/credits/dynamo", []string{"cloudcredits/functions/credits", "cloudcredits/functions/api"},
			"an adapter serves the port; it never reaches back up to the service or the API"},
		{"cloudcredits/core/...", []string{"cloudcredits/functions", "cloudcredits/wasm"},
			"the core is the domain: the shell depends on it, never the reverse"},
	}
	for _, rule := range rules {
		pkgs := []string{rule.pkg}
		if strings.HasSuffix(rule.pkg, "/...") {
			out, err := exec.Command("go", "list", rule.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list %s: %v\n%s", rule.pkg, err, out)
			}
			pkgs = strings.Fields(string(out))
		}
		for _, pkg := range pkgs {
			for _, dep := range deps(t, pkg) {
				for _, f := range rule.forbidden {
					// An adapter is inside credits/: forbidding the service
					// means the package itself, not its subfolders.
					hit := dep == f || (strings.HasPrefix(dep, f+"/") && !strings.HasPrefix(f, "cloudcredits/functions/credits"))
					if hit {
						t.Errorf("%s imports %s: %s", pkg, dep, rule.why)
					}
				}
			}
		}
	}
}

// TestAPIHoldsNoStore: the HTTP layer never names the storage port, so every
// read a handler needs is a method of the ledger service.
func TestAPIHoldsNoStore(t *testing.T) {
	files, err := filepath.Glob("api/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no api sources found (%v)", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Store" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "ledger" {
					t.Errorf("%s: the API names ledger.Store; read through the ledger service instead", fset.Position(sel.Pos()))
				}
			}
			return true
		})
	}
}
