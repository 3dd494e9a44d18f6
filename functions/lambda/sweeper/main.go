package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"cloudcredits/functions/credits"
	"cloudcredits/functions/lambda/boot"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	ledger, err := boot.SweeperFromEnv(context.Background())
	if err != nil {
		slog.Error("cold start failed", "function", "sweeper", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler(ledger, slog.Default()))
}

// handler runs one sweep per scheduled event and logs its report.
func handler(ledger *credits.Service, logger *slog.Logger) func(context.Context, events.EventBridgeEvent) (credits.SweepReport, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (credits.SweepReport, error) {
		start := time.Now()
		rep, err := ledger.Sweep(ctx)
		attrs := []any{"event_id", ev.ID, "scheduled_at", ev.Time, "report", rep,
			"duration_ms", time.Since(start).Milliseconds()}
		if err != nil {
			// The report says what was done before the failure.
			logger.ErrorContext(ctx, "sweep failed", append(attrs, "error", err.Error())...)
			return rep, fmt.Errorf("sweep: %w", err)
		}
		logger.InfoContext(ctx, "sweep", attrs...)
		return rep, nil
	}
}
