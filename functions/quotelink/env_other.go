//go:build !js

package main

import "os"

// getenv reads the process environment when the Worker runs natively
// (workers.Serve falls back to net/http on $PORT).
func getenv(name string) string { return os.Getenv(name) }
