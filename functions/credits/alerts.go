package credits

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	return s.Store.Usage(ctx, contract, governance.AddMonths(to, -governance.HistoryMonths), to)
}

// Alerts checks contract c at `at`: what GET /alerts answers (at most
// governance.AlertsMax alerts; SweepAlerts records every one).
func (s *Service) Alerts(ctx context.Context, c ledger.Contract, at time.Time) (governance.AlertReport, error) {
	return s.alerts(ctx, c, at, governance.Alerts)
}

func (s *Service) alerts(ctx context.Context, c ledger.Contract, at time.Time,
	check func(ledger.Contract, []ledger.Lot, []ledger.Usage, time.Time) governance.AlertReport) (governance.AlertReport, error) {
	lots, err := s.Store.Lots(ctx, c.ID)
	if err != nil {
		return governance.AlertReport{}, err
	}
	rows, err := s.Store.Usage(ctx, c.ID, governance.AlertHistoryFrom(at), ledger.Month(at))
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
		at    = s.Now().UTC()
		after = ""
	)
	for {
		ids, err := s.Store.Contracts(ctx, after, AlertContractsPage)
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
	for attempt := 1; ; attempt++ {
		c, err := s.Store.Contract(ctx, id)
		if err != nil {
			return fmt.Errorf("read contract %s: %w", id, err)
		}
		if !c.TerminatedAt.IsZero() && !c.TerminatedAt.After(at) {
			return nil
		}
		if attempt == 1 {
			rep.Contracts++
		}
		err = s.recordContractAlerts(ctx, c, at, rep)
		if !errors.Is(err, errContractChanged) || attempt == RecordAttempts {
			return err
		}
	}
}

// recordContractAlerts records c's new alert events, addressed from c.
func (s *Service) recordContractAlerts(ctx context.Context, c ledger.Contract, at time.Time, rep *AlertSweepReport) error {
	ar, err := s.alerts(ctx, c, at, governance.AllAlerts)
	if err != nil {
		return fmt.Errorf("check alerts of %s: %w", c.ID, err)
	}
	notes := governance.AlertNotifications(c, ar, at)
	if len(notes) == 0 {
		return nil
	}
	// Every alert id carries one of the report's months (the baseline
	// checks' months; the pools' is the current one).
	var known []ledger.Notification
	for _, month := range ar.Months {
		got, err := s.Store.NotificationsByPrefix(ctx, c.ID, governance.AlertIDPrefix(c.ID, month))
		if err != nil {
			return fmt.Errorf("read the %s alerts of %s: %w", month, c.ID, err)
		}
		known = append(known, got...)
	}
	recorded, already, err := s.recordNew(ctx, at, c, notes, known)
	rep.AlertsRecorded += recorded
	rep.AlertsKnown += already
	return err
}

// SetNotifyEmail sets (or clears) a contract's notification address and
// queues its recent unaddressed notifications to it
// (ledger.PlanSetNotifyEmail).
func (s *Service) SetNotifyEmail(ctx context.Context, contract string, req ledger.NotifyEmailRequest, idem ledger.Idem) (Outcome, error) {
	idem = fingerprint(idem, []any{"notify-email", contract, req})
	return s.run(ctx, contract, idem, func(env ledger.Env, prior *ledger.IdempotencyRecord) (ledger.Decision, error) {
		c, err := s.Store.Contract(ctx, contract)
		if err != nil {
			return ledger.Decision{}, err
		}
		notes, err := s.Store.Notifications(ctx, contract)
		if err != nil {
			return ledger.Decision{}, err
		}
		return ledger.PlanSetNotifyEmail(c, req, notes, prior, idem, env)
	})
}
