package main

import (
	"context"
	"log/slog"
	"os"

	"cloudcredits/functions/lambda/boot"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func main() {
	h, err := boot.FromEnv(context.Background(), boot.Purchases.Groups()...)
	if err != nil {
		slog.Error("cold start failed", "function", boot.Purchases, "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
