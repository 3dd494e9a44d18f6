// Command local runs the whole Cloud Credits system as one process on this
// machine: the API and the site, on 127.0.0.1, with the embedded sample rate
// card and price books. `make run` starts it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"cloudcredits/functions/api"
	"cloudcredits/functions/sampledata"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cloudcredits:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	data := flag.String("data", ".data", "folder for local data (database, keys); extra rate cards and price books may be dropped into its ratecards/ and pricebooks/")
	site := flag.String("site", "site", "folder of the static site")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)

	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	rc, pc, err := sampledata.Catalogs(*data)
	if err != nil {
		return err
	}
	h, err := api.New(api.Config{Rates: rc, Prices: pc, Logger: logger})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", h)
	mux.Handle("/healthz", h)
	mux.Handle("/", http.FileServer(http.Dir(*site)))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}

	base := "http://" + ln.Addr().String()
	abs, _ := filepath.Abs(*data)
	fmt.Printf("\nCloud Credits is running (local data in %s)\n\n", abs)
	fmt.Printf("  site        %s/\n", base)
	fmt.Printf("  health      %s/healthz\n", base)
	fmt.Printf("  rate card   %s/v1/ratecard\n", base)
	fmt.Printf("  estimate    curl -s %s/v1/estimates -d '{\"service\":\"infraworks-profile-optimization\",\"params\":{\"road_km\":\"12\"}}'\n", base)
	fmt.Printf("  price       curl -s %s/v1/prices -d '{\"currency\":\"cloud\",\"credits\":\"5000\",\"channel\":\"reseller\"}'\n\n", base)
	fmt.Println("Press Ctrl-C to stop.")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger.Info("shutting down")
	return srv.Shutdown(shutdown)
}
