package credits

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/notify"

	"github.com/shopspring/decimal"
)

// RetriesMax bounds how often one request is re-planned after losing a race.
const RetriesMax = 12

// UnavailableRetriesMax bounds how often one request is re-planned after
// the store, its client's own retries spent, was unavailable for a write.
const UnavailableRetriesMax = 2

// SweepBatchMax bounds the lots and holds one sweep handles.
const SweepBatchMax = 500

// Service is the ledger's application service.
type Service struct {
	store ledger.Store
	// Now is the clock; tests pass a fixed or stepping one.
	Now func() time.Time
	// NewID makes operation ids; nil means newID's.
	NewID func() string
	// Notifier delivers the outbox on each Sweep; nil leaves notifications
	// pending (they are still recorded).
	Notifier notify.Sender

	sunsetMu sync.Mutex
	sunsets  map[core.Currency]cachedSunset // spendSunset's cache
}

// New returns a Service on st with the clock now (nil: the system clock)
// and random ids. The store is the service's alone: no other layer reads or
// writes it.
func New(st ledger.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, Now: now}
}

// Outcome is a mutating request's result as stored for replay: the JSON
// body, byte for byte, and whether this answer is a replay.
type Outcome struct {
	Body     []byte
	Replayed bool
}

// Decode unmarshals an outcome's body into v.
func (o Outcome) Decode(v any) error { return json.Unmarshal(o.Body, v) }

type timeKey struct{}

// WithTime gives ctx the instant of the request it carries: the service
// plans every write of that request at it (retries included), so the rate
// card the caller chose and the ledger's write see one clock reading.
func WithTime(ctx context.Context, at time.Time) context.Context {
	return context.WithValue(ctx, timeKey{}, at.UTC())
}

// TimeOf is the request instant WithTime set, if any.
func TimeOf(ctx context.Context) (time.Time, bool) {
	at, ok := ctx.Value(timeKey{}).(time.Time)
	return at, ok
}

// now is the request's instant, or the service clock outside a request
// (the sweeper, tests).
func (s *Service) now(ctx context.Context) time.Time {
	if at, ok := TimeOf(ctx); ok {
		return at
	}
	return s.Now().UTC()
}

// env is one attempt's Env. An operation under an idempotency key gets a
// keyed id (ledger.KeyedID: a store may keep its record with the key's),
// any other newID's; both begin with the system clock's milliseconds.
func (s *Service) env(ctx context.Context, contract string, idem ledger.Idem) ledger.Env {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("credits: no randomness: " + err.Error())
	}
	var id string
	switch {
	case s.NewID != nil:
		id = s.NewID()
	case idem.Key != "":
		id = ledger.KeyedID(idem.ScopeOr(contract), idem.Key, time.Now(), binary.LittleEndian.Uint32(b[:4]))
	default:
		id = newID(time.Now(), b[:8])
	}
	return ledger.Env{At: s.now(ctx), OpID: id, Rotation: binary.LittleEndian.Uint32(b[8:])}
}

// newID is an operation id: "op_", the Unix milliseconds of the system
// clock when it was made (12 hex digits), then 64 random bits (16). The
// random part makes it unique; the time in front makes ids made one after
// another sort together, so the records keyed by them (consumptions,
// holds, entries) are added at the end of a store's ordered indexes
// rather than all over them, which would touch one page of each per
// record. It is the system clock, not the request's instant (a test's
// clock may stand still), and says nothing about when the operation
// happened: records carry their own times.
func newID(now time.Time, random []byte) string {
	return fmt.Sprintf("op_%012x%x", uint64(now.UnixMilli())&(1<<48-1), random)
}

// run is the read–plan–apply loop every mutation shares. plan reads what it
// needs (prior is the live idempotency record for the key, if any) and
// returns the planner's decision.
func (s *Service) run(ctx context.Context, contract string, idem ledger.Idem, plan func(env ledger.Env, prior *ledger.IdempotencyRecord) (ledger.Decision, error)) (Outcome, error) {
	// The key's form is checked here, once, for every caller, before
	// anything is read.
	if err := ledger.CheckIdem(idem.Key); err != nil {
		return Outcome{}, err
	}
	return s.loop(ctx, contract, idem, false, plan)
}

// runSystem is run for the ledger's own operations, which carry no key: a
// payment event (the order's status makes it happen once) and the sweeper's
// closes and releases (each conditioned on the state it read).
func (s *Service) runSystem(ctx context.Context, contract string, plan func(env ledger.Env) (ledger.Decision, error)) (Outcome, error) {
	return s.loop(ctx, contract, ledger.Idem{}, false, func(env ledger.Env, _ *ledger.IdempotencyRecord) (ledger.Decision, error) {
		return plan(env)
	})
}

// loop runs plan and applies its Tx until it is applied, replayed or
// refused. Before planning it reads the key's idempotency record — except,
// when lazy, on the first attempt: the Tx's own idempotency record is
// created only if the key is unused (its write's condition), so a
// repeated request fails that condition and is planned again with the
// record (a replay); a refusal reads the record before it answers, so a
// replay is never refused. A spend so needs no read of its own for the key.
func (s *Service) loop(ctx context.Context, contract string, idem ledger.Idem, lazy bool, plan func(env ledger.Env, prior *ledger.IdempotencyRecord) (ledger.Decision, error)) (Outcome, error) {
	var lastConflict error
	for attempt := 0; attempt <= RetriesMax; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return Outcome{}, err
			}
		}
		env := s.env(ctx, contract, idem)
		var prior *ledger.IdempotencyRecord
		readPrior := func() error {
			r, ok, err := s.store.Idempotency(ctx, idem.ScopeOr(contract), idem.Key, env.At)
			if err != nil {
				return fmt.Errorf("read idempotency record: %w", err)
			}
			if ok {
				prior = &r
			}
			return nil
		}
		skipped := lazy && attempt == 0
		if idem.Key != "" && !skipped {
			if err := readPrior(); err != nil {
				return Outcome{}, err
			}
		}
		d, err := plan(env, prior)
		if err != nil && idem.Key != "" && skipped && core.ErrorCode(err) != core.CodeUnavailable {
			if rerr := readPrior(); rerr != nil {
				return Outcome{}, rerr
			}
			if prior != nil {
				d, err = plan(env, prior)
			}
		}
		if err != nil {
			if len(d.Tx.Ops) > 0 {
				// A refusal that leaves a trace (the audit's attempt record).
				if aerr := s.store.Apply(ctx, d.Tx); aerr != nil {
					return Outcome{}, fmt.Errorf("record refused attempt: %w", aerr)
				}
			}
			return Outcome{}, err
		}
		if d.Replayed || len(d.Tx.Ops) == 0 {
			return Outcome{Body: d.Response, Replayed: d.Replayed}, nil
		}
		err = s.store.Apply(ctx, d.Tx)
		var conflict *ledger.ConflictError
		// An unavailable store may have applied the Tx before its answer was
		// lost: re-planning reads the idempotency record and replays if so.
		if errors.As(err, &conflict) || core.ErrorCode(err) == core.CodeUnavailable && attempt < UnavailableRetriesMax {
			lastConflict = err
			continue
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("apply: %w", err)
		}
		return Outcome{Body: d.Response}, nil
	}
	return Outcome{}, fmt.Errorf("gave up after %d attempts: %w", RetriesMax+1, lastConflict)
}

func backoff(ctx context.Context, attempt int) error {
	var b [2]byte
	_, _ = rand.Read(b[:])
	t := time.NewTimer(RetryDelay(attempt, binary.LittleEndian.Uint16(b[:])))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RetryDelay is how long a re-plan waits before its attempt (1 for the
// first re-plan): a base of 2^attempt ms (at most 64 ms) plus jitter, a
// random number, modulo that base. It is exported for the capacity model,
// which replays the service's retries in simulated time.
func RetryDelay(attempt int, jitter uint16) time.Duration {
	base := time.Duration(1<<min(attempt, 6)) * time.Millisecond
	return base + time.Duration(jitter)%base
}

// fingerprint sets the fingerprint of a request's body. The body always
// names its operation first, so one key sent to two operations with the same
// fields (a consumption and a hold of one SpendRequest) is a reused key, not
// a replay of the other operation's answer.
func fingerprint(idem ledger.Idem, operation string, req any) ledger.Idem {
	if idem.Fingerprint == "" {
		b, err := json.Marshal(req)
		if err != nil {
			panic("credits: fingerprint of an unencodable request: " + err.Error())
		}
		idem.Fingerprint = ledger.Fingerprint(operation, b)
	}
	return idem
}

// found is v when err is nil, nil when err is not_found, and otherwise err.
func found[T any](v T, err error) (*T, error) {
	switch {
	case err == nil:
		return &v, nil
	case core.ErrorCode(err) == core.CodeNotFound:
		return nil, nil
	}
	return nil, err
}

// spendState reads what a spend at `at` needs (Store.ReadSpend: the
// contract, the user, the lots the user may draw on, the project's budget
// with its counter for month) and the currency's sunset.
func (s *Service) spendState(ctx context.Context, contract, user, project string, cur core.Currency, at time.Time, month string) (ledger.SpendState, error) {
	st, err := s.store.ReadSpend(ctx, ledger.SpendQuery{Contract: contract, User: user, Project: project, Currency: cur, At: at, Month: month})
	if err != nil {
		return st, err
	}
	st.Sunset, err = s.spendSunset(ctx, cur, at)
	return st, err
}

// try is what one attempt of a keyed mutation plans with: its instant and
// op id, the live idempotency record for the key (nil: none), and the key
// with the request's fingerprint.
type try struct {
	env   ledger.Env
	prior *ledger.IdempotencyRecord
	idem  ledger.Idem
}

// mutate is the shape every keyed mutation shares: fingerprint the request
// (operation and req), then on each attempt read what the plan starts from
// and plan with it.
func mutate[In any](ctx context.Context, s *Service, scope string, idem ledger.Idem, operation string, req []any,
	read func(t try) (In, error), plan func(in In, t try) (ledger.Decision, error)) (Outcome, error) {
	return mutateWith(ctx, s, false, scope, idem, operation, req, read, plan)
}

// mutateWith is mutate; lazy leaves the key's record unread until the
// request is refused or its write finds the key used (see loop): the
// spends', whose planners do nothing outside the ledger.
func mutateWith[In any](ctx context.Context, s *Service, lazy bool, scope string, idem ledger.Idem, operation string, req []any,
	read func(t try) (In, error), plan func(in In, t try) (ledger.Decision, error)) (Outcome, error) {
	idem = fingerprint(idem, operation, req)
	if err := ledger.CheckIdem(idem.Key); err != nil {
		return Outcome{}, err
	}
	return s.loop(ctx, scope, idem, lazy, func(env ledger.Env, prior *ledger.IdempotencyRecord) (ledger.Decision, error) {
		t := try{env: env, prior: prior, idem: idem}
		in, err := read(t)
		if err != nil {
			return ledger.Decision{}, err
		}
		return plan(in, t)
	})
}

// readContract reads the contract a mutation plans on.
func (s *Service) readContract(ctx context.Context, contract string) func(try) (ledger.Contract, error) {
	return func(try) (ledger.Contract, error) { return s.store.Contract(ctx, contract) }
}

// withLots is a record with the lots a mutation of it plans on, read after it.
type withLots[T any] struct {
	rec  T
	lots []ledger.Lot
}

// andLots reads the lots that go with rec (read reads them), unless reading
// rec failed (err).
func andLots[T any](rec T, err error, read func(T) ([]ledger.Lot, error)) (withLots[T], error) {
	if err != nil {
		return withLots[T]{}, err
	}
	lots, err := read(rec)
	return withLots[T]{rec: rec, lots: lots}, err
}

// lotsOf reads the lots of debits (a consumption's or a hold's): what a
// refund, a settlement or a release plans on.
func (s *Service) lotsOf(ctx context.Context, contract string, debits []ledger.Debit) ([]ledger.Lot, error) {
	lots := make([]ledger.Lot, 0, len(debits))
	for _, d := range debits {
		if slices.ContainsFunc(lots, func(l ledger.Lot) bool { return l.ID == d.Lot }) {
			continue
		}
		l, err := s.store.Lot(ctx, contract, d.Lot)
		if err != nil {
			return nil, err
		}
		lots = append(lots, l)
	}
	return lots, nil
}

// readSpend reads what a spend of req plans with.
func (s *Service) readSpend(ctx context.Context, req ledger.SpendRequest) func(try) (ledger.SpendState, error) {
	return func(t try) (ledger.SpendState, error) {
		st, err := s.spendState(ctx, req.Contract, req.User, req.Project, req.Currency, t.env.At, ledger.Month(t.env.At))
		st.Prior = t.prior
		return st, err
	}
}

// Consume debits credits for a job, in burn order, exactly once per key.
func (s *Service) Consume(ctx context.Context, req ledger.SpendRequest, idem ledger.Idem) (Outcome, error) {
	return mutateWith(ctx, s, true, req.Contract, idem, "consume", []any{req}, s.readSpend(ctx, req),
		func(st ledger.SpendState, t try) (ledger.Decision, error) {
			return ledger.PlanConsume(st, req, t.idem, t.env)
		})
}

// Hold reserves credits for a variable-cost job.
func (s *Service) Hold(ctx context.Context, req ledger.SpendRequest, idem ledger.Idem) (Outcome, error) {
	return mutateWith(ctx, s, true, req.Contract, idem, "hold", []any{req}, s.readSpend(ctx, req),
		func(st ledger.SpendState, t try) (ledger.Decision, error) {
			return ledger.PlanHold(st, req, t.idem, t.env)
		})
}

// holdInput reads a hold and the lots it reserved from; settling (settle)
// also reads the spend state at `at` a settlement above the hold draws on
// (with the budget counter of the month the hold was taken).
func (s *Service) holdInput(ctx context.Context, contract, holdID string, at time.Time, settle bool) (ledger.HoldInput, error) {
	h, err := s.store.Hold(ctx, contract, holdID)
	if err != nil {
		return ledger.HoldInput{}, err
	}
	var st ledger.SpendState
	if settle {
		if st, err = s.spendState(ctx, contract, h.User, h.Project, h.Currency, at, ledger.Month(h.CreatedAt)); err != nil {
			return ledger.HoldInput{}, err
		}
	}
	held, err := s.lotsOf(ctx, contract, h.Debits)
	if err != nil {
		return ledger.HoldInput{}, err
	}
	st.Lots = union(held, st.Lots)
	return ledger.HoldInput{Hold: h, State: st}, nil
}

// union is lots and then those of more whose id lots does not have.
func union(lots, more []ledger.Lot) []ledger.Lot {
	seen := make(map[string]bool, len(lots))
	for _, l := range lots {
		seen[l.ID] = true
	}
	for _, l := range more {
		if !seen[l.ID] {
			lots = append(lots, l)
		}
	}
	return lots
}

// readHold reads what settling (settle) or releasing a hold plans with.
func (s *Service) readHold(ctx context.Context, contract, holdID string, settle bool) func(try) (ledger.HoldInput, error) {
	return func(t try) (ledger.HoldInput, error) {
		in, err := s.holdInput(ctx, contract, holdID, t.env.At, settle)
		in.State.Prior = t.prior
		return in, err
	}
}

// Settle settles a hold with the actual cost.
func (s *Service) Settle(ctx context.Context, contract, holdID string, actual decimal.Decimal, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "settle", []any{contract, holdID, actual}, s.readHold(ctx, contract, holdID, true),
		func(in ledger.HoldInput, t try) (ledger.Decision, error) {
			return ledger.PlanSettle(in, actual, t.idem, t.env)
		})
}

// Release returns a hold's credits to its lots.
func (s *Service) Release(ctx context.Context, contract, holdID string, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "release", []any{contract, holdID}, s.readHold(ctx, contract, holdID, false),
		func(in ledger.HoldInput, t try) (ledger.Decision, error) {
			return ledger.PlanRelease(in, t.idem, t.env, false)
		})
}

// Refund reverses credits of a consumption; zero credits means all that is
// left to refund.
func (s *Service) Refund(ctx context.Context, contract, consumptionID string, credits decimal.Decimal, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "refund", []any{contract, consumptionID, credits},
		func(try) (withLots[ledger.Consumption], error) {
			c, err := s.store.Consumption(ctx, contract, consumptionID)
			return andLots(c, err, func(c ledger.Consumption) ([]ledger.Lot, error) { return s.lotsOf(ctx, contract, c.Debits) })
		},
		func(in withLots[ledger.Consumption], t try) (ledger.Decision, error) {
			return ledger.PlanRefund(in.rec, ledger.SpendState{Lots: in.lots, Prior: t.prior}, credits, t.idem, t.env)
		})
}

// CreateContract creates a contract.
func (s *Service) CreateContract(ctx context.Context, c ledger.Contract, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, c.ID, idem, "contract", []any{c},
		func(t try) (struct{}, error) {
			if t.prior != nil {
				return struct{}{}, nil
			}
			// A taken id is no race to retry: say so at once.
			if _, err := s.store.Contract(ctx, c.ID); err == nil {
				return struct{}{}, core.Errorf(core.CodeConflict, "contract %s already exists", c.ID)
			} else if core.ErrorCode(err) != core.CodeNotFound {
				return struct{}{}, err
			}
			return struct{}{}, nil
		},
		func(_ struct{}, t try) (ledger.Decision, error) {
			return ledger.PlanCreateContract(c, t.prior, t.idem, t.env)
		})
}

// AddUser associates a user with a contract, with the one-time grant.
func (s *Service) AddUser(ctx context.Context, contract string, req ledger.UserRequest, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "user", []any{contract, req}, s.readContract(ctx, contract),
		func(c ledger.Contract, t try) (ledger.Decision, error) {
			existing, err := found(s.store.User(ctx, contract, req.User))
			if err != nil {
				return ledger.Decision{}, err
			}
			granted, err := s.store.Granted(ctx, contract, req.User)
			if err != nil {
				return ledger.Decision{}, err
			}
			req := req
			var guard ledger.SunsetIs
			if req.CurrencyEnd, guard, err = s.lotEnd(ctx, core.Cloud, req.CurrencyEnd); err != nil {
				return ledger.Decision{}, err
			}
			return guarded(guard)(ledger.PlanAddUser(c, existing, granted, req, t.prior, t.idem, t.env))
		})
}

// RemoveUser ends a user's association; their individual lots end now.
func (s *Service) RemoveUser(ctx context.Context, contract, user string, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "remove-user", []any{contract, user},
		func(try) (withLots[ledger.User], error) {
			u, err := s.store.User(ctx, contract, user)
			return andLots(u, err, func(ledger.User) ([]ledger.Lot, error) { return s.store.OwnerLots(ctx, contract, user) })
		},
		func(in withLots[ledger.User], t try) (ledger.Decision, error) {
			return ledger.PlanRemoveUser(in.rec, in.lots, t.prior, t.idem, t.env)
		})
}

// SetBudget creates or replaces a project's monthly cap.
func (s *Service) SetBudget(ctx context.Context, contract, project string, req ledger.BudgetRequest, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "budget", []any{contract, project, req}, s.readContract(ctx, contract),
		func(_ ledger.Contract, t try) (ledger.Decision, error) {
			return ledger.PlanSetBudget(contract, project, req, t.prior, t.idem, t.env)
		})
}

// GrantShared adds a shared lot (or its shards) to a contract.
func (s *Service) GrantShared(ctx context.Context, contract string, req ledger.GrantRequest, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "grant", []any{contract, req}, s.readContract(ctx, contract),
		func(c ledger.Contract, t try) (ledger.Decision, error) {
			if t.prior == nil {
				// Lot ids are unique within a contract; a taken one is no race.
				if _, err := s.store.Lot(ctx, contract, req.Lot); err == nil {
					return ledger.Decision{}, core.Errorf(core.CodeConflict, "lot %s already exists", req.Lot)
				} else if core.ErrorCode(err) != core.CodeNotFound {
					return ledger.Decision{}, err
				}
			}
			req := req
			var guard ledger.SunsetIs
			var err error
			if req.CurrencyEnd, guard, err = s.lotEnd(ctx, req.Currency, req.CurrencyEnd); err != nil {
				return ledger.Decision{}, err
			}
			return guarded(guard)(ledger.PlanGrantShared(c, req, t.prior, t.idem, t.env))
		})
}

// WithdrawLot records the vendor's withdrawal notice on an individual lot.
func (s *Service) WithdrawLot(ctx context.Context, contract, lot string, noticeAt time.Time, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "withdraw", []any{contract, lot, noticeAt},
		func(try) (ledger.Lot, error) { return s.store.Lot(ctx, contract, lot) },
		func(l ledger.Lot, t try) (ledger.Decision, error) {
			c, err := s.store.Contract(ctx, contract)
			if err != nil {
				return ledger.Decision{}, err
			}
			at := noticeAt
			if at.IsZero() {
				at = t.env.At
			}
			dec, err := ledger.PlanWithdrawLot(l, c.NotifyEmail, at, t.prior, t.idem, t.env)
			if err == nil && len(dec.Tx.Ops) > 0 {
				// The notice is addressed from c: an address change in between re-plans.
				dec.Tx.Ops = append(dec.Tx.Ops, ledger.ContractIs{Contract: c.ID, Version: c.Version})
			}
			return dec, err
		})
}

// readContractLots reads a contract and its lots.
func (s *Service) readContractLots(ctx context.Context, contract string) (withLots[ledger.Contract], error) {
	c, err := s.store.Contract(ctx, contract)
	return andLots(c, err, func(ledger.Contract) ([]ledger.Lot, error) { return s.Lots(ctx, contract) })
}

// terminate plans and applies the termination itself.
func (s *Service) terminate(ctx context.Context, contract string, at time.Time, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "terminate", []any{contract, at},
		func(try) (withLots[ledger.Contract], error) { return s.readContractLots(ctx, contract) },
		func(in withLots[ledger.Contract], t try) (ledger.Decision, error) {
			end := at
			if end.IsZero() {
				end = t.env.At
			}
			return ledger.PlanTerminate(in.rec, in.lots, end, t.prior, t.idem, t.env)
		})
}

// Terminate ends a contract at `at`; zero means now. A contract with more
// lots than one transaction holds has the rest ended in follow-up writes, on
// the first answer and on every replay, so a retry finishes what a crash
// interrupted.
func (s *Service) Terminate(ctx context.Context, contract string, at time.Time, idem ledger.Idem) (Outcome, error) {
	out, err := s.terminate(ctx, contract, at, idem)
	if err != nil {
		return out, err
	}
	return out, s.endLotsAfter(ctx, contract)
}

// endLotsAfter ends, in bounded transactions, every lot of a contract that
// would outlive the contract's end.
func (s *Service) endLotsAfter(ctx context.Context, contract string) error {
	for round := 0; round <= RetriesMax; round++ {
		in, err := s.readContractLots(ctx, contract)
		if err != nil {
			return err
		}
		ops := ledger.EndLotsAfter(in.rec, in.lots)
		if len(ops) == 0 {
			return nil
		}
		if err := s.endLots(ctx, ops); err != nil {
			return fmt.Errorf("end lots of contract %s: %w", contract, err)
		}
	}
	return core.Errorf(core.CodeConflict, "lots of contract %s kept changing while it was terminated; retry", contract)
}

// endLots applies ops in Txs of at most ledger.EndLotsPerTxMax lot ends. A
// Tx that loses a race (a lot changed meanwhile) ends it without an error:
// the caller reads again.
func (s *Service) endLots(ctx context.Context, ops []ledger.UpdateLot) error {
	for len(ops) > 0 {
		n := min(len(ops), ledger.EndLotsPerTxMax)
		tx := ledger.Tx{At: s.now(ctx)}
		for _, op := range ops[:n] {
			tx.Ops = append(tx.Ops, op)
		}
		ops = ops[n:]
		if err := s.store.Apply(ctx, tx); err != nil {
			if _, lost := errors.AsType[*ledger.ConflictError](err); lost {
				return nil
			}
			return err
		}
	}
	return nil
}

// SweepReport says what one sweep did.
type SweepReport struct {
	LotsClosed    int `json:"lots_closed"`
	HoldsReleased int `json:"holds_released"`
	// LotsRetired counts finished lots the sweep has no more work on
	// (ledger.PlanRetireLot).
	LotsRetired int `json:"lots_retired"`
	// WarningsRecorded counts expiry warnings put in the outbox;
	// NotificationsSent and NotificationsFailed what the drain delivered
	// and what stays pending for the next sweep.
	WarningsRecorded    int `json:"warnings_recorded"`
	NotificationsSent   int `json:"notifications_sent"`
	NotificationsFailed int `json:"notifications_failed"`
}

// Sweep closes out ended lots (remaining → expired or withdrawn), releases
// holds past their expiry, records expiry warnings for lots ending within
// ledger.ExpiryWarningAhead, and delivers pending notifications through
// Notifier. Each item is its own conditional write, so two sweepers running
// at once do every piece of work once (a notification may be sent twice
// when two drain it at once; see sweepNotifications).
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	at := s.now(ctx)
	holds, err := s.store.ExpiredHolds(ctx, at, SweepBatchMax)
	if err != nil {
		return rep, fmt.Errorf("list expired holds: %w", err)
	}
	for _, h := range holds {
		_, err := s.runSystem(ctx, h.Contract, func(env ledger.Env) (ledger.Decision, error) {
			in, err := s.holdInput(ctx, h.Contract, h.ID, env.At, false)
			if err != nil {
				return ledger.Decision{}, err
			}
			return ledger.PlanRelease(in, ledger.Idem{}, env, true)
		})
		switch {
		case err == nil:
			rep.HoldsReleased++
		case core.ErrorCode(err) == core.CodeConflict: // settled or released meanwhile
		default:
			return rep, fmt.Errorf("release hold %s: %w", h.ID, err)
		}
	}
	lots, err := s.store.EndedLots(ctx, at, SweepBatchMax)
	if err != nil {
		return rep, fmt.Errorf("list ended lots: %w", err)
	}
	for _, l := range lots {
		closed, retired := false, false
		_, err := s.runSystem(ctx, l.Contract, func(env ledger.Env) (ledger.Decision, error) {
			cur, err := s.store.Lot(ctx, l.Contract, l.ID)
			if err != nil {
				return ledger.Decision{}, err
			}
			// Another sweeper may have closed or retired it already.
			tx := ledger.PlanExpireLot(cur, env)
			if closed = len(tx.Ops) > 0; !closed {
				tx, retired = ledger.PlanRetireLot(cur, env)
			}
			return ledger.Decision{Tx: tx}, nil
		})
		if err != nil {
			return rep, fmt.Errorf("close lot %s: %w", l.ID, err)
		}
		if closed {
			rep.LotsClosed++
		}
		if retired {
			rep.LotsRetired++
		}
	}
	if err := s.sweepNotifications(ctx, at, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// BalanceResult is the balance view of API.md.
type BalanceResult struct {
	Balances map[core.Currency]ledger.BalanceView `json:"balances"`
	Lots     []LotView                            `json:"lots"`
	// Refused says why a user's balance is empty: they may spend none of
	// the contract's credits (ledger.SpendRefusal). Absent otherwise.
	Refused *BalanceRefusal `json:"refused,omitempty"`
}

// LotView is one lot in a balance answer.
type LotView struct {
	ID        string          `json:"id"`
	Currency  core.Currency   `json:"currency"`
	Kind      ledger.Kind     `json:"kind"`
	Owner     string          `json:"owner,omitempty"`
	Source    ledger.Source   `json:"source"`
	Amount    decimal.Decimal `json:"amount"`
	Remaining decimal.Decimal `json:"remaining"`
	Held      decimal.Decimal `json:"held"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
}

// Balance returns what is spendable now, by currency, and the live lots.
// With user empty it is the contract's whole balance; with a user, that
// user's individual lots and the shared pool.
func (s *Service) Balance(ctx context.Context, contract, user string) (BalanceResult, error) {
	at := s.now(ctx)
	var lots []ledger.Lot
	var err error
	if user != "" {
		lots, err = s.store.SpendLots(ctx, contract, user, at)
	} else {
		lots, err = s.Lots(ctx, contract)
	}
	if err != nil {
		return BalanceResult{}, err
	}
	res := BalanceResult{Balances: ledger.Balances(lots, user, at), Lots: []LotView{}}
	for _, l := range lots {
		if !l.LiveAt(at) || (user != "" && !l.SpendableBy(user)) {
			continue
		}
		v := LotView{ID: l.ID, Currency: l.Currency, Kind: l.Kind, Owner: l.Owner, Source: l.Source,
			Amount: l.Amount, Remaining: l.Remaining, Held: l.Held}
		if end := l.End(); !end.IsZero() {
			v.ExpiresAt = &end
		}
		res.Lots = append(res.Lots, v)
	}
	return res, nil
}
