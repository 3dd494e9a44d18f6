//go:build !js

package main

import (
	"fmt"
	"os"
)

// main outside the browser only says how to build the real thing.
func main() {
	fmt.Fprintln(os.Stderr, "this program runs in the browser: build it with GOOS=js GOARCH=wasm")
	os.Exit(2)
}
