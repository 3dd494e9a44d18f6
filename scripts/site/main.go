// Command site builds the browser's WebAssembly into the static site:
//
//	go run ./scripts/site [-site site] [-o .artifacts/site-wasm-sizes.txt]
//
// It compiles ./wasm for js/wasm (-trimpath, -ldflags "-s -w") into
// <site>/wasm/cloudcredits.wasm, copies the compiler's own wasm_exec.js
// (a different Go version's copy would not match the binary) and
// wasm/loader.js beside it, copies the rate card the module embeds (the
// newest of testdata/ratecards, as ratecard.json: the estimator's form when
// the API can't be reached), and writes cloudcredits.wasm.gz and
// cloudcredits.wasm.br so a server can send the pre-compressed file without
// compressing on every request. It prints the three sizes.
//
// It must never write outside <site>/wasm/ and the sizes report: the folder
// is build output, ignored by git.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"
)

// brotliSizeMax is the size budget of the compressed module (the browser
// downloads it before the first estimate): the build fails above it.
const brotliSizeMax = 1 << 20

func main() {
	site := flag.String("site", "site", "the static site's folder; the module goes to its wasm/ folder")
	report := flag.String("o", "", "also write the sizes to this file")
	flag.Parse()
	if err := build(*site, *report); err != nil {
		fmt.Fprintln(os.Stderr, "site:", err)
		os.Exit(1)
	}
}

func build(site, report string) error {
	out := filepath.Join(site, "wasm")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	wasmPath := filepath.Join(out, "cloudcredits.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", wasmPath, "./wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./wasm: %w", err)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	card, err := newestCard(filepath.Join("testdata", "ratecards"))
	if err != nil {
		return err
	}
	for _, c := range []struct{ from, to string }{
		{card, "ratecard.json"},
		{filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"), "wasm_exec.js"},
		{filepath.Join("wasm", "loader.js"), "loader.js"},
	} {
		b, err := os.ReadFile(c.from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, c.to), b, 0o644); err != nil {
			return err
		}
	}
	raw, err := os.ReadFile(wasmPath)
	if err != nil {
		return err
	}
	gz, err := compress(raw, func(w *bytes.Buffer) (writeCloser, error) { return gzip.NewWriterLevel(w, gzip.BestCompression) })
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	br, err := compress(raw, func(w *bytes.Buffer) (writeCloser, error) {
		return brotli.NewWriterLevel(w, brotli.BestCompression), nil
	})
	if err != nil {
		return fmt.Errorf("brotli: %w", err)
	}
	if err := os.WriteFile(wasmPath+".gz", gz, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(wasmPath+".br", br, 0o644); err != nil {
		return err
	}
	sizes := fmt.Sprintf("cloudcredits.wasm  raw %s  gzip %s  brotli %s\n", human(len(raw)), human(len(gz)), human(len(br)))
	fmt.Print(sizes)
	if report != "" {
		if err := os.MkdirAll(filepath.Dir(report), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(report, []byte(sizes), 0o644); err != nil {
			return err
		}
	}
	if len(br) > brotliSizeMax {
		return errors.New("the brotli module is over its budget of 1 MiB")
	}
	return nil
}

// newestCard is the card of dir with the latest effective_from: the one the
// module answers with today (RFC 3339 UTC times compare as text).
func newestCard(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return "", err
	}
	best, bestFrom := "", ""
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return "", err
		}
		var c struct {
			EffectiveFrom string `json:"effective_from"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return "", fmt.Errorf("%s: %w", n, err)
		}
		if best == "" || c.EffectiveFrom > bestFrom {
			best, bestFrom = n, c.EffectiveFrom
		}
	}
	if best == "" {
		return "", fmt.Errorf("no rate card in %s", dir)
	}
	return best, nil
}

type writeCloser interface {
	Write([]byte) (int, error)
	Close() error
}

func compress(raw []byte, open func(*bytes.Buffer) (writeCloser, error)) ([]byte, error) {
	var buf bytes.Buffer
	w, err := open(&buf)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func human(n int) string { return fmt.Sprintf("%d B (%.2f MiB)", n, float64(n)/(1<<20)) }
