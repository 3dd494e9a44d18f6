package jsontext

import (
	"sort"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, quoted as encoding/json quotes
// by default: HTML-safe (<, > and & as \u escapes), control characters
// escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
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
