package jsontext

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Number is a JSON number's text exactly as written ("12.50", "1e3"): it is
// never converted to binary floating point.
type Number string

// Member is one key and value of an object.
type Member struct {
	Key   string
	Value any
}

// Object is a JSON object's members in document order. A key given twice
// appears twice: the caller decides what that means.
type Object []Member

// Get returns the value of the first member named key.
func (o Object) Get(key string) (any, bool) {
	for i := range o {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return nil, false
}

// ErrorKind says what made a document unreadable.
type ErrorKind int

const (
	// Syntax: a byte that cannot be there (Message says which and where).
	Syntax ErrorKind = iota + 1
	// Empty: nothing but white space.
	Empty
	// Incomplete: the input ends inside the value.
	Incomplete
	// TooDeep: arrays and objects nest deeper than allowed; Path says where.
	TooDeep
	// Trailing: something follows the value.
	Trailing
)

// Step is one step of a path into a document: an object key or an array
// index.
type Step struct {
	Key     string
	Index   int
	IsIndex bool
}

// Error is why Parse could not read a document.
type Error struct {
	Kind ErrorKind
	// Message describes a Syntax error in the words encoding/json uses
	// ("invalid character '}' looking for beginning of value").
	Message string
	// Offset is the number of bytes read when the problem was found.
	Offset int
	// Path leads to the value that nests too deep (TooDeep only).
	Path []Step
}

func (e *Error) Error() string {
	switch e.Kind {
	case Empty:
		return "empty JSON input"
	case Incomplete:
		return "unexpected end of JSON input"
	case TooDeep:
		return "JSON nests too deep"
	case Trailing:
		return "data after the JSON value at byte " + strconv.Itoa(e.Offset)
	}
	return e.Message
}

// Parse reads exactly one JSON value (with white space around it) and
// returns it as Object, []any, Number, string, bool or nil. Arrays and
// objects may nest at most depthMax levels. Invalid UTF-8 and lone
// surrogates in strings become U+FFFD, as encoding/json reads them.
func Parse(data []byte, depthMax int) (any, error) {
	r := reader{data: data, depthMax: depthMax}
	r.space()
	if r.i == len(r.data) {
		return nil, &Error{Kind: Empty}
	}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	r.space()
	if r.i < len(r.data) {
		return nil, &Error{Kind: Trailing, Offset: r.i}
	}
	return v, nil
}

type reader struct {
	data     []byte
	i        int
	depthMax int
	path     []Step
}

func (r *reader) space() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *reader) syntax(context string) error {
	if r.i >= len(r.data) {
		return &Error{Kind: Incomplete, Offset: len(r.data)}
	}
	return &Error{Kind: Syntax, Message: "invalid character " + quoteChar(r.data[r.i]) + " " + context, Offset: r.i + 1}
}

// quoteChar formats c as encoding/json's messages do.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (r *reader) value(depth int) (any, error) {
	if r.i >= len(r.data) {
		return nil, &Error{Kind: Incomplete, Offset: len(r.data)}
	}
	switch c := r.data[r.i]; {
	case c == '{' || c == '[':
		if depth >= r.depthMax {
			return nil, &Error{Kind: TooDeep, Offset: r.i, Path: append([]Step(nil), r.path...)}
		}
		if c == '{' {
			return r.object(depth)
		}
		return r.array(depth)
	case c == '"':
		return r.str()
	case c == '-' || '0' <= c && c <= '9':
		return r.number()
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	}
	return nil, r.syntax("looking for beginning of value")
}

func (r *reader) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if r.i >= len(r.data) {
			return &Error{Kind: Incomplete, Offset: len(r.data)}
		}
		if r.data[r.i] != word[k] {
			return r.syntax("in literal " + word + " (expecting " + quoteChar(word[k]) + ")")
		}
		r.i++
	}
	return nil
}

func (r *reader) object(depth int) (any, error) {
	r.i++ // {
	obj := Object{}
	r.space()
	if r.i < len(r.data) && r.data[r.i] == '}' {
		r.i++
		return obj, nil
	}
	for {
		r.space()
		if r.i >= len(r.data) {
			return nil, &Error{Kind: Incomplete, Offset: len(r.data)}
		}
		if r.data[r.i] != '"' {
			return nil, r.syntax("looking for beginning of object key string")
		}
		key, err := r.str()
		if err != nil {
			return nil, err
		}
		r.space()
		if r.i >= len(r.data) || r.data[r.i] != ':' {
			return nil, r.syntax("after object key")
		}
		r.i++
		r.space()
		v, more, err := r.element(Step{Key: key}, depth, '}', "after object key:value pair")
		if err != nil {
			return nil, err
		}
		obj = append(obj, Member{Key: key, Value: v})
		if !more {
			return obj, nil
		}
	}
}

func (r *reader) array(depth int) (any, error) {
	r.i++ // [
	arr := []any{}
	r.space()
	if r.i < len(r.data) && r.data[r.i] == ']' {
		r.i++
		return arr, nil
	}
	for {
		r.space()
		v, more, err := r.element(Step{Index: len(arr), IsIndex: true}, depth, ']', "after array element")
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		if !more {
			return arr, nil
		}
	}
}

// element reads the value of an object member or array element at step,
// and the ',' or the closing byte after it: more is false after close.
func (r *reader) element(step Step, depth int, close byte, after string) (v any, more bool, err error) {
	r.path = append(r.path, step)
	v, err = r.value(depth + 1)
	r.path = r.path[:len(r.path)-1]
	if err != nil {
		return nil, false, err
	}
	r.space()
	if r.i >= len(r.data) {
		return nil, false, &Error{Kind: Incomplete, Offset: len(r.data)}
	}
	switch r.data[r.i] {
	case ',':
		r.i++
		return v, true, nil
	case close:
		r.i++
		return v, false, nil
	}
	return nil, false, r.syntax(after)
}

func (r *reader) number() (any, error) {
	start := r.i
	digits := func() int {
		n := 0
		for r.i < len(r.data) && '0' <= r.data[r.i] && r.data[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if r.data[r.i] == '-' {
		r.i++
	}
	switch {
	case r.i >= len(r.data):
		return nil, &Error{Kind: Incomplete, Offset: len(r.data)}
	case r.data[r.i] == '0':
		r.i++
	case '1' <= r.data[r.i] && r.data[r.i] <= '9':
		digits()
	default:
		return nil, r.syntax("in numeric literal")
	}
	if r.i < len(r.data) && r.data[r.i] == '.' {
		r.i++
		if r.i >= len(r.data) {
			return nil, &Error{Kind: Incomplete, Offset: len(r.data)}
		}
		if digits() == 0 {
			return nil, r.syntax("after decimal point in numeric literal")
		}
	}
	if r.i < len(r.data) && (r.data[r.i] == 'e' || r.data[r.i] == 'E') {
		r.i++
		if r.i < len(r.data) && (r.data[r.i] == '+' || r.data[r.i] == '-') {
			r.i++
		}
		if r.i >= len(r.data) {
			return nil, &Error{Kind: Incomplete, Offset: len(r.data)}
		}
		if digits() == 0 {
			return nil, r.syntax("in exponent of numeric literal")
		}
	}
	return Number(r.data[start:r.i]), nil
}

// str reads a string at r.i (its opening quote).
func (r *reader) str() (string, error) {
	r.i++ // "
	start := r.i
	// The common case: no escapes, valid UTF-8.
	for r.i < len(r.data) {
		c := r.data[r.i]
		if c == '"' {
			s := r.data[start:r.i]
			r.i++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		r.i++
	}
	buf := append([]byte(nil), r.data[start:r.i]...)
	for r.i < len(r.data) {
		c := r.data[r.i]
		switch {
		case c == '"':
			r.i++
			return string(buf), nil
		case c < 0x20:
			return "", r.syntax("in string literal")
		case c == '\\':
			r.i++
			if r.i >= len(r.data) {
				return "", &Error{Kind: Incomplete, Offset: len(r.data)}
			}
			switch e := r.data[r.i]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r.i++
				ru, err := r.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(ru) {
					// A high surrogate followed by \u and a low one is one
					// rune; anything else is a lone surrogate.
					if r.i+1 < len(r.data) && r.data[r.i] == '\\' && r.data[r.i+1] == 'u' {
						save := r.i
						r.i += 2
						lo, err := r.hex4()
						if err != nil {
							return "", err
						}
						if dec := utf16.DecodeRune(ru, lo); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							continue
						}
						r.i = save
					}
					ru = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, ru)
				continue
			default:
				return "", r.syntax("in string escape code")
			}
			r.i++
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			r.i++
		default:
			ru, size := utf8.DecodeRune(r.data[r.i:])
			if ru == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, r.data[r.i:r.i+size]...)
			}
			r.i += size
		}
	}
	return "", &Error{Kind: Incomplete, Offset: len(r.data)}
}

// hex4 reads the four hex digits of a \u escape at r.i.
func (r *reader) hex4() (rune, error) {
	var ru rune
	for k := 0; k < 4; k++ {
		if r.i >= len(r.data) {
			return 0, &Error{Kind: Incomplete, Offset: len(r.data)}
		}
		c := r.data[r.i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, r.syntax("in \\u hexadecimal character escape")
		}
		ru = ru<<4 | rune(c)
		r.i++
	}
	return ru, nil
}

// KindOf names the JSON type of a parsed value (or of one converted to
// maps and slices), with its article, as error messages say it: "null",
// "a boolean", "a number", "a string", "an array", "an object".
func KindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}
