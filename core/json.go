package core

import (
	"bytes"
	"encoding/json"
)

// EncodeJSON is how every JSON answer is encoded, in the core and in the
// API: encoding/json without HTML escaping, so '<', '>' and '&' read as
// sent (an answer is JSON for a client, not HTML, and "\u003c" in a name or
// a message only confuses its reader), compact, with no trailing newline.
//
// A MarshalJSON of a type that is answered uses it too: encoding/json
// copies what a MarshalJSON returns, escaping it only when its own caller
// asked for escaping, so one escaping json.Marshal inside would undo the
// rule for everything it writes.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
