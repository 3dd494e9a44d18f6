package governance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cloudcredits/core/ledger"
)

// AlertNotifications turns an alert report into outbox notifications, one
// per alert event, addressed to the contract's NotifyEmail (unaddressed
// when it has none). The id names
// the event, so the outbox records it once however often the check runs:
//
//   - a user, project or consumption above the baseline share is one event
//     per month and subject (user; project; the roll-up row's user,
//     service, project and entity): "alert:<contract>:<month>:<code>:
//     <currency>:<subject>". A user who goes on consuming is not alerted
//     again that month;
//   - a pool that runs out before it expires, or that will expire with
//     credits unused, is a forecast that holds for weeks: it is one event
//     per calendar month of the check while it holds — a monthly reminder,
//     not one message per sweep ("alert:<contract>:<month of at>:<code>:
//     <currency>").
//
// The month leads so that one month's alerts of a contract share an id
// prefix (AlertIDPrefix): the check reads what it recorded for the months
// of the report, not the whole outbox.
//
// rep should be AllAlerts' (uncut): alerts cut from a report are not
// notified. Notifications come sorted by id.
func AlertNotifications(c ledger.Contract, rep AlertReport, at time.Time) []ledger.Notification {
	out := make([]ledger.Notification, 0, len(rep.Alerts))
	for _, a := range rep.Alerts {
		d := a.Details
		month, subject := d["month"], []string(nil)
		switch a.Code {
		case AlertUserOverBaseline:
			subject = []string{d["user"]}
		case AlertProjectOverBaseline:
			subject = []string{d["project"]}
		case AlertConsumptionOverBaseline:
			subject = []string{d["user"], d["service"], d["project"], d["entity"]}
		default:
			month = ledger.Month(at)
		}
		parts := []string{a.Code, string(a.Currency)}
		for _, s := range subject {
			parts = append(parts, ledger.EventIDPart(s))
		}
		id := AlertIDPrefix(c.ID, month) + strings.Join(parts, ":")
		out = append(out, ledger.Notification{
			ID: id, Contract: c.ID, Kind: ledger.KindAlert, To: c.NotifyEmail,
			Subject:   fmt.Sprintf("Cloud Credits alert on contract %s: %s", c.ID, alertTitles[a.Code]),
			Body:      alertBody(c, a),
			CreatedAt: at.UTC(), State: ledger.InitialState(c.NotifyEmail),
		})
	}
	slices.SortFunc(out, func(a, b ledger.Notification) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// AlertIDPrefix is what the ids of a contract's alerts of one month start
// with.
func AlertIDPrefix(contract, month string) string {
	return "alert:" + ledger.EventIDPart(contract) + ":" + month + ":"
}

// alertTitles are the subject lines of the alert codes.
var alertTitles = map[string]string{
	AlertUserOverBaseline:        "a user above 15% of the monthly baseline",
	AlertProjectOverBaseline:     "a project above 15% of the monthly baseline",
	AlertConsumptionOverBaseline: "a single job above 15% of the monthly baseline",
	AlertPoolRunsOut:             "the shared pool runs out before it expires",
	AlertPoolExpiresUnused:       "shared credits forecast to expire unused",
}

// alertBody is the message, then the numbers behind it, one per line in key
// order, so a reader sees why without opening the dashboard.
func alertBody(c ledger.Contract, a Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nContract: %s (%s)\nCurrency: %s\nAlert: %s\n", a.Message, c.ID, c.Customer, a.Currency, a.Code)
	keys := make([]string, 0, len(a.Details))
	for k, v := range a.Details {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, a.Details[k])
	}
	return b.String()
}
