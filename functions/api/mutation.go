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
	run func(o *object, idem ledger.Idem) (credits.Outcome, error)) {
	out, err := runMutation(w, r, contract, allowEmpty, run)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, status, out.Body)
}

// runMutation is mutation's steps, in order; the first refusal ends it.
func runMutation(w http.ResponseWriter, r *http.Request, contract string, allowEmpty bool,
	run func(o *object, idem ledger.Idem) (credits.Outcome, error)) (credits.Outcome, error) {
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
	return run(o, idem)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
