//go:build !linux

package memory

import "os"

func fdatasync(f *os.File) error { return f.Sync() }

func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
}
