package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// ConcurrentOps is how many operations the concurrency property test runs
// against one adapter in total; ConcurrentWorkers is how many goroutines run
// them. An adapter's test may raise them; the suite never runs fewer than
// the defaults unless told to with Ops.
var (
	ConcurrentOps     = 5000
	ConcurrentWorkers = 32
)

// concurrencySpec is the name of the concurrency property test.
const concurrencySpec = "random concurrent spending keeps every ledger law"

// Option adjusts how Run runs the suite.
type Option func(*config)

type config struct {
	parallel bool
	ops      int
	workers  int
	groups   map[string]bool // nil: every group
}

// Groups runs only the named groups of the suite ("Concurrency" is the
// concurrency property test): for a second run of the parts a store's
// option changes.
func Groups(names ...string) Option {
	return func(c *config) {
		c.groups = map[string]bool{}
		for _, n := range names {
			c.groups[n] = true
		}
	}
}

// Parallel runs the subtests of each group in parallel. Every subtest opens
// its own store, so this is safe for any adapter whose stores are
// independent (one SQLite file or one DynamoDB table each).
func Parallel() Option { return func(c *config) { c.parallel = true } }

// Ops sets the number of operations of the concurrency test.
func Ops(n int) Option { return func(c *config) { c.ops = n } }

// Run runs the conformance suite. open must return a fresh, empty store each
// time it is called; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) ledger.Store, opts ...Option) {
	cfg := config{ops: ConcurrentOps, workers: ConcurrentWorkers}
	for _, o := range opts {
		o(&cfg)
	}
	for _, g := range suite {
		if cfg.groups != nil && !cfg.groups[g.name] {
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			for _, s := range g.specs {
				t.Run(s.name, func(t *testing.T) {
					if cfg.parallel {
						t.Parallel()
					}
					s.fn(t, newHarness(t, open))
				})
			}
		})
	}
	if cfg.groups != nil && !cfg.groups["Concurrency"] {
		return
	}
	t.Run("Concurrency", func(t *testing.T) {
		t.Run(concurrencySpec, func(t *testing.T) {
			testConcurrency(t, newHarness(t, open), cfg.ops, cfg.workers)
		})
	})
}

// t0 is the suite's "now" unless a test moves the clock: in the future, so
// that a real DynamoDB's TTL never deletes what a test still reads.
var t0 = time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)

// contractStart and contractEnd bound the default contract.
var (
	contractStart = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	contractEnd   = time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC)
)

const day = 24 * time.Hour

// clock is a settable test clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// harness is one subtest's world: a fresh store, a Service on it with a test
// clock, and helpers that build contracts, users and lots through the
// Service and read the results back through the store.
type harness struct {
	t   *testing.T
	ctx context.Context
	st  ledger.Store
	svc *credits.Service
	clk *clock
	seq atomic.Int64

	mu        sync.Mutex
	contracts []string
}

func newHarness(t *testing.T, open func(t *testing.T) ledger.Store) *harness {
	st := open(t)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	clk := &clock{now: t0}
	h := &harness{t: t, ctx: context.Background(), st: st, clk: clk,
		svc: credits.New(st, clk.Now)}
	// Registered after Close, so it runs before it: every subtest ends with
	// the ledger laws checked on everything it made.
	t.Cleanup(func() {
		h.mu.Lock()
		cs := append([]string(nil), h.contracts...)
		h.mu.Unlock()
		for _, c := range cs {
			h.audit(t, c)
		}
	})
	return h
}

// key returns a fresh idempotency key.
func (h *harness) key() ledger.Idem {
	return ledger.Idem{Key: fmt.Sprintf("key-%d", h.seq.Add(1))}
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// ---- building a world through the Service ----

// contract creates a contract (default "acme": entity acme-us, covering
// acme-uk, with contractor coverage and an active plan, 2031-01-01 to
// 2033-01-01), edited by edits.
func (h *harness) contract(edits ...func(*ledger.Contract)) ledger.Contract {
	h.t.Helper()
	c := ledger.Contract{
		ID: "acme", Customer: "Acme Corp", Entity: "acme-us", CoveredEntities: []string{"acme-uk"},
		ContractorCoverage: true, Start: contractStart, End: contractEnd, Channel: "list",
		MonthlyBaseline: d("1000"), PlanActive: true,
	}
	for _, e := range edits {
		e(&c)
	}
	if _, err := h.svc.CreateContract(h.ctx, c, h.key()); err != nil {
		h.t.Fatalf("create contract %s: %v", c.ID, err)
	}
	h.mu.Lock()
	h.contracts = append(h.contracts, c.ID)
	h.mu.Unlock()
	got, err := h.st.Contract(h.ctx, c.ID)
	if err != nil {
		h.t.Fatalf("read contract %s back: %v", c.ID, err)
	}
	return got
}

func noPlan(c *ledger.Contract)        { c.PlanActive = false }
func noContractors(c *ledger.Contract) { c.ContractorCoverage = false }
func named(id string) func(*ledger.Contract) {
	return func(c *ledger.Contract) { c.ID, c.Entity, c.CoveredEntities = id, id+"-hq", nil }
}

// addUser associates a user and returns the Service's answer.
func (h *harness) addUser(contract, user string, kind ledger.UserKind, canSpend bool) ledger.UserResult {
	h.t.Helper()
	out, err := h.svc.AddUser(h.ctx, contract, ledger.UserRequest{User: user, Kind: kind, Entity: entityOf(contract), CanSpend: canSpend}, h.key())
	if err != nil {
		h.t.Fatalf("add user %s to %s: %v", user, contract, err)
	}
	var res ledger.UserResult
	decode(h.t, out, &res)
	return res
}

func entityOf(contract string) string {
	if contract == "acme" {
		return "acme-us"
	}
	return contract + "-hq"
}

// employee adds an employee who may spend and returns their individual lot.
func (h *harness) employee(contract, user string) ledger.Lot {
	h.t.Helper()
	res := h.addUser(contract, user, ledger.Employee, true)
	if res.Grant == nil {
		h.t.Fatalf("employee %s of %s received no individual grant", user, contract)
	}
	return *res.Grant
}

// grant adds a shared lot (or its shards) and returns the lots read back.
func (h *harness) grant(contract, lot, credits string, edits ...func(*ledger.GrantRequest)) []ledger.Lot {
	h.t.Helper()
	req := ledger.GrantRequest{Lot: lot, Currency: core.Cloud, Credits: d(credits), Source: ledger.SourcePurchase}
	for _, e := range edits {
		e(&req)
	}
	out, err := h.svc.GrantShared(h.ctx, contract, req, h.key())
	if err != nil {
		h.t.Fatalf("grant %s to %s: %v", lot, contract, err)
	}
	var made []ledger.Lot
	decode(h.t, out, &made)
	for i, l := range made {
		made[i] = h.lot(contract, l.ID)
	}
	return made
}

func currency(c core.Currency) func(*ledger.GrantRequest) {
	return func(r *ledger.GrantRequest) { r.Currency = c }
}
func sunset(at time.Time) func(*ledger.GrantRequest) {
	return func(r *ledger.GrantRequest) { r.CurrencyEnd = at }
}
func shards(n int) func(*ledger.GrantRequest) { return func(r *ledger.GrantRequest) { r.Shards = n } }

func (h *harness) budget(contract, project, monthlyCap string) {
	h.t.Helper()
	if _, err := h.svc.SetBudget(h.ctx, contract, project, ledger.BudgetRequest{Currency: core.Cloud, MonthlyCap: d(monthlyCap)}, h.key()); err != nil {
		h.t.Fatalf("set budget: %v", err)
	}
}

// ---- spending ----

// req is a cloud-credit spend by user of contract acme for rendering.
func req(user, credits string, edits ...func(*ledger.SpendRequest)) ledger.SpendRequest {
	r := ledger.SpendRequest{Contract: "acme", User: user, Entity: "acme-us", Service: "rendering",
		Currency: core.Cloud, Credits: d(credits)}
	for _, e := range edits {
		e(&r)
	}
	return r
}

func project(p string) func(*ledger.SpendRequest) {
	return func(r *ledger.SpendRequest) { r.Project = p }
}
func holdFor(d time.Duration) func(*ledger.SpendRequest) {
	return func(r *ledger.SpendRequest) { r.HoldFor = d }
}
func in(contract string) func(*ledger.SpendRequest) {
	return func(r *ledger.SpendRequest) { r.Contract, r.Entity = contract, entityOf(contract) }
}

func (h *harness) consume(r ledger.SpendRequest) ledger.ConsumeResult {
	h.t.Helper()
	res, err := h.tryConsume(r, h.key())
	if err != nil {
		h.t.Fatalf("consume %s by %s: %v", r.Credits, r.User, err)
	}
	return res
}

func (h *harness) tryConsume(r ledger.SpendRequest, idem ledger.Idem) (ledger.ConsumeResult, error) {
	out, err := h.svc.Consume(h.ctx, r, idem)
	var res ledger.ConsumeResult
	if err == nil {
		decode(h.t, out, &res)
	}
	return res, err
}

func (h *harness) hold(r ledger.SpendRequest) ledger.HoldResult {
	h.t.Helper()
	out, err := h.svc.Hold(h.ctx, r, h.key())
	if err != nil {
		h.t.Fatalf("hold %s by %s: %v", r.Credits, r.User, err)
	}
	var res ledger.HoldResult
	decode(h.t, out, &res)
	return res
}

// decoded decodes a call's answer when the call succeeded.
func decoded[R any](h *harness, out credits.Outcome, err error) (R, error) {
	var res R
	if err == nil {
		decode(h.t, out, &res)
	}
	return res, err
}

func (h *harness) settle(contract, hold, actual string) (ledger.SettleResult, error) {
	out, err := h.svc.Settle(h.ctx, contract, hold, d(actual), h.key())
	return decoded[ledger.SettleResult](h, out, err)
}

func (h *harness) mustSettle(contract, hold, actual string) ledger.SettleResult {
	h.t.Helper()
	res, err := h.settle(contract, hold, actual)
	if err != nil {
		h.t.Fatalf("settle %s at %s: %v", hold, actual, err)
	}
	return res
}

func (h *harness) release(contract, hold string) (ledger.ReleaseResult, error) {
	out, err := h.svc.Release(h.ctx, contract, hold, h.key())
	return decoded[ledger.ReleaseResult](h, out, err)
}

func (h *harness) refund(contract, consumption, credits string) (ledger.RefundResult, error) {
	out, err := h.svc.Refund(h.ctx, contract, consumption, d(credits), h.key())
	return decoded[ledger.RefundResult](h, out, err)
}

func (h *harness) mustRefund(contract, consumption, credits string) ledger.RefundResult {
	h.t.Helper()
	res, err := h.refund(contract, consumption, credits)
	if err != nil {
		h.t.Fatalf("refund %s of %s: %v", credits, consumption, err)
	}
	return res
}

func (h *harness) sweep() credits.SweepReport {
	h.t.Helper()
	rep, err := h.svc.Sweep(h.ctx)
	if err != nil {
		h.t.Fatalf("sweep: %v", err)
	}
	return rep
}

// ---- reading back ----

func (h *harness) lot(contract, id string) ledger.Lot {
	h.t.Helper()
	l, err := h.st.Lot(h.ctx, contract, id)
	if err != nil {
		h.t.Fatalf("read lot %s: %v", id, err)
	}
	return l
}

func (h *harness) lots(contract string) []ledger.Lot {
	h.t.Helper()
	ls, err := allLots(h.ctx, h.st, contract)
	if err != nil {
		h.t.Fatalf("read lots of %s: %v", contract, err)
	}
	return ls
}

func (h *harness) entries(contract, lot string) []ledger.Entry {
	h.t.Helper()
	h.catchUp()
	es, err := h.st.Entries(h.ctx, contract, lot)
	if err != nil {
		h.t.Fatalf("read entries of %s: %v", lot, err)
	}
	return es
}

func (h *harness) getHold(contract, id string) ledger.Hold {
	h.t.Helper()
	x, err := h.st.Hold(h.ctx, contract, id)
	if err != nil {
		h.t.Fatalf("read hold %s: %v", id, err)
	}
	return x
}

func (h *harness) getConsumption(contract, id string) ledger.Consumption {
	h.t.Helper()
	x, err := h.st.Consumption(h.ctx, contract, id)
	if err != nil {
		h.t.Fatalf("read consumption %s: %v", id, err)
	}
	return x
}

func (h *harness) budgetUsed(contract, project, month string) decimal.Decimal {
	h.t.Helper()
	u, err := h.st.BudgetUsed(h.ctx, contract, project, core.Cloud, month)
	if err != nil {
		h.t.Fatalf("read budget usage: %v", err)
	}
	return u
}

func (h *harness) attempts(contract string) []ledger.Attempt {
	h.t.Helper()
	as, err := h.st.Attempts(h.ctx, contract)
	if err != nil {
		h.t.Fatalf("read attempts: %v", err)
	}
	return as
}

func (h *harness) dump() []string {
	h.t.Helper()
	lines, err := h.st.Dump(h.ctx)
	if err != nil {
		h.t.Fatalf("dump: %v", err)
	}
	if len(lines) == 0 {
		h.t.Fatal("dump of a store with data is empty")
	}
	return lines
}

// balance is what user may spend now in cloud credits (contract-wide when
// user is empty), from the store's lots.
func (h *harness) balance(contract, user string) decimal.Decimal {
	h.t.Helper()
	b := ledger.Balances(h.lots(contract), user, h.clk.Now())[core.Cloud]
	return b.Total.Add(decimal.Zero)
}

// ---- assertions ----

// counters is a lot's expected counters; empty means zero.
type counters struct{ remaining, held, spent, expired, withdrawn, refunded string }

func (h *harness) wantLot(contract, id string, want counters) ledger.Lot {
	h.t.Helper()
	l := h.lot(contract, id)
	z := func(s string) decimal.Decimal {
		if s == "" {
			return decimal.Zero
		}
		return d(s)
	}
	got := []decimal.Decimal{l.Remaining, l.Held, l.Spent, l.Expired, l.Withdrawn, l.Refunded}
	exp := []decimal.Decimal{z(want.remaining), z(want.held), z(want.spent), z(want.expired), z(want.withdrawn), z(want.refunded)}
	for i := range got {
		if !got[i].Equal(exp[i]) {
			h.t.Errorf("lot %s: got %s; want %s", id, countersOf(l), fmtCounters(exp))
			break
		}
	}
	return l
}

func countersOf(l ledger.Lot) string {
	return fmtCounters([]decimal.Decimal{l.Remaining, l.Held, l.Spent, l.Expired, l.Withdrawn, l.Refunded})
}

func fmtCounters(v []decimal.Decimal) string {
	return fmt.Sprintf("remaining %s held %s spent %s expired %s withdrawn %s refunded %s", v[0], v[1], v[2], v[3], v[4], v[5])
}

func wantCode(t *testing.T, err error, code core.Code) *core.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s", code)
	}
	e, ok := core.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("got %v (code %s), want code %s", err, core.ErrorCode(err), code)
	}
	return e
}

func wantEqual(t *testing.T, what string, got, want decimal.Decimal) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got.UTC().Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
}

func debitsString(ds []ledger.Debit) string {
	var s []string
	for _, x := range ds {
		s = append(s, x.Lot+":"+x.Credits.String())
	}
	return strings.Join(s, ",")
}

func decode(t *testing.T, out credits.Outcome, v any) {
	t.Helper()
	if err := json.Unmarshal(out.Body, v); err != nil {
		t.Fatalf("decode %s: %v", out.Body, err)
	}
}

// unchanged fails unless the store's dump equals before, line for line.
// wantDumpLines checks that the dump has want lines of the table (or item
// kind) named first on a line.
func (h *harness) wantDumpLines(t *testing.T, table string, want int) {
	t.Helper()
	n := 0
	for _, line := range h.dump() {
		if strings.HasPrefix(line, table) {
			n++
		}
	}
	if n != want {
		t.Errorf("dump has %d %s lines, want %d", n, table, want)
	}
}

func (h *harness) unchanged(t *testing.T, what string, before []string) {
	t.Helper()
	after := h.dump()
	added, removed := diffLines(before, after)
	if len(added)+len(removed) > 0 {
		t.Errorf("%s changed the store:\n  removed: %s\n  added:   %s", what, strings.Join(removed, "\n           "), strings.Join(added, "\n           "))
	}
}

// onlyAttemptAdded fails unless the store changed by exactly one new attempt
// record: Attempts grew by one, and every added dump line names it.
func (h *harness) onlyAttemptAdded(t *testing.T, contract string, before []string, attemptsBefore []ledger.Attempt) ledger.Attempt {
	t.Helper()
	after := h.dump()
	attempts := h.attempts(contract)
	if len(attempts) != len(attemptsBefore)+1 {
		t.Fatalf("attempts: %d before, %d after; want exactly one more", len(attemptsBefore), len(attempts))
	}
	old := map[string]bool{}
	for _, a := range attemptsBefore {
		old[a.ID] = true
	}
	var fresh ledger.Attempt
	for _, a := range attempts {
		if !old[a.ID] {
			fresh = a
		}
	}
	if fresh.ID == "" {
		t.Fatalf("no new attempt id among %+v", attempts)
	}
	added, removed := diffLines(before, after)
	if len(removed) > 0 {
		t.Errorf("a refused attempt removed or changed items:\n  %s", strings.Join(removed, "\n  "))
	}
	if len(added) == 0 {
		t.Errorf("the attempt %s does not appear in the dump", fresh.ID)
	}
	for _, l := range added {
		if !strings.Contains(l, fresh.ID) {
			t.Errorf("a refused attempt changed an item other than its attempt record: %s", l)
		}
	}
	return fresh
}

// diffLines returns the lines only in after (added) and only in before
// (removed), as multisets.
func diffLines(before, after []string) (added, removed []string) {
	count := map[string]int{}
	for _, l := range before {
		count[l]++
	}
	for _, l := range after {
		count[l]--
	}
	for l, n := range count {
		for ; n > 0; n-- {
			removed = append(removed, l)
		}
		for ; n < 0; n++ {
			added = append(added, l)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}

// ---- the ledger laws, checked on everything a contract holds ----

// entryShape is how each kind of entry moves a lot's counters by its
// credits c: the counters that must change, and by how much (in units of c).
// expire and withdraw take from remaining (a lot's close-out) or from held
// (a hold released after its lot ended).
func entryShapeOK(e ledger.Entry) bool {
	c, m := e.Credits, e.Move
	is := func(got decimal.Decimal, sign int) bool {
		switch sign {
		case 1:
			return got.Equal(c)
		case -1:
			return got.Equal(c.Neg())
		}
		return got.IsZero()
	}
	shape := func(rem, held, spent, exp, wd, ref int) bool {
		return is(m.Remaining, rem) && is(m.Held, held) && is(m.Spent, spent) && is(m.Expired, exp) && is(m.Withdrawn, wd) && is(m.Refunded, ref)
	}
	if c.Sign() <= 0 {
		return false
	}
	switch e.Kind {
	case ledger.EntryGrant:
		return shape(1, 0, 0, 0, 0, 0)
	case ledger.EntryConsume:
		return shape(-1, 0, 1, 0, 0, 0)
	case ledger.EntryHold:
		return shape(-1, 1, 0, 0, 0, 0)
	case ledger.EntrySettle:
		return shape(0, -1, 1, 0, 0, 0)
	case ledger.EntryRelease:
		return shape(1, -1, 0, 0, 0, 0)
	case ledger.EntryRefund:
		return shape(1, 0, 0, 0, 0, 1)
	case ledger.EntryRefundLost:
		return shape(0, 0, 0, 0, 0, 0)
	case ledger.EntryExpire:
		return shape(-1, 0, 0, 1, 0, 0) || shape(0, -1, 0, 1, 0, 0)
	case ledger.EntryWithdraw:
		return shape(-1, 0, 0, 0, 1, 0) || shape(0, -1, 0, 0, 1, 0)
	}
	return false
}

// audit checks law 5 on every lot of a contract: the counters conserve
// (amount = remaining + spent + held + expired + withdrawn − refunded, none
// negative), the entries' movements sum to the counters, the grant entries
// sum to the amount, and every entry is well formed and unique.
func (h *harness) audit(t *testing.T, contract string) {
	h.catchUp()
	t.Helper()
	lots, err := allLots(h.ctx, h.st, contract)
	if err != nil {
		t.Errorf("audit %s: read lots: %v", contract, err)
		return
	}
	seen := map[string]string{}
	for i, l := range lots {
		if i > 0 && lots[i-1].ID >= l.ID {
			t.Errorf("audit %s: Lots is not ordered by id: %s before %s", contract, lots[i-1].ID, l.ID)
		}
		if l.Contract != contract {
			t.Errorf("audit %s: Lots returned lot %s of contract %s", contract, l.ID, l.Contract)
		}
		if !l.Conserves() {
			t.Errorf("audit %s: lot %s does not conserve: amount %s, %s", contract, l.ID, l.Amount, countersOf(l))
		}
		es, err := h.st.Entries(h.ctx, contract, l.ID)
		if err != nil {
			t.Errorf("audit %s: read entries of %s: %v", contract, l.ID, err)
			continue
		}
		var sum ledger.Lot
		granted := decimal.Zero
		for _, e := range es {
			if other, dup := seen[e.ID]; dup {
				t.Errorf("audit %s: entry id %s is used on lots %s and %s", contract, e.ID, other, l.ID)
			}
			seen[e.ID] = l.ID
			if e.Lot != l.ID || e.Contract != contract || e.Currency != l.Currency {
				t.Errorf("audit %s: entry %s of lot %s names lot %s, contract %s, currency %s", contract, e.ID, l.ID, e.Lot, e.Contract, e.Currency)
			}
			if !entryShapeOK(e) {
				t.Errorf("audit %s: entry %s (%s of %s) moves %+v, not what a %s does", contract, e.ID, e.Kind, e.Credits, e.Move, e.Kind)
			}
			sum = sum.Apply(e.Move)
			if e.Kind == ledger.EntryGrant {
				granted = granted.Add(e.Credits)
			}
		}
		if !granted.Equal(l.Amount) {
			t.Errorf("audit %s: lot %s amount %s, its grant entries sum to %s", contract, l.ID, l.Amount, granted)
		}
		if countersOf(sum) != countersOf(l) {
			t.Errorf("audit %s: lot %s counters %s, its entries sum to %s", contract, l.ID, countersOf(l), countersOf(sum))
		}
	}
}

// stale reads what the Service reads to plan a spend, for tests that plan a
// Tx by hand and apply it after the store has moved on.
func (h *harness) stale(r ledger.SpendRequest) ledger.SpendState {
	h.t.Helper()
	c, err := h.st.Contract(h.ctx, r.Contract)
	if err != nil {
		h.t.Fatal(err)
	}
	st := ledger.SpendState{Contract: c, Lots: h.lots(r.Contract), BudgetUsed: decimal.Zero}
	if u, err := h.st.User(h.ctx, r.Contract, r.User); err == nil {
		st.User = &u
	}
	if r.Project != "" {
		b, ok, err := h.st.Budget(h.ctx, r.Contract, r.Project, r.Currency)
		if err != nil {
			h.t.Fatal(err)
		}
		if ok {
			st.Budget = &b
		}
		st.BudgetUsed = h.budgetUsed(r.Contract, r.Project, ledger.Month(h.clk.Now()))
	}
	return st
}

func (h *harness) env() ledger.Env {
	return ledger.Env{At: h.clk.Now(), OpID: fmt.Sprintf("hand-%d", h.seq.Add(1))}
}

// wantConflict applies a hand-planned Tx and requires it to fail with a
// *ledger.ConflictError and to change nothing.
func (h *harness) wantConflict(t *testing.T, what string, tx ledger.Tx) {
	t.Helper()
	if len(tx.Ops) == 0 {
		t.Fatalf("%s: the hand-planned Tx is empty", what)
	}
	before := h.dump()
	err := h.st.Apply(h.ctx, tx)
	var conflict *ledger.ConflictError
	if !errors.As(err, &conflict) {
		t.Errorf("%s: Apply = %v, want a *ledger.ConflictError", what, err)
	}
	h.unchanged(t, what, before)
}

// allLots reads every lot of a contract from st, page by page, as the
// service does.
func allLots(ctx context.Context, st ledger.Store, contract string) ([]ledger.Lot, error) {
	return credits.New(st, time.Now).Lots(ctx, contract)
}

// catchUp brings what a store derives in the background up to date, as
// its background process would: the usage roll-ups and the entries a
// stream feeds (a store with such a process has CatchUp; one that writes
// them in the spend's transaction has nothing to catch up).
func (h *harness) catchUp() {
	h.t.Helper()
	if c, ok := h.st.(interface{ CatchUp(context.Context) error }); ok {
		if err := c.CatchUp(h.ctx); err != nil {
			h.t.Fatalf("catch up: %v", err)
		}
	}
}

// usageRows reads a contract's roll-up rows once the store caught up.
func (h *harness) usageRows(contract, fromMonth, toMonth string) ([]ledger.Usage, error) {
	h.t.Helper()
	h.catchUp()
	return h.st.Usage(h.ctx, contract, fromMonth, toMonth)
}
