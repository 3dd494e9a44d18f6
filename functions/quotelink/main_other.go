//go:build !js

package main

import (
	"os"
	"time"

	"github.com/syumai/workers"
)

// main outside js/wasm serves the pages with net/http on $PORT (9900 by
// default), through workers.Serve's fallback: a local run of the Worker's
// own handler without workerd.
func main() {
	h, err := NewHandler(configFrom(os.Getenv), time.Now)
	if err != nil {
		workers.Serve(NotConfigured(err))
		return
	}
	workers.Serve(h)
}
