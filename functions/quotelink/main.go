package main

import (
	"time"

	"github.com/syumai/workers"
)

func main() {
	h, err := NewHandler(configFrom(getenv), time.Now)
	if err != nil {
		workers.Serve(NotConfigured(err))
		return
	}
	workers.Serve(h)
}
