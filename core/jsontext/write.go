package jsontext

import (
	"sort"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, quoted as core.EncodeJSON
// quotes (encoding/json without HTML escaping: <, > and & as sent),
// control characters escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendField appends a member's key and colon, preceded by a comma unless
// it is the object's first: `,"key":`.
func AppendField(b []byte, first bool, key string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = AppendString(b, key)
	return append(b, ':')
}

// AppendStringMap appends a map of strings as encoding/json writes it: keys
// sorted, a nil map as {}.
func AppendStringMap[M ~map[K]string, K ~string](b []byte, m M) []byte {
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, string(k))
	}
	if len(keys) > 1 {
		sort.Strings(keys)
	}
	b = append(b, '{')
	for i, k := range keys {
		b = AppendField(b, i == 0, k)
		b = AppendString(b, m[K(k)])
	}
	return append(b, '}')
}

// AppendValue appends v as encoding/json writes it, for the values core's
// error details hold: nil, strings, booleans, integers, Number, maps of
// strings (keys sorted) and lists of them. It reports false, appending
// nothing, for any other type.
func AppendValue(b []byte, v any) ([]byte, bool) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return AppendString(b, t), true
	case bool:
		if t {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case int:
		return strconv.AppendInt(b, int64(t), 10), true
	case int64:
		return strconv.AppendInt(b, t, 10), true
	case Number:
		return append(b, t...), true
	case map[string]string:
		return AppendStringMap(b, t), true
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := append(b, '{')
		for i, k := range keys {
			out = AppendField(out, i == 0, k)
			var ok bool
			if out, ok = AppendValue(out, t[k]); !ok {
				return b, false
			}
		}
		return append(out, '}'), true
	case []string:
		out := append(b, '[')
		for i, s := range t {
			if i > 0 {
				out = append(out, ',')
			}
			out = AppendString(out, s)
		}
		return append(out, ']'), true
	case []any:
		out := append(b, '[')
		for i, e := range t {
			if i > 0 {
				out = append(out, ',')
			}
			var ok bool
			if out, ok = AppendValue(out, e); !ok {
				return b, false
			}
		}
		return append(out, ']'), true
	}
	return b, false
}
