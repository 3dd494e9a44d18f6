package boot_test

import (
	"testing"

	"cloudcredits/functions/internal/ddblocal"
)

func TestMain(m *testing.M) { ddblocal.Main(m) }
