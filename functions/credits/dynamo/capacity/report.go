package capacity

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what one simulation measured over its window.
type Result struct {
	Clients int
	// Offered is the spends/s the clients would make if nothing were
	// refused (clients over a spend's unloaded latency); Achieved the
	// spends/s that completed.
	Offered, Achieved float64
	// LatencyP50 and LatencyP99 are of the completed spends, re-plans and
	// retries included.
	LatencyP50, LatencyP99 time.Duration
	// Throttled and Conflicts are requests per second refused for a
	// partition's capacity and cancelled for a transaction conflict; Failed
	// is spends per second that gave up.
	Throttled, Conflicts, Failed float64
	// Busiest are the shared partitions, busiest first (by the larger of
	// their write and read use); Busiest[0] is the bottleneck.
	Busiest []PartitionUse
	// HotItem is the item pattern with the most conflicts, and its
	// conflicts per second.
	HotItem          string
	HotItemConflicts float64
}

// PartitionUse is what one partition served, per second of the window.
type PartitionUse struct {
	Key, Pattern string
	WCU, RCU     float64
	// Use is the larger of WCU and RCU as a fraction of the partition's
	// limits.
	Use       float64
	Throttled float64
}

// Bottleneck is the busiest partition (zero if there is none).
func (r Result) Bottleneck() PartitionUse {
	if len(r.Busiest) == 0 {
		return PartitionUse{}
	}
	return r.Busiest[0]
}

// busiestMax bounds the partitions a Result lists.
const busiestMax = 5

func (s *sim) result() Result {
	secs := s.m.Measure.Seconds()
	lat := sortedCopy(s.stats.latencies)
	res := Result{
		Clients: s.m.Clients, Offered: float64(s.m.Clients) / s.w.unloaded(s.m),
		Achieved: float64(s.stats.spends) / secs, LatencyP50: percentile(lat, 0.5), LatencyP99: percentile(lat, 0.99),
		Throttled: float64(s.stats.throttled) / secs, Conflicts: float64(s.stats.conflicts) / secs, Failed: float64(s.stats.failed) / secs,
	}
	for _, p := range s.parts {
		u := PartitionUse{Key: strings.ReplaceAll(p.key, "\x00", " "), Pattern: s.w.patterns[p.pattern],
			WCU: p.use.wcu / secs, RCU: p.use.rcu / secs, Throttled: float64(p.use.throttled) / secs}
		u.Use = max(u.WCU/s.m.WriteUnitsPerSecond, u.RCU/s.m.ReadUnitsPerSecond)
		res.Busiest = append(res.Busiest, u)
	}
	slices.SortStableFunc(res.Busiest, func(a, b PartitionUse) int {
		return cmp.Or(cmp.Compare(b.Use, a.Use), cmp.Compare(b.Throttled, a.Throttled), strings.Compare(a.Key, b.Key))
	})
	res.Busiest = res.Busiest[:min(len(res.Busiest), busiestMax)]
	for i, n := range s.conflictsAt {
		if c := float64(n) / secs; c > res.HotItemConflicts {
			res.HotItem, res.HotItemConflicts = s.w.patterns[i], c
		}
	}
	return res
}

// Scenario is a named Result, one row of Table.
type Scenario struct {
	Name string
	Result
}

// Table prints scenarios as one table: offered and achieved spends/s,
// latency, throttled requests, conflicts and failures per second, the
// bottleneck partition (its key pattern and what it served) and the item
// with the most conflicts.
func Table(rows []Scenario) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "scenario\tclients\toffered/s\tachieved/s\tp50 ms\tp99 ms\tthrottled/s\tconflicts/s\tfailed/s\tbottleneck partition (WCU/s, RCU/s, use)\tmost conflicted item (conflicts/s)")
	for _, r := range rows {
		bn := r.Bottleneck()
		hot := "-"
		if r.HotItem != "" {
			hot = fmt.Sprintf("%s (%.0f)", r.HotItem, r.HotItemConflicts)
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.0f\t%.0f\t%.1f\t%s (%.0f, %.0f, %.0f%%)\t%s\n",
			r.Name, r.Clients, r.Offered, r.Achieved, ms(r.LatencyP50), ms(r.LatencyP99),
			r.Throttled, r.Conflicts, r.Failed, bn.Pattern, bn.WCU, bn.RCU, 100*bn.Use, hot)
	}
	w.Flush()
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Cost is what one spend costs on one kind of item, on average over the
// recorded traces.
type Cost struct {
	Op, Kind string
	// Item is the item's key pattern (table or table/index, partition key,
	// sort key).
	Item string
	// PerSpend is how many such accesses a spend makes; Bytes their mean
	// size; WCU and RCU their capacity units per spend.
	PerSpend, Bytes, WCU, RCU float64
}

// PartitionCost is what one spend costs on one partition pattern, and the
// spends/s that pattern's partitions can take at most by DynamoDB's
// per-partition limits if the spends spread evenly over them.
type PartitionCost struct {
	Pattern string
	// Partitions is how many partitions the pattern spreads over (0: one
	// of its own per operation).
	Partitions int
	WCU, RCU   float64
	// Ceiling is Partitions × min(write limit / WCU, read limit / RCU);
	// +Inf for per-operation partitions.
	Ceiling float64
}

// Costs breaks down the recorded traces' capacity per spend by item and
// by partition pattern, most expensive first.
func Costs(m Model, w *Workload) ([]Cost, []PartitionCost) {
	n := float64(len(w.recorded))
	items := map[string]*Cost{}
	parts := map[int]*PartitionCost{}
	for t, tr := range w.recorded {
		for c, call := range tr {
			for i, a := range call.Accesses {
				at := w.traces[t][c].accesses[i]
				kind := string(a.Kind)
				if a.Transactional {
					kind += " (tx)"
				}
				key := call.Op + "\x00" + kind + "\x00" + w.patterns[at.itemPattern]
				if a.Kind == Query || a.Kind == Scan {
					key = call.Op + "\x00" + kind + "\x00" + w.patterns[at.pattern]
				}
				ic := items[key]
				if ic == nil {
					ic = &Cost{Op: call.Op, Kind: kind, Item: strings.Split(key, "\x00")[2]}
					items[key] = ic
				}
				ic.PerSpend += 1 / n
				ic.Bytes += float64(a.Bytes)
				ic.WCU += at.wcu / n
				ic.RCU += at.rcu / n
				pc := parts[at.pattern]
				if pc == nil {
					pc = &PartitionCost{Pattern: w.patterns[at.pattern], Partitions: w.spread(at)}
					parts[at.pattern] = pc
				}
				pc.WCU += at.wcu / n
				pc.RCU += at.rcu / n
			}
		}
	}
	var costs []Cost
	for _, c := range items {
		c.Bytes /= c.PerSpend * n
		costs = append(costs, *c)
	}
	slices.SortFunc(costs, func(a, b Cost) int {
		return cmp.Or(cmp.Compare(b.WCU+b.RCU, a.WCU+a.RCU), strings.Compare(a.Item, b.Item), strings.Compare(a.Kind, b.Kind),
			strings.Compare(a.Op, b.Op))
	})
	var pcs []PartitionCost
	for _, p := range parts {
		p.Ceiling = math.Inf(1)
		if p.Partitions > 0 {
			perPartition := math.Inf(1)
			if p.WCU > 0 {
				perPartition = m.WriteUnitsPerSecond / p.WCU
			}
			if p.RCU > 0 {
				perPartition = min(perPartition, m.ReadUnitsPerSecond/p.RCU)
			}
			p.Ceiling = float64(p.Partitions) * perPartition
		}
		pcs = append(pcs, *p)
	}
	slices.SortFunc(pcs, func(a, b PartitionCost) int {
		return cmp.Or(cmp.Compare(a.Ceiling, b.Ceiling), strings.Compare(a.Pattern, b.Pattern))
	})
	return costs, pcs
}

// spread is how many partitions a shared access's pattern covers: the
// product of the populations of the classes in its partition key; 0 for a
// per-operation partition.
func (w *Workload) spread(a accessT) int {
	if !a.sharedPartition {
		return 0
	}
	n, seen := 1, map[int]bool{}
	for _, s := range a.pk {
		if s.class >= 0 && !seen[s.class] {
			seen[s.class] = true
			n *= len(w.classes[s.class].Population)
		}
	}
	return n
}

// CostTable prints Costs as two tables: per item, and per partition
// pattern with its ceiling.
func CostTable(costs []Cost, parts []PartitionCost) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "call\taccess\titem (table[/index] partition-key sort-key)\tper spend\tbytes\tWCU/spend\tRCU/spend")
	for _, c := range costs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%.2f\t%.0f\t%.2f\t%.2f\n", c.Op, c.Kind, c.Item, c.PerSpend, c.Bytes, c.WCU, c.RCU)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "partition pattern\tpartitions\tWCU/spend\tRCU/spend\tceiling spends/s")
	for _, p := range parts {
		spread, ceiling := fmt.Sprint(p.Partitions), "-"
		if p.Partitions == 0 {
			spread = "one per spend"
		} else {
			ceiling = fmt.Sprintf("%.0f", p.Ceiling)
		}
		fmt.Fprintf(w, "%s\t%s\t%.2f\t%.2f\t%s\n", p.Pattern, spread, p.WCU, p.RCU, ceiling)
	}
	w.Flush()
	return b.String()
}
