// Package keyfile keeps a local server's signing keys in files: read on
// every start, made on the first. It must never be used for keys in AWS,
// which come from the secret store.
package keyfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LoadOrCreate returns the contents of dir/name, creating the file (mode
// 0600, the folder 0700) with what generate makes on first use. When another
// process creates it first, the contents are that process's.
func LoadOrCreate(dir, name string, generate func() ([]byte, error)) ([]byte, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	out, err := generate()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreate(dir, name, generate) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return out, f.Close()
}
