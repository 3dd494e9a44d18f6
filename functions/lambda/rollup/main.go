package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/lambda/boot"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	st, err := boot.StoreFromEnv(context.Background())
	if err != nil {
		slog.Error("cold start failed", "function", "rollup", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler(st, slog.Default()))
}

// handler rolls up one stream batch and logs it as one JSON line.
func handler(st *dynamo.Store, logger *slog.Logger) func(context.Context, events.DynamoDBEvent) error {
	return func(ctx context.Context, ev events.DynamoDBEvent) error {
		start := time.Now()
		changes, err := dynamo.LambdaChanges(ev)
		if err == nil {
			err = st.RollUp(ctx, changes)
		}
		attrs := []any{"changes", len(ev.Records), "duration_ms", time.Since(start).Milliseconds()}
		if err != nil {
			logger.ErrorContext(ctx, "rollup failed", append(attrs, "error", err.Error())...)
			return fmt.Errorf("rollup: %w", err)
		}
		logger.InfoContext(ctx, "rollup", attrs...)
		return nil
	}
}
