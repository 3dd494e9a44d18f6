package credits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/notify"
)

// Limits of one sweep's notification work.
const (
	// WarnPagesMax bounds the pages of SweepBatchMax lots one sweep reads
	// for expiry warnings (lots already warned are skipped without a write,
	// so a later page is reached even when the first is all warned).
	WarnPagesMax = 20
	// SendBatchMax bounds the notifications one sweep delivers.
	SendBatchMax = 200
)

// sweepNotifications records the expiry warnings due at `at` and then
// delivers pending notifications: claim (a conditional write that holds the
// notification for ledger.NotificationClaim), Send, MarkSent. A claim lost
// to another sweeper skips the notification, so two sweepers never both
// send it. A failed send leaves it pending, and the next sweep after the
// claim lapses tries again. Only a crash between Send and MarkSent sends an
// event twice (see core/ledger's notify.go).
func (s *Service) sweepNotifications(ctx context.Context, at time.Time, rep *SweepReport) error {
	if err := s.recordExpiryWarnings(ctx, at, rep); err != nil {
		return err
	}
	if s.Notifier == nil {
		return nil
	}
	pending, err := s.Store.PendingNotifications(ctx, at, SendBatchMax)
	if err != nil {
		return fmt.Errorf("list pending notifications: %w", err)
	}
	for _, n := range pending {
		claimAt := s.Now().UTC()
		if !n.Claimable(claimAt) {
			continue // another sender holds it
		}
		claim := ledger.ClaimNotification{ID: n.ID, Contract: n.Contract, At: claimAt, Until: claimAt.Add(ledger.NotificationClaim)}
		err := s.Store.Apply(ctx, ledger.Tx{At: claimAt, Ops: []ledger.Op{claim}})
		var conflict *ledger.ConflictError
		switch {
		case errors.As(err, &conflict): // claimed or sent meanwhile
			continue
		case err != nil:
			return fmt.Errorf("claim notification %s: %w", n.ID, err)
		}
		if err := s.Notifier.Send(ctx, n); err != nil {
			rep.NotificationsFailed++
			// The error names the domain at most (notify.Sender's rule).
			slog.WarnContext(ctx, "notification not sent; it stays pending", "id", n.ID, "kind", n.Kind,
				"domain", notify.Domain(n.To), "err", err)
			continue
		}
		sentAt := s.Now().UTC()
		err = s.Store.Apply(ctx, ledger.Tx{At: sentAt, Ops: []ledger.Op{ledger.MarkSent{ID: n.ID, Contract: n.Contract, At: sentAt}}})
		switch {
		case err == nil:
			rep.NotificationsSent++
		case errors.As(err, &conflict): // our claim lapsed and another sender sent it too
			slog.WarnContext(ctx, "notification sent by two senders (a claim lapsed during the send)", "id", n.ID)
		default:
			return fmt.Errorf("mark notification %s sent: %w", n.ID, err)
		}
	}
	return nil
}

// recordExpiryWarnings puts one warning per lot ending in
// (at, at + ExpiryWarningAhead] with credits remaining, each in its own Tx.
// A lot's warnings are read by their id prefix (one small read per lot, not
// the contract's outbox), and the event id makes a repeat a conflict,
// which is ignored.
func (s *Service) recordExpiryWarnings(ctx context.Context, at time.Time, rep *SweepReport) error {
	by := at.Add(ledger.ExpiryWarningAhead)
	after := at
	contracts := map[string]ledger.Contract{}
	for range WarnPagesMax {
		lots, err := s.Store.LotsEndingWithin(ctx, after, by, SweepBatchMax)
		if err != nil {
			return fmt.Errorf("list lots ending by %s: %w", by.Format(time.RFC3339), err)
		}
		for _, l := range lots {
			c, ok := contracts[l.Contract]
			if !ok {
				if c, err = s.Store.Contract(ctx, l.Contract); err != nil {
					return fmt.Errorf("read contract %s: %w", l.Contract, err)
				}
				contracts[l.Contract] = c
			}
			warnings := ledger.PlanExpiryWarnings(c, []ledger.Lot{l}, at)
			if len(warnings) == 0 {
				continue
			}
			known, err := s.Store.NotificationsByPrefix(ctx, c.ID, ledger.ExpiryWarningPrefix(c.ID, l.ID))
			if err != nil {
				return fmt.Errorf("read the expiry warnings of lot %s: %w", l.ID, err)
			}
			recorded, _, err := s.recordNew(ctx, at, warnings, known)
			if err != nil {
				return err
			}
			rep.WarningsRecorded += recorded
		}
		if len(lots) < SweepBatchMax || !lots[len(lots)-1].End().After(after) {
			return nil
		}
		// Lots sharing the page's last end beyond the page are reached by the
		// next sweep at the latest (the window moves with `at`).
		after = lots[len(lots)-1].End()
	}
	return nil
}

// recordNew puts each of notes that is not among known in the outbox, each
// in its own create-if-absent Tx; an event recorded meanwhile (a conflict)
// counts as known. It returns how many it recorded and how many were known.
func (s *Service) recordNew(ctx context.Context, at time.Time, notes, known []ledger.Notification) (recorded, already int, err error) {
	seen := make(map[string]bool, len(known))
	for _, n := range known {
		seen[n.ID] = true
	}
	for _, n := range notes {
		if seen[n.ID] {
			already++
			continue
		}
		err := s.Store.Apply(ctx, ledger.Tx{At: at, Ops: []ledger.Op{ledger.PutNotification{Notification: n}}})
		var conflict *ledger.ConflictError
		switch {
		case err == nil:
			recorded++
		case errors.As(err, &conflict):
			already++
		default:
			return recorded, already, fmt.Errorf("record %s %s: %w", n.Kind, n.ID, err)
		}
	}
	return recorded, already, nil
}
