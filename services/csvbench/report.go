package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// sizeUnits are the suffixes parseSize accepts, longest first so that "MiB"
// is tried before "B". Decimal units are powers of 1000, binary ones of 1024.
var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// parseSize parses a byte count such as 1048576, 64KiB, 100MB, 1.5GB or 1GiB
// (units are case-insensitive).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || t == "" || strings.ContainsAny(t, "eEnN") || n <= 0 || n*mult >= 1<<62 {
		return 0, fmt.Errorf("invalid size %q: want a positive byte count such as 100MB, 1GB or 512MiB", s)
	}
	return int64(math.Round(n * mult)), nil
}

// procRSS is the peak resident set size of one process.
type procRSS struct {
	Name  string `json:"name"`
	Bytes int64  `json:"peak_rss_bytes"`
}

// stage is one measured figure: bytes over a duration.
type stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	MBps    float64 `json:"mb_per_s"`
	// Ratio is MBps divided by the baseline's MB/s.
	Ratio float64 `json:"ratio_to_baseline"`
}

// result is everything one benchmark run measured.
type result struct {
	File         string    `json:"file"`
	FileBytes    int64     `json:"file_bytes"`
	FileRows     int64     `json:"file_rows"`
	Seed         uint64    `json:"seed"`
	Job          string    `json:"job"`
	Stages       []stage   `json:"stages"`
	RowsValid    int64     `json:"rows_valid"`
	RowsRejected int64     `json:"rows_rejected"`
	PeakRSS      []procRSS `json:"peak_rss"`
	LoadBefore   string    `json:"load_avg_before"`
	LoadAfter    string    `json:"load_avg_after"`
	CPUs         int       `json:"cpus"`
}

// mbps returns bytes per second in MB/s (10^6 bytes); 0 for a non-positive
// duration.
func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / d.Seconds()
}

// newStages turns named durations into stages over size bytes, the first
// being the baseline every ratio is taken against.
func newStages(size int64, names []string, durs []time.Duration) []stage {
	out := make([]stage, len(names))
	for i := range names {
		out[i] = stage{Name: names[i], Seconds: durs[i].Seconds(), MBps: mbps(size, durs[i])}
	}
	if base := out[0].MBps; base > 0 {
		for i := range out {
			out[i].Ratio = out[i].MBps / base
		}
	}
	return out
}

// writeTable prints r as a plain-text report with aligned columns.
func writeTable(w io.Writer, r *result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "file      %s\n", r.File)
	fmt.Fprintf(&b, "size      %s bytes (%s), %s rows, seed %d\n", groupDigits(r.FileBytes), humanBytes(r.FileBytes), groupDigits(r.FileRows), r.Seed)
	fmt.Fprintf(&b, "job       %s\n", r.Job)
	fmt.Fprintf(&b, "load avg  %s before, %s after (%d CPUs)\n", r.LoadBefore, r.LoadAfter, r.CPUs)
	fmt.Fprintf(&b, "\n%-22s %8s %9s %11s\n", "stage", "seconds", "MB/s", "x baseline")
	for _, s := range r.Stages {
		fmt.Fprintf(&b, "%-22s %8.2f %9.1f %11.2f\n", s.Name, s.Seconds, s.MBps, s.Ratio)
	}
	fmt.Fprintf(&b, "\n%-22s %12s\n", "rows valid", groupDigits(r.RowsValid))
	fmt.Fprintf(&b, "%-22s %12s\n", "rows rejected", groupDigits(r.RowsRejected))
	fmt.Fprintf(&b, "\n%-22s %12s\n", "process", "peak RSS")
	for _, p := range r.PeakRSS {
		fmt.Fprintf(&b, "%-22s %12s\n", p.Name, humanBytes(p.Bytes))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJSON prints r as indented JSON.
func writeJSON(w io.Writer, r any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// humanBytes formats n with a binary unit, e.g. "95.4 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// groupDigits formats n with thousands separators, e.g. "1,234,567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
