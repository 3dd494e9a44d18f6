package governance

import (
	"slices"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// The dimensions a usage report groups by. Currency is always a dimension:
// credits of different currencies are never added together.
const (
	DimUser    = "user"
	DimService = "service"
	DimProject = "project"
	DimEntity  = "entity"
	DimMonth   = "month"
)

// Dimensions lists every dimension in its canonical order.
func Dimensions() []string { return []string{DimUser, DimService, DimProject, DimEntity, DimMonth} }

// ParseGroupBy checks a group_by list: known dimensions, none twice. The
// order is kept: it is the order of the CSV columns and of the sort.
func ParseGroupBy(list []string) ([]string, error) {
	var p core.Problems
	seen := map[string]bool{}
	out := make([]string, 0, len(list))
	for _, d := range list {
		switch {
		case !slices.Contains(Dimensions(), d):
			p.Add("group_by", "unknown dimension %q: use any of %s", d, strings.Join(Dimensions(), ", "))
		case seen[d]:
			p.Add("group_by", "dimension %s is named twice", d)
		default:
			seen[d] = true
			out = append(out, d)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// UsageRow is one group of a usage report. A dimension not grouped by is
// nil (and absent from the JSON); a grouped one may be "" (no project).
type UsageRow struct {
	User     *string         `json:"user,omitempty"`
	Service  *string         `json:"service,omitempty"`
	Project  *string         `json:"project,omitempty"`
	Entity   *string         `json:"entity,omitempty"`
	Month    *string         `json:"month,omitempty"`
	Currency core.Currency   `json:"currency"`
	Credits  decimal.Decimal `json:"credits"`
	Count    int64           `json:"count"`
}

// Value returns the row's value of dimension d ("" when not grouped by).
func (r UsageRow) Value(d string) string {
	var p *string
	switch d {
	case DimUser:
		p = r.User
	case DimService:
		p = r.Service
	case DimProject:
		p = r.Project
	case DimEntity:
		p = r.Entity
	case DimMonth:
		p = r.Month
	}
	if p == nil {
		return ""
	}
	return *p
}

// UsageTotal is a report's total in one currency.
type UsageTotal struct {
	Currency core.Currency   `json:"currency"`
	Credits  decimal.Decimal `json:"credits"`
	Count    int64           `json:"count"`
}

// UsageReport is the answer of GET /v1/contracts/{c}/usage.
type UsageReport struct {
	// AsOf is how fresh the roll-ups are: every consumption and refund
	// recorded up to it is in the report (the store's word; nil: none
	// rolled up yet).
	AsOf    *time.Time   `json:"as_of,omitempty"`
	From    string       `json:"from"` // first month, inclusive
	To      string       `json:"to"`   // last month, inclusive
	GroupBy []string     `json:"group_by"`
	Rows    []UsageRow   `json:"rows"`
	Totals  []UsageTotal `json:"totals"`
}

// Usage groups the roll-up rows of months [from, to] by groupBy (already
// checked with ParseGroupBy) and currency. Its cost is proportional to the
// rows, never to the consumptions behind them. Rows are sorted by the
// dimensions in groupBy's order, then currency; totals by currency.
func Usage(rows []ledger.Usage, groupBy []string, from, to string) UsageReport {
	rep := UsageReport{From: from, To: to, GroupBy: slices.Clone(groupBy), Rows: []UsageRow{}, Totals: []UsageTotal{}}
	if rep.GroupBy == nil {
		rep.GroupBy = []string{}
	}
	groups := map[string]int{}
	totals := map[core.Currency]int{}
	for _, u := range rows {
		if u.Key.Month < from || u.Key.Month > to {
			continue
		}
		k := u.Key
		row := UsageRow{Currency: k.Currency, Credits: decimal.Zero}
		var key strings.Builder
		for _, d := range groupBy {
			v := ""
			switch d {
			case DimUser:
				v, row.User = k.User, ptr(k.User)
			case DimService:
				v, row.Service = k.Service, ptr(k.Service)
			case DimProject:
				v, row.Project = k.Project, ptr(k.Project)
			case DimEntity:
				v, row.Entity = k.Entity, ptr(k.Entity)
			case DimMonth:
				v, row.Month = k.Month, ptr(k.Month)
			}
			key.WriteString(v)
			key.WriteByte(0)
		}
		key.WriteString(string(k.Currency))
		i, ok := groups[key.String()]
		if !ok {
			i = len(rep.Rows)
			groups[key.String()] = i
			rep.Rows = append(rep.Rows, row)
		}
		rep.Rows[i].Credits = rep.Rows[i].Credits.Add(u.Credits)
		rep.Rows[i].Count += u.Count
		j, ok := totals[k.Currency]
		if !ok {
			j = len(rep.Totals)
			totals[k.Currency] = j
			rep.Totals = append(rep.Totals, UsageTotal{Currency: k.Currency, Credits: decimal.Zero})
		}
		rep.Totals[j].Credits = rep.Totals[j].Credits.Add(u.Credits)
		rep.Totals[j].Count += u.Count
	}
	slices.SortFunc(rep.Rows, func(a, b UsageRow) int {
		for _, d := range groupBy {
			if c := strings.Compare(a.Value(d), b.Value(d)); c != 0 {
				return c
			}
		}
		return strings.Compare(string(a.Currency), string(b.Currency))
	})
	slices.SortFunc(rep.Totals, func(a, b UsageTotal) int { return strings.Compare(string(a.Currency), string(b.Currency)) })
	return rep
}

func ptr(s string) *string { return &s }
