package rates

import (
	"strconv"

	"cloudcredits/core/jsontext"
)

// jsonError is a problem found while reading JSON, at a path in the document
// ("items[2].params"); an empty path means the document itself.
type jsonError struct {
	path, msg string
}

func (e *jsonError) Error() string { return e.path + ": " + e.msg }

// decodeStrict reads exactly one JSON value and returns it as map[string]any,
// []any, jsontext.Number, string, bool or nil. It refuses a key given twice
// in one object (a body two readers could understand differently), nesting
// deeper than depthMax and anything after the value. Numbers stay decimal
// text; they never become binary fractions.
func decodeStrict(data []byte, depthMax int) (any, error) {
	v, err := jsontext.Parse(data, depthMax)
	if err != nil {
		e := err.(*jsontext.Error)
		switch e.Kind {
		case jsontext.Empty, jsontext.Incomplete:
			return nil, &jsonError{"", "is incomplete JSON"}
		case jsontext.TooDeep:
			path := ""
			for _, s := range e.Path {
				if s.IsIndex {
					path += "[" + strconv.Itoa(s.Index) + "]"
				} else {
					path = joinPath(path, s.Key)
				}
			}
			return nil, &jsonError{path, "nests deeper than " + strconv.Itoa(depthMax) + " levels"}
		case jsontext.Trailing:
			return nil, &jsonError{"", "has data after the JSON value (at byte " + strconv.Itoa(e.Offset) + ")"}
		}
		return nil, &jsonError{"", "is not valid JSON: " + e.Message + " (at byte " + strconv.Itoa(e.Offset) + ")"}
	}
	return asMaps(v, "")
}

// asMaps turns the parsed tree's objects into maps, refusing a key given
// twice.
func asMaps(v any, path string) (any, error) {
	switch t := v.(type) {
	case jsontext.Object:
		obj := make(map[string]any, len(t))
		for _, m := range t {
			child := joinPath(path, m.Key)
			if _, dup := obj[m.Key]; dup {
				return nil, &jsonError{child, "is given twice"}
			}
			cv, err := asMaps(m.Value, child)
			if err != nil {
				return nil, err
			}
			obj[m.Key] = cv
		}
		return obj, nil
	case []any:
		for i := range t {
			cv, err := asMaps(t[i], path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			t[i] = cv
		}
		return t, nil
	}
	return v, nil
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
