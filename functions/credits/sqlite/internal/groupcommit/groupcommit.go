// Package groupcommit is the writer loop of the SQLite adapter and of its
// storage floor: one goroutine takes every request waiting at the moment it
// becomes free (up to a bound) and hands them to one commit. It knows
// nothing of SQL; it must never run two commits at once, and never wait for
// a batch to fill (a lone request is committed alone, at once).
package groupcommit

// Loop receives requests from in until quit is closed. For each it drains
// the requests already waiting on in, up to max in all, and calls commit
// with them; the slice is reused, so commit must not keep it. in should be
// unbuffered: a request sent is then in the writer's hands.
func Loop[T any](in <-chan T, quit <-chan struct{}, max int, commit func(batch []T)) {
	batch := make([]T, 0, max)
	for {
		select {
		case r := <-in:
			batch = append(batch[:0], r)
		case <-quit:
			return
		}
	drain:
		for len(batch) < max {
			select {
			case r := <-in:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		commit(batch)
		clear(batch)
	}
}
