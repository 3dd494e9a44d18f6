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

// Tasks an invocation names. The one-minute schedule delivers the plain
// EventBridge event (no task: the sweep); the hourly one sets its input to
// {"task": "alerts"}.
const (
	TaskSweep  = "sweep"
	TaskAlerts = "alerts"
)

// Invocation is what a schedule delivers: the EventBridge scheduled event,
// or the constant input a schedule sets instead ({"task": …}).
type Invocation struct {
	events.EventBridgeEvent
	Task string `json:"task"`
}

// handler runs the named task once per invocation and logs its report as
// one JSON line: the sweep (credits.Service.Sweep) or the alert check
// (credits.Service.SweepAlerts). An unknown task is an error, not a sweep.
func handler(ledger *credits.Service, logger *slog.Logger) func(context.Context, Invocation) (any, error) {
	return func(ctx context.Context, in Invocation) (any, error) {
		start := time.Now()
		var (
			rep any
			err error
		)
		task := in.Task
		switch task {
		case "", TaskSweep:
			task = TaskSweep
			rep, err = ledger.Sweep(ctx)
		case TaskAlerts:
			rep, err = ledger.SweepAlerts(ctx)
		default:
			logger.ErrorContext(ctx, "unknown task", "task", in.Task, "event_id", in.ID)
			return nil, fmt.Errorf("unknown task %q: want %q or %q", in.Task, TaskSweep, TaskAlerts)
		}
		attrs := []any{"task", task, "event_id", in.ID, "scheduled_at", in.Time, "report", rep,
			"duration_ms", time.Since(start).Milliseconds()}
		if err != nil {
			// The report says what was done before the failure.
			logger.ErrorContext(ctx, task+" failed", append(attrs, "error", err.Error())...)
			return rep, fmt.Errorf("%s: %w", task, err)
		}
		logger.InfoContext(ctx, task, attrs...)
		return rep, nil
	}
}
