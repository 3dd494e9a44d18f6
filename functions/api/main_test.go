package api_test

import (
	"testing"

	"cloudcredits/functions/internal/stripemock"
)

// TestMain stops the stripe-mock the card-order tests start (stripemock
// starts it on first use and fails, never skips, when it cannot).
func TestMain(m *testing.M) { stripemock.Main(m) }
