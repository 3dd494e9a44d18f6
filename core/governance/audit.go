package governance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// Finding codes, one per compliance risk of the seed's table. Appended only.
const (
	FindingCrossEntity = "cross_entity"                // unauthorised cross-entity consumption
	FindingContractor  = "contractor_without_coverage" // contractor access without coverage
	FindingEducation   = "education_identity"          // education ID access to cloud services
	FindingGuest       = "guest_identity"              // guest accounts (see Risks)
)

// Risk is the seed's row for one finding: what it is, how often audits find
// it, its typical value and the prevention the seed advises.
type Risk struct {
	Code       string
	Title      string
	Frequency  string // share of engagements where audits find it
	ValueLow   decimal.Decimal
	ValueHigh  decimal.Decimal
	Challenge  string // the share of findings successfully challenged
	Prevention string
}

// Risks are the seed's compliance table ("Typical Finding Value",
// "Prevention"). The seed has no row for guest identities; we take the
// education row's value ($2,500–$12,000): both are identities outside the
// named-user registry that the seed's "service access verification"
// paragraph names together ("an education ID or a guest account"), so an
// auditor finds and values them the same way. Its prevention text applies
// the education advice to guest accounts, and its frequency and challenge
// rate are left unknown.
var Risks = []Risk{
	{FindingCrossEntity, "Unauthorised cross-entity credit consumption", "29% of cloud-heavy engagements",
		dec("8000"), dec("45000"), "41%", "Entity scope definition in credit purchase contract"},
	{FindingContractor, "Contractor access without coverage", "34%",
		dec("4000"), dec("22000"), "45%", "Contractor access clause in cloud credit agreement"},
	{FindingEducation, "Education ID access to cloud services", "18%",
		dec("2500"), dec("12000"), "58%", "Named User registry audit for education IDs"},
	{FindingGuest, "Guest account access to cloud services", "unknown",
		dec("2500"), dec("12000"), "unknown", "Named User registry audit for guest accounts; remove guest identities from the contract's users"},
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Finding is the audit's result for one risk.
type Finding struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	Found bool   `json:"found"`
	// Consumptions and ConsumedCredits count credits actually consumed by
	// the risk (possible when coverage or a user's kind changed after).
	Consumptions    int64           `json:"consumptions"`
	ConsumedCredits decimal.Decimal `json:"consumed_credits"`
	// Attempts and AttemptedCredits count the refused attempts.
	Attempts         int64           `json:"attempts"`
	AttemptedCredits decimal.Decimal `json:"attempted_credits"`
	Users            []string        `json:"users"`
	Entities         []string        `json:"entities"`
	FirstAt          time.Time       `json:"first_attempt_at,omitzero"`
	LastAt           time.Time       `json:"last_attempt_at,omitzero"`
	// TypicalValue is the seed's typical finding value; Exposure is it when
	// the risk was found and zero otherwise.
	TypicalValue Money  `json:"typical_finding_value"`
	Exposure     Money  `json:"exposure"`
	Frequency    string `json:"audit_frequency"`
	Challenge    string `json:"challenge_success_rate"`
	Prevention   string `json:"prevention"`
	Message      string `json:"message"`
}

// Money is a USD range.
type Money struct {
	Low  string `json:"low"`
	High string `json:"high"`
}

func money(lo, hi decimal.Decimal) Money { return Money{core.FormatMoney(lo), core.FormatMoney(hi)} }

// Refusal counts refused attempts of one reason.
type Refusal struct {
	Reason  string          `json:"reason"`
	Count   int64           `json:"count"`
	Credits decimal.Decimal `json:"credits"`
}

// AuditReport is the answer of GET /v1/contracts/{c}/audit.
type AuditReport struct {
	Contract string    `json:"contract"`
	Findings []Finding `json:"findings"`
	// Refusals counts every refused attempt by reason, the four findings'
	// and the others (unknown user, removed user, no permission, ended).
	Refusals      []Refusal `json:"refusals"`
	TotalExposure Money     `json:"total_exposure"`
}

// Audit is the entity-coverage audit: consumption by entities the contract
// does not cover, and by contractors (without coverage), education and
// guest identities, from the usage roll-ups (users tells each user's kind as
// it is now); and the refused attempts grouped by reason. Each risk found
// carries the seed's typical finding value as exposure and its prevention.
func Audit(attempts []ledger.Attempt, rows []ledger.Usage, users []ledger.User, c ledger.Contract) AuditReport {
	kinds := map[string]ledger.UserKind{}
	for _, u := range users {
		kinds[u.ID] = u.Kind
	}
	type acc struct {
		f        Finding
		users    map[string]bool
		entities map[string]bool
	}
	byCode := map[string]*acc{}
	for _, r := range Risks {
		byCode[r.Code] = &acc{f: Finding{Code: r.Code, Title: r.Title, ConsumedCredits: decimal.Zero, AttemptedCredits: decimal.Zero,
			TypicalValue: money(r.ValueLow, r.ValueHigh), Exposure: money(zero, zero), Frequency: r.Frequency,
			Challenge: r.Challenge, Prevention: r.Prevention}, users: map[string]bool{}, entities: map[string]bool{}}
	}
	for _, u := range rows {
		var codes []string
		if !c.Covers(u.Key.Entity) {
			codes = append(codes, FindingCrossEntity)
		}
		switch kinds[u.Key.User] {
		case ledger.Contractor:
			if !c.ContractorCoverage {
				codes = append(codes, FindingContractor)
			}
		case ledger.Education:
			codes = append(codes, FindingEducation)
		case ledger.Guest:
			codes = append(codes, FindingGuest)
		}
		for _, code := range codes {
			a := byCode[code]
			a.f.Consumptions += u.Count
			a.f.ConsumedCredits = a.f.ConsumedCredits.Add(u.Credits)
			a.users[u.Key.User], a.entities[u.Key.Entity] = true, true
		}
	}
	refusals := map[string]*Refusal{}
	for _, at := range attempts {
		r := refusals[at.Reason]
		if r == nil {
			r = &Refusal{Reason: at.Reason, Credits: decimal.Zero}
			refusals[at.Reason] = r
		}
		r.Count++
		r.Credits = r.Credits.Add(at.Credits)
		code := ""
		switch at.Reason {
		case "entity_not_covered":
			code = FindingCrossEntity
		case "contractor_without_coverage":
			code = FindingContractor
		case "education_identity":
			code = FindingEducation
		case "guest_identity":
			code = FindingGuest
		}
		a := byCode[code]
		if a == nil {
			continue
		}
		a.f.Attempts++
		a.f.AttemptedCredits = a.f.AttemptedCredits.Add(at.Credits)
		a.users[at.User], a.entities[at.Entity] = true, true
		if a.f.FirstAt.IsZero() || at.At.Before(a.f.FirstAt) {
			a.f.FirstAt = at.At.UTC()
		}
		if at.At.After(a.f.LastAt) {
			a.f.LastAt = at.At.UTC()
		}
	}
	rep := AuditReport{Contract: c.ID, Findings: []Finding{}, Refusals: []Refusal{}}
	lo, hi := decimal.Zero, decimal.Zero
	for _, r := range Risks {
		a := byCode[r.Code]
		f := a.f
		f.Users, f.Entities = sortedKeys(a.users), sortedKeys(a.entities)
		f.Found = f.Consumptions > 0 || f.Attempts > 0
		if f.Found {
			f.Exposure = f.TypicalValue
			lo, hi = lo.Add(r.ValueLow), hi.Add(r.ValueHigh)
			f.Message = fmt.Sprintf("%s: %d consumptions (%s credits) and %d refused attempts (%s credits) by %s; typical finding value $%s–$%s. Prevention: %s.",
				r.Title, f.Consumptions, f.ConsumedCredits, f.Attempts, f.AttemptedCredits, strings.Join(f.Users, ", "),
				f.TypicalValue.Low, f.TypicalValue.High, r.Prevention)
		} else {
			f.Message = fmt.Sprintf("%s: nothing found.", r.Title)
		}
		rep.Findings = append(rep.Findings, f)
	}
	for _, r := range refusals {
		rep.Refusals = append(rep.Refusals, *r)
	}
	slices.SortFunc(rep.Refusals, func(a, b Refusal) int { return strings.Compare(a.Reason, b.Reason) })
	rep.TotalExposure = money(lo, hi)
	return rep
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
