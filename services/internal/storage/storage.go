// Package storage keeps csvmesh's objects: uploaded files, normalized CSV,
// rejects and reports. The Store interface is small so that a deployment can
// put objects in S3 or GCS later; Dir, the embedded default, keeps them as
// files under a data directory.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("storage: object not found")

// ErrInvalidKey is returned for a key that is empty, absolute, or escapes the
// store with "..".
var ErrInvalidKey = errors.New("storage: invalid object key")

// Store keeps objects by key. Keys are slash-separated relative paths.
type Store interface {
	// Create starts writing a new object. Nothing is visible under key until
	// Commit succeeds; Abort (or a failed Commit) leaves nothing behind.
	Create(ctx context.Context, key string) (Writer, error)
	// Open opens an object for reading.
	Open(ctx context.Context, key string) (Object, error)
	// Stat returns an object's size in bytes.
	Stat(ctx context.Context, key string) (int64, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every object whose key starts with prefix + "/".
	DeletePrefix(ctx context.Context, prefix string) error
	// List returns the names of the direct children of prefix + "/" (objects
	// and "directories", like an S3 listing with a "/" delimiter), sorted.
	// A prefix with nothing under it lists nothing.
	List(ctx context.Context, prefix string) ([]string, error)
	// RemoveIncomplete removes what writes under prefix + "/" that never
	// committed or aborted (a crash) left behind, and returns the keys
	// those writes were for. Call it only when no write under prefix can be
	// in progress.
	RemoveIncomplete(ctx context.Context, prefix string) ([]string, error)
}

// Writer writes one new object.
type Writer interface {
	io.Writer
	// Commit makes the object durable (fsync) and visible under its key,
	// replacing any object already there.
	Commit() error
	// Abort discards what was written. It is safe to call after Commit, where
	// it does nothing, so `defer w.Abort()` is the usual pattern.
	Abort() error
}

// Object is an object opened for reading.
type Object interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
	// Size returns the object's size in bytes.
	Size() int64
}

// Dir is a Store that keeps objects as files under a directory.
type Dir struct {
	root string
}

// NewDir returns a Store rooted at dir, creating dir if needed.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: create root: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: resolve root: %w", err)
	}
	return &Dir{root: abs}, nil
}

// Root returns the directory the store keeps its files in.
func (d *Dir) Root() string { return d.root }

func (d *Dir) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	clean := path.Clean(key)
	if clean != key || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return filepath.Join(d.root, filepath.FromSlash(clean)), nil
}

// Create implements Store.
func (d *Dir) Create(_ context.Context, key string) (Writer, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), tempPrefix+filepath.Base(p)+"-*")
	if err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", key, err)
	}
	return &fileWriter{f: f, final: p, key: key}, nil
}

// Open implements Store.
func (d *Dir) Open(_ context.Context, key string) (Object, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return nil, fmt.Errorf("storage: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	return &fileObject{File: f, size: fi.Size()}, nil
}

// Stat implements Store.
func (d *Dir) Stat(_ context.Context, key string) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return 0, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	return fi.Size(), nil
}

// Delete implements Store.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// DeletePrefix implements Store.
func (d *Dir) DeletePrefix(_ context.Context, prefix string) error {
	p, err := d.path(prefix)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("storage: delete %s/: %w", prefix, err)
	}
	return nil
}

// tempPrefix starts the name of a write's temporary file, which is
// os.CreateTemp's ".tmp-<name>-<digits>"; tempName matches such names.
const tempPrefix = ".tmp-"

var tempName = regexp.MustCompile(`^\.tmp-(.+)-[0-9]+$`)

// List implements Store. Temporary files of writes are not listed.
func (d *Dir) List(_ context.Context, prefix string) ([]string, error) {
	p, err := d.path(prefix)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: list %s/: %w", prefix, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !tempName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// RemoveIncomplete implements Store.
func (d *Dir) RemoveIncomplete(_ context.Context, prefix string) ([]string, error) {
	root, err := d.path(prefix)
	if err != nil {
		return nil, err
	}
	var keys []string
	err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		m := tempName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		rel, _ := filepath.Rel(d.root, filepath.Join(filepath.Dir(p), m[1]))
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return keys, fmt.Errorf("storage: remove incomplete writes under %s/: %w", prefix, err)
	}
	return keys, nil
}

type fileObject struct {
	*os.File
	size int64
}

func (o *fileObject) Size() int64 { return o.size }

type fileWriter struct {
	f     *os.File
	final string
	key   string
	done  bool
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("storage: write %s: writer closed", w.key)
	}
	return w.f.Write(p)
}

func (w *fileWriter) Commit() error {
	if w.done {
		return fmt.Errorf("storage: commit %s: writer closed", w.key)
	}
	w.done = true
	tmp := w.f.Name()
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		os.Remove(tmp)
		return fmt.Errorf("storage: sync %s: %w", w.key, err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storage: close %s: %w", w.key, err)
	}
	if err := os.Rename(tmp, w.final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storage: commit %s: %w", w.key, err)
	}
	if dir, err := os.Open(filepath.Dir(w.final)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

func (w *fileWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("storage: abort %s: %w", w.key, err)
	}
	return nil
}

// RangeReader returns a reader over [r.offset, r.offset+length) of obj;
// length 0 means to the end. It checks the range against the object's size.
func RangeReader(obj Object, offset, length int64) (io.Reader, int64, error) {
	size := obj.Size()
	if offset < 0 || length < 0 || offset > size {
		return nil, 0, fmt.Errorf("storage: byte range %d+%d outside object of %d bytes", offset, length, size)
	}
	if length == 0 {
		length = size - offset
	}
	if offset+length > size {
		return nil, 0, fmt.Errorf("storage: byte range %d+%d outside object of %d bytes", offset, length, size)
	}
	return io.NewSectionReader(obj, offset, length), length, nil
}
