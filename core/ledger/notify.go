package ledger

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cloudcredits/core"
)

// Notifications are the outbox (PRODUCT.md, "Governance": expiry warnings,
// withdrawal notices and alerts go through an outbox). A planner puts a
// Notification in the same Tx as the change it reports (a withdrawal and
// its notice are written together or not at all); a sender outside core
// delivers pending ones and marks each sent.
//
// Rules chosen where PRODUCT.md is silent:
//
//   - A notification's ID names the event it reports
//     ("withdrawal:<contract>:<lot>:<notice>", "expiry-warning:<contract>:
//     <lot>:<end>"), and PutNotification creates it only if absent, so an
//     event is recorded once however often it is planned (two sweepers, a
//     retried request). A lot whose end moves is a new event: a new warning.
//   - Delivery: a sender first claims a pending notification
//     (Notification.Claim: a conditional write that holds it for
//     NotificationClaim), then sends, then marks it sent (MarkSent). Two sweepers running
//     at once never both send it: one claim wins. A send failure leaves it
//     pending, retried once the claim lapses. The window left is a
//     successful send whose MarkSent does not land (a crash, or the store
//     failing on every retry): the claim lapses and the message goes out
//     again — a second copy of one event, never a lost one (no mail system
//     offers a send-and-record transaction).
//   - The recipient is the contract's NotifyEmail. A contract without one
//     still gets its notifications recorded (the withdrawal notice is
//     "recorded and sent"), with To empty and state unaddressed: readable
//     in the contract's outbox (GET /notifications), never queued for a
//     sender, so they cannot clog the queue. Changing the address moves
//     what is not yet sent (PlanSetNotifyEmail). Every Tx that records a
//     notification carries ContractIs on the contract version its address
//     was read from, so an address change in between re-plans it.
//   - Ids join their parts with ':'; a part that is an identifier passes
//     through EventIDPart, so no two events share an id.
//   - Alerts are planned by core/governance (AlertNotifications) from the
//     same report GET /alerts answers, one notification per alert event.
type Notification struct {
	ID        string            `json:"id"`
	Contract  string            `json:"contract"`
	Kind      NotificationKind  `json:"kind"`
	To        string            `json:"to"`
	Subject   string            `json:"subject"`
	Body      string            `json:"body"`
	CreatedAt time.Time         `json:"created_at"`
	State     NotificationState `json:"state"`
	SentAt    time.Time         `json:"sent_at,omitzero"`
	// ClaimedUntil is when a sender's claim lapses (zero: never claimed).
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	// Version counts the notification's writes (1: recorded).
	Version int64 `json:"-"`
}

// NotificationKind says what a notification reports.
type NotificationKind string

const (
	KindExpiryWarning    NotificationKind = "expiry_warning"
	KindWithdrawalNotice NotificationKind = "withdrawal_notice"
	KindAlert            NotificationKind = "alert"
)

// NotificationState is pending until a sender delivered it, then sent.
type NotificationState string

const (
	NotificationPending     NotificationState = "pending"
	NotificationSent        NotificationState = "sent"
	NotificationUnaddressed NotificationState = "unaddressed"
)

// InitialState is a new notification's state: pending when it has a
// recipient, unaddressed when not.
func InitialState(to string) NotificationState {
	if to == "" {
		return NotificationUnaddressed
	}
	return NotificationPending
}

// ExpiryWarningDays is how far ahead of a lot's end its holder is warned
// (PRODUCT.md: "warned 90 days ahead"). It is the one home of the rule: the
// expiry calendar (governance.WarnDays) uses it too.
const ExpiryWarningDays = 90

// ExpiryWarningAhead is ExpiryWarningDays as a duration.
const ExpiryWarningAhead = ExpiryWarningDays * 24 * time.Hour

// NotificationsPerContractMax bounds what one read of a contract's outbox
// returns (the newest beyond it are left out of that read).
const NotificationsPerContractMax = 1000

// NotifyEmailMax bounds a contract's notification address (RFC 5321's
// path limit).
const NotifyEmailMax = 254

// PutNotification creates a notification. Condition: none with that ID
// exists (in any contract's outbox: the ID names the event).
type PutNotification struct{ Notification Notification }

// NotificationClaim is how long a sender's claim on a notification holds:
// longer than any one send may take (the SES client's deadline is far
// shorter), short enough that a crashed sender's work is taken up again
// within a few sweeps.
const NotificationClaim = 5 * time.Minute

// UpdateNotification replaces a notification with Notification, whose
// Version is one more than the version read. Condition: the stored one is
// still at the version read. Made by Notification.Claim, MarkSent and
// Readdress, each of which checks its rule on the notification as read: so
// a claim made, an address changed or a send recorded since then fails the
// write, and the sender or the address change reads again.
type UpdateNotification struct{ Notification Notification }

// Claim is n claimed at `at` by one sender until `until`; ok is false when
// n is not claimable at `at` (not pending, or claimed by a sender whose
// claim still holds). The claim is for n's recipient as read: an address
// change since wins, and the next sweep sends to the new address.
func (n Notification) Claim(at, until time.Time) (UpdateNotification, bool) {
	if !n.Claimable(at) {
		return UpdateNotification{}, false
	}
	n.ClaimedUntil, n.Version = until, n.Version+1
	return UpdateNotification{Notification: n}, true
}

// MarkSent records that n, as its sender claimed it, was delivered at `at`;
// ok is false when n is not pending.
func (n Notification) MarkSent(at time.Time) (UpdateNotification, bool) {
	if n.State != NotificationPending {
		return UpdateNotification{}, false
	}
	n.State, n.SentAt, n.Version = NotificationSent, at, n.Version+1
	return UpdateNotification{Notification: n}, true
}

// Readdress moves n, not yet sent, to the recipient `to`: a non-empty one
// queues it (pending), an empty one takes it out of the queue
// (unaddressed). ok is false when n is sent, or claimed at `at` (a send in
// flight keeps its address).
func (n Notification) Readdress(to string, at time.Time) (UpdateNotification, bool) {
	if (n.State != NotificationPending && n.State != NotificationUnaddressed) || n.ClaimedUntil.After(at) {
		return UpdateNotification{}, false
	}
	n.To, n.State, n.Version = to, InitialState(to), n.Version+1
	return UpdateNotification{Notification: n}, true
}

func (PutNotification) isOp()    {}
func (UpdateNotification) isOp() {}

// DueAt is when a pending notification may next be claimed: its creation,
// or when a claim on it lapses.
func (n Notification) DueAt() time.Time {
	if n.ClaimedUntil.After(n.CreatedAt) {
		return n.ClaimedUntil
	}
	return n.CreatedAt
}

// Claimable reports whether a sender may claim n at at: pending and due
// (created, and not claimed by a sender whose claim still holds).
func (n Notification) Claimable(at time.Time) bool {
	return n.State == NotificationPending && !n.DueAt().After(at)
}

// CheckNotifyEmail validates an optional notification address: empty, or
// one plain address local@domain (no display name, no list, no quoting; a
// domain of at least two labels). core does no I/O, so net/mail is not used:
// this is the dot-atom subset of RFC 5322 that every sender accepts.
func CheckNotifyEmail(addr string) error {
	if addr == "" {
		return nil
	}
	bad := fmt.Errorf("must be one email address, like admin@example.com")
	if len(addr) > NotifyEmailMax {
		return fmt.Errorf("must be at most %d characters", NotifyEmailMax)
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return bad
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" || strings.IndexFunc(atom, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", r))
		}) >= 0 {
			return bad
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.IndexFunc(l, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
		}) >= 0 {
			return bad
		}
	}
	return nil
}

// EventIDPart is an identifier as a part of an event id: '%' and ':' are
// escaped (%25, %3A), so the ':'-joined parts split back unambiguously.
// Identifiers without them — nearly all — are unchanged.
func EventIDPart(s string) string {
	if !strings.ContainsAny(s, "%:") {
		return s
	}
	return strings.NewReplacer("%", "%25", ":", "%3A").Replace(s)
}

// ContractIs is a condition without a write: the contract is at Version. A
// Tx that records a notification carries it (the address was read from the
// contract), so an address changed in between fails the Tx and it is
// planned again to the new address.
type ContractIs struct {
	Contract string
	Version  int64
}

func (ContractIs) isOp() {}

// noticeTime is how event ids and bodies write an instant.
func noticeTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// PlanWithdrawalNotice is the notice of a lot's withdrawal: l is the lot as
// withdrawn (WithdrawNoticeAt and ClosesAt set), to the contract's address.
func PlanWithdrawalNotice(l Lot, to string, at time.Time) Notification {
	return Notification{
		ID:       "withdrawal:" + EventIDPart(l.Contract) + ":" + EventIDPart(l.ID) + ":" + noticeTime(l.WithdrawNoticeAt),
		Contract: l.Contract, Kind: KindWithdrawalNotice, To: to,
		Subject: fmt.Sprintf("Individual credits of %s withdrawn on %s", l.Owner, l.ClosesAt.UTC().Format(time.DateOnly)),
		Body: fmt.Sprintf("The vendor has given notice, as of %s, that individual lot %s of %s on contract %s "+
			"(%s %s remaining of %s) is withdrawn. The lot can be spent until it closes at %s; "+
			"whatever remains then is withdrawn.\n",
			noticeTime(l.WithdrawNoticeAt), l.ID, l.Owner, l.Contract, l.Remaining, l.Currency.Name(), l.Amount, noticeTime(l.ClosesAt)),
		CreatedAt: at.UTC(), State: InitialState(to),
	}
}

// ExpiryWarningPrefix is what the ids of a lot's expiry warnings start
// with (one per end the lot has had).
func ExpiryWarningPrefix(contract, lot string) string {
	return "expiry-warning:" + EventIDPart(contract) + ":" + EventIDPart(lot) + ":"
}

// expiryWarningEnd reads the lot end an expiry warning's id names, and the
// id without it (the lot's warning prefix).
func expiryWarningEnd(id string) (prefix string, end time.Time, ok bool) {
	parts := strings.SplitN(id, ":", 4)
	if len(parts) != 4 || parts[0] != "expiry-warning" {
		return "", time.Time{}, false
	}
	end, err := time.Parse(time.RFC3339Nano, parts[3])
	return strings.Join(parts[:3], ":") + ":", end, err == nil
}

// PlanExpiryWarnings returns one warning for each of the contract's lots
// that holds credits and ends after at and within ExpiryWarningAhead, by
// lot id. Lots of other contracts are ignored, and so are lots that end by
// withdrawal: their withdrawal notice (sent when it was given, 90 days
// ahead) already names the close.
func PlanExpiryWarnings(c Contract, lots []Lot, at time.Time) []Notification {
	var out []Notification
	for _, l := range lots {
		end := l.End()
		if l.Contract != c.ID || l.EndsByWithdrawal() || end.IsZero() || !end.After(at) || end.After(at.Add(ExpiryWarningAhead)) || l.Remaining.Sign() <= 0 {
			continue
		}
		days := int(end.Sub(at) / (24 * time.Hour))
		out = append(out, Notification{
			ID:       ExpiryWarningPrefix(c.ID, l.ID) + noticeTime(end),
			Contract: c.ID, Kind: KindExpiryWarning, To: c.NotifyEmail,
			Subject: fmt.Sprintf("%s %s expire on %s", l.Remaining, l.Currency.Name(), end.UTC().Format(time.DateOnly)),
			Body: fmt.Sprintf("Lot %s of contract %s (%s) holds %s %s that end at %s, in %d days. "+
				"Credits not used by then expire.\n", l.ID, c.ID, l.Kind, l.Remaining, l.Currency.Name(), noticeTime(end), days),
			CreatedAt: at.UTC(), State: InitialState(c.NotifyEmail),
		})
	}
	slices.SortFunc(out, func(a, b Notification) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ReaddressWindowDays is how far back setting a contract's address reaches:
// notifications recorded unaddressed in the last ReaddressWindowDays are
// queued to the new address (an expiry warning is recorded 90 days before
// its lot ends, so every warning still ahead of its lot is reached).
const ReaddressWindowDays = ExpiryWarningDays

// ReaddressMax bounds the notifications one address change queues (under a
// store's transaction limit, with the contract and idempotency record); the
// newest are queued first.
const ReaddressMax = 80

// NotifyEmailRequest is the body of PUT /v1/contracts/{c}/notify-email.
type NotifyEmailRequest struct {
	NotifyEmail string `json:"notify_email"`
}

// NotifyEmailResult is its answer: the contract's address now, and the ids
// of the notifications queued to it.
type NotifyEmailResult struct {
	Contract    string   `json:"contract"`
	NotifyEmail string   `json:"notify_email"`
	Readdressed []string `json:"readdressed"`
}

// PlanSetNotifyEmail sets (or, with "", clears) the contract's notification
// address, and moves to it the first ReaddressMax of what is not yet sent
// (readdressOps); the service moves the rest in follow-up Txs
// (PlanReaddress), after this one is applied, so that a notification
// recorded under the old address while this was planned moves too. notes
// is the contract's outbox as read.
func PlanSetNotifyEmail(c Contract, req NotifyEmailRequest, notes []Notification, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		if err := CheckNotifyEmail(req.NotifyEmail); err != nil {
			return Tx{}, nil, core.Invalid("notify_email", "%s", err.Error())
		}
		after := c
		after.NotifyEmail, after.Version = req.NotifyEmail, c.Version+1
		ops := []Op{UpdateContract{Contract: after}}
		res := NotifyEmailResult{Contract: c.ID, NotifyEmail: req.NotifyEmail, Readdressed: []string{}}
		for _, r := range readdressOps(c.ID, req.NotifyEmail, notes, env.At) {
			ops = append(ops, r)
			res.Readdressed = append(res.Readdressed, r.Notification.ID)
		}
		return Tx{Ops: ops}, res, nil
	})
}

// PlanReaddress is a follow-up of an address change: it moves to c's
// address the next ReaddressMax of c's notifications not yet sent
// (readdressOps), conditioned on c's version (a newer change has its own
// follow-ups). An empty Tx means nothing is left to move.
func PlanReaddress(c Contract, notes []Notification, at time.Time) Tx {
	var ops []Op
	for _, r := range readdressOps(c.ID, c.NotifyEmail, notes, at) {
		ops = append(ops, r)
	}
	if len(ops) == 0 {
		return Tx{At: at}
	}
	return Tx{At: at, Ops: append(ops, ContractIs{Contract: c.ID, Version: c.Version})}
}

// readdressOps is what an address change to `to` moves, newest first, at
// most ReaddressMax: every notification pending to another address that no
// sender holds at `at` (clearing the address takes them out of the queue),
// and — when there is an address — those recorded unaddressed in the last
// ReaddressWindowDays, except expiry warnings whose lot end has passed or
// that a newer warning of the same lot replaces.
func readdressOps(contract, to string, notes []Notification, at time.Time) []UpdateNotification {
	var out []UpdateNotification
	since := at.AddDate(0, 0, -ReaddressWindowDays)
	warned := map[string]bool{} // lots whose newest warning was seen
	for _, n := range slices.Backward(notes) {
		if len(out) == ReaddressMax {
			break
		}
		if n.Contract != contract {
			continue
		}
		stale := false
		if prefix, end, ok := expiryWarningEnd(n.ID); ok {
			stale = warned[prefix] || !end.After(at)
			warned[prefix] = true
		}
		switch {
		case n.State == NotificationPending && n.To != to && !n.ClaimedUntil.After(at):
		case n.State == NotificationUnaddressed && to != "" && !n.CreatedAt.Before(since) && !stale:
		default:
			continue
		}
		if op, ok := n.Readdress(to, at); ok {
			out = append(out, op)
		}
	}
	return out
}
