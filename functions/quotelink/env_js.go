package main

import "github.com/syumai/workers/cloudflare"

// getenv reads the Worker's vars. The Worker starts a Go instance per
// request, inside that request's context, so the vars are there from main on.
func getenv(name string) string { return cloudflare.Getenv(name) }
