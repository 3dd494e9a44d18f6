package capacity

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Class is a set of ids that appear as whole '#'-separated segments of key
// values and that a replay re-maps, the way the adapter would pick them:
// each replayed attempt shifts the recorded ids by a random offset into
// Population, so every id of Population is equally likely and distinct
// recorded ids stay distinct. A grant's shard lots are a class whose
// Population is its Recorded ids (the rotation picks a shard uniformly);
// users are a class whose Population may be larger than the users recorded.
type Class struct {
	// Name is the class's placeholder in key patterns, such as "<lot>".
	Name       string
	Recorded   []string
	Population []string
	// PerAttempt re-draws the offset on every attempt of a spend (a
	// re-plan draws a fresh rotation, so maybe another shard); otherwise
	// it is drawn once per spend (a re-plan is the same user's spend).
	PerAttempt bool
}

// Workload is recorded traces made replayable: every key compiled into
// segments, every partition and item classed as shared (touched by more
// than one recorded trace, once the classes' ids are abstracted) or
// per-operation (an idempotency record, an entry, a consumption: a fresh key
// in every replayed attempt, so it never conflicts and its partition never
// fills).
type Workload struct {
	recorded []Trace
	classes  []Class
	traces   [][]callT
	// patterns names partitions by key pattern (PartitionPattern's text);
	// an access's pattern is an index into it.
	patterns []string
}

type callT struct {
	transact, writes bool
	accesses         []accessT
}

type accessT struct {
	table, index                string
	pk, sk                      []segment
	write                       bool
	sharedPartition, sharedItem bool
	wcu, rcu                    float64
	pattern, itemPattern        int
}

// segment is a literal, or (class ≥ 0) the id'th recorded id of a class.
type segment struct {
	text      string
	class, id int
}

const sep = "#"

// NewWorkload compiles recorded traces for replay with the classes' ids
// re-mapped.
func NewWorkload(recorded []Trace, classes ...Class) (*Workload, error) {
	if len(recorded) == 0 {
		return nil, errors.New("capacity: no recorded traces")
	}
	ids := map[string][2]int{}
	for c, cl := range classes {
		if len(cl.Population) == 0 || len(cl.Recorded) > len(cl.Population) {
			return nil, fmt.Errorf("capacity: class %s has %d recorded ids and a population of %d", cl.Name, len(cl.Recorded), len(cl.Population))
		}
		for i, id := range cl.Recorded {
			if _, dup := ids[id]; dup || id == "" || strings.Contains(id, sep) {
				return nil, fmt.Errorf("capacity: class %s: id %q is empty, holds %q or is in two classes", cl.Name, id, sep)
			}
			ids[id] = [2]int{c, i}
		}
	}
	w := &Workload{recorded: recorded, classes: classes}
	compile := func(text string) []segment {
		var segs []segment
		for _, part := range strings.Split(text, sep) {
			if ci, ok := ids[part]; ok {
				segs = append(segs, segment{class: ci[0], id: ci[1]})
			} else {
				segs = append(segs, segment{text: part, class: -1})
			}
		}
		return segs
	}
	for _, tr := range recorded {
		var calls []callT
		for _, c := range tr {
			ct := callT{transact: c.Transact(), writes: c.Writes()}
			for _, a := range c.Accesses {
				at := accessT{table: a.Table, index: a.Index, pk: compile(a.PK), sk: compile(a.SK), write: a.Write()}
				at.wcu, at.rcu = a.Units()
				ct.accesses = append(ct.accesses, at)
			}
			calls = append(calls, ct)
		}
		w.traces = append(w.traces, calls)
	}
	w.classify()
	return w, nil
}

// abstract is a key with the classes' ids replaced by the classes' names.
func (w *Workload) abstract(segs []segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = s.text
		if s.class >= 0 {
			parts[i] = w.classes[s.class].Name
		}
	}
	return strings.Join(parts, sep)
}

// classify marks partitions and items shared or per-operation and names
// their patterns.
func (w *Workload) classify() {
	partKey := func(a *accessT) string { return a.table + "\x00" + a.index + "\x00" + w.abstract(a.pk) }
	itemKey := func(a *accessT) string { return partKey(a) + "\x00" + w.abstract(a.sk) }
	parts, items := map[string]map[int]bool{}, map[string]map[int]bool{}
	note := func(m map[string]map[int]bool, k string, trace int) {
		if m[k] == nil {
			m[k] = map[int]bool{}
		}
		m[k][trace] = true
	}
	w.each(func(t int, a *accessT) {
		note(parts, partKey(a), t)
		note(items, itemKey(a), t)
	})
	var uniquePK, uniqueSK []string
	w.each(func(_ int, a *accessT) {
		a.sharedPartition = len(parts[partKey(a)]) > 1
		a.sharedItem = len(items[itemKey(a)]) > 1
		if !a.sharedPartition {
			uniquePK = append(uniquePK, w.abstract(a.pk))
		}
		if !a.sharedItem {
			uniqueSK = append(uniqueSK, w.abstract(a.sk))
		}
	})
	pkPattern, skPattern := patterns(uniquePK), patterns(uniqueSK)
	index := map[string]int{}
	intern := func(p string) int {
		i, ok := index[p]
		if !ok {
			i = len(w.patterns)
			index[p] = i
			w.patterns = append(w.patterns, p)
		}
		return i
	}
	w.each(func(_ int, a *accessT) {
		pk, sk := w.abstract(a.pk), w.abstract(a.sk)
		if !a.sharedPartition {
			pk = pkPattern[pk]
		}
		if !a.sharedItem {
			sk = skPattern[sk]
		}
		where := "" // the table's own partitions go by their keys alone
		if a.index != "" {
			where = a.index + ": "
		}
		a.pattern = intern(where + pk)
		a.itemPattern = intern(where + pk + " " + sk)
	})
}

func (w *Workload) each(fn func(trace int, a *accessT)) {
	for t := range w.traces {
		for c := range w.traces[t] {
			for i := range w.traces[t][c].accesses {
				fn(t, &w.traces[t][c].accesses[i])
			}
		}
	}
}

// patterns names per-operation keys: among keys with the same first
// segment and number of segments, a segment that differs between them is
// an "<id>".
func patterns(keys []string) map[string]string {
	groups := map[string][][]string{}
	for _, k := range keys {
		parts := strings.Split(k, sep)
		g := fmt.Sprintf("%s\x00%d", parts[0], len(parts))
		groups[g] = append(groups[g], parts)
	}
	out := map[string]string{}
	for _, g := range groups {
		pattern := slices.Clone(g[0])
		for _, parts := range g[1:] {
			for i := range parts {
				if parts[i] != pattern[i] {
					pattern[i] = "<id>"
				}
			}
		}
		for _, parts := range g {
			out[strings.Join(parts, sep)] = strings.Join(pattern, sep)
		}
	}
	return out
}

// callInst is one call of a replayed attempt: what it charges to which
// partition and which shared items it writes.
type callInst struct {
	transact, writes bool
	charges          []charge
	items            []itemRef
}

// charge is capacity a call consumes on a partition (part ≥ 0: a shared
// partition the simulation tracks; −1: a per-operation partition, counted
// by pattern only).
type charge struct {
	part, pattern int
	wcu, rcu      float64
}

type itemRef struct {
	key     string
	pattern int
}

// pick is what a spend's replay drew: a recorded trace and each class's
// offset.
type pick struct {
	trace   int
	offsets []int
}

// draw picks a recorded trace uniformly and an offset per class (all of
// them, or with attempt only the PerAttempt ones).
func (w *Workload) draw(r *rand.Rand, p *pick, attempt bool) {
	if !attempt {
		p.trace = r.IntN(len(w.traces))
		p.offsets = make([]int, len(w.classes))
	}
	for i, cl := range w.classes {
		if !attempt || cl.PerAttempt {
			p.offsets[i] = r.IntN(len(cl.Population))
		}
	}
}

// attempt is one replayed attempt of the spend p: its trace with each
// class's ids shifted by the class's offset. part interns a shared
// partition's key.
func (w *Workload) attempt(p *pick, part func(key string, pattern int) int) []callInst {
	calls := w.traces[p.trace]
	render := func(segs []segment) string {
		var b strings.Builder
		for i, s := range segs {
			if i > 0 {
				b.WriteString(sep)
			}
			if s.class < 0 {
				b.WriteString(s.text)
				continue
			}
			pop := w.classes[s.class].Population
			b.WriteString(pop[(s.id+p.offsets[s.class])%len(pop)])
		}
		return b.String()
	}
	out := make([]callInst, len(calls))
	for i, c := range calls {
		ci := callInst{transact: c.transact, writes: c.writes}
		for _, a := range c.accesses {
			ch := charge{part: -1, pattern: a.pattern, wcu: a.wcu, rcu: a.rcu}
			var pk string
			if a.sharedPartition || a.sharedItem {
				pk = render(a.pk)
			}
			if a.sharedPartition {
				ch.part = part(a.table+"\x00"+a.index+"\x00"+pk, a.pattern)
			}
			ci.charges = addCharge(ci.charges, ch)
			if a.sharedItem && a.write && a.index == "" {
				ci.items = append(ci.items, itemRef{key: a.table + "\x00" + pk + "\x00" + render(a.sk), pattern: a.itemPattern})
			}
		}
		out[i] = ci
	}
	return out
}

// addCharge adds ch to a call's charges, merged with an earlier charge on
// the same partition (or, per-operation, the same pattern).
func addCharge(cs []charge, ch charge) []charge {
	for i := range cs {
		if cs[i].part == ch.part && (ch.part >= 0 || cs[i].pattern == ch.pattern) {
			cs[i].wcu += ch.wcu
			cs[i].rcu += ch.rcu
			return cs
		}
	}
	return append(cs, ch)
}

// Unloaded is the mean latency of the recorded traces with nothing refused.
func (w *Workload) unloaded(m Model) float64 {
	var sum float64
	for _, t := range w.recorded {
		sum += m.unloaded(t).Seconds()
	}
	return sum / float64(len(w.recorded))
}
