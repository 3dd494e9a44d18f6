package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
	"cloudcredits/core/pricing"
)

// Governance reads: each reads the contract's data through the store port
// and hands it to core/governance with the handler's clock.
func (h *Handler) governanceRoutes() {
	h.handle(GroupReads, "GET /v1/contracts/{c}/usage", h.authed(contractAdmin, h.usage))
	h.handle(GroupReads, "GET /v1/contracts/{c}/expirations", h.authed(contractAdmin, h.expirations))
	h.handle(GroupReads, "GET /v1/contracts/{c}/alerts", h.authed(contractAdmin, h.alerts))
	h.handle(GroupReads, "GET /v1/contracts/{c}/audit", h.authed(contractAdmin, h.audit))
	h.handle(GroupReads, "GET /v1/contracts/{c}/forecast", h.authed(contractAdmin, h.forecast))
	h.handle(GroupReads, "GET /v1/contracts/{c}/notifications", h.authed(contractAdmin, h.notifications))
}

// governed checks the caller may read contract c and reads it.
func (h *Handler) governed(r *http.Request) (ledger.Contract, error) {
	c := r.PathValue("c")
	if err := ownContract(r, c); err != nil {
		return ledger.Contract{}, err
	}
	return h.cfg.Credits.Contract(r.Context(), c)
}

// history reads the usage roll-ups the reports need (credits.Service.History).
func (h *Handler) history(r *http.Request, c string, now time.Time) ([]ledger.Usage, error) {
	return h.cfg.Credits.History(r.Context(), c, now)
}

// usageQuery is the parsed query of GET /usage.
type usageQuery struct {
	from, to string
	groupBy  []string
	csv      bool
}

// parseUsageQuery reads from, to (YYYY-MM, inclusive; default the last 12
// months with the current one), group_by and format, naming every bad
// parameter at once.
func parseUsageQuery(r *http.Request, now time.Time) (usageQuery, error) {
	var p core.Problems
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "from", "to", "group_by", "format":
			if len(q[k]) > 1 {
				p.Add(k, "is given %d times; give it once", len(q[k]))
			}
		default:
			p.Add(k, "is not a parameter of this route; use from, to, group_by, format")
		}
	}
	uq := usageQuery{to: ledger.Month(now)}
	uq.from = governance.AddMonths(uq.to, -11)
	month := func(name string, dst *string) {
		if v := q.Get(name); v != "" {
			if _, ok := governance.ParseMonth(v); !ok {
				p.Add(name, "must be a month YYYY-MM, got %q", clip(v))
				return
			}
			*dst = v
		}
	}
	month("from", &uq.from)
	month("to", &uq.to)
	if p.Len() == 0 {
		if n := governance.MonthsBetween(uq.from, uq.to); n == 0 {
			p.Add("from", "must not be after to (%s)", uq.to)
		} else if n > governance.MonthsMax {
			p.Add("from", "the period is %d months; a report covers at most %d", n, governance.MonthsMax)
		}
	}
	if v := q.Get("group_by"); v != "" {
		g, err := governance.ParseGroupBy(strings.Split(v, ","))
		p.Merge("", err)
		uq.groupBy = g
	}
	switch q.Get("format") {
	case "":
		uq.csv = acceptsCSV(r.Header.Get("Accept"))
	case "csv":
		uq.csv = true
	case "json":
	default:
		p.Add("format", "must be json or csv, got %q", clip(q.Get("format")))
	}
	return uq, p.Err()
}

// acceptsCSV reports whether the Accept header prefers text/csv to JSON:
// it names text/csv and not application/json before it.
func acceptsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return true
		case "application/json":
			return false
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

func (h *Handler) usage(w http.ResponseWriter, r *http.Request) {
	c, err := h.governed(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q, err := parseUsageQuery(r, h.now(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	rep, err := h.cfg.Credits.UsageReport(r.Context(), c.ID, q.from, q.to, q.groupBy)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !q.csv {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	body, err := usageCSV(rep)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="usage-%s-%s-%s.csv"`, c.ID, q.from, q.to))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// usageCSV writes the report as RFC 4180 CSV (CRLF line ends): a header
// row with the grouped dimensions in the order asked, then currency,
// credits (plain decimal text) and count. A cell that a spreadsheet would
// read as a formula (starting =, +, -, @) is prefixed with a single quote.
func usageCSV(rep governance.UsageReport) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.UseCRLF = true
	header := append(append([]string{}, rep.GroupBy...), "currency", "credits", "count")
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	for _, row := range rep.Rows {
		rec := make([]string, 0, len(header))
		for _, d := range rep.GroupBy {
			rec = append(rec, cell(row.Value(d)))
		}
		rec = append(rec, string(row.Currency), row.Credits.String(), strconv.FormatInt(row.Count, 10))
		if err := cw.Write(rec); err != nil {
			return nil, err
		}
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}

func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// report answers a governance report on the governed contract: build reads
// what the report needs and returns its answer.
func (h *Handler) report(w http.ResponseWriter, r *http.Request, build func(c ledger.Contract) (any, error)) {
	c, err := h.governed(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rep, err := build(c)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// lotsReport answers a report made from the contract's lots and its usage
// roll-ups at the request's instant (expirations, forecast).
func (h *Handler) lotsReport(w http.ResponseWriter, r *http.Request, build func(c ledger.Contract, lots []ledger.Lot, rows []ledger.Usage, now time.Time) any) {
	h.report(w, r, func(c ledger.Contract) (any, error) {
		now := h.now(r.Context())
		lots, err := h.cfg.Credits.Lots(r.Context(), c.ID)
		if err != nil {
			return nil, err
		}
		rows, err := h.history(r, c.ID, now)
		if err != nil {
			return nil, err
		}
		return build(c, lots, rows, now), nil
	})
}

func (h *Handler) expirations(w http.ResponseWriter, r *http.Request) {
	h.lotsReport(w, r, func(_ ledger.Contract, lots []ledger.Lot, rows []ledger.Usage, now time.Time) any {
		return governance.Expirations(lots, rows, now)
	})
}

// alerts answers what the hourly alert check would send now (the check
// itself is credits.Service.SweepAlerts).
func (h *Handler) alerts(w http.ResponseWriter, r *http.Request) {
	h.report(w, r, func(c ledger.Contract) (any, error) {
		return h.cfg.Credits.Alerts(r.Context(), c, h.now(r.Context()))
	})
}

// NotificationView is one notification of GET /notifications.
type NotificationView struct {
	ID        string                   `json:"id"`
	Kind      ledger.NotificationKind  `json:"kind"`
	To        string                   `json:"to"`
	Subject   string                   `json:"subject"`
	Body      string                   `json:"body"`
	State     ledger.NotificationState `json:"state"`
	CreatedAt time.Time                `json:"created_at"`
	SentAt    *time.Time               `json:"sent_at,omitempty"`
}

// NotificationList is the answer of GET /notifications: the contract's
// address now ("" when none) and its notifications.
type NotificationList struct {
	NotifyEmail   string             `json:"notify_email"`
	Notifications []NotificationView `json:"notifications"`
}

// notificationFilters are the values the state and kind parameters take.
var notificationFilters = map[string][]string{
	"state": {string(ledger.NotificationPending), string(ledger.NotificationSent), string(ledger.NotificationUnaddressed)},
	"kind":  {string(ledger.KindExpiryWarning), string(ledger.KindWithdrawalNotice), string(ledger.KindAlert)},
}

// notifications lists the contract's outbox, newest first: what was sent
// to its notify_email, what is still pending, and what could not be
// addressed. Optional filters: state, kind. It reads the newest
// ledger.NotificationsPerContractMax notifications.
func (h *Handler) notifications(w http.ResponseWriter, r *http.Request) {
	c, err := h.governed(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p core.Problems
	q := r.URL.Query()
	for k, vs := range q {
		allowed, ok := notificationFilters[k]
		switch {
		case !ok:
			p.Add(k, "is not a parameter of this route; use state, kind")
		case len(vs) > 1:
			p.Add(k, "is given %d times; give it once", len(vs))
		case !slices.Contains(allowed, vs[0]):
			p.Add(k, "must be one of %s, got %q", strings.Join(allowed, ", "), clip(vs[0]))
		}
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	notes, err := h.cfg.Credits.Notifications(r.Context(), c.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := NotificationList{NotifyEmail: c.NotifyEmail, Notifications: []NotificationView{}}
	for _, n := range slices.Backward(notes) {
		if s := q.Get("state"); s != "" && string(n.State) != s {
			continue
		}
		if k := q.Get("kind"); k != "" && string(n.Kind) != k {
			continue
		}
		v := NotificationView{ID: n.ID, Kind: n.Kind, To: n.To, Subject: n.Subject, Body: n.Body, State: n.State, CreatedAt: n.CreatedAt}
		if !n.SentAt.IsZero() {
			v.SentAt = &n.SentAt
		}
		out.Notifications = append(out.Notifications, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// audit reads the usage since the contract started (at most MonthsMax
// months back), every refused attempt and the users.
func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	h.report(w, r, func(c ledger.Contract) (any, error) {
		to := ledger.Month(h.now(r.Context()))
		from := max(ledger.Month(c.Start), governance.AddMonths(to, -(governance.MonthsMax-1)))
		rows, err := h.cfg.Credits.Usage(r.Context(), c.ID, from, to)
		if err != nil {
			return nil, err
		}
		attempts, err := h.cfg.Credits.Attempts(r.Context(), c.ID)
		if err != nil {
			return nil, err
		}
		users, err := h.cfg.Credits.Users(r.Context(), c.ID)
		if err != nil {
			return nil, err
		}
		return governance.Audit(attempts, rows, users, c), nil
	})
}

func (h *Handler) forecast(w http.ResponseWriter, r *http.Request) {
	h.lotsReport(w, r, func(c ledger.Contract, lots []ledger.Lot, rows []ledger.Usage, now time.Time) any {
		channel, _ := pricing.ParseChannel(c.Channel)
		return governance.Forecast(rows, now, governance.ForecastOptions{
			Lots: lots, Channel: channel,
			Price: func(req pricing.Request) (pricing.Price, error) { return h.cfg.Prices.Price(req, now) },
		})
	})
}
