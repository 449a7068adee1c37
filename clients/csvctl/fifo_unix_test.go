//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestUploadFromPipe uploads from a named pipe: its size is unknown and it
// cannot be read twice, so csvctl must send neither a declared size nor a
// SHA-256, and still send every byte.
func TestUploadFromPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe.csv")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	data := bytes.Repeat([]byte("a,b\n1,2\n"), 50000)
	werr := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			werr <- err
			return
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		werr <- err
	}()
	f := newFake()
	got := runFake(t, f, "upload", "--chunk-size", "100KiB", path)
	if err := <-werr; err != nil {
		t.Fatalf("writing the pipe: %v", err)
	}
	if got.code != exitOK || got.stdout != "jobs/new\n" || got.stderr != "upload: 390.6 KiB in 1s (390.6 KiB/s)\n" {
		t.Fatalf("run = %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	up := f.uploads[0]
	if up.meta.DeclaredSizeBytes != nil || up.meta.GetSha256() != "" {
		t.Errorf("metadata declares size %v and sha256 %q for a pipe, want neither", up.meta.DeclaredSizeBytes, up.meta.GetSha256())
	}
	if !bytes.Equal(up.data, data) || up.maxChunk != 100<<10 {
		t.Errorf("server received %d bytes in chunks of up to %d, want the pipe's %d in chunks of %d", len(up.data), up.maxChunk, len(data), 100<<10)
	}
}
