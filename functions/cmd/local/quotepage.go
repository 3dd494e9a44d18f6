package main

import (
	"crypto/ed25519"
	"html/template"
	"net/http"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/pricing"
	"cloudcredits/core/quote"
)

// quotePage serves GET /q/{token}: the local stand-in for the quote-link
// Worker, so `make run` shows a quote link without it. It verifies the
// token with the server's own quote key and renders the quote with an
// Accept button, which posts to /v1/quotes/{token}/accept with a contract
// admin's token pasted into the page (kept in the browser only).
func quotePage(pub ed25519.PublicKey, now func() time.Time) http.Handler {
	keys := map[string]ed25519.PublicKey{quote.KeyID(pub): pub}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		q, err := quote.Verify(token, keys, now())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
		data := map[string]any{"Token": token}
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			e, _ := core.AsError(err)
			data["Error"] = e
		} else {
			data["Q"] = q
			data["UnitPrice"] = pricing.FormatRate(q.UnitPrice)
			data["Total"] = core.FormatMoney(q.Total)
			data["ListTotal"] = core.FormatMoney(q.ListTotal)
			data["Credits"] = core.FormatCredits(q.Credits)
			data["Expires"] = q.ExpiresAt.UTC().Format(time.RFC3339)
		}
		_ = quoteTmpl.Execute(w, data)
	})
}

var quoteTmpl = template.Must(template.New("quote").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quote — Cloud Credits</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}th{text-align:left;padding-right:1rem}textarea{width:100%}</style>
</head><body>
<h1>Cloud Credits quote</h1>
{{if .Error}}<p><strong>{{.Error.Code}}</strong>: {{.Error.Message}}</p>{{else}}
<table>
<tr><th>For</th><td>{{.Q.Customer}}{{if .Q.Contract}} (contract {{.Q.Contract}}){{end}}</td></tr>
<tr><th>From</th><td>{{.Q.Reseller}}</td></tr>
<tr><th>Credits</th><td>{{.Credits}} {{.Q.Currency}} ({{.Q.Packs}} packs)</td></tr>
<tr><th>Channel</th><td>{{.Q.Channel}}</td></tr>
<tr><th>Unit price</th><td>{{.UnitPrice}} USD</td></tr>
<tr><th>Total</th><td><strong>{{.Total}} USD</strong> (list {{.ListTotal}} USD)</td></tr>
<tr><th>Price book</th><td>{{.Q.PriceBookVersion}}</td></tr>
<tr><th>Valid until</th><td>{{.Expires}}</td></tr>
<tr><th>Quote</th><td>{{.Q.ID}}</td></tr>
</table>
<h2>Accept</h2>
<p>Paste a contract admin's token (<code>make token ROLE=contract_admin CONTRACT=… SUB=…</code>):</p>
<textarea id="tok" rows="3"></textarea>
<p><label><input type="radio" name="pay" value="card" checked> card</label>
<label><input type="radio" name="pay" value="invoice"> invoice/PO</label></p>
<button id="accept">Accept this quote</button>
<pre id="out"></pre>
<script>
const token = {{.Token}};
document.getElementById("accept").onclick = async () => {
  const out = document.getElementById("out");
  const pay = document.querySelector("input[name=pay]:checked").value;
  const res = await fetch("/v1/quotes/" + encodeURIComponent(token) + "/accept", {method: "POST",
    headers: {"Authorization": "Bearer " + document.getElementById("tok").value.trim(),
      "Content-Type": "application/json", "Idempotency-Key": "accept-" + crypto.randomUUID()},
    body: JSON.stringify({payment: pay})});
  const body = await res.json();
  if (res.ok && body.checkout_url) { location.href = body.checkout_url; return; }
  out.textContent = res.status + "\n" + JSON.stringify(body, null, 2);
};
</script>{{end}}
</body></html>
`))
