package api

import (
	"encoding/json"
	"net/http"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"
)

var (
	vendorOnly    = []auth.Role{auth.VendorAdmin}
	contractAdmin = []auth.Role{auth.ContractAdmin, auth.VendorAdmin}
	spenders      = []auth.Role{auth.Service}
	usersOnly     = []auth.Role{auth.User}
)

// mutation is the shape every mutating route shares: read the body, check
// the contract scope and the idempotency key, parse, run, and answer with
// the stored result (a replay is marked Idempotent-Replayed: true).
func (h *Handler) mutation(w http.ResponseWriter, r *http.Request, contract string, status int, allowEmpty bool,
	parse func(o *object) call) {
	out, err := runMutation(w, r, contract, allowEmpty, parse)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, status, out.Body)
}

// call is what a mutation asks of the service once its body parsed clean.
type call func(idem ledger.Idem) (credits.Outcome, error)

// runMutation is mutation's steps, in order; the first refusal ends it. parse
// reads the body's fields (collecting every problem in o); the service is
// called only when there were none.
func runMutation(w http.ResponseWriter, r *http.Request, contract string, allowEmpty bool,
	parse func(o *object) call) (credits.Outcome, error) {
	body, err := readBody(w, r)
	if err != nil {
		return credits.Outcome{}, err
	}
	if contract != "" {
		if err := ownContract(r, contract); err != nil {
			return credits.Outcome{}, err
		}
	}
	idem, err := idemOf(r, body)
	if err != nil {
		return credits.Outcome{}, err
	}
	o, err := parseObject(body, allowEmpty)
	if err != nil {
		return credits.Outcome{}, err
	}
	run := parse(o)
	if err := o.done(); err != nil {
		return credits.Outcome{}, err
	}
	return run(idem)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
