package rates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// jsonError is a problem found while reading JSON, at a path in the document
// ("items[2].params"); an empty path means the document itself.
type jsonError struct {
	path, msg string
}

func (e *jsonError) Error() string { return e.path + ": " + e.msg }

// decodeStrict reads exactly one JSON value and returns it as map[string]any,
// []any, json.Number, string, bool or nil. Unlike encoding/json it refuses a
// key given twice in one object (a body two readers could understand
// differently), nesting deeper than depthMax and anything after the value.
// Numbers stay decimal text (json.Number); they never become binary
// fractions.
func decodeStrict(data []byte, depthMax int) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := strictValue(dec, "", 0, depthMax)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &jsonError{"", fmt.Sprintf("has data after the JSON value (at byte %d)", dec.InputOffset())}
	}
	return v, nil
}

func strictValue(dec *json.Decoder, path string, depth, depthMax int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxProblem(dec, err)
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= depthMax {
		return nil, &jsonError{path, fmt.Sprintf("nests deeper than %d levels", depthMax)}
	}
	switch delim {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, syntaxProblem(dec, err)
			}
			key, _ := tok.(string)
			child := joinPath(path, key)
			if _, dup := obj[key]; dup {
				return nil, &jsonError{child, "is given twice"}
			}
			v, err := strictValue(dec, child, depth+1, depthMax)
			if err != nil {
				return nil, err
			}
			obj[key] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, syntaxProblem(dec, err)
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := strictValue(dec, path+"["+strconv.Itoa(len(arr))+"]", depth+1, depthMax)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, syntaxProblem(dec, err)
		}
		return arr, nil
	}
	return nil, &jsonError{path, fmt.Sprintf("has an unexpected %q (at byte %d)", delim, dec.InputOffset())}
}

func syntaxProblem(dec *json.Decoder, err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &jsonError{"", "is incomplete JSON"}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &jsonError{"", fmt.Sprintf("is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)}
	}
	return &jsonError{"", fmt.Sprintf("is not valid JSON: %v (at byte %d)", err, dec.InputOffset())}
}

// joinPath appends an object key to a path, clipping a long key so that
// untrusted text never makes a field name unbounded.
func joinPath(path, key string) string {
	key = clip(key)
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonType names a decoded value's JSON type for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown value"
}
