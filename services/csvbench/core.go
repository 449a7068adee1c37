package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/analyzer"
	"github.com/csvmesh/csvmesh/services/internal/parquetout"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
	"github.com/csvmesh/csvmesh/services/validator"
)

// tradesSchemaJSON is the Table Schema the core benchmark checks the trades
// file against: every type the generator writes, with the constraints a
// trading desk would set.
const tradesSchemaJSON = `{
  "fields": [
    {"name": "timestamp", "type": "datetime", "constraints": {"required": true}},
    {"name": "symbol", "type": "string", "constraints": {"required": true, "maxLength": 8}},
    {"name": "side", "type": "string", "constraints": {"required": true, "enum": ["BUY", "SELL"]}},
    {"name": "price", "type": "number", "constraints": {"minimum": 0}},
    {"name": "quantity", "type": "integer", "constraints": {"required": true, "minimum": 1}},
    {"name": "notional", "type": "number"},
    {"name": "venue", "type": "string"},
    {"name": "note", "type": "string"}
  ]
}`

// coreMode is one in-process measurement of the validator core.
type coreMode struct {
	// Name is shown in the report.
	Name string
	// Infer runs without a schema.
	Infer bool
	// Workers is the validator's worker count.
	Workers int
	// Parquet converts the normalized output of a schema run instead.
	Parquet bool
	// Analyze runs the analyzer over the normalized output of a schema run
	// instead, with its default memory budget.
	Analyze bool
	// ExactCategorical makes that analysis keep text statistics exact at
	// any size (analyzer.Config.ExactCategorical).
	ExactCategorical bool
}

// fromNormalized reports whether m reads the schema run's normalized CSV
// rather than the source file.
func (m coreMode) fromNormalized() bool { return m.Parquet || m.Analyze }

// coreModes are the measurements of --core, in the order they run.
func coreModes(cpus int) []coreMode {
	modes := []coreMode{
		{Name: "schema, 1 worker", Workers: 1},
		{Name: "infer, 1 worker", Infer: true, Workers: 1},
	}
	if cpus > 1 {
		modes = append(modes,
			coreMode{Name: fmt.Sprintf("schema, %d workers", cpus), Workers: cpus},
			coreMode{Name: fmt.Sprintf("infer, %d workers", cpus), Infer: true, Workers: cpus})
	}
	return append(modes,
		coreMode{Name: "parquet (from normalized)", Parquet: true, Workers: 1},
		coreMode{Name: "analyzer (from normalized)", Analyze: true},
		coreMode{Name: "analyzer, exact categorical", Analyze: true, ExactCategorical: true})
}

// childResult is what one `csvbench --core-run` child prints as JSON.
type childResult struct {
	Seconds      float64 `json:"seconds"`
	Bytes        int64   `json:"bytes"`
	RowsValid    int64   `json:"rows_valid"`
	RowsRejected int64   `json:"rows_rejected"`
	// PeakRSS is the child's own VmHWM when it finished. (The wait4 rusage
	// of a child started with vfork reports the parent's peak instead.)
	PeakRSS int64 `json:"peak_rss_bytes"`
}

// coreRow is one line of the core report.
type coreRow struct {
	stage
	// PeakRSS is the child process's peak resident set size.
	PeakRSS int64 `json:"peak_rss_bytes"`
}

// coreResult is everything one --core run measured.
type coreResult struct {
	File       string    `json:"file"`
	FileBytes  int64     `json:"file_bytes"`
	FileRows   int64     `json:"file_rows"`
	CPUs       int       `json:"cpus"`
	LoadBefore string    `json:"load_before"`
	LoadAfter  string    `json:"load_after"`
	Baseline   stage     `json:"baseline"`
	Modes      []coreRow `json:"modes"`
	RowsValid  int64     `json:"rows_valid"`
	Rejected   int64     `json:"rows_rejected"`
}

// benchCore measures the validator core (parse, type-check, normalize,
// write) in child processes of this binary, one per mode, against the
// plain encoding/csv read of the same file (csv.NewReader with its defaults;
// the mesh benchmark's baseline reuses records and is about 15% faster),
// timed at the start of each
// of o.repeat rounds; every figure is the median over the rounds.
func benchCore(ctx context.Context, o *options, logf func(string, ...any)) (*coreResult, error) {
	dir, path, size, err := benchFile(o, logf)
	if err != nil {
		return nil, err
	}
	res := &coreResult{File: path, FileBytes: size, CPUs: runtime.NumCPU(), LoadBefore: loadAvg()}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(dir, "core-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	// A first read warms the page cache, so that every timed read finds the
	// file in memory as the child runs do.
	if _, _, err := baseline(path); err != nil {
		return nil, err
	}
	// Each round times the baseline, then every mode; with --repeat, the
	// median of each over the rounds is reported, so one slow moment of a
	// shared machine does not decide a figure.
	modes := coreModes(res.CPUs)
	var bases []time.Duration
	durs := make([][]time.Duration, len(modes))
	last := make([]childResult, len(modes))
	for round := 0; round < o.repeat; round++ {
		b, rows, err := plainBaseline(path)
		if err != nil {
			return nil, err
		}
		res.FileRows = rows
		bases = append(bases, b)
		logf("round %d: baseline encoding/csv: %.1f MB/s", round+1, mbps(res.FileBytes, b))
		for i, m := range modes {
			out, err := runCoreChild(ctx, self, path, work, m)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.Name, err)
			}
			d := time.Duration(out.Seconds * float64(time.Second))
			logf("round %d: %s: %.1f MB/s", round+1, m.Name, mbps(out.Bytes, d))
			durs[i] = append(durs[i], d)
			if out.PeakRSS < last[i].PeakRSS {
				out.PeakRSS = last[i].PeakRSS
			}
			last[i] = out
		}
	}
	res.Baseline = newStages(res.FileBytes, []string{"baseline plain encoding/csv"}, []time.Duration{median(bases)})[0]
	for i, m := range modes {
		d := median(durs[i])
		st := stage{Name: m.Name, Seconds: d.Seconds(), MBps: mbps(last[i].Bytes, d)}
		st.Ratio = st.MBps / res.Baseline.MBps
		res.Modes = append(res.Modes, coreRow{stage: st, PeakRSS: last[i].PeakRSS})
		if !m.fromNormalized() && !m.Infer {
			res.RowsValid, res.Rejected = last[i].RowsValid, last[i].RowsRejected
		}
	}
	res.LoadAfter = loadAvg()
	return res, nil
}

// runCoreChild runs `self --core-run` for mode m and returns its result.
func runCoreChild(ctx context.Context, self, path, work string, m coreMode) (childResult, error) {
	args := []string{"--core-run", "--core-file", path, "--core-out", work, "--core-workers", strconv.Itoa(m.Workers)}
	if m.Infer {
		args = append(args, "--core-infer")
	}
	if m.Parquet {
		args = append(args, "--core-parquet")
	}
	if m.Analyze {
		args = append(args, "--core-analyze")
	}
	if m.ExactCategorical {
		args = append(args, "--core-exact-categorical")
	}
	cmd := exec.CommandContext(ctx, self, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, fmt.Errorf("%w: %s", err, stderr.String())
	}
	var out childResult
	if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil {
		return childResult{}, fmt.Errorf("child output %q: %w", stdout.String(), err)
	}
	return out, nil
}

// coreRun is the child side of --core: one measurement of mode m (its Name
// aside), printed as JSON.
func coreRun(ctx context.Context, file, outDir string, m coreMode, stdout io.Writer) error {
	schema, err := tableschema.ParseJSON([]byte(tradesSchemaJSON))
	if err != nil {
		return err
	}
	normPath := filepath.Join(outDir, "normalized.csv")
	switch {
	case m.Parquet:
		return convertParquet(ctx, normPath, filepath.Join(outDir, "normalized.parquet"), schema, stdout)
	case m.Analyze:
		return analyzeNormalized(ctx, normPath, outDir, schema, m.ExactCategorical, stdout)
	}
	workers, infer := m.Workers, m.Infer
	src, err := os.Open(file)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	name := normPath
	if infer {
		name = filepath.Join(outDir, "normalized-inferred.csv")
	}
	norm, err := os.Create(name)
	if err != nil {
		return err
	}
	rej, err := os.Create(filepath.Join(outDir, "rejects.csv"))
	if err != nil {
		return errors.Join(err, norm.Close())
	}
	cfg := validator.Config{Workers: workers}
	if !infer {
		cfg.Schema = schema
	}
	nw, rw := bufio.NewWriterSize(norm, 1<<20), bufio.NewWriterSize(rej, 1<<20)
	start := time.Now()
	res, err := validator.Run(ctx, src, fi.Size(), validator.Outputs{Normalized: nw, Rejects: rw}, cfg, nil)
	if err == nil {
		err = errors.Join(nw.Flush(), rw.Flush())
	}
	err = errors.Join(err, norm.Close(), rej.Close())
	d := time.Since(start)
	if err != nil {
		return err
	}
	return emitChild(stdout, childResult{Seconds: d.Seconds(), Bytes: fi.Size(), RowsValid: res.GetRowsValid(), RowsRejected: res.GetRowsRejected()})
}

// emitChild prints a child's result, with the process's peak RSS, as JSON.
func emitChild(stdout io.Writer, r childResult) error {
	rss, err := peakRSS(0)
	if err != nil {
		return err
	}
	r.PeakRSS = rss
	return json.NewEncoder(stdout).Encode(r)
}

// convertParquet times the Parquet conversion of the normalized CSV at src.
func convertParquet(ctx context.Context, src, dst string, schema *typev1.Schema, stdout io.Writer) error {
	return timeNormalized(src, stdout, func(in io.Reader) (int64, error) {
		out, err := os.Create(dst)
		if err != nil {
			return 0, err
		}
		bw := bufio.NewWriterSize(out, 1<<20)
		rows, err := parquetout.Convert(ctx, bufio.NewReaderSize(in, 1<<20), bw, schema, parquetout.Options{})
		if err == nil {
			err = bw.Flush()
		}
		return rows, errors.Join(err, out.Close())
	})
}

// analyzeNormalized times the analyzer over the normalized CSV at src with
// its default memory budget, spilling (if asked to) under dir.
func analyzeNormalized(ctx context.Context, src, dir string, schema *typev1.Schema, exact bool, stdout io.Writer) error {
	return timeNormalized(src, stdout, func(in io.Reader) (int64, error) {
		rep, err := analyzer.Analyze(ctx, in, schema, true, nil, analyzer.Config{TempDir: dir, ExactCategorical: exact}, nil)
		return rep.GetRowCount(), err
	})
}

// timeNormalized times run over the normalized CSV a schema run wrote at
// src and prints the result with the process's peak RSS as JSON; run
// returns the rows it read.
func timeNormalized(src string, stdout io.Writer, run func(io.Reader) (int64, error)) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("run a schema mode first: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	rows, err := run(in)
	d := time.Since(start)
	if err != nil {
		return err
	}
	return emitChild(stdout, childResult{Seconds: d.Seconds(), Bytes: fi.Size(), RowsValid: rows})
}

// writeCoreTable prints r as a plain-text report.
func writeCoreTable(w io.Writer, r *coreResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "file      %s\n", r.File)
	fmt.Fprintf(&b, "size      %s bytes (%s), %s rows\n", groupDigits(r.FileBytes), humanBytes(r.FileBytes), groupDigits(r.FileRows))
	fmt.Fprintf(&b, "load avg  %s before, %s after (%d CPUs)\n", r.LoadBefore, r.LoadAfter, r.CPUs)
	fmt.Fprintf(&b, "rows      %s valid, %s rejected (schema run)\n", groupDigits(r.RowsValid), groupDigits(r.Rejected))
	fmt.Fprintf(&b, "\n%-28s %8s %9s %11s %12s\n", "core, one process each", "seconds", "MB/s", "x baseline", "peak RSS")
	fmt.Fprintf(&b, "%-28s %8.2f %9.1f %11.2f %12s\n", r.Baseline.Name, r.Baseline.Seconds, r.Baseline.MBps, 1.0, "-")
	for _, m := range r.Modes {
		fmt.Fprintf(&b, "%-28s %8.2f %9.1f %11.2f %12s\n", m.Name, m.Seconds, m.MBps, m.Ratio, humanBytes(m.PeakRSS))
	}
	b.WriteString("\nparquet and analyzer MB/s are of the normalized CSV they read; the others of the source file.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// median returns the middle of ds (the mean of the two middle ones for an
// even count); ds is not empty.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
