package storage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func newDir(t *testing.T) *Dir {
	t.Helper()
	d, err := NewDir(filepath.Join(t.TempDir(), "objects"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// files lists every file under root, temp files included.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestCommitMakesObjectVisible(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	w, err := d.Create(ctx, "jobs/a/source.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "a,b\n1,2\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, "jobs/a/source.csv"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before Commit, Stat = %v, want ErrNotFound", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after Commit = %v, want nil", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Commit succeeded")
	}
	obj, err := d.Open(ctx, "jobs/a/source.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if obj.Size() != 8 {
		t.Errorf("Size = %d, want 8", obj.Size())
	}
	r, n, err := RangeReader(obj, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if n != 4 || string(b) != "1,2\n" {
		t.Errorf("RangeReader(4, 0) = %d %q, want 4 \"1,2\\n\"", n, b)
	}
	if got := files(t, d.Root()); len(got) != 1 || got[0] != "jobs/a/source.csv" {
		t.Errorf("files = %v, want only the object", got)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	w, err := d.Create(ctx, "jobs/b/source.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, strings.Repeat("x", 1<<16))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	if got := files(t, d.Root()); len(got) != 0 {
		t.Errorf("files after Abort = %v, want none", got)
	}
	if _, err := d.Open(ctx, "jobs/b/source.csv"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open after Abort = %v, want ErrNotFound", err)
	}
}

func TestCommitReplaces(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	for _, content := range []string{"first", "second"} {
		w, err := d.Create(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := d.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, _ := io.ReadAll(obj)
	if string(b) != "second" {
		t.Errorf("content = %q, want the second write", b)
	}
}

func TestInvalidKeys(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	for _, key := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", ".", "..", `a\b`, "a/"} {
		t.Run(key, func(t *testing.T) {
			if _, err := d.Create(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Create(%q) = %v, want ErrInvalidKey", key, err)
			}
			if _, err := d.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Open(%q) = %v, want ErrInvalidKey", key, err)
			}
			if err := d.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	for _, k := range []string{"jobs/c/a", "jobs/c/b", "jobs/d/a"} {
		w, _ := d.Create(ctx, k)
		w.Commit()
	}
	if err := d.Delete(ctx, "jobs/d/a"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "jobs/d/a"); err != nil {
		t.Fatalf("deleting a missing object = %v, want nil", err)
	}
	if err := d.DeletePrefix(ctx, "jobs/c"); err != nil {
		t.Fatal(err)
	}
	if got := files(t, d.Root()); len(got) != 0 {
		t.Errorf("files = %v, want none", got)
	}
}

func TestRangeReaderBounds(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	w, _ := d.Create(ctx, "r")
	io.WriteString(w, "0123456789")
	w.Commit()
	obj, err := d.Open(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	tests := []struct {
		off, n int64
		want   string
		ok     bool
	}{
		{0, 0, "0123456789", true},
		{2, 3, "234", true},
		{10, 0, "", true},
		{9, 2, "", false},
		{11, 0, "", false},
		{-1, 0, "", false},
		{0, -1, "", false},
	}
	for _, tc := range tests {
		r, _, err := RangeReader(obj, tc.off, tc.n)
		if (err == nil) != tc.ok {
			t.Errorf("RangeReader(%d, %d) err = %v, want ok=%v", tc.off, tc.n, err, tc.ok)
			continue
		}
		if err == nil {
			b, _ := io.ReadAll(r)
			if string(b) != tc.want {
				t.Errorf("RangeReader(%d, %d) = %q, want %q", tc.off, tc.n, b, tc.want)
			}
		}
	}
}

func TestListAndRemoveIncomplete(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	for _, k := range []string{"jobs/a/source.csv", "jobs/a/nested/report.json", "jobs/b/source.csv"} {
		w, _ := d.Create(ctx, k)
		w.Commit()
	}
	// Two writes that neither commit nor abort, as after a crash.
	for _, k := range []string{"jobs/a/normalized.csv", "jobs/a/nested/rejects.csv"} {
		w, err := d.Create(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "partial")
	}
	// Files that merely look alike stay.
	for _, name := range []string{".tmp-notes", ".tmp-x-abc", "tmp-y.csv-1"} {
		if err := os.WriteFile(filepath.Join(d.Root(), "jobs", "a", name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	got, err := d.List(ctx, "jobs")
	if err != nil || strings.Join(got, ",") != "a,b" {
		t.Errorf("List(jobs) = %v, %v; want [a b]", got, err)
	}
	got, err = d.List(ctx, "jobs/a")
	if err != nil || strings.Join(got, ",") != ".tmp-notes,.tmp-x-abc,nested,source.csv,tmp-y.csv-1" {
		t.Errorf("List(jobs/a) = %v, %v; want the objects without the writes in progress", got, err)
	}
	if got, err := d.List(ctx, "nothing/here"); err != nil || len(got) != 0 {
		t.Errorf("List of an empty prefix = %v, %v", got, err)
	}

	keys, err := d.RemoveIncomplete(ctx, "jobs/a")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "jobs/a/nested/rejects.csv,jobs/a/normalized.csv" {
		t.Errorf("RemoveIncomplete = %v, want the two interrupted writes", keys)
	}
	want := "jobs/a/.tmp-notes,jobs/a/.tmp-x-abc,jobs/a/nested/report.json,jobs/a/source.csv,jobs/a/tmp-y.csv-1,jobs/b/source.csv"
	if got := strings.Join(files(t, d.Root()), ","); got != want {
		t.Errorf("files after RemoveIncomplete:\n%s\nwant\n%s", got, want)
	}
	if keys, err := d.RemoveIncomplete(ctx, "jobs/none"); err != nil || len(keys) != 0 {
		t.Errorf("RemoveIncomplete of a missing prefix = %v, %v", keys, err)
	}
}
