package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// tradesFile returns the path of the trades file for size and seed in dir,
// generating it first unless it is already there. A file is only ever
// visible under its final name once complete (written to a temporary name,
// then renamed), so an existing one can be reused as is.
func tradesFile(dir string, size int64, seed uint64, logf func(string, ...any)) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("trades-%d-seed%d.csv", size, seed))
	if _, err := os.Stat(path); err == nil {
		logf("reusing %s", path)
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("stat trades file: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".trades-*.csv.tmp")
	if err != nil {
		return "", fmt.Errorf("create trades file: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	start := time.Now()
	st, err := tradegen.Write(f, size, tradegen.WithSeed(seed))
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes it 0600
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("generate trades file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return "", fmt.Errorf("generate trades file: %w", err)
	}
	d := time.Since(start)
	logf("generated %s: %s, %d rows in %.2fs (%.0f MB/s)", path, humanBytes(st.Bytes), st.Rows, d.Seconds(), mbps(st.Bytes, d))
	return path, nil
}

// fileSHA256 returns the lowercase hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// baseline reads the whole file with encoding/csv (ReuseRecord, strict
// quotes, field count fixed by the header) and returns how long that took
// and how many data rows it read. It is the yardstick every mesh figure is
// compared with: the speed of the simplest correct Go program.
func baseline(path string) (time.Duration, int64, error) {
	return readCSV(path, true)
}

// plainBaseline is baseline with encoding/csv's defaults (a new slice per
// record): the "plain encoding/csv read" the validator core is measured
// against.
func plainBaseline(path string) (time.Duration, int64, error) {
	return readCSV(path, false)
}

// readCSV times a read of every record of path with encoding/csv.
func readCSV(path string, reuse bool) (time.Duration, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	start := time.Now()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = reuse
	var rows int64
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("baseline: %s: %w", path, err)
		}
		rows++
	}
	if rows > 0 {
		rows-- // the header
	}
	return time.Since(start), rows, nil
}
