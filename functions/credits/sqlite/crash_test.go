package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// crashChildEnv names the database a re-executed test binary works on as
// TestCrashRecovery's child.
const crashChildEnv = "CLOUDCREDITS_SQLITE_CRASH_CHILD"

// TestCrashRecovery kills a process that is writing the ledger (SIGKILL, at
// a random moment, several times over) and checks after each kill that the
// database holds whole transactions only: every lot conserves, every lot's
// entries replay to its counters, the totals across tables agree, and every
// spend the child reported as done is there.
func TestCrashRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newFixture(t, st, "c1", "13", "13", "13")
	st.Close()

	rounds := 4
	for round := range rounds {
		acked := runChildUntilKilled(t, path, 40+rand.IntN(200))
		st, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		checkLedger(t, st, "c1")
		checkTotals(t, st)
		for _, id := range acked {
			if _, err := st.Consumption(context.Background(), "c1", id); err != nil {
				t.Errorf("round %d: the child reported consumption %s done, the database has: %v", round, id, err)
			}
		}
		var n int
		st.reader.QueryRow("SELECT count(*) FROM consumptions").Scan(&n)
		t.Logf("round %d: killed after %d acknowledged spends; %d consumptions in the database", round, len(acked), n)
		st.Close()
	}
}

// runChildUntilKilled starts the child, lets it report `after` completed
// operations, waits a random moment more and kills it. It returns the
// consumptions the child reported done.
func runChildUntilKilled(t *testing.T, path string, after int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var acked, other []string
	ops := 0
	timeout := time.After(2 * time.Minute)
	killed := false
	for !killed {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("child exited before it was killed; stdout:\n%s\nstderr:\n%s", strings.Join(other, "\n"), stderr.String())
			}
			if id, ok := strings.CutPrefix(l, "consumed "); ok {
				acked = append(acked, id)
			}
			if strings.HasPrefix(l, "consumed ") || strings.HasPrefix(l, "ok ") {
				ops++
			}
			if !strings.HasPrefix(l, "consumed ") && !strings.HasPrefix(l, "ok ") {
				other = append(other, l)
			}
			if ops == after {
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		case <-timeout:
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("child reported %d operations in 2 minutes; stderr:\n%s", ops, stderr.String())
		}
	}
	// Whatever the child printed before dying was acknowledged too.
	for l := range lines {
		if id, ok := strings.CutPrefix(l, "consumed "); ok {
			acked = append(acked, id)
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not by SIGKILL; stderr:\n%s", err, stderr.String())
	}
	return acked
}

// TestCrashChild is TestCrashRecovery's child: it spends, holds, settles,
// releases, refunds and grants on the database in a loop until it is killed,
// printing each completed operation.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		// Not a child: TestCrashRecovery runs this function in the processes
		// it kills; on its own it has nothing to do.
		return
	}
	st, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("p%d-", os.Getpid())
	f := &fixture{svc: newFixtureService(st), contract: "c1", user: "u1", prefix: prefix}
	idem := f.idem
	var consumed []string
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(3)
	}
	// refused reports a refusal for want of credits; any other error ends
	// the child.
	refused := func(what string, err error) bool {
		if err != nil && !isCode(err, core.CodeInsufficientCredits) {
			fail(what, err)
		}
		return err != nil
	}
	for i := 0; ; i++ {
		switch i % 4 {
		case 0, 1: // consume 1–9 credits, often across two lots
			o, err := f.svc.Consume(ctx, f.spend(fmt.Sprint(1+rand.IntN(9))), idem())
			if isCode(err, core.CodeInsufficientCredits) {
				f.grant(t, fmt.Sprintf("%sL%d", prefix, i), "13")
				fmt.Println("ok grant")
				continue
			}
			if err != nil {
				fail("consume", err)
			}
			var r ledger.ConsumeResult
			if err := o.Decode(&r); err != nil {
				fail("decode", err)
			}
			consumed = append(consumed, r.ConsumptionID)
			fmt.Println("consumed", r.ConsumptionID)
		case 2: // hold, then settle below, at or above the hold, or release
			o, err := f.svc.Hold(ctx, f.spend("6"), idem())
			if refused("hold", err) {
				continue
			}
			var h ledger.HoldResult
			o.Decode(&h)
			if rand.IntN(4) == 0 {
				_, err = f.svc.Release(ctx, "c1", h.HoldID, idem())
				if err != nil {
					fail("release", err)
				}
				fmt.Println("ok release")
				continue
			}
			o, err = f.svc.Settle(ctx, "c1", h.HoldID, decimal.NewFromInt(int64(rand.IntN(9))), idem())
			if refused("settle", err) {
				continue
			}
			var s ledger.SettleResult
			o.Decode(&s)
			if s.ConsumptionID == "" {
				continue // settled at 0: no consumption
			}
			consumed = append(consumed, s.ConsumptionID)
			fmt.Println("consumed", s.ConsumptionID)
		case 3: // refund part of an earlier consumption
			if len(consumed) == 0 {
				continue
			}
			id := consumed[rand.IntN(len(consumed))]
			_, err := f.svc.Refund(ctx, "c1", id, dec("1"), idem())
			if isCode(err, core.CodeInvalidRequest) || isCode(err, core.CodeConflict) {
				continue // fully refunded already
			}
			if err != nil {
				fail("refund", err)
			}
			fmt.Println("ok refund")
		}
	}
}

// checkTotals checks that the tables agree with each other, which only
// whole transactions can keep true: what the lots spent is what the
// consumptions charged, what they hold is what the open holds reserve, and
// what they took back is what the consumptions refunded.
func checkTotals(t *testing.T, st *Store) {
	t.Helper()
	sum := func(query string) decimal.Decimal {
		rows, err := st.reader.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		total := decimal.Zero
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			total = total.Add(dec(s))
		}
		return total
	}
	for _, p := range []struct{ what, a, b string }{
		{"spent", "SELECT spent FROM lots", "SELECT credits FROM consumptions"},
		{"held", "SELECT held FROM lots", "SELECT credits FROM holds WHERE state = 'open'"},
		{"refunded", "SELECT refunded FROM lots", "SELECT refunded FROM consumptions"},
		{"consumed this month", "SELECT credits FROM usage", "SELECT credits FROM consumptions"},
	} {
		a, b := sum(p.a), sum(p.b)
		if p.what == "consumed this month" {
			b = b.Sub(sum("SELECT refunded FROM consumptions"))
		}
		if !a.Equal(b) {
			t.Errorf("%s: lots say %s, the other table %s", p.what, a, b)
		}
	}
}
