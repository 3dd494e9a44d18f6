package credits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
)

// AlertContractsPage is how many contract ids one directory read returns
// while SweepAlerts walks every contract.
const AlertContractsPage = 100

// AlertSweepReport says what one alert check did.
type AlertSweepReport struct {
	Contracts      int `json:"contracts_checked"`
	AlertsRecorded int `json:"alerts_recorded"`
	// AlertsKnown counts alerts whose event was already in the outbox.
	AlertsKnown int `json:"alerts_known"`
	// ContractsFailed counts contracts whose check failed (the others are
	// still checked; SweepAlerts then returns the errors).
	ContractsFailed int `json:"contracts_failed"`
}

// History reads the usage roll-ups governance reports look at: the
// governance.HistoryMonths complete months before at, and at's month.
func (s *Service) History(ctx context.Context, contract string, at time.Time) ([]ledger.Usage, error) {
	to := ledger.Month(at)
	return s.store.Usage(ctx, contract, governance.AddMonths(to, -governance.HistoryMonths), to)
}

// Alerts checks contract c at `at`: what GET /alerts answers (at most
// governance.AlertsMax alerts; SweepAlerts records every one).
func (s *Service) Alerts(ctx context.Context, c ledger.Contract, at time.Time) (governance.AlertReport, error) {
	return s.alerts(ctx, c, at, governance.Alerts)
}

func (s *Service) alerts(ctx context.Context, c ledger.Contract, at time.Time,
	check func(ledger.Contract, []ledger.Lot, []ledger.Usage, time.Time) governance.AlertReport) (governance.AlertReport, error) {
	lots, err := s.Lots(ctx, c.ID)
	if err != nil {
		return governance.AlertReport{}, err
	}
	rows, err := s.store.Usage(ctx, c.ID, governance.AlertHistoryFrom(at), ledger.Month(at))
	if err != nil {
		return governance.AlertReport{}, err
	}
	return check(c, lots, rows, at), nil
}

// AlertErrorsMax bounds the contract errors one check returns (the rest
// are counted in ContractsFailed).
const AlertErrorsMax = 10

// SweepAlerts checks every contract's alerts and records each new alert
// event in the outbox (the next Sweep sends it). Terminated contracts are
// skipped. It runs on its own schedule (hourly in production), not on
// every sweep: a check reads a contract's lots and 4 months of roll-ups.
// Each alert is its own create-if-absent write, so two checks running at
// once record each event once. A contract whose check fails does not stop
// the others: the check goes on and returns the failures at the end, so
// the run still counts as failed.
func (s *Service) SweepAlerts(ctx context.Context) (AlertSweepReport, error) {
	var (
		rep   AlertSweepReport
		errs  []error
		at    = s.now(ctx)
		after = ""
	)
	for {
		ids, err := s.store.Contracts(ctx, after, AlertContractsPage)
		if err != nil {
			return rep, errors.Join(append(errs, fmt.Errorf("list contracts: %w", err))...)
		}
		for _, id := range ids {
			if err := s.recordAlerts(ctx, id, at, &rep); err != nil {
				if ctx.Err() != nil {
					return rep, errors.Join(append(errs, err)...)
				}
				rep.ContractsFailed++
				if len(errs) < AlertErrorsMax {
					errs = append(errs, err)
				}
			}
		}
		if len(ids) < AlertContractsPage {
			return rep, errors.Join(errs...)
		}
		after = ids[len(ids)-1]
	}
}

func (s *Service) recordAlerts(ctx context.Context, id string, at time.Time, rep *AlertSweepReport) error {
	recorded := 0 // across attempts: each is a real write
	for attempt := 1; ; attempt++ {
		c, err := s.store.Contract(ctx, id)
		if err != nil {
			return fmt.Errorf("read contract %s: %w", id, err)
		}
		if !c.TerminatedAt.IsZero() && !c.TerminatedAt.After(at) {
			return nil
		}
		if attempt == 1 {
			rep.Contracts++
		}
		events, n, err := s.recordContractAlerts(ctx, c, at)
		recorded += n
		if err == nil {
			// Every event is now recorded: by one of these attempts, or before.
			rep.AlertsRecorded += recorded
			rep.AlertsKnown += max(0, events-recorded)
			return nil
		}
		if !errors.Is(err, errContractChanged) || attempt == RecordAttempts {
			rep.AlertsRecorded += recorded
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// recordContractAlerts records c's new alert events, addressed from c. It
// returns how many events c has and how many this call recorded.
func (s *Service) recordContractAlerts(ctx context.Context, c ledger.Contract, at time.Time) (events, recorded int, err error) {
	ar, err := s.alerts(ctx, c, at, governance.AllAlerts)
	if err != nil {
		return 0, 0, fmt.Errorf("check alerts of %s: %w", c.ID, err)
	}
	notes := governance.AlertNotifications(c, ar, at)
	if len(notes) == 0 {
		return 0, 0, nil
	}
	// Every alert id carries one of the report's months (the baseline
	// checks' months; the pools' is the current one).
	var known []ledger.Notification
	for _, month := range ar.Months {
		got, err := s.store.NotificationsByPrefix(ctx, c.ID, governance.AlertIDPrefix(c.ID, month))
		if err != nil {
			return len(notes), 0, fmt.Errorf("read the %s alerts of %s: %w", month, c.ID, err)
		}
		known = append(known, got...)
	}
	recorded, _, err = s.recordNew(ctx, at, c, notes, known)
	return len(notes), recorded, err
}

// ReaddressRoundsMax bounds the follow-up Txs one address change runs
// (each moves up to ledger.ReaddressMax notifications).
const ReaddressRoundsMax = 50

// SetNotifyEmail sets (or clears) a contract's notification address and
// moves what is not yet sent to it (ledger.PlanSetNotifyEmail), then, in
// follow-up Txs, the rest — including anything recorded under the old
// address while the change was planned — on the first answer and on every
// replay.
func (s *Service) SetNotifyEmail(ctx context.Context, contract string, req ledger.NotifyEmailRequest, idem ledger.Idem) (Outcome, error) {
	out, err := s.setNotifyEmail(ctx, contract, req, idem)
	if err != nil {
		return out, err
	}
	return out, s.readdressAfter(ctx, contract)
}

// readdressAfter moves the contract's notifications not yet sent to its
// address now, ledger.ReaddressMax per Tx, until none is left.
func (s *Service) readdressAfter(ctx context.Context, contract string) error {
	for range ReaddressRoundsMax {
		in, err := s.readAddressed(ctx, contract)
		if err != nil {
			return err
		}
		tx := ledger.PlanReaddress(in.contract, in.notes, s.now(ctx))
		if len(tx.Ops) == 0 {
			return nil
		}
		if err := s.store.Apply(ctx, tx); err != nil {
			if _, ok := errors.AsType[*ledger.ConflictError](err); ok {
				continue // claimed, sent or changed meanwhile: read again
			}
			return fmt.Errorf("move the notifications of %s to its address: %w", contract, err)
		}
	}
	return core.Errorf(core.CodeConflict, "the notifications of %s were still being moved to its address after %d rounds; send the request again to carry on", contract, ReaddressRoundsMax)
}

func (s *Service) setNotifyEmail(ctx context.Context, contract string, req ledger.NotifyEmailRequest, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "notify-email", []any{contract, req},
		func(try) (addressed, error) { return s.readAddressed(ctx, contract) },
		func(in addressed, t try) (ledger.Decision, error) {
			return ledger.PlanSetNotifyEmail(in.contract, req, in.notes, t.prior, t.idem, t.env)
		})
}

// addressed is a contract with its notifications, which an address change
// moves.
type addressed struct {
	contract ledger.Contract
	notes    []ledger.Notification
}

func (s *Service) readAddressed(ctx context.Context, contract string) (addressed, error) {
	c, err := s.store.Contract(ctx, contract)
	if err != nil {
		return addressed{}, err
	}
	notes, err := s.store.Notifications(ctx, contract)
	return addressed{contract: c, notes: notes}, err
}
