package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1048576", 1048576, false},
		{"512B", 512, false},
		{"20MB", 20_000_000, false},
		{"100MB", 100_000_000, false},
		{"100mb", 100_000_000, false},
		{"1GB", 1_000_000_000, false},
		{"1.5GB", 1_500_000_000, false},
		{"64KiB", 64 << 10, false},
		{"1MiB", 1 << 20, false},
		{"1GiB", 1 << 30, false},
		{" 2 gib ", 2 << 30, false},
		{"1TB", 1_000_000_000_000, false},
		{"", 0, true},
		{"MB", 0, true},
		{"0", 0, true},
		{"-5MB", 0, true},
		{"ten", 0, true},
		{"1e9", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
		{"5XB", 0, true},
		{"99999999TB", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseSize(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("parseSize(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*options) bool
		wantErr bool
	}{
		{"defaults", nil, func(o *options) bool {
			return o.size == 100_000_000 && o.chunkSize == 1<<20 && o.dir == "bench-out" && !o.keep && !o.json && o.seed == 1
		}, false},
		{"all set", []string{"--size", "1GiB", "--keep", "--dir", "/tmp/x", "--csvmeshd", "/bin/m", "--json", "--seed", "9"}, func(o *options) bool {
			return o.size == 1<<30 && o.keep && o.dir == "/tmp/x" && o.csvmeshd == "/bin/m" && o.json && o.seed == 9
		}, false},
		{"bad size", []string{"--size", "big"}, nil, true},
		{"chunk too large", []string{"--chunk-size", "5MiB"}, nil, true},
		{"zero timeout", []string{"--timeout", "0s"}, nil, true},
		{"stray argument", []string{"extra"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseFlags(%q) error = %v, wantErr %v", tc.args, err, tc.wantErr)
			}
			if err == nil && !tc.check(o) {
				t.Fatalf("parseFlags(%q) = %+v", tc.args, *o)
			}
		})
	}
}

func TestNewStages(t *testing.T) {
	st := newStages(200_000_000,
		[]string{"baseline", "fast", "slow", "unmeasured"},
		[]time.Duration{time.Second, 500 * time.Millisecond, 4 * time.Second, 0})
	want := []stage{
		{"baseline", 1, 200, 1},
		{"fast", 0.5, 400, 2},
		{"slow", 4, 50, 0.25},
		{"unmeasured", 0, 0, 0},
	}
	for i, w := range want {
		if st[i] != w {
			t.Errorf("stage %d = %+v, want %+v", i, st[i], w)
		}
	}
}

func sampleResult() *result {
	return &result{
		File:      "/b/trades-100000000-seed1.csv",
		FileBytes: 100_000_057,
		FileRows:  1_234_567,
		Seed:      1,
		Job:       "jobs/abc",
		Stages: newStages(100_000_057,
			[]string{"baseline encoding/csv", "upload", "end-to-end"},
			[]time.Duration{500 * time.Millisecond, 250 * time.Millisecond, 2 * time.Second}),
		RowsValid:    1_234_000,
		RowsRejected: 567,
		PeakRSS:      []procRSS{{"ingest", 50 << 20}, {"csvbench", 12 << 20}},
		LoadBefore:   "0.50 0.40 0.30",
		LoadAfter:    "1.50 0.90 0.40",
		CPUs:         2,
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := writeTable(&buf, sampleResult()); err != nil {
		t.Fatal(err)
	}
	want := `file      /b/trades-100000000-seed1.csv
size      100,000,057 bytes (95.4 MiB), 1,234,567 rows, seed 1
job       jobs/abc
load avg  0.50 0.40 0.30 before, 1.50 0.90 0.40 after (2 CPUs)

stage                   seconds      MB/s  x baseline
baseline encoding/csv      0.50     200.0        1.00
upload                     0.25     400.0        2.00
end-to-end                 2.00      50.0        0.25

rows valid                1,234,000
rows rejected                   567

process                    peak RSS
ingest                     50.0 MiB
csvbench                   12.0 MiB
`
	if got := buf.String(); got != want {
		t.Fatalf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	in := sampleResult()
	if err := writeJSON(&buf, in); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	stages := got["stages"].([]any)
	up := stages[1].(map[string]any)
	if up["name"] != "upload" || up["mb_per_s"] != 400.000228 || up["ratio_to_baseline"] != 2.0 {
		t.Fatalf("upload stage = %v", up)
	}
	if got["rows_rejected"] != 567.0 || got["file_bytes"] != 100000057.0 {
		t.Fatalf("rows_rejected = %v, file_bytes = %v", got["rows_rejected"], got["file_bytes"])
	}
	rss := got["peak_rss"].([]any)[0].(map[string]any)
	if rss["name"] != "ingest" || rss["peak_rss_bytes"] != float64(50<<20) {
		t.Fatalf("peak_rss[0] = %v", rss)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{humanBytes(0), "0 B"},
		{humanBytes(1023), "1023 B"},
		{humanBytes(1024), "1.0 KiB"},
		{humanBytes(1536 << 20), "1.5 GiB"},
		{groupDigits(0), "0"},
		{groupDigits(999), "999"},
		{groupDigits(1000), "1,000"},
		{groupDigits(-1234567), "-1,234,567"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{"typical", "Name:\tcsvmeshd\nVmPeak:\t  900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 40000 kB\n", 51200 << 10, false},
		{"missing", "Name:\tx\nVmRSS:\t 1 kB\n", 0, true},
		{"bad unit", "VmHWM:\t 12 MB\n", 0, true},
		{"bad number", "VmHWM:\t x kB\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVmHWM([]byte(tc.status))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseVmHWM = %d, %v; want %d, wantErr %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	// This process's own status file parses and reports a plausible peak.
	self, err := peakRSS(0)
	if err != nil || self < 1<<20 {
		t.Fatalf("peakRSS(self) = %d, %v", self, err)
	}
}

func TestTradesFileAndBaseline(t *testing.T) {
	dir := t.TempDir()
	var logs []string
	logf := func(f string, a ...any) { logs = append(logs, f) }
	path, err := tradesFile(dir, 300_000, 5, logf)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() < 300_000 {
		t.Fatalf("stat %s: %v, size %d", path, err, fi.Size())
	}
	// The second call reuses the file instead of writing it again.
	before := fi.ModTime()
	again, err := tradesFile(dir, 300_000, 5, logf)
	if err != nil || again != path {
		t.Fatalf("second tradesFile = %q, %v; want %q", again, err, path)
	}
	if fi2, _ := os.Stat(path); !fi2.ModTime().Equal(before) || !strings.HasPrefix(logs[1], "reusing") {
		t.Fatalf("file was rewritten instead of reused (logs %q)", logs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("dir holds %d entries, want only the trades file", len(entries))
	}

	_, plainRows, err := plainBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rows, err := baseline(path)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows != int64(len(recs)-1) || plainRows != rows {
		t.Fatalf("baseline rows = %d, plain %d, want %d", rows, plainRows, len(recs)-1)
	}

	// A malformed file makes the baseline fail rather than report a speed.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1,\"x\n"), 0o644)
	if _, _, err := baseline(bad); err == nil {
		t.Fatal("baseline of a malformed file: want an error")
	}
}
