package main

import (
	"testing"

	"cloudcredits/functions/internal/ddblocal"
)

// TestMain stops the DynamoDB Local the fault tests start (on first use;
// they fail, never skip, when it cannot start).
func TestMain(m *testing.M) { ddblocal.Main(m) }
