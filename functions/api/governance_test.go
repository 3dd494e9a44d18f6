package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/internal/ddblocal"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
	"cloudcredits/core/pricing"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/sampledata"

	"github.com/shopspring/decimal"
)

// synthYear is a contract of testdata/governance (scripts/synth).
type synthYear struct {
	At       time.Time       `json:"at"`
	Contract ledger.Contract `json:"contract"`
	Users    []ledger.User   `json:"users"`
	Lots     []ledger.Lot    `json:"lots"`
	Jobs     []struct {
		At      time.Time       `json:"at"`
		User    string          `json:"user"`
		Entity  string          `json:"entity"`
		Project string          `json:"project"`
		Service string          `json:"service"`
		Credits decimal.Decimal `json:"credits"`
	} `json:"jobs"`
	Usage []ledger.Usage `json:"usage"`
}

// loadSynth replays a synthetic contract into e's real store through the
// ledger service, the clock set to each event's time: the contract, its
// users (and their individual grants), its purchases and every job. It
// returns the contract's admin token name.
func loadSynth(t *testing.T, e *env, name string) synthYear {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "governance", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var y synthYear
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	if !y.At.Equal(e.now) {
		t.Fatalf("synthetic now %s is not the handler's %s", y.At, e.now)
	}
	ctx := context.Background()
	clock := y.Contract.Start
	e.svc.Now = func() time.Time { return clock }
	defer func() { e.svc.Now = func() time.Time { return e.now } }()
	c := y.Contract
	c.Version = 0
	if _, err := e.svc.CreateContract(ctx, c, ledger.Idem{Key: "synth-" + name}); err != nil {
		t.Fatal(err)
	}
	for _, u := range y.Users {
		clock = u.AddedAt
		if _, err := e.svc.AddUser(ctx, c.ID, ledger.UserRequest{User: u.ID, Kind: u.Kind, Entity: u.Entity, CanSpend: u.CanSpend}, ledger.Idem{Key: "u-" + u.ID}); err != nil {
			t.Fatal(err)
		}
	}
	grants := map[time.Time]ledger.Lot{}
	for _, l := range y.Lots {
		if l.Kind == ledger.Shared {
			grants[l.GrantedAt] = l
		}
	}
	granted := map[string]bool{}
	grant := func(before time.Time) {
		for at, l := range grants {
			if !at.After(before) && !granted[l.ID] {
				clock = at
				if _, err := e.svc.GrantShared(ctx, c.ID, ledger.GrantRequest{Lot: l.ID, Currency: l.Currency, Credits: l.Amount, Source: l.Source}, ledger.Idem{Key: "g-" + l.ID}); err != nil {
					t.Fatal(err)
				}
				granted[l.ID] = true
			}
		}
	}
	for i, j := range y.Jobs {
		grant(j.At)
		clock = j.At
		req := ledger.SpendRequest{Contract: c.ID, User: j.User, Entity: j.Entity, Project: j.Project, Service: j.Service, Currency: core.Cloud, Credits: j.Credits}
		if _, err := e.svc.Consume(ctx, req, ledger.Idem{Key: fmt.Sprintf("job-%d", i)}); err != nil {
			t.Fatalf("job %d (%s): %v", i, j.At, err)
		}
	}
	grant(e.now)
	tok, err := e.keys.Mint(auth.Principal{Subject: "admin-" + name, Role: auth.ContractAdmin, Contract: c.ID}, e.now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["admin-"+name] = tok
	return y
}

// TestGovernanceRoutesOnARealStore loads a synthetic year into SQLite
// through the ledger and checks each route answers exactly what
// core/governance computes from what the store holds, and that the store's
// roll-ups are the synthetic year's.
// TestGovernanceRoutesOnARealStore replays a synthetic contract through the
// ledger on each store and checks the five views against core/governance.
func TestGovernanceRoutesOnARealStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t)
		// The embedded store rolls up in the spend's transaction: its
		// reports are as fresh as the request.
		governanceOnStore(t, e, func() *time.Time { return &e.now })
	})
	t.Run("dynamodb", func(t *testing.T) {
		endpoint := ddblocal.Endpoint(t)
		client := ddblocal.Client(endpoint)
		table := ddblocal.UniqueName("governance")
		ctx := context.Background()
		if err := dynamo.CreateTable(ctx, client, table); err != nil {
			t.Fatal(err)
		}
		st := dynamo.New(client, table)
		stream, err := dynamo.NewStreamReader(ctx, st, ddblocal.Streams(endpoint))
		if err != nil {
			t.Fatal(err)
		}
		// Roll-ups follow the table's stream: catch up as the roll-up
		// function would, and the reports say how fresh they are.
		governanceOnStore(t, newEnvOn(t, st), func() *time.Time {
			if err := stream.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			at, err := st.UsageAsOf(ctx)
			if err != nil || at.IsZero() {
				t.Fatalf("UsageAsOf after catching up = %v, %v", at, err)
			}
			return &at
		})
	})
}

// governanceOnStore checks the views on e's store; rolledUp brings its
// usage roll-ups up to date and says how fresh they then are.
func governanceOnStore(t *testing.T, e *env, rolledUp func() *time.Time) {
	const name = "render-steady"
	y := loadSynth(t, e, name)
	asOf := rolledUp()
	ctx := context.Background()
	st := e.st
	c, err := st.Contract(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	lots, _ := st.Lots(ctx, name, "", ledger.LotsPageMax)
	hist, _ := st.Usage(ctx, name, "2025-03", "2026-03")
	all, _ := st.Usage(ctx, name, "2000-01", "2099-12")
	attempts, _ := st.Attempts(ctx, name)
	users, _ := st.Users(ctx, name)
	_, pc, err := sampledata.Catalogs("")
	if err != nil {
		t.Fatal(err)
	}

	grouped := []string{"user", "service", "project", "entity", "month"}
	if got, want := governance.Usage(all, grouped, "2000-01", "2099-12"), governance.Usage(y.Usage, grouped, "2000-01", "2099-12"); !sameJSONValue(got, want) {
		t.Errorf("the store's roll-ups differ from the synthetic year's:\n%s\n%s", mustMarshal(got), mustMarshal(want))
	}
	admin := "admin-" + name
	base := "/v1/contracts/" + name
	for _, tc := range []struct {
		path string
		want any
	}{
		{base + "/usage?from=2025-03&to=2026-03&group_by=month,service", fresh(governance.Usage(hist, []string{"month", "service"}, "2025-03", "2026-03"), asOf)},
		{base + "/usage", fresh(governance.Usage(hist, nil, "2025-04", "2026-03"), asOf)},
		{base + "/expirations", governance.Expirations(lots, hist, e.now)},
		{base + "/alerts", governance.Alerts(c, lots, hist, e.now)},
		{base + "/audit", governance.Audit(attempts, all, users, c)},
		{base + "/forecast", governance.Forecast(hist, e.now, governance.ForecastOptions{Lots: lots, Channel: pricing.ChannelReseller,
			Price: func(r pricing.Request) (pricing.Price, error) { return pc.Price(r, e.now) }})},
	} {
		rec := e.do(t, admin, "GET", tc.path, "", "")
		e.ok(t, rec, 200)
		if got, want := rec.Body.String(), string(mustMarshal(tc.want))+"\n"; got != want {
			t.Errorf("GET %s answers\n%s\nwant (core/governance on the store's data)\n%s", tc.path, got, want)
		}
	}
	// The synthetic contract: one pool (render-2025-03) expired on
	// 2026-03-01 and the six individual lots were spent first, so the
	// calendar holds the later purchase alone.
	var cal governance.ExpiryCalendar
	if err := json.Unmarshal(e.do(t, "vendor", "GET", base+"/expirations", "", "").Body.Bytes(), &cal); err != nil {
		t.Fatal(err)
	}
	if len(cal.Lots) != 1 || cal.Lots[0].Lot != "render-2025-09" {
		t.Errorf("calendar lots = %+v", cal.Lots)
	}
	// The hourly alert check records what /alerts answers, once; the outbox
	// route lists them (unaddressed: the synthetic contract has no
	// notify_email).
	var alerts governance.AlertReport
	if err := json.Unmarshal(e.do(t, admin, "GET", base+"/alerts", "", "").Body.Bytes(), &alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts.Alerts) == 0 {
		t.Fatal("the synthetic contract has no alerts to send")
	}
	// (The env's own contracts have alerts too: the first check records
	// at least this contract's; the second nothing.)
	if rep, err := e.svc.SweepAlerts(ctx); err != nil || rep.AlertsRecorded < len(alerts.Alerts) {
		t.Fatalf("first alert check = %+v, %v; want at least %d recorded", rep, err, len(alerts.Alerts))
	}
	if rep, err := e.svc.SweepAlerts(ctx); err != nil || rep.AlertsRecorded != 0 {
		t.Fatalf("second alert check = %+v, %v; want nothing recorded", rep, err)
	}
	var outbox struct {
		Notifications []struct{ ID, Kind, State, Body string } `json:"notifications"`
	}
	if err := json.Unmarshal(e.do(t, admin, "GET", base+"/notifications?kind=alert", "", "").Body.Bytes(), &outbox); err != nil {
		t.Fatal(err)
	}
	wantIDs := map[string]bool{}
	for _, n := range governance.AlertNotifications(c, alerts, e.now) {
		wantIDs[n.ID] = true
	}
	if len(outbox.Notifications) != len(wantIDs) {
		t.Errorf("the outbox lists %d alerts, want %d", len(outbox.Notifications), len(wantIDs))
	}
	for _, n := range outbox.Notifications {
		if !wantIDs[n.ID] || n.Kind != "alert" || n.State != "unaddressed" {
			t.Errorf("outbox entry %+v is not one of the alerts, unaddressed", n)
		}
	}
	// Another contract's admin: 404, not 403; a user: 403.
	for _, p := range []string{"/usage", "/expirations", "/alerts", "/audit", "/forecast", "/notifications"} {
		e.ok(t, e.do(t, "admin2", "GET", base+p, "", ""), 404)
		e.ok(t, e.do(t, "ann", "GET", base+p, "", ""), 403)
		e.ok(t, e.do(t, "vendor", "GET", "/v1/contracts/nope"+p, "", ""), 404)
	}
}

func TestUsageCSV(t *testing.T) {
	e := newEnv(t)
	loadSynth(t, e, "render-steady")
	path := "/v1/contracts/render-steady/usage?from=2025-03&to=2026-02&group_by=service,month"
	for name, send := range map[string]func() *httpResult{
		"format=csv": func() *httpResult { return wrap(e.do(t, "admin-render-steady", "GET", path+"&format=csv", "", "")) },
		"Accept":     func() *httpResult { return wrap(doAccept(t, e, "admin-render-steady", path, "text/csv")) },
	} {
		t.Run(name, func(t *testing.T) {
			rec := send()
			if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
				t.Fatalf("status %d, Content-Type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="usage-render-steady-2025-03-2026-02.csv"` {
				t.Errorf("Content-Disposition = %q", cd)
			}
			if !strings.Contains(rec.Body.String(), "\r\n") {
				t.Error("RFC 4180 lines end in CRLF")
			}
			recs, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(recs[0], ","); got != "service,month,currency,credits,count" {
				t.Errorf("header = %s", got)
			}
			// 2 services × 12 months.
			if len(recs) != 1+24 {
				t.Errorf("%d records, want 25", len(recs))
			}
			for _, r := range recs[1:] {
				if _, err := decimal.NewFromString(r[3]); err != nil || strings.ContainsAny(r[3], "e\"") {
					t.Errorf("credits %q is not a plain decimal", r[3])
				}
			}
		})
	}
}

func TestUsageRefusesBadParameters(t *testing.T) {
	e := newEnv(t)
	for q, field := range map[string]string{
		"from=2025-13":              "from",
		"from=2025-3":               "from",
		"to=March":                  "to",
		"from=2026-03&to=2026-01":   "from",
		"from=2020-01&to=2026-03":   "from",
		"group_by=user,colour":      "group_by",
		"group_by=user,user":        "group_by",
		"format=xml":                "format",
		"since=2025-01":             "since",
		"from=2025-01&from=2025-02": "from",
	} {
		rec := e.do(t, "admin", "GET", "/v1/contracts/c1/usage?"+q, "", "")
		if rec.Code != 400 {
			t.Errorf("%s: status %d, want 400: %s", q, rec.Code, rec.Body)
			continue
		}
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Details struct {
					Fields map[string]string `json:"fields"`
				} `json:"details"`
			} `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if body.Error.Code != "invalid_request" || body.Error.Details.Fields[field] == "" {
			t.Errorf("%s: want invalid_request naming %s, got %s", q, field, rec.Body)
		}
	}
}

// fresh is rep with its freshness.
func fresh(rep governance.UsageReport, asOf *time.Time) governance.UsageReport {
	rep.AsOf = asOf
	return rep
}

func sameJSONValue(a, b any) bool { return string(mustMarshal(a)) == string(mustMarshal(b)) }

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type httpResult = httptest.ResponseRecorder

func wrap(r *httptest.ResponseRecorder) *httpResult { return r }

// doAccept is a GET with an Accept header.
func doAccept(t *testing.T, e *env, who, path, accept string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	req.Header.Set("Accept", accept)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}
