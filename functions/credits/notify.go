package credits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
// notification for ledger.NotificationClaim), Send, mark it sent. A claim lost
// to another sweeper skips the notification, so two sweepers never both
// send it. A failed send leaves it pending, and the next sweep after the
// claim lapses tries again. Only a send whose mark does not land (a
// crash, or the store failing on every retry) sends an event twice (see
// core/ledger's notify.go). A pending notification whose recipient is not
// its contract's address now (a send was in flight when the address
// changed, or an earlier version recorded it without one) follows the
// address instead of being sent: to the new one, or out of the queue.
func (s *Service) sweepNotifications(ctx context.Context, at time.Time, rep *SweepReport) error {
	if err := s.recordExpiryWarnings(ctx, at, rep); err != nil {
		return err
	}
	if s.Notifier == nil {
		return nil
	}
	pending, err := s.store.PendingNotifications(ctx, at, SendBatchMax)
	if err != nil {
		return fmt.Errorf("list pending notifications: %w", err)
	}
	addresses := map[string]string{} // contract → its address now
	for _, n := range pending {
		claimAt := s.Now().UTC()
		if !n.Claimable(claimAt) {
			continue // another sender holds it
		}
		addr, ok := addresses[n.Contract]
		if !ok {
			c, err := s.store.Contract(ctx, n.Contract)
			if err != nil {
				return fmt.Errorf("read contract %s: %w", n.Contract, err)
			}
			addr, addresses[n.Contract] = c.NotifyEmail, c.NotifyEmail
		}
		if n.To != addr || addr == "" {
			// Addressed before the contract's address changed (a send was
			// in flight then), or recorded without one by an earlier
			// version: it follows the address (out of the queue when there
			// is none) and is sent from there.
			move, ok := n.Readdress(addr, claimAt)
			if !ok {
				continue
			}
			err := s.store.Apply(ctx, ledger.Tx{At: claimAt, Ops: []ledger.Op{move}})
			if _, ok := errors.AsType[*ledger.ConflictError](err); err != nil && !ok {
				return fmt.Errorf("move notification %s to its contract's address: %w", n.ID, err)
			}
			continue
		}
		claim, ok := n.Claim(claimAt, claimAt.Add(ledger.NotificationClaim))
		if !ok {
			continue
		}
		err := s.store.Apply(ctx, ledger.Tx{At: claimAt, Ops: []ledger.Op{claim}})
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
		err = s.markSent(ctx, claim.Notification)
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

// MarkSentAttempts is how often a sweep tries to record a delivered
// notification as sent before it gives up (and the claim lapsing sends it
// again): a store that fails once must not make a second copy.
const MarkSentAttempts = 3

// markSent records n — as this sender's claim wrote it — as sent.
func (s *Service) markSent(ctx context.Context, n ledger.Notification) error {
	var err error
	for attempt := range MarkSentAttempts {
		if attempt > 0 {
			if werr := backoff(ctx, attempt+4); werr != nil { // 32–64 ms, then 64–128
				return errors.Join(err, werr)
			}
		}
		sentAt := s.Now().UTC()
		sent, _ := n.MarkSent(sentAt) // n is pending: this sender claimed it
		err = s.store.Apply(ctx, ledger.Tx{At: sentAt, Ops: []ledger.Op{sent}})
		if _, conflict := errors.AsType[*ledger.ConflictError](err); conflict && attempt > 0 {
			// Changed since the claim after a failed attempt: that
			// attempt's write landed (or another sender took it over);
			// either way it was sent.
			return nil
		} else if err == nil || conflict {
			return err
		}
	}
	return err
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
		lots, err := s.store.LotsEndingWithin(ctx, after, by, SweepBatchMax)
		if err != nil {
			return fmt.Errorf("list lots ending by %s: %w", by.Format(time.RFC3339), err)
		}
		for _, l := range lots {
			c, ok := contracts[l.Contract]
			if !ok {
				if c, err = s.store.Contract(ctx, l.Contract); err != nil {
					return fmt.Errorf("read contract %s: %w", l.Contract, err)
				}
				contracts[l.Contract] = c
			}
			for attempt := 1; ; attempt++ {
				warnings := ledger.PlanExpiryWarnings(c, []ledger.Lot{l}, at)
				if len(warnings) == 0 {
					break
				}
				known, err := s.knownExpiryWarnings(ctx, c.ID, l.ID)
				if err != nil {
					return err
				}
				recorded, _, err := s.recordNew(ctx, at, c, warnings, known)
				rep.WarningsRecorded += recorded
				if errors.Is(err, errContractChanged) && attempt == RecordAttempts {
					// The contract keeps changing: the next sweep tries again;
					// this one goes on with the other lots and the sending.
					slog.WarnContext(ctx, "expiry warning not recorded; the next sweep tries again", "lot", l.ID, "err", err)
					break
				}
				if !errors.Is(err, errContractChanged) {
					if err != nil {
						return err
					}
					break
				}
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
				if c, err = s.store.Contract(ctx, l.Contract); err != nil {
					return fmt.Errorf("read contract %s: %w", l.Contract, err)
				}
				contracts[l.Contract] = c
			}
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

// knownExpiryWarnings reads the warnings recorded for a lot. Ids were not
// escaped before EventIDPart: a lot or contract id holding ':' or '%' may
// have warnings under the unescaped prefix too, which count as the same
// events (they are returned under the escaped id).
func (s *Service) knownExpiryWarnings(ctx context.Context, contract, lot string) ([]ledger.Notification, error) {
	prefix := ledger.ExpiryWarningPrefix(contract, lot)
	known, err := s.store.NotificationsByPrefix(ctx, contract, prefix)
	if err != nil {
		return nil, fmt.Errorf("read the expiry warnings of lot %s: %w", lot, err)
	}
	if legacy := "expiry-warning:" + contract + ":" + lot + ":"; legacy != prefix {
		old, err := s.store.NotificationsByPrefix(ctx, contract, legacy)
		if err != nil {
			return nil, fmt.Errorf("read the expiry warnings of lot %s: %w", lot, err)
		}
		for _, n := range old {
			n.ID = prefix + strings.TrimPrefix(n.ID, legacy)
			known = append(known, n)
		}
	}
	return known, nil
}

// RecordAttempts bounds how often a notification is planned again because
// its contract changed (its address, say) between the read and the write.
const RecordAttempts = 3

// errContractChanged is recordNew's answer when the contract is no longer
// at the version the notifications were addressed from.
var errContractChanged = errors.New("the contract changed while its notifications were being recorded")

// recordNew puts each of notes that is not among known in the outbox, each
// in its own create-if-absent Tx conditioned on c's version (the address
// was read from c); an event recorded meanwhile counts as known. It returns
// how many it recorded and how many were known, and errContractChanged
// (wrapped) when c changed: the caller reads c again and plans again.
func (s *Service) recordNew(ctx context.Context, at time.Time, c ledger.Contract, notes, known []ledger.Notification) (recorded, already int, err error) {
	seen := make(map[string]bool, len(known))
	for _, n := range known {
		seen[n.ID] = true
	}
	for _, n := range notes {
		if seen[n.ID] {
			already++
			continue
		}
		err := s.store.Apply(ctx, ledger.Tx{At: at, Ops: []ledger.Op{
			ledger.PutNotification{Notification: n}, ledger.ContractIs{Contract: c.ID, Version: c.Version}}})
		conflict, isConflict := errors.AsType[*ledger.ConflictError](err)
		switch {
		case err == nil:
			recorded++
		case isConflict && conflict.Op == 0: // recorded meanwhile
			already++
		case isConflict:
			return recorded, already, fmt.Errorf("record %s: %w", n.ID, errContractChanged)
		default:
			return recorded, already, fmt.Errorf("record %s %s: %w", n.Kind, n.ID, err)
		}
	}
	return recorded, already, nil
}
