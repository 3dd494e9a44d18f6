package credits

import (
	"context"
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
}

// History reads the usage roll-ups governance reports look at: the
// governance.HistoryMonths complete months before at, and at's month.
func (s *Service) History(ctx context.Context, contract string, at time.Time) ([]ledger.Usage, error) {
	to := ledger.Month(at)
	return s.Store.Usage(ctx, contract, governance.AddMonths(to, -governance.HistoryMonths), to)
}

// Alerts checks contract c at `at`: what GET /alerts answers, and what
// SweepAlerts sends.
func (s *Service) Alerts(ctx context.Context, c ledger.Contract, at time.Time) (governance.AlertReport, error) {
	lots, err := s.Store.Lots(ctx, c.ID)
	if err != nil {
		return governance.AlertReport{}, err
	}
	rows, err := s.Store.Usage(ctx, c.ID, governance.AlertHistoryFrom(at), ledger.Month(at))
	if err != nil {
		return governance.AlertReport{}, err
	}
	return governance.Alerts(c, lots, rows, at), nil
}

// SweepAlerts checks every contract's alerts and records each new alert
// event in the outbox (the next Sweep sends it). Terminated contracts are
// skipped. It runs on its own schedule (hourly in production), not on
// every sweep: a check reads a contract's lots and a year of roll-ups.
// Each alert is its own create-if-absent write, so two checks running at
// once record each event once.
func (s *Service) SweepAlerts(ctx context.Context) (AlertSweepReport, error) {
	var rep AlertSweepReport
	at := s.Now().UTC()
	after := ""
	for {
		ids, err := s.Store.Contracts(ctx, after, AlertContractsPage)
		if err != nil {
			return rep, fmt.Errorf("list contracts: %w", err)
		}
		for _, id := range ids {
			if err := s.recordAlerts(ctx, id, at, &rep); err != nil {
				return rep, err
			}
		}
		if len(ids) < AlertContractsPage {
			return rep, nil
		}
		after = ids[len(ids)-1]
	}
}

func (s *Service) recordAlerts(ctx context.Context, id string, at time.Time, rep *AlertSweepReport) error {
	c, err := s.Store.Contract(ctx, id)
	if err != nil {
		return fmt.Errorf("read contract %s: %w", id, err)
	}
	if !c.TerminatedAt.IsZero() && !c.TerminatedAt.After(at) {
		return nil
	}
	rep.Contracts++
	ar, err := s.Alerts(ctx, c, at)
	if err != nil {
		return fmt.Errorf("check alerts of %s: %w", id, err)
	}
	notes := governance.AlertNotifications(c, ar, at)
	if len(notes) == 0 {
		return nil
	}
	// Every alert id carries one of the report's months (the baseline
	// checks' months; the pools' is the current one).
	var known []ledger.Notification
	for _, month := range ar.Months {
		got, err := s.Store.NotificationsByPrefix(ctx, id, governance.AlertIDPrefix(id, month))
		if err != nil {
			return fmt.Errorf("read the %s alerts of %s: %w", month, id, err)
		}
		known = append(known, got...)
	}
	recorded, already, err := s.recordNew(ctx, at, notes, known)
	rep.AlertsRecorded += recorded
	rep.AlertsKnown += already
	return err
}
