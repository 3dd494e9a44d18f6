package ledger

import "cloudcredits/core"

// encodeJSON is how every answer the ledger stores for replay is encoded:
// encoding/json without HTML escaping, so '<', '>' and '&' read as sent (an
// answer is JSON for an API client, not HTML). An answer stored before this
// rule replays as it was stored, byte for byte: encoding happens once, when
// the answer is first made.
func encodeJSON(v any) ([]byte, error) { return core.EncodeJSON(v) }
