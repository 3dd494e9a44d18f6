package notify_test

import (
	"mime"
	"testing"
)

type mimeDecoder struct{ mime.WordDecoder }

func (d *mimeDecoder) subject(t *testing.T, s string) string {
	t.Helper()
	out, err := d.DecodeHeader(s)
	if err != nil {
		t.Fatalf("decode subject %q: %v", s, err)
	}
	return out
}
