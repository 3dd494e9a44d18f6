package dynamo

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// A spend under a key keeps its consumption in the key's record: the Tx
// writes one item for both, and the consumption is read back by its id.
func TestSpendKeepsItsConsumptionInTheKeysRecord(t *testing.T) {
	st := newStore(t)
	svc := credits.New(st, nil)
	setup(t, svc, "50")
	ctx := context.Background()
	req := ledger.SpendRequest{Contract: "c1", User: "u1", Entity: "e1", Currency: core.Cloud, Credits: dec("3")}
	before := dumpKinds(t, st)
	out, err := svc.Consume(ctx, req, ledger.Idem{Key: "job-1"})
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.ConsumeResult
	if err := out.Decode(&res); err != nil {
		t.Fatal(err)
	}
	if d, ok := ledger.DigestOf(res.ConsumptionID); !ok || d != ledger.KeyDigest("c1", "job-1") {
		t.Fatalf("consumption id %q does not name its key", res.ConsumptionID)
	}
	after := dumpKinds(t, st)
	if got := after["consumptions"] - before["consumptions"]; got != 0 {
		t.Errorf("the spend wrote %d consumption items of their own, want 0", got)
	}
	if got := after["idempotency"] - before["idempotency"]; got != 1 {
		t.Errorf("the spend wrote %d key records, want 1", got)
	}
	c, err := st.Consumption(ctx, "c1", res.ConsumptionID)
	if err != nil || c.ID != res.ConsumptionID || !c.Credits.Equal(dec("3")) || len(c.Debits) != 1 {
		t.Errorf("Consumption(%s) = %+v, %v", res.ConsumptionID, c, err)
	}
	rec, ok, err := st.Idempotency(ctx, "c1", "job-1", time.Now())
	if err != nil || !ok || string(rec.Response) != string(out.Body) {
		t.Errorf("Idempotency(job-1) = %s, %v, %v; want the spend's answer", rec.Response, ok, err)
	}
	// Another contract's id, and an id that names the key but not this
	// consumption, are not found.
	for _, id := range []string{ledger.KeyedID("c1", "job-1", time.Now(), 1), ledger.KeyedID("c2", "job-1", time.Now(), 1)} {
		if _, err := st.Consumption(ctx, "c1", id); core.ErrorCode(err) != core.CodeNotFound {
			t.Errorf("Consumption(%s) = %v, want not_found", id, err)
		}
	}
	if _, err := st.Consumption(ctx, "c2", res.ConsumptionID); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("Consumption of c1's id in c2 = %v, want not_found", err)
	}
	// The key's item has no TTL: the consumption must outlive the record.
	it, err := st.get(ctx, keyPK("c1", "job-1"), skIdem)
	if err != nil || it[AttrTTL] != nil {
		t.Errorf("the key's item: TTL %v, %v; want none", it[AttrTTL], err)
	}
}

// dumpKinds counts the table's items by kind.
func dumpKinds(t *testing.T, st *Store) map[string]int {
	t.Helper()
	lines, err := st.Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range lines {
		kind, _, _ := strings.Cut(l, "|")
		n[kind]++
	}
	return n
}

// A record written where records were kept before keyPK is honoured while
// the store is told to (an upgrade's window), and only then.
func TestLegacyKeysAreHonouredUntilTheirWindowEnds(t *testing.T) {
	base := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	legacy := ledger.IdempotencyRecord{Contract: "c1", Key: "old-job", Fingerprint: "f", Response: []byte(`{"old":true}`),
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Hour).Add(ledger.IdempotencyRetention)}
	it := idemItem(legacy)
	it[AttrPK] = str(legacyIdemPK("c1", "old-job"))
	if _, err := base.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &base.table, Item: it}); err != nil {
		t.Fatal(err)
	}
	within := New(base.db, base.table, WithLegacyKeysUntil(now.Add(ledger.IdempotencyRetention)))
	after := New(base.db, base.table, WithLegacyKeysUntil(now.Add(-time.Second)))

	if rec, ok, err := within.Idempotency(ctx, "c1", "old-job", now); err != nil || !ok || string(rec.Response) != `{"old":true}` {
		t.Errorf("within the window: %s, %v, %v; want the legacy record", rec.Response, ok, err)
	}
	if _, ok, err := after.Idempotency(ctx, "c1", "old-job", now); err != nil || ok {
		t.Errorf("after the window: found %v, %v; want none", ok, err)
	}
	// A create of the key's record is refused within the window, so a
	// request made before the upgrade is not applied twice.
	rec := legacy
	rec.Fingerprint, rec.CreatedAt, rec.ExpiresAt = "g", now, now.Add(ledger.IdempotencyRetention)
	err := within.Apply(ctx, ledger.Tx{At: now, Ops: []ledger.Op{ledger.PutIdempotency{Record: rec, At: now}}})
	if _, ok := err.(*ledger.ConflictError); !ok {
		t.Errorf("creating a key with a live legacy record within the window: %v, want a conflict", err)
	}
	if err := after.Apply(ctx, ledger.Tx{At: now, Ops: []ledger.Op{ledger.PutIdempotency{Record: rec, At: now}}}); err != nil {
		t.Errorf("creating it after the window: %v", err)
	}
	out, err := base.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &base.table, Key: keyOf(legacyIdemPK("c1", "old-job"), skIdem),
		ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Errorf("the legacy record: %v, %v; want it left alone", out, err)
	}
}

// With WithEntriesFromStream a spend's transaction writes its lot and the
// key record keeping its consumption; the entries appear once the stream
// is caught up, stamped as the transaction would have, and a batch
// delivered again writes no second copy. A refund's entries are written by
// its own transaction.
func TestStreamWritesASpendsEntries(t *testing.T) {
	st := newStreamed(t, true)
	svc := credits.New(st, nil)
	setup(t, svc, "50")
	ctx := context.Background()
	if err := st.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	entries := func() []ledger.Entry {
		t.Helper()
		es, err := st.Entries(ctx, "c1", "shared")
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	granted := len(entries())
	req := ledger.SpendRequest{Contract: "c1", User: "u1", Entity: "e1", Currency: core.Cloud, Credits: dec("130")}
	before := dumpKinds(t, st.Store)
	out, err := svc.Consume(ctx, req, ledger.Idem{Key: "job-1"})
	if err != nil {
		t.Fatal(err)
	}
	after := dumpKinds(t, st.Store)
	for kind, want := range map[string]int{"entries": 0, "consumptions": 0, "idempotency": 1, "lots": 0} {
		if got := after[kind] - before[kind]; got != want {
			t.Errorf("the spend added %d %s items, want %d", got, kind, want)
		}
	}
	if got := len(entries()); got != granted {
		t.Errorf("%d entries before the stream is read, want %d", got, granted)
	}
	if err := st.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var res ledger.ConsumeResult
	if err := out.Decode(&res); err != nil || len(res.Debits) != 2 {
		t.Fatalf("consume = %+v, %v; want the individual lot and the shared one", res, err)
	}
	es := entries()
	if len(es) != granted+1 {
		t.Fatalf("%d entries after catching up, want %d", len(es), granted+1)
	}
	e := es[len(es)-1]
	if e.ID != res.ConsumptionID+".2" || e.Kind != ledger.EntryConsume || e.Ref != res.ConsumptionID || !e.Credits.Equal(dec("30")) {
		t.Errorf("the spend's entry = %+v", e)
	}
	it, err := st.get(ctx, entriesPK("c1", "shared"), entrySK(e.ID))
	kept, kerr := st.get(ctx, keyPK("c1", "job-1"), skIdem)
	if err != nil || kerr != nil || render(it[AttrWrittenNs]) != render(kept[AttrEntriesNs]) {
		t.Errorf("the entry's stamp %v, the spend's %v (%v, %v): want equal", it[AttrWrittenNs], kept[AttrEntriesNs], err, kerr)
	}
	// The same change delivered again writes the same items.
	again := dumpKinds(t, st.Store)
	if err := st.RollUp(ctx, []Change{{EventID: "again", At: time.Now(), New: kept}}); err != nil {
		t.Fatal(err)
	}
	if got := dumpKinds(t, st.Store)["entries"]; got != again["entries"] {
		t.Errorf("delivered again: %d entries, want %d", got, again["entries"])
	}
	st.reader = nil // the refund's entries need no stream
	if _, err := svc.Refund(ctx, "c1", res.ConsumptionID, dec("30"), ledger.Idem{Key: "r1"}); err != nil {
		t.Fatal(err)
	}
	if got := len(entries()); got != granted+2 {
		t.Errorf("%d entries after the refund, want %d", got, granted+2)
	}
}
