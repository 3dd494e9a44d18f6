package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// memStore is a test-only reference implementation of ledger.Store, so the
// suite can be checked (and can fail) without a database. Apply enforces
// every condition documented on the ops of ledger.Tx, all or nothing. It is
// never exported and never used by the adapters.
type memStore struct {
	mu        sync.Mutex
	contracts map[string]ledger.Contract
	users     map[[2]string]ledger.User
	grants    map[[2]string]bool
	lots      map[[2]string]ledger.Lot
	entries   map[[2]string][]ledger.Entry // (contract, lot) → in write order
	entryIDs  map[[2]string]bool
	holds     map[[2]string]ledger.Hold
	cons      map[[2]string]ledger.Consumption
	idem      map[[2]string]ledger.IdempotencyRecord
	budgets   map[[3]string]ledger.Budget
	budgetUse map[[4]string]decimal.Decimal
	usage     map[ledger.UsageKey]ledger.Usage
	attempts  map[string][]ledger.Attempt
	orders    map[[2]string]ledger.Order
	accepted  map[string]ledger.QuoteAcceptance
	sunsets   map[core.Currency]ledger.Sunset
	notes     map[string]ledger.Notification
	closed    bool
}

var _ ledger.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		contracts: map[string]ledger.Contract{}, users: map[[2]string]ledger.User{}, grants: map[[2]string]bool{},
		lots: map[[2]string]ledger.Lot{}, entries: map[[2]string][]ledger.Entry{}, entryIDs: map[[2]string]bool{},
		holds: map[[2]string]ledger.Hold{}, cons: map[[2]string]ledger.Consumption{},
		idem: map[[2]string]ledger.IdempotencyRecord{}, budgets: map[[3]string]ledger.Budget{},
		budgetUse: map[[4]string]decimal.Decimal{}, usage: map[ledger.UsageKey]ledger.Usage{},
		attempts: map[string][]ledger.Attempt{}, orders: map[[2]string]ledger.Order{},
		accepted: map[string]ledger.QuoteAcceptance{}, sunsets: map[core.Currency]ledger.Sunset{},
		notes: map[string]ledger.Notification{},
	}
}

// put sets m[k] = v and records how to undo it.
func put[K comparable, V any](undo *[]func(), m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	*undo = append(*undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

func cloneHold(h ledger.Hold) ledger.Hold {
	h.Debits = append([]ledger.Debit(nil), h.Debits...)
	return h
}

func cloneConsumption(c ledger.Consumption) ledger.Consumption {
	c.Debits = append([]ledger.Debit(nil), c.Debits...)
	c.Returned = append([]decimal.Decimal(nil), c.Returned...)
	return c
}

func cloneContract(c ledger.Contract) ledger.Contract {
	c.CoveredEntities = append([]string(nil), c.CoveredEntities...)
	return c
}

func (m *memStore) Apply(ctx context.Context, tx ledger.Tx) error {
	if err := tx.Check(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("memstore: closed")
	}
	var undo []func()
	fail := func(i int, format string, args ...any) error {
		for j := len(undo) - 1; j >= 0; j-- {
			undo[j]()
		}
		return &ledger.ConflictError{Op: i, Reason: fmt.Sprintf(format, args...)}
	}
	for i, op := range tx.Ops {
		switch o := op.(type) {
		case ledger.CreateLot:
			k := [2]string{o.Lot.Contract, o.Lot.ID}
			if _, ok := m.lots[k]; ok {
				return fail(i, "lot %s exists", o.Lot.ID)
			}
			put(&undo, m.lots, k, o.Lot)
		case ledger.MoveLot:
			k := [2]string{o.Contract, o.Lot}
			l, ok := m.lots[k]
			if !ok {
				return fail(i, "no lot %s in %s", o.Lot, o.Contract)
			}
			if !o.LiveAt.IsZero() && !l.LiveAt(o.LiveAt) {
				return fail(i, "lot %s is not live at %s", o.Lot, o.LiveAt)
			}
			l = l.Apply(o.Move)
			if l.Remaining.Sign() < 0 || l.Held.Sign() < 0 {
				return fail(i, "lot %s would go negative", o.Lot)
			}
			put(&undo, m.lots, k, l)
		case ledger.EndLot:
			k := [2]string{o.Contract, o.Lot}
			l, ok := m.lots[k]
			if !ok || !l.ExpiresAt.Equal(o.WasExpiresAt) || !l.WithdrawNoticeAt.Equal(o.WasNoticeAt) || !l.ClosesAt.Equal(o.WasClosesAt) {
				return fail(i, "lot %s is not as read", o.Lot)
			}
			l.ExpiresAt, l.WithdrawNoticeAt, l.ClosesAt = o.ExpiresAt, o.WithdrawNoticeAt, o.ClosesAt
			put(&undo, m.lots, k, l)
		case ledger.PutEntry:
			k := [2]string{o.Entry.Contract, o.Entry.ID}
			if m.entryIDs[k] {
				return fail(i, "entry %s exists", o.Entry.ID)
			}
			put(&undo, m.entryIDs, k, true)
			lk := [2]string{o.Entry.Contract, o.Entry.Lot}
			put(&undo, m.entries, lk, append(append([]ledger.Entry(nil), m.entries[lk]...), o.Entry))
		case ledger.PutIdempotency:
			k := [2]string{o.Record.Contract, o.Record.Key}
			if r, ok := m.idem[k]; ok && r.LiveAt(o.At) {
				return fail(i, "a live record exists for key %s", o.Record.Key)
			}
			r := o.Record
			r.Response = append([]byte(nil), r.Response...)
			put(&undo, m.idem, k, r)
		case ledger.PutHold:
			k := [2]string{o.Hold.Contract, o.Hold.ID}
			if _, ok := m.holds[k]; ok {
				return fail(i, "hold %s exists", o.Hold.ID)
			}
			put(&undo, m.holds, k, cloneHold(o.Hold))
		case ledger.UpdateHold:
			k := [2]string{o.Hold.Contract, o.Hold.ID}
			if h, ok := m.holds[k]; !ok || h.State != o.WasState {
				return fail(i, "hold %s is not %s", o.Hold.ID, o.WasState)
			}
			put(&undo, m.holds, k, cloneHold(o.Hold))
		case ledger.PutConsumption:
			k := [2]string{o.Consumption.Contract, o.Consumption.ID}
			if _, ok := m.cons[k]; ok {
				return fail(i, "consumption %s exists", o.Consumption.ID)
			}
			put(&undo, m.cons, k, cloneConsumption(o.Consumption))
		case ledger.UpdateConsumption:
			k := [2]string{o.Consumption.Contract, o.Consumption.ID}
			if c, ok := m.cons[k]; !ok || !c.Refunded.Equal(o.WasRefunded) {
				return fail(i, "consumption %s refunded is not %s", o.Consumption.ID, o.WasRefunded)
			}
			put(&undo, m.cons, k, cloneConsumption(o.Consumption))
		case ledger.AddBudgetUsage:
			k := [4]string{o.Contract, o.Project, string(o.Currency), o.Month}
			after := m.budgetUse[k].Add(o.Delta)
			if o.Capped && o.Delta.Sign() > 0 && after.GreaterThan(o.Cap) {
				return fail(i, "project %s would use %s of %s", o.Project, after, o.Cap)
			}
			put(&undo, m.budgetUse, k, after)
		case ledger.AddUsage:
			u := m.usage[o.Key]
			u.Key, u.Credits, u.Count = o.Key, u.Credits.Add(o.Credits), u.Count+o.Count
			put(&undo, m.usage, o.Key, u)
		case ledger.PutAttempt:
			c := o.Attempt.Contract
			put(&undo, m.attempts, c, append(append([]ledger.Attempt(nil), m.attempts[c]...), o.Attempt))
		case ledger.PutContract:
			if _, ok := m.contracts[o.Contract.ID]; ok {
				return fail(i, "contract %s exists", o.Contract.ID)
			}
			put(&undo, m.contracts, o.Contract.ID, cloneContract(o.Contract))
		case ledger.UpdateContract:
			if c, ok := m.contracts[o.Contract.ID]; !ok || c.Version != o.Contract.Version-1 {
				return fail(i, "contract %s is not at version %d", o.Contract.ID, o.Contract.Version-1)
			}
			put(&undo, m.contracts, o.Contract.ID, cloneContract(o.Contract))
		case ledger.PutUser:
			k := [2]string{o.User.Contract, o.User.ID}
			u, ok := m.users[k]
			if (o.User.Version == 1 && ok) || (o.User.Version != 1 && (!ok || u.Version != o.User.Version-1)) {
				return fail(i, "user %s is not at version %d", o.User.ID, o.User.Version-1)
			}
			put(&undo, m.users, k, o.User)
		case ledger.MarkGrant:
			k := [2]string{o.Contract, o.User}
			if m.grants[k] {
				return fail(i, "user %s was granted before", o.User)
			}
			put(&undo, m.grants, k, true)
		case ledger.PutBudget:
			put(&undo, m.budgets, [3]string{o.Budget.Contract, o.Budget.Project, string(o.Budget.Currency)}, o.Budget)
		case ledger.PutOrder:
			k := [2]string{o.Order.Contract, o.Order.ID}
			if _, ok := m.orders[k]; ok {
				return fail(i, "order %s exists", o.Order.ID)
			}
			put(&undo, m.orders, k, o.Order)
		case ledger.PutQuoteAcceptance:
			if _, ok := m.accepted[o.Acceptance.QuoteID]; ok {
				return fail(i, "quote %s was accepted", o.Acceptance.QuoteID)
			}
			put(&undo, m.accepted, o.Acceptance.QuoteID, o.Acceptance)
		case ledger.PutSunset:
			cur, ok := m.sunsets[o.Sunset.Currency]
			switch {
			case o.Sunset.Version == 1 && ok:
				return fail(i, "currency %s has a sunset", o.Sunset.Currency)
			case o.Sunset.Version != 1 && (!ok || cur.Version != o.Sunset.Version-1):
				return fail(i, "sunset of %s is not at version %d", o.Sunset.Currency, o.Sunset.Version-1)
			}
			put(&undo, m.sunsets, o.Sunset.Currency, o.Sunset)
		case ledger.SunsetIs:
			if m.sunsets[o.Currency].Version != o.Version {
				return fail(i, "sunset of %s is not at version %d", o.Currency, o.Version)
			}
		case ledger.PutNotification:
			if _, ok := m.notes[o.Notification.ID]; ok {
				return fail(i, "notification %s was recorded", o.Notification.ID)
			}
			put(&undo, m.notes, o.Notification.ID, o.Notification)
		case ledger.MarkSent:
			n, ok := m.notes[o.ID]
			if !ok || n.Contract != o.Contract || n.State != ledger.NotificationPending {
				return fail(i, "notification %s is not pending", o.ID)
			}
			n.State, n.SentAt = ledger.NotificationSent, o.At
			put(&undo, m.notes, o.ID, n)
		case ledger.Readdress:
			n, ok := m.notes[o.ID]
			if !ok || n.Contract != o.Contract || (n.State != ledger.NotificationPending && n.State != ledger.NotificationUnaddressed) || n.To != o.WasTo || n.ClaimedUntil.After(o.At) {
				return fail(i, "notification %s is not waiting unclaimed", o.ID)
			}
			n.To, n.State = o.To, ledger.InitialState(o.To)
			put(&undo, m.notes, o.ID, n)
		case ledger.ContractIs:
			if c, ok := m.contracts[o.Contract]; !ok || c.Version != o.Version {
				return fail(i, "contract %s is not at version %d", o.Contract, o.Version)
			}
		case ledger.ClaimNotification:
			n, ok := m.notes[o.ID]
			if !ok || n.Contract != o.Contract || n.State != ledger.NotificationPending || n.To != o.To || n.ClaimedUntil.After(o.At) {
				return fail(i, "notification %s is not pending and unclaimed", o.ID)
			}
			n.ClaimedUntil = o.Until
			put(&undo, m.notes, o.ID, n)
		case ledger.UpdateOrder:
			k := [2]string{o.Order.Contract, o.Order.ID}
			if cur, ok := m.orders[k]; !ok || cur.Status != o.WasStatus {
				return fail(i, "order %s is not %s", o.Order.ID, o.WasStatus)
			}
			put(&undo, m.orders, k, o.Order)
		default:
			for j := len(undo) - 1; j >= 0; j-- {
				undo[j]()
			}
			return fmt.Errorf("memstore: unknown op %T", op)
		}
	}
	return nil
}

func (m *memStore) Contract(ctx context.Context, id string) (ledger.Contract, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.contracts[id]
	if !ok {
		return ledger.Contract{}, ledger.NotFound("contract", id)
	}
	return cloneContract(c), nil
}

func (m *memStore) Contracts(ctx context.Context, after string, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []string{}
	for id := range m.contracts {
		if id > after {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out[:min(max(limit, 0), len(out))], nil
}

func (m *memStore) User(ctx context.Context, contract, user string) (ledger.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[[2]string{contract, user}]
	if !ok {
		return ledger.User{}, ledger.NotFound("user", user)
	}
	return u, nil
}

func (m *memStore) Users(ctx context.Context, contract string) ([]ledger.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ledger.User
	for k, u := range m.users {
		if k[0] == contract {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *memStore) Granted(ctx context.Context, contract, user string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.grants[[2]string{contract, user}], nil
}

func (m *memStore) Lots(ctx context.Context, contract string) ([]ledger.Lot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ledger.Lot
	for k, l := range m.lots {
		if k[0] == contract {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *memStore) Lot(ctx context.Context, contract, id string) (ledger.Lot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.lots[[2]string{contract, id}]
	if !ok {
		return ledger.Lot{}, ledger.NotFound("lot", id)
	}
	return l, nil
}

func (m *memStore) LotContract(ctx context.Context, lot string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.lots {
		if k[1] == lot {
			return k[0], nil
		}
	}
	return "", ledger.NotFound("lot", lot)
}

func (m *memStore) Order(ctx context.Context, contract, id string) (ledger.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[[2]string{contract, id}]
	if !ok {
		return ledger.Order{}, ledger.NotFound("order", id)
	}
	return o, nil
}

func (m *memStore) QuoteAcceptance(ctx context.Context, quoteID string) (ledger.QuoteAcceptance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accepted[quoteID]
	if !ok {
		return ledger.QuoteAcceptance{}, ledger.NotFound("acceptance of quote", quoteID)
	}
	return a, nil
}

func (m *memStore) OrderContract(ctx context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.orders {
		if k[1] == id {
			return k[0], nil
		}
	}
	return "", ledger.NotFound("order", id)
}

func (m *memStore) Orders(ctx context.Context, contract string) ([]ledger.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []ledger.Order{}
	for k, o := range m.orders {
		if k[0] == contract {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (m *memStore) Hold(ctx context.Context, contract, id string) (ledger.Hold, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.holds[[2]string{contract, id}]
	if !ok {
		return ledger.Hold{}, ledger.NotFound("hold", id)
	}
	return cloneHold(h), nil
}

func (m *memStore) Consumption(ctx context.Context, contract, id string) (ledger.Consumption, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cons[[2]string{contract, id}]
	if !ok {
		return ledger.Consumption{}, ledger.NotFound("consumption", id)
	}
	return cloneConsumption(c), nil
}

func (m *memStore) Budget(ctx context.Context, contract, project string, currency core.Currency) (ledger.Budget, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.budgets[[3]string{contract, project, string(currency)}]
	return b, ok, nil
}

func (m *memStore) BudgetUsed(ctx context.Context, contract, project string, currency core.Currency, month string) (decimal.Decimal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.budgetUse[[4]string{contract, project, string(currency), month}], nil
}

func (m *memStore) Idempotency(ctx context.Context, contract, key string, at time.Time) (ledger.IdempotencyRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.idem[[2]string{contract, key}]
	if !ok || !r.LiveAt(at) {
		return ledger.IdempotencyRecord{}, false, nil
	}
	r.Response = append([]byte(nil), r.Response...)
	return r, true, nil
}

func (m *memStore) Entries(ctx context.Context, contract, lot string) ([]ledger.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ledger.Entry(nil), m.entries[[2]string{contract, lot}]...), nil
}

func (m *memStore) Usage(ctx context.Context, contract, fromMonth, toMonth string) ([]ledger.Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ledger.Usage
	for k, u := range m.usage {
		if k.Contract == contract && k.Month >= fromMonth && k.Month <= toMonth {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i].Key) < fmt.Sprint(out[j].Key) })
	return out, nil
}

func (m *memStore) Attempts(ctx context.Context, contract string) ([]ledger.Attempt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ledger.Attempt(nil), m.attempts[contract]...), nil
}

func (m *memStore) EndedLots(ctx context.Context, at time.Time, limit int) ([]ledger.Lot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ledger.Lot
	for _, l := range m.lots {
		if end := l.End(); !end.IsZero() && !end.After(at) && l.Remaining.Sign() > 0 {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].End().Equal(out[j].End()) {
			return out[i].End().Before(out[j].End())
		}
		return out[i].Contract+"/"+out[i].ID < out[j].Contract+"/"+out[j].ID
	})
	return out[:min(len(out), limit)], nil
}

func (m *memStore) LotsEndingWithin(ctx context.Context, after, by time.Time, limit int) ([]ledger.Lot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []ledger.Lot{}
	for _, l := range m.lots {
		if end := l.End(); !end.IsZero() && end.After(after) && !end.After(by) && l.Remaining.Sign() > 0 {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].End().Equal(out[j].End()) {
			return out[i].End().Before(out[j].End())
		}
		return out[i].Contract+"/"+out[i].ID < out[j].Contract+"/"+out[j].ID
	})
	return out[:min(len(out), max(limit, 0))], nil
}

func (m *memStore) ExpiredHolds(ctx context.Context, at time.Time, limit int) ([]ledger.Hold, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ledger.Hold
	for _, h := range m.holds {
		if h.State == ledger.HoldOpen && !h.ExpiresAt.After(at) {
			out = append(out, cloneHold(h))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExpiresAt.Before(out[j].ExpiresAt) })
	return out[:min(len(out), limit)], nil
}

func (m *memStore) Dump(ctx context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	line := func(kind string, id any, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		out = append(out, fmt.Sprintf("%s %v %s", kind, id, b))
	}
	for k, v := range m.contracts {
		line("contract", k, v)
	}
	for k, v := range m.users {
		line("user", k, v)
	}
	for k := range m.grants {
		line("grant", k, true)
	}
	for k, v := range m.lots {
		line("lot", k, v)
	}
	for k, es := range m.entries {
		for _, e := range es {
			line("entry", [3]string{k[0], k[1], e.ID}, e)
		}
	}
	for k, v := range m.holds {
		line("hold", k, v)
	}
	for k, v := range m.cons {
		line("consumption", k, v)
	}
	for k, v := range m.idem {
		line("idempotency", k, v)
	}
	for k, v := range m.budgets {
		line("budget", k, v)
	}
	for k, v := range m.budgetUse {
		line("budget_usage", k, v)
	}
	for k, v := range m.usage {
		line("usage", k, v)
	}
	for k, v := range m.orders {
		line("orders", k, v)
	}
	for k, v := range m.accepted {
		line("quote_acceptances", k, v)
	}
	for k, v := range m.sunsets {
		line("sunsets", k, v)
	}
	for k, v := range m.notes {
		line("notifications", k, v)
	}
	for c, as := range m.attempts {
		for _, a := range as {
			line("attempt", [2]string{c, a.ID}, a)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memStore) Sunset(ctx context.Context, cur core.Currency) (ledger.Sunset, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.sunsets[cur]
	if !ok {
		return ledger.Sunset{}, ledger.NotFound("sunset of currency", string(cur))
	}
	return x, nil
}

func (m *memStore) Sunsets(ctx context.Context) ([]ledger.Sunset, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []ledger.Sunset{}
	for _, x := range m.sunsets {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out, nil
}

func (m *memStore) LotsOutliving(ctx context.Context, cur core.Currency, at time.Time, limit int) ([]ledger.Lot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []ledger.Lot{}
	for _, l := range m.lots {
		if end := l.End(); l.Currency == cur && (end.IsZero() || end.After(at)) {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Contract != out[j].Contract {
			return out[i].Contract < out[j].Contract
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(max(limit, 0), len(out))], nil
}

func (m *memStore) notifications(keep func(ledger.Notification) bool, limit int) []ledger.Notification {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []ledger.Notification{}
	for _, n := range m.notes {
		if keep(n) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].CreatedAt.Compare(out[j].CreatedAt); c != 0 {
			return c < 0
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(max(limit, 0), len(out))]
}

func (m *memStore) PendingNotifications(ctx context.Context, at time.Time, limit int) ([]ledger.Notification, error) {
	out := m.notifications(func(n ledger.Notification) bool { return n.Claimable(at) }, 1<<30)
	slices.SortFunc(out, func(a, b ledger.Notification) int {
		return cmp.Or(a.DueAt().Compare(b.DueAt()), strings.Compare(a.ID, b.ID))
	})
	return out[:min(max(limit, 0), len(out))], nil
}

func (m *memStore) NotificationsByPrefix(ctx context.Context, contract, prefix string) ([]ledger.Notification, error) {
	if prefix == "" {
		return nil, errors.New("memstore: empty prefix")
	}
	out := m.notifications(func(n ledger.Notification) bool {
		return n.Contract == contract && strings.HasPrefix(n.ID, prefix)
	}, 1<<30)
	slices.SortFunc(out, func(a, b ledger.Notification) int { return strings.Compare(a.ID, b.ID) })
	return out[:min(len(out), ledger.NotificationsPerContractMax)], nil
}

func (m *memStore) Notifications(ctx context.Context, contract string) ([]ledger.Notification, error) {
	out := m.notifications(func(n ledger.Notification) bool { return n.Contract == contract }, 1<<30)
	return out[max(0, len(out)-ledger.NotificationsPerContractMax):], nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
