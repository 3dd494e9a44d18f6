package api_test

import (
	"os"
	"testing"

	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/internal/stripemock"
)

// TestMain stops the stripe-mock the card-order tests start and the DynamoDB
// Local the governance test starts (each starts on first use and fails,
// never skips, when it cannot).
func TestMain(m *testing.M) {
	code := m.Run()
	stripemock.Stop()
	ddblocal.Stop()
	os.Exit(code)
}
