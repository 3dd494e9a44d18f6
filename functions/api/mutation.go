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
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if contract != "" {
		if err := ownContract(r, contract); err != nil {
			writeError(w, r, err)
			return
		}
	}
	idem, err := idemOf(r, body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	o, err := parseObject(body, allowEmpty)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := run(o, idem)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, status, out.Body)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
