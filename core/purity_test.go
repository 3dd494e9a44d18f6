//go:build !js

package core_test

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// graphForbidden may never appear anywhere in core's import graph, however
// indirectly: the network, a database, the browser, a process launcher.
var graphForbidden = []string{"net", "net/http", "database/sql", "syscall/js", "os/exec", "os/signal", "plugin"}

// graphForbiddenPrefixes are module trees core must never reach.
var graphForbiddenPrefixes = []string{"github.com/aws/", "modernc.org/", "github.com/stripe/", "github.com/syumai/", "cloudcredits/functions", "cloudcredits/wasm"}

// directForbidden may not be imported by core's own files. The standard
// library's fmt (and shopspring/decimal through it) reaches os and math/rand
// internally, so those two are checked on core's own imports, where an I/O
// call or a hidden source of randomness would come from.
var directForbidden = []string{"os", "io/fs", "io/ioutil", "log", "log/slog", "crypto/rand", "math/rand", "math/rand/v2", "time/tzdata", "runtime/debug", "syscall/js", "syscall", "unsafe"}

// allowedThirdParty is the only module outside the standard library that core
// may depend on.
const allowedThirdParty = "github.com/shopspring/decimal"

// TestCoreImportGraphIsPure asks the go tool for the real import graph, for
// the server and for the browser build.
func TestCoreImportGraphIsPure(t *testing.T) {
	for _, target := range []struct{ goos, goarch string }{{"linux", "amd64"}, {"js", "wasm"}} {
		t.Run(target.goos, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}T {{end}}{{.ImportPath}}", "cloudcredits/core/...")
			cmd.Env = append(cmd.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				pkg, nonStd := strings.CutPrefix(line, "T ")
				for _, f := range graphForbidden {
					// On js/wasm the standard time and syscall packages are
					// built on syscall/js; core's own files are checked for it
					// below instead.
					if pkg == f && !(f == "syscall/js" && target.goos == "js") {
						t.Errorf("core's import graph contains %s", pkg)
					}
				}
				for _, p := range graphForbiddenPrefixes {
					if strings.HasPrefix(pkg, p) {
						t.Errorf("core's import graph contains %s", pkg)
					}
				}
				if nonStd && !strings.HasPrefix(pkg, "cloudcredits/core") && !strings.HasPrefix(pkg, allowedThirdParty) {
					t.Errorf("core depends on %s; only the standard library and %s are allowed", pkg, allowedThirdParty)
				}
			}
		})
	}
}

// TestCoreSourceIsPure checks core's own non-test files: no forbidden direct
// import, no clock read and no float type (money and credits are decimal).
func TestCoreSourceIsPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := filepath.Glob("*/*.go")
	subsub, _ := filepath.Glob("*/*/*.go")
	files = append(append(files, sub...), subsub...)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checked++
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			for _, bad := range directForbidden {
				if path == bad {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
		src, err := readFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"time.Now(", "time.Since(", "time.Until(", "float32", "float64", "time.Sleep("} {
			if strings.Contains(src, bad) {
				t.Errorf("%s uses %s: core takes time as an argument and keeps quantities decimal", name, bad)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no core source files found")
	}
}
