package jsontext

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// plain turns a parsed tree into what encoding/json decodes with UseNumber,
// so the two readers can be compared (the last of a repeated key wins, as
// in encoding/json).
func plain(v any) any {
	switch t := v.(type) {
	case Object:
		m := map[string]any{}
		for _, mb := range t {
			m[mb.Key] = plain(mb.Value)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i := range t {
			out[i] = plain(t[i])
		}
		return out
	case Number:
		return json.Number(t)
	}
	return v
}

func stdDecode(data []byte) (any, bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

var seeds = []string{
	``, ` `, `{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `12.50`, `1e3`, `1E+3`, `-1.5e-7`,
	`01`, `1.`, `.5`, `-`, `1e`, `+1`, `tru`, `nul`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`,
	`{"a":1}{}`, `{"a":1} x`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\x"`,
	`"a` + "\x01" + `"`, "\"\xff\xfe\"", `"\/\b\f\n\r\t\"\\"`, `{"a":{"b":[1,2,{"c":null}]}}`,
	`{"a":1,"a":2}`, `[[[[1]]]]`, "\t[ 1 , \"x\" ]\r\n", `"\u12"`, `"\uZZZZ"`,
}

func TestParseAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		check(t, []byte(s))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { check(t, data) })
}

func check(t *testing.T, data []byte) {
	t.Helper()
	got, err := Parse(data, 1000)
	want, ok := stdDecode(data)
	switch {
	case ok && err != nil:
		t.Errorf("Parse(%q) refused valid JSON: %v", data, err)
	case !ok && err == nil:
		t.Errorf("Parse(%q) accepted invalid JSON: %#v", data, got)
	case ok && !reflect.DeepEqual(plain(got), want):
		t.Errorf("Parse(%q) = %#v, want %#v", data, plain(got), want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		kind ErrorKind
		msg  string
	}{
		{"", Empty, ""},
		{"  \n", Empty, ""},
		{`{"a": }`, Syntax, "invalid character '}' looking for beginning of value"},
		{`{"a": 1,}`, Syntax, "invalid character '}' looking for beginning of object key string"},
		{`{"a" 1}`, Syntax, "invalid character '1' after object key"},
		{`{"a": 1 "b"}`, Syntax, "invalid character '\"' after object key:value pair"},
		{`[1 2]`, Syntax, "invalid character '2' after array element"},
		{`tx`, Syntax, "invalid character 'x' in literal true (expecting 'r')"},
		{`{"a": "b`, Incomplete, ""},
		{`{`, Incomplete, ""},
		{`[1, 2`, Incomplete, ""},
		{`{"a": 1} {}`, Trailing, ""},
		{`[[[1]]]`, TooDeep, ""},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in), 2)
		e, ok := err.(*Error)
		if !ok || e.Kind != tt.kind || (tt.msg != "" && e.Message != tt.msg) {
			t.Errorf("Parse(%q) error = %#v, want kind %d %q", tt.in, err, tt.kind, tt.msg)
		}
	}
	_, err := Parse([]byte(`{"a": [{"b": [[1]]}]}`), 4)
	if e, ok := err.(*Error); !ok || e.Kind != TooDeep || len(e.Path) != 4 || e.Path[0].Key != "a" || !e.Path[1].IsIndex || e.Path[2].Key != "b" {
		t.Errorf("too deep: %#v", err)
	}
}

// encode is encoding/json without HTML escaping, as core.EncodeJSON: the
// writers' reference.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "<a&b>", "\x00\x1f\t\n\r\b\f", "é€😀", "\u2028\u2029", "bad\xffutf8", strings.Repeat("x", 100)} {
		want, _ := encode(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
	m := map[string]string{"b": "2", "a": "<1>", "c": ""}
	want, _ := encode(m)
	if got := AppendStringMap(nil, m); !bytes.Equal(got, want) {
		t.Errorf("AppendStringMap = %s, want %s", got, want)
	}
	if got := AppendStringMap(nil, map[string]string(nil)); string(got) != "{}" {
		t.Errorf("nil map = %s", got)
	}
}

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{nil, "x<", true, false, 12, int64(-3), map[string]string{"b": "1", "a": "2"},
		map[string]any{"fields": map[string]string{"z": "bad", "a": "worse"}, "offered_from": "1000", "n": nil, "l": []string{"a"}, "m": []any{1, "x"}}} {
		want, _ := encode(v)
		got, ok := AppendValue(nil, v)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("AppendValue(%#v) = %s, %v; want %s", v, got, ok, want)
		}
	}
	if got, ok := AppendValue([]byte("x"), map[string]any{"a": 1.5}); ok || string(got) != "x" {
		t.Errorf("a float was written: %s", got)
	}
}
