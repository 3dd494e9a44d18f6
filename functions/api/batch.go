package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
)

// Batches of consumptions: POST /v1/contracts/{c}/consumptions/batch.
//
// Rules kept here:
//   - The envelope is {"items": [...]} with 1 to credits.BatchItemsMax
//     items, in a body of at most BatchBodyMax bytes. An envelope that is
//     not that (not JSON, no items, none or too many, another field, too
//     large) is refused as a whole with the usual error, and nothing
//     changes. So are a caller of another role or another contract.
//   - Each item is a consumption's body (API.md) plus its own
//     idempotency_key; the Idempotency-Key header is not needed and is
//     ignored. Each item is answered as the single route
//     (POST …/consumptions) would answer it alone: its status, and its
//     consumption or its error. A malformed item is its own 400.
//   - An item's fingerprint is the one the single route gives its body: the
//     item's bytes without the idempotency_key member. So an item replays
//     (byte for byte, marked replayed) whatever consumed it first under its
//     key, this route or the single one, and the same key with another item
//     is idempotency_key_reused (409).
//   - The answer is 200 with {"results": [...]}, one per item in the order
//     sent.

// BatchBodyMax bounds a batch's body: 1,000 items of a metering pipeline's
// usual size (about 300 bytes each, 300 KiB in all) with room for long
// ids, keys and params (about 1 KiB an item).
const BatchBodyMax = 1 << 20

// batchAnswer is the answer to a batch.
type batchAnswer struct {
	Results []batchResult `json:"results"`
}

// batchResult is one item's answer. IdempotencyKey is null when the item
// gave none (or not as a string).
type batchResult struct {
	IdempotencyKey *string         `json:"idempotency_key"`
	Status         int             `json:"status"`
	Replayed       bool            `json:"replayed,omitempty"`
	Consumption    json.RawMessage `json:"consumption,omitempty"`
	Error          *errorJSON      `json:"error,omitempty"`
}

func (h *Handler) consumeBatch(w http.ResponseWriter, r *http.Request) {
	results, err := h.runBatch(w, r, r.PathValue("c"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, batchAnswer{Results: results})
}

// runBatch reads the envelope, parses each item, runs the batch and
// answers each item.
func (h *Handler) runBatch(w http.ResponseWriter, r *http.Request, c string) ([]batchResult, error) {
	body, err := readBodyMax(w, r, BatchBodyMax)
	if err != nil {
		return nil, err
	}
	if err := ownContract(r, c); err != nil {
		return nil, err
	}
	raws, err := batchItems(body)
	if err != nil {
		return nil, err
	}
	// The single route's operation: an item is fingerprinted as its body.
	operation := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/batch")
	items := make([]credits.BatchItem, len(raws))
	keys := make([]*string, len(raws))
	for i, raw := range raws {
		items[i], keys[i] = h.batchItem(r, c, operation, raw)
	}
	res, err := h.cfg.Credits.ConsumeBatch(r.Context(), c, items)
	if err != nil {
		return nil, err
	}
	out := make([]batchResult, len(res))
	for i, x := range res {
		out[i] = batchResult{IdempotencyKey: keys[i], Status: http.StatusCreated, Replayed: x.Replayed, Consumption: x.Body}
		if x.Err != nil {
			e := errorOf(r, x.Err)
			out[i] = batchResult{IdempotencyKey: keys[i], Status: StatusOf(e.Code), Error: &e}
		}
	}
	return out, nil
}

// batchItems reads the envelope: {"items": [...]} with 1 to
// credits.BatchItemsMax items, each returned as sent.
func batchItems(body []byte) ([]json.RawMessage, error) {
	o, err := parseObject(body, false)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if v, ok := o.raw("items"); !ok {
		o.missing("items", true)
	} else if err := json.Unmarshal(v, &items); err != nil {
		o.p.Add("items", "must be a list of consumptions, not %s", jsonKind(v))
	} else if len(items) == 0 || len(items) > credits.BatchItemsMax {
		o.p.Add("items", "must hold 1 to %d consumptions, not %d", credits.BatchItemsMax, len(items))
	}
	if err := o.done(); err != nil {
		return nil, err
	}
	return items, nil
}

// batchItem parses one item as the single route parses its body, and
// returns it with its key as sent (nil: none, or not a string).
func (h *Handler) batchItem(r *http.Request, c, operation string, raw json.RawMessage) (credits.BatchItem, *string) {
	if kind := jsonKind(raw); kind != "an object" {
		return credits.BatchItem{Refused: core.Invalid("item", "must be a JSON object (a consumption with its idempotency_key), not %s", kind)}, nil
	}
	o, err := parseObject(raw, false)
	if err != nil {
		return credits.BatchItem{Refused: err}, nil
	}
	idem := ledger.Idem{Scope: idemScope(r), Fingerprint: ledger.Fingerprint(operation, withoutMember(raw, "idempotency_key"))}
	var key *string
	if v, ok := o.raw("idempotency_key"); ok {
		if err := json.Unmarshal(v, &idem.Key); err != nil {
			o.p.Add("idempotency_key", "must be a string, not %s", jsonKind(v))
		} else {
			key = &idem.Key
		}
	}
	item := credits.BatchItem{Req: h.spendRequest(r.Context(), o, c), Idem: idem}
	item.Refused = o.done()
	return item, key
}

// withoutMember returns obj, the bytes of one JSON object, without its
// member name and the separator that went with it, every other byte as it
// was: the item {"idempotency_key":"k1","user":"ann"} is the body
// {"user":"ann"}. obj is returned as it is when it has no such member.
func withoutMember(obj []byte, name string) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj
	}
	open := dec.InputOffset() // just after '{'
	prevEnd := open           // the end of the previous member's value
	for dec.More() {
		start := skipSeparators(obj, prevEnd)
		t, err := dec.Token()
		var v json.RawMessage
		if err != nil || dec.Decode(&v) != nil {
			return obj
		}
		end := dec.InputOffset()
		if key, _ := t.(string); key != name {
			prevEnd = end
			continue
		}
		cut := make([]byte, 0, len(obj))
		switch {
		case dec.More(): // up to the next member's key
			return append(append(cut, obj[:start]...), obj[skipSeparators(obj, end):]...)
		case prevEnd != open: // the last member: from the end of the one before
			return append(append(cut, obj[:prevEnd]...), obj[end:]...)
		}
		return append(append(cut, obj[:start]...), obj[end:]...) // the only member
	}
	return obj
}

// skipSeparators returns the offset of the first byte at or after i that
// is neither JSON whitespace nor a comma.
func skipSeparators(b []byte, i int64) int64 {
	for i < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[i]) >= 0 {
		i++
	}
	return i
}
