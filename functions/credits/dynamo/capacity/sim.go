package capacity

import (
	"container/heap"
	"errors"
	"math/rand/v2"
	"slices"
	"time"
)

// Simulate replays w under m: m.Clients clients each run one spend after
// another (every call of a sampled trace, in order), in simulated time,
// against per-partition token buckets and DynamoDB's transaction conflicts,
// retrying as the adapter and the service do. It is deterministic: the same
// model (seed included) and workload give the same Result.
func Simulate(m Model, w *Workload) (Result, error) {
	if err := m.check(); err != nil {
		return Result{}, err
	}
	s := &sim{m: m, w: w, r: rand.New(rand.NewPCG(m.Seed, m.Seed^0x9e3779b97f4a7c15)),
		index: map[string]int{}, held: map[string]int64{}, clients: make([]client, m.Clients),
		from: int64(m.Warmup), to: int64(m.Warmup + m.Measure),
		patternUse: make([]use, len(w.patterns)), conflictsAt: make([]int64, len(w.patterns))}
	for c := range s.clients {
		s.beginSpend(c, s.r.Int64N(int64(10*time.Millisecond)))
	}
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(event)
		if e.at >= s.to {
			break
		}
		s.now = e.at
		switch e.kind {
		case arrive:
			s.arrive(e.client)
		case respond:
			s.respond(e.client, e.outcome)
		case begin:
			s.beginAttempt(e.client, s.now)
		case send:
			s.send(e.client, s.now)
		}
	}
	return s.result(), nil
}

func (m Model) check() error {
	var errs []error
	if m.Clients < 1 {
		errs = append(errs, errors.New("capacity: Clients must be at least 1"))
	}
	if m.Measure <= 0 || m.Warmup < 0 {
		errs = append(errs, errors.New("capacity: Measure must be positive and Warmup not negative"))
	}
	if m.WriteUnitsPerSecond <= 0 || m.ReadUnitsPerSecond <= 0 || m.BucketSeconds <= 0 {
		errs = append(errs, errors.New("capacity: partition limits and BucketSeconds must be positive"))
	}
	if m.CallAttemptsMax < 1 || m.CallBackoff == nil || m.ReplanBackoff == nil {
		errs = append(errs, errors.New("capacity: CallAttemptsMax must be at least 1, CallBackoff and ReplanBackoff set"))
	}
	return errors.Join(errs...)
}

type eventKind uint8

const (
	arrive  eventKind = iota // the client's current call reaches DynamoDB
	respond                  // its answer reaches the client
	begin                    // the client starts an attempt (after a re-plan's wait)
	send                     // the client sends its current call again (after a retry's wait)
)

// outcome is how DynamoDB answered a call.
type outcome uint8

const (
	served outcome = iota
	throttled
	conflicted
)

type event struct {
	at      int64
	seq     uint64
	kind    eventKind
	outcome outcome
	client  int
}

type events []event

func (h events) Len() int { return len(h) }
func (h events) Less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}
func (h events) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *events) Push(x any)   { *h = append(*h, x.(event)) }
func (h *events) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// client is one spender's state: its current spend, attempt and call.
type client struct {
	pick    pick  // the current spend's trace and ids
	start   int64 // when the current spend began
	attempt int   // the service's attempt (0 first; each re-plan adds one)
	calls   []callInst
	next    int // the call in progress
	tries   int // the client's attempts of that call
}

// partition is a shared partition's token buckets and what it served.
type partition struct {
	key                  string
	pattern              int
	wcuTokens, rcuTokens float64
	refilled             int64
	use                  use
}

// use is capacity consumed and requests throttled within the window.
type use struct {
	wcu, rcu  float64
	throttled int64
}

type sim struct {
	m       Model
	w       *Workload
	r       *rand.Rand
	now     int64
	seq     uint64
	events  events
	clients []client
	parts   []partition
	index   map[string]int
	held    map[string]int64 // item → when the transaction holding it commits

	from, to    int64
	patternUse  []use   // per-operation partitions, by pattern
	conflictsAt []int64 // conflicts by item pattern
	stats       stats
}

type stats struct {
	spends, failed, throttled, conflicts int64
	latencies                            []int64
}

func (s *sim) at(d time.Duration) int64 { return s.now + int64(d) }

func (s *sim) schedule(at int64, kind eventKind, client int, o outcome) {
	s.seq++
	heap.Push(&s.events, event{at: at, seq: s.seq, kind: kind, outcome: o, client: client})
}

func (s *sim) inWindow() bool { return s.now >= s.from && s.now < s.to }

func (s *sim) beginSpend(c int, at int64) {
	s.clients[c] = client{start: at}
	s.w.draw(s.r, &s.clients[c].pick, false)
	s.schedule(at, begin, c, served)
}

func (s *sim) beginAttempt(c int, at int64) {
	cl := &s.clients[c]
	if cl.attempt > 0 {
		s.w.draw(s.r, &cl.pick, true)
	}
	cl.calls, cl.next, cl.tries = s.w.attempt(&cl.pick, s.partition), 0, 0
	s.send(c, at)
}

func (s *sim) send(c int, at int64) {
	s.clients[c].tries++
	s.schedule(at+int64(s.m.NetworkRoundTrip/2), arrive, c, served)
}

// partition interns a shared partition, its buckets full.
func (s *sim) partition(key string, pattern int) int {
	if i, ok := s.index[key]; ok {
		return i
	}
	s.parts = append(s.parts, partition{key: key, pattern: pattern, refilled: s.now,
		wcuTokens: s.m.WriteUnitsPerSecond * s.m.BucketSeconds, rcuTokens: s.m.ReadUnitsPerSecond * s.m.BucketSeconds})
	s.index[key] = len(s.parts) - 1
	return len(s.parts) - 1
}

func (s *sim) refill(p *partition) {
	dt := float64(s.now-p.refilled) / float64(time.Second)
	p.wcuTokens = min(p.wcuTokens+dt*s.m.WriteUnitsPerSecond, s.m.WriteUnitsPerSecond*s.m.BucketSeconds)
	p.rcuTokens = min(p.rcuTokens+dt*s.m.ReadUnitsPerSecond, s.m.ReadUnitsPerSecond*s.m.BucketSeconds)
	p.refilled = s.now
}

// arrive serves the client's current call: throttled if any shared
// partition it touches lacks the capacity; for a write, cancelled if an item
// it writes is held by a transaction in flight; otherwise served, its items
// held until it commits if it is a transaction.
func (s *sim) arrive(c int) {
	call := &s.clients[c].calls[s.clients[c].next]
	o := served
	for _, ch := range call.charges {
		if ch.part < 0 {
			continue
		}
		p := &s.parts[ch.part]
		s.refill(p)
		if p.wcuTokens < ch.wcu || p.rcuTokens < ch.rcu {
			o = throttled
			if s.inWindow() {
				p.use.throttled++
			}
		}
	}
	if o == served && call.writes {
		for _, it := range call.items {
			if s.held[it.key] > s.now {
				o = conflicted
				if s.inWindow() {
					s.conflictsAt[it.pattern]++
				}
				break
			}
		}
	}
	switch o {
	case served:
		s.consume(call, 1)
		if call.transact {
			until := s.at(s.m.TransactService)
			for _, it := range call.items {
				s.held[it.key] = until
			}
		}
		s.schedule(s.at(s.m.service(call.transact, call.writes)+s.m.NetworkRoundTrip/2), respond, c, o)
	case conflicted:
		// A cancelled transaction still paid for its prepare phase.
		s.consume(call, 1.0/TransactionalFactor)
		s.schedule(s.at(s.m.RefusedService+s.m.NetworkRoundTrip/2), respond, c, o)
	default:
		s.schedule(s.at(s.m.RefusedService+s.m.NetworkRoundTrip/2), respond, c, o)
	}
	if s.inWindow() {
		switch o {
		case throttled:
			s.stats.throttled++
		case conflicted:
			s.stats.conflicts++
		}
	}
}

// consume takes share of a call's charges from its partitions' buckets
// (which may go below zero: DynamoDB charges what a request consumed).
func (s *sim) consume(call *callInst, share float64) {
	for _, ch := range call.charges {
		w, r := ch.wcu*share, ch.rcu*share
		var u *use
		if ch.part >= 0 {
			p := &s.parts[ch.part]
			p.wcuTokens -= w
			p.rcuTokens -= r
			u = &p.use
		} else {
			u = &s.patternUse[ch.pattern]
		}
		if s.inWindow() {
			u.wcu += w
			u.rcu += r
		}
	}
}

// respond is the client receiving an answer: the next call, the spend's
// end, a retry of the call, a re-plan, or giving up — as the adapter and
// the service do.
func (s *sim) respond(c int, o outcome) {
	cl := &s.clients[c]
	call := &cl.calls[cl.next]
	switch {
	case o == served:
		cl.next++
		cl.tries = 0
		if cl.next < len(cl.calls) {
			s.send(c, s.now)
			return
		}
		if s.inWindow() {
			s.stats.spends++
			s.stats.latencies = append(s.stats.latencies, s.now-cl.start)
		}
		s.beginSpend(c, s.now)
	case o == conflicted:
		s.replan(c, cl.attempt < s.m.ReplansMax)
	case !call.transact && cl.tries < s.m.CallAttemptsMax:
		// The client retries a throttled call itself.
		s.schedule(s.at(s.m.CallBackoff(cl.tries, s.r)), send, c, served)
	case call.writes:
		// The write failed as unavailable: the service re-plans a few times.
		s.replan(c, cl.attempt < s.m.UnavailableReplansMax)
	default:
		// A read failed as unavailable: the service answers the error.
		s.replan(c, false)
	}
}

// replan starts the spend's next attempt after the service's wait, or, when
// it may not, counts the spend as failed and starts the next one.
func (s *sim) replan(c int, may bool) {
	cl := &s.clients[c]
	if !may {
		if s.inWindow() {
			s.stats.failed++
		}
		s.beginSpend(c, s.now)
		return
	}
	cl.attempt++
	s.schedule(s.at(s.m.ReplanBackoff(cl.attempt, s.r)), begin, c, served)
}

func percentile(sorted []int64, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return time.Duration(sorted[int(p*float64(len(sorted)-1))])
}

func sortedCopy(xs []int64) []int64 {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}
