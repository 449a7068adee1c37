// Package analyzer computes per-column statistics of normalized CSV, with the
// semantics of pandas `DataFrame.describe(include="all")` and more, and
// serves them over gRPC as csvmesh.analyzer.v1.AnalyzerService.
//
// The engine (Analyze, AnalyzePartial) reads the normalized CSV the validator
// writes: a header row, comma-delimited, LF line endings, RFC 4180 minimal
// quoting, UTF-8, and missing values written as empty fields. Column types
// come from the schema:
//
//   - INTEGER and NUMBER columns get count, mean, std (ddof=1), min, max and
//     the requested quantiles, interpolated linearly exactly as numpy and
//     pandas do, plus sum, variance, skewness, kurtosis, sign counts and a
//     histogram (moments.Moments: exact sums, pandas' formulas); the Report
//     also carries their Pearson correlation matrix (moments.Matrix);
//   - STRING, BOOLEAN, DATE, DATETIME, TIME, YEAR, YEARMONTH, DURATION and
//     ANY columns get count, unique, top and freq, the distinct count, the
//     ten most frequent values and the string lengths, computed on the text
//     of the values (the validator's canonical forms: booleans are "true"
//     and "false").
//
// Memory is bounded by a budget. A numeric column keeps its values for exact
// quantiles and histogram while they fit; past the budget it switches for
// good to a KLL sketch (sketch.KLL, k = 200) and the report marks its
// quantiles and histogram approximate with their bounds; everything else
// about it stays exact. The distinct values of text columns, each with its
// count, stay in memory while they fit, and their figures are exact. Past the
// budget a text column switches for good to sketches: a HyperLogLog
// (sketch.HLL, 2^14 registers) for the distinct count, which the report marks
// approximate with its relative standard error (0.81%), and a SpaceSaving
// summary (sketch.SpaceSaving) of the most frequent values, whose counts the
// report marks as upper bounds with the most they overstate (N/m for N values
// and m counters, m between 64 and 1024 by the budget, see sketchCapacity;
// more when values longer than 1 KiB, which are counted by their first
// KiB, could not all be fed to it); every value more frequent than that is
// listed. Its count and lengths stay
// exact. With Config.ExactCategorical the column instead goes to sorted runs
// in temporary files that are k-way merged at the end, so that its figures
// stay exact, until the spill files would pass Config.MaxSpillBytes: then it
// switches to the sketches after all, so that disk use is bounded too.
//
// A text column whose distinct values have so far come in ascending order
// (timestamps, sequence numbers, dates of a sorted ledger; repeats of the
// last value allowed) needs no table to stay exact: a value is new exactly
// when it is greater than the last. Past the budget such a column, without
// ExactCategorical, keeps only the last value, the exact counts and lengths
// and the m most frequent values it has completed (catStream, O(m) memory),
// and its figures stay exact. A HyperLogLog is fed alongside, so that if a
// value later comes out of order the column turns into the sketches above,
// seeded with those m exact counts, and is marked approximate from then on.
// Statistics of consecutive row ranges merge (Partial.Merge) into those of
// the whole; a sketched column merged with an exact one sketches both.
//
// Why KLL rather than DDSketch for quantiles: pandas defines a percentile by
// rank (numpy's linear interpolation between the values at two positions),
// and KLL bounds exactly that, the rank error (1.33% of the count at 99%
// confidence with k = 200), whatever the values. DDSketch bounds the
// relative error of the value instead, which suits positive heavy-tailed
// data such as latencies but not these files: prices clustered near 1e9
// with a spread of cents would get a bound of millions at 1%, and ledgers
// hold negative amounts and zeros, which DDSketch handles only with extra
// stores. KLL also gives the histogram's counts with a bound (its PMF
// error) and merges across shards without losing its guarantee.
//
// Why normalized CSV rather than the validator's Parquet: reading the
// Parquet file's typed pages is about 3.5 times as fast as reading the CSV
// (parquetout's BenchmarkReadBack), but the Parquet file does not hold what
// the text statistics of time columns are defined on (datetimes are stored
// as UTC instants, losing the offset and the fraction digits as written), it
// is optional (a job may skip it, and the validator drops it when a value
// does not fit its column's unit), so the CSV path must stay anyway, and
// parsing is about 40% of the analyzer's CPU, already overlapped with the
// folding on a second core: the whole analysis would gain far less than the
// read. Reading Parquet is the next step if the analyzer becomes
// parse-bound.
//
// With more than one CPU, an analysis parses rows into batches a few ahead
// on a goroutine of its own, numeric and time values included, while each
// batch is folded into the accumulators by two goroutines taking its
// columns one at a time, the costliest first (columns share nothing), so
// that the folding, the larger half of the work, does not leave a CPU idle; the quantiles of
// numeric columns are then selected in parallel, from counts of the values
// in buckets rather than by partitioning them (selectByBuckets).
package analyzer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/moments"
)

// DefaultMemoryBudget is the memory budget of one analysis when
// Config.MemoryBudget is zero: 256 MiB.
const DefaultMemoryBudget int64 = 256 << 20

// DefaultMaxSpillBytes is the bound on the spill files of one analysis when
// Config.MaxSpillBytes is zero: 64 GiB.
const DefaultMaxSpillBytes int64 = 64 << 30

// maxMemoryBudget caps Config.MemoryBudget at 64 GiB, which also keeps the
// distinct values of one column in memory well below 2^32.
const maxMemoryBudget int64 = 64 << 30

// progressEvery is how many rows the engine reads between calls of the
// progress function and checks of the context.
const progressEvery = 1024

// defaultQuantiles are the quantiles pandas describe() reports.
var defaultQuantiles = []float64{0.25, 0.5, 0.75}

var (
	// ErrInvalidSchema is returned for a schema without fields or with a
	// field whose type is unspecified or unknown.
	ErrInvalidSchema = errors.New("analyzer: invalid schema")
	// ErrInvalidQuantile is returned for a quantile that is NaN, outside
	// [0, 1], or given twice.
	ErrInvalidQuantile = errors.New("analyzer: invalid quantile")
	// ErrHeaderMismatch is returned when the header row does not name the
	// schema's fields in order.
	ErrHeaderMismatch = errors.New("analyzer: header does not match the schema")
	// ErrMalformedInput is returned when the input is not normalized CSV of
	// the schema: a CSV syntax error, a row with the wrong number of fields,
	// or a value that does not parse as its column's type.
	ErrMalformedInput = errors.New("analyzer: malformed input")
	// ErrInvalidColumns is returned for a column selection (Config.Columns)
	// with a name that is empty, not a field of the schema, or given twice.
	ErrInvalidColumns = errors.New("analyzer: invalid column selection")
	// ErrIncompatiblePartials is returned by Partial.Merge for partials of
	// different schemas or column selections.
	ErrIncompatiblePartials = errors.New("analyzer: partials have different schemas")
)

// Config bounds one analysis. The zero value uses the defaults.
type Config struct {
	// MemoryBudget is the number of bytes the accumulators of all columns
	// may hold in memory before text columns switch to sketches (or spill
	// to temporary files, see ExactCategorical) and numeric columns to
	// sketches; 0 means DefaultMemoryBudget, and more than 64 GiB counts
	// as 64 GiB. It covers what grows with the input: the kept numeric
	// values and the distinct text values with their counts, charged at
	// what the Go heap really spends on them (whole allocated blocks, hash
	// tables and the tables they replaced while those await collection),
	// and the sketches of sketched text columns (and the summaries of
	// ascending ones, 17 KiB + 1.06 KiB per kept value), charged at their bound
	// (16.25 KiB + 1.25 KiB per SpaceSaving counter, at most 1.27 MiB a
	// column; with a budget below 770 KiB per text column their minimum,
	// 96 KiB each, may exceed it: see sketchCapacity). The engine runs the
	// garbage collector after a spill that frees 4 MiB or more, so that
	// spilled memory is reusable at once rather than when the heap has
	// doubled. On top of it come: the parser's buffer (one record, see
	// MaxRecordBytes) and up to 4 batches of parsed rows (each about
	// 256 KiB of text, or one record if longer, plus 16 bytes per value
	// and 9 more per numeric, date and datetime value: at most 2 MiB with
	// the text), while quantiles are computed
	// up to 624 KiB per numeric column plus 112 KiB per level of bucket
	// refinement past the first, at most 5 (GOMAXPROCS columns at a
	// time), what one batch of rows adds before the next check of the
	// budget, while spill files are merged up to 64 file buffers of
	// 32 KiB (up to 129 while a spilled column switches to sketches at
	// MaxSpillBytes, reading all its runs at once), and garbage below the
	// 4 MiB threshold. The tests hold the heap in use to the budget plus
	// budget/8 plus 8 MiB, with text columns sketched or spilled.
	MemoryBudget int64
	// TempDir is the directory spill files are created in; "" means
	// os.TempDir(). Each analysis creates its own subdirectory on its first
	// spill and removes it when it ends.
	TempDir string
	// MaxRecordBytes bounds the size of one CSV record (and so of one field)
	// the parser buffers; 0 means csvparse.DefaultMaxRecordBytes (4 MiB)
	// per record and csvparse.DefaultMaxFieldBytes (1 MiB) per field. A
	// longer record fails the analysis with ErrMalformedInput.
	MaxRecordBytes int
	// ExactCategorical keeps the figures of text columns exact past the
	// memory budget by spilling their distinct values to sorted runs in
	// temporary files, merged at the end (disk I/O, slower), instead of
	// switching to sketches; a column still switches to sketches when its
	// spill files would take those of the analysis past MaxSpillBytes.
	ExactCategorical bool
	// MaxSpillBytes bounds the bytes of spill files one analysis writes
	// (runs and the merges of runs, counted when written even if removed
	// later; a merged partial brings its own count); 0 or less means
	// DefaultMaxSpillBytes. Only text columns under ExactCategorical spill.
	MaxSpillBytes int64
	// Columns selects the columns to analyze by the schema's field names;
	// empty means all. The report lists them in the schema's order and the
	// correlation matrix covers the selected numeric columns only; RowCount
	// still counts every row. The values of other columns are not parsed,
	// only the record's shape is checked. See CheckColumns.
	Columns []string

	// fanIn overrides defaultFanIn in tests.
	fanIn int
	// sequential makes tests parse on the analysis' goroutine.
	sequential bool
}

// maxSpillBytes returns MaxSpillBytes or its default.
func (c Config) maxSpillBytes() int64 {
	if c.MaxSpillBytes <= 0 {
		return DefaultMaxSpillBytes
	}
	return c.MaxSpillBytes
}

func (c Config) budget() int64 {
	if c.MemoryBudget <= 0 {
		return DefaultMemoryBudget
	}
	return min(c.MemoryBudget, maxMemoryBudget)
}

// ProgressFunc receives how many bytes of the input the parser has consumed
// and how many data rows it has read. The engine calls it after every batch
// of at most 1024 rows and once at the end of the input, from the goroutine
// running the analysis.
type ProgressFunc func(bytesRead, rowsRead int64)

// Analyze computes the report of the normalized CSV read from r. When
// hasHeader is true the first row is a header that must name the schema's
// fields in order; otherwise every row is data (a later shard of a file).
// quantiles are reported, in ascending order, for numeric columns; empty
// means 0.25, 0.5 and 0.75. progress may be nil.
//
// Analyze stops with ctx.Err() when ctx is done, and removes every temporary
// file it created before it returns.
func Analyze(ctx context.Context, r io.Reader, schema *typev1.Schema, hasHeader bool, quantiles []float64, cfg Config, progress ProgressFunc) (*typev1.Report, error) {
	qs, err := NormalizeQuantiles(quantiles)
	if err != nil {
		return nil, err
	}
	p, err := AnalyzePartial(ctx, r, schema, hasHeader, cfg, progress)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Report(ctx, qs)
}

// NormalizeQuantiles checks quantiles and returns them sorted ascending, as
// pandas reports them; empty means 0.25, 0.5 and 0.75. Each must be in
// [0, 1] and appear once, otherwise the error wraps ErrInvalidQuantile and
// names the offending index.
func NormalizeQuantiles(quantiles []float64) ([]float64, error) {
	if len(quantiles) == 0 {
		return slices.Clone(defaultQuantiles), nil
	}
	seen := make(map[float64]int, len(quantiles))
	for i, q := range quantiles {
		if math.IsNaN(q) || q < 0 || q > 1 {
			return nil, fmt.Errorf("%w: quantiles[%d] = %v is not in [0, 1]", ErrInvalidQuantile, i, q)
		}
		if j, ok := seen[q]; ok {
			return nil, fmt.Errorf("%w: quantiles[%d] = %v repeats quantiles[%d]", ErrInvalidQuantile, i, q, j)
		}
		seen[q] = i
	}
	qs := slices.Clone(quantiles)
	slices.Sort(qs)
	return qs, nil
}

// CheckSchema reports whether schema can drive an analysis: it must have at
// least one field, and every field a known type other than unspecified. The
// error wraps ErrInvalidSchema.
func CheckSchema(schema *typev1.Schema) error {
	if len(schema.GetFields()) == 0 {
		return fmt.Errorf("%w: no fields", ErrInvalidSchema)
	}
	for i, f := range schema.GetFields() {
		switch f.GetType() {
		case typev1.FieldType_FIELD_TYPE_STRING, typev1.FieldType_FIELD_TYPE_INTEGER,
			typev1.FieldType_FIELD_TYPE_NUMBER, typev1.FieldType_FIELD_TYPE_BOOLEAN,
			typev1.FieldType_FIELD_TYPE_DATE, typev1.FieldType_FIELD_TYPE_DATETIME,
			typev1.FieldType_FIELD_TYPE_TIME, typev1.FieldType_FIELD_TYPE_YEAR,
			typev1.FieldType_FIELD_TYPE_YEARMONTH, typev1.FieldType_FIELD_TYPE_DURATION,
			typev1.FieldType_FIELD_TYPE_ANY:
		default:
			return fmt.Errorf("%w: fields[%d] (%q) has type %v", ErrInvalidSchema, i, f.GetName(), f.GetType())
		}
	}
	return nil
}

// CheckColumns reports whether columns is a valid selection of schema's
// fields: each name non-empty, a field of schema, and given once. The error
// wraps ErrInvalidColumns and names the offending index.
func CheckColumns(schema *typev1.Schema, columns []string) error {
	_, err := selectColumns(schema, columns)
	return err
}

// selectColumns returns which fields of schema columns selects, by field
// index; nil means all.
func selectColumns(schema *typev1.Schema, columns []string) ([]bool, error) {
	if len(columns) == 0 {
		return nil, nil
	}
	index := make(map[string]int, len(schema.GetFields()))
	for i, f := range schema.GetFields() {
		if _, ok := index[f.GetName()]; !ok {
			index[f.GetName()] = i
		}
	}
	sel := make([]bool, len(schema.GetFields()))
	seen := make(map[string]int, len(columns))
	for i, name := range columns {
		if name == "" {
			return nil, fmt.Errorf("%w: columns[%d] is empty", ErrInvalidColumns, i)
		}
		if j, ok := seen[name]; ok {
			return nil, fmt.Errorf("%w: columns[%d] (%q) repeats columns[%d]", ErrInvalidColumns, i, name, j)
		}
		seen[name] = i
		k, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("%w: columns[%d] (%q) is not a field of the schema", ErrInvalidColumns, i, name)
		}
		sel[k] = true
	}
	return sel, nil
}

// Partial holds the mergeable statistics of consecutive rows of a file. Get
// one from AnalyzePartial, combine partials of consecutive ranges with Merge,
// compute the figures with Report and always Close it. A Partial is not safe
// for concurrent use.
type Partial struct {
	cols  []column
	rows  int64
	mem   int64 // bytes held by the accumulators
	limit int64
	fanIn int
	tmp   tempFiles
	// catPol is what text columns do past the budget.
	catPol catPolicy

	maxRecordBytes int
	sequential     bool

	// foldOrder, foldResults and parallelFold drive addBatch (planFold).
	foldOrder    []int
	foldResults  []foldResult
	parallelFold bool

	// numIdx are the indexes of the numeric columns, in file order, and
	// corr their correlation matrix (nil without numeric columns or with
	// more than moments.MaxMatrixColumns of them).
	numIdx  []int
	typed   int // the number of numeric, date and datetime columns
	corr    *moments.Matrix
	corrBuf []float64 // a batch's numeric values, row-major, NaN for missing
}

// column is the accumulator of one column.
type column struct {
	name string
	typ  typev1.FieldType
	// skip marks a column outside the selection: it has no accumulator,
	// its values are neither parsed nor counted.
	skip  bool
	count int64
	nulls int64
	num   *numericCol // INTEGER, NUMBER
	numK  int         // the index of a numeric column among the numeric ones
	// typedK is the index of a numeric, date or datetime column among
	// those (the columns whose values the batcher parses), -1 for others.
	typedK int
	cat    *catCol  // the other types
	dt     *dateCol // DATE, DATETIME (beside cat)
}

func (c *column) mem() int64 {
	if c.skip {
		return 0
	}
	if c.num != nil {
		return c.num.mem()
	}
	if c.dt != nil {
		return c.cat.mem() + c.dt.num.mem()
	}
	return c.cat.mem()
}

// spill frees what the column can (see catCol.spill and
// numericCol.sketch) and returns the change in memory use.
func (c *column) spill(ctx context.Context, t *tempFiles, fanIn int, pol catPolicy) (int64, error) {
	if c.skip {
		return 0, nil
	}
	if c.num != nil {
		return c.num.sketch(), nil
	}
	var d int64
	if c.dt != nil {
		d = c.dt.num.sketch()
	}
	d2, err := c.cat.spill(ctx, t, fanIn, pol)
	return d + d2, err
}

func newPartial(schema *typev1.Schema, cfg Config) (*Partial, error) {
	if err := CheckSchema(schema); err != nil {
		return nil, err
	}
	sel, err := selectColumns(schema, cfg.Columns)
	if err != nil {
		return nil, err
	}
	p := &Partial{
		limit: cfg.budget(),
		fanIn: cmp.Or(cfg.fanIn, defaultFanIn),
		tmp:   tempFiles{parent: cmp.Or(cfg.TempDir, os.TempDir()), maxBytes: cfg.maxSpillBytes()},

		maxRecordBytes: cfg.MaxRecordBytes,
		sequential:     cfg.sequential,
	}
	p.fanIn = max(p.fanIn, 2)
	// Numeric chunks are at most 1/64 of the budget, so that a half-empty
	// last chunk is a small part of it, and at most 8 MiB.
	maxChunk := int(min(p.limit/64/8, 1<<20)) / chunkSize * chunkSize
	maxChunk = max(maxChunk, chunkSize)
	for i, f := range schema.GetFields() {
		c := column{name: f.GetName(), typ: f.GetType(), typedK: -1}
		if sel != nil && !sel[i] {
			c.skip = true
			p.cols = append(p.cols, c)
			continue
		}
		if isNumeric(f.GetType()) || isDatetime(f.GetType()) {
			c.typedK = p.typed
			p.typed++
		}
		if isNumeric(f.GetType()) {
			c.num = newNumericCol(maxChunk)
		} else {
			c.cat = newCatCol()
			if isDatetime(f.GetType()) {
				c.dt = newDateCol(maxChunk)
			}
		}
		p.cols = append(p.cols, c)
		if c.num != nil {
			p.cols[len(p.cols)-1].numK = len(p.numIdx)
			p.numIdx = append(p.numIdx, len(p.cols)-1)
		}
	}
	ncat := 0
	for i := range p.cols {
		if p.cols[i].cat != nil {
			ncat++
		}
	}
	p.catPol = catPolicy{exact: cfg.ExactCategorical, ssCap: sketchCapacity(p.limit, ncat)}
	if n := len(p.numIdx); n > 0 && n <= moments.MaxMatrixColumns {
		p.corr, _ = moments.NewMatrix(n) // n is in range
	}
	p.planFold()
	return p, nil
}

func isDatetime(t typev1.FieldType) bool {
	return t == typev1.FieldType_FIELD_TYPE_DATE || t == typev1.FieldType_FIELD_TYPE_DATETIME
}

func isNumeric(t typev1.FieldType) bool {
	return t == typev1.FieldType_FIELD_TYPE_INTEGER || t == typev1.FieldType_FIELD_TYPE_NUMBER
}

// AnalyzePartial reads the normalized CSV from r, as Analyze does, and
// returns its statistics in mergeable form. The caller must Close the
// result. On error nothing is left on disk.
func AnalyzePartial(ctx context.Context, r io.Reader, schema *typev1.Schema, hasHeader bool, cfg Config, progress ProgressFunc) (*Partial, error) {
	p, err := newPartial(schema, cfg)
	if err != nil {
		return nil, err
	}
	if err := p.scan(ctx, r, hasHeader, progress); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Rows returns the number of data rows the partial covers.
func (p *Partial) Rows() int64 { return p.rows }

func (p *Partial) checkHeader(rec []string) error {
	for i, name := range rec {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		if name != p.cols[i].name {
			return fmt.Errorf("%w: column %d is %q, the schema has %q", ErrHeaderMismatch, i+1, name, p.cols[i].name)
		}
	}
	return nil
}

// spill frees the biggest in-memory accumulators (text columns to sketches
// or disk, numeric ones to sketches) until at most half the budget is in
// use, so that spills are few and runs long.
func (p *Partial) spill(ctx context.Context) error {
	order := make([]int, len(p.cols))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(p.cols[b].mem(), p.cols[a].mem()) })
	var freed int64
	for _, i := range order {
		if p.mem <= p.limit/2 {
			break
		}
		d, err := p.cols[i].spill(ctx, &p.tmp, p.fanIn, p.catPol)
		if err != nil {
			return err
		}
		p.mem += d
		freed -= d
	}
	if freed >= collectAfterSpill {
		// What was spilled is garbage until the next collection, and the
		// runtime's pacer would let the heap grow to twice what was live at
		// the last one: collect now, so that the memory really in use stays
		// near the budget instead of up to twice it.
		runtime.GC()
	}
	return nil
}

// collectAfterSpill is how many bytes a spill must free for the engine to
// run the garbage collector at once.
const collectAfterSpill = 4 << 20

// Merge folds next, the partial of the rows that immediately follow p's,
// into p, so that p covers both ranges. Order matters: ties for the most
// frequent value go to the value seen first, which depends on which rows
// come first. Merge takes over next's state and temporary files; next must
// not be used afterwards except for Close, which then does nothing. p keeps
// its memory budget and spills if the merged state exceeds it.
func (p *Partial) Merge(next *Partial) error {
	if len(p.cols) != len(next.cols) {
		return fmt.Errorf("%w: %d and %d columns", ErrIncompatiblePartials, len(p.cols), len(next.cols))
	}
	for i := range p.cols {
		if p.cols[i].name != next.cols[i].name || p.cols[i].typ != next.cols[i].typ || p.cols[i].skip != next.cols[i].skip {
			return fmt.Errorf("%w: column %d differs", ErrIncompatiblePartials, i+1)
		}
	}
	for i := range p.cols {
		c, o := &p.cols[i], &next.cols[i]
		if c.skip {
			continue
		}
		c.count += o.count
		c.nulls += o.nulls
		if c.num != nil {
			p.mem += c.num.merge(o.num)
		} else {
			d, err := c.cat.merge(o.cat, p.rows, p.catPol.ssCap)
			p.mem += d
			if err != nil {
				return fmt.Errorf("column %d (%q): %w", i+1, c.name, err)
			}
			if c.dt != nil {
				p.mem += c.dt.merge(o.dt)
			}
		}
	}
	if p.corr != nil {
		if err := p.corr.Merge(next.corr); err != nil {
			return fmt.Errorf("%w: %w", ErrIncompatiblePartials, err)
		}
	}
	p.rows += next.rows
	p.tmp.adopt(&next.tmp)
	next.rows, next.mem = 0, 0
	if p.mem > p.limit {
		return p.spill(context.Background())
	}
	return nil
}

// Report computes the figures for the given quantiles, which must be
// normalized (see NormalizeQuantiles). It may be called more than once.
func (p *Partial) Report(ctx context.Context, quantiles []float64) (*typev1.Report, error) {
	rep := &typev1.Report{RowCount: p.rows}
	// The quantiles of numeric columns are selected in parallel: they touch
	// nothing shared.
	nums := make([]*typev1.NumericStats, len(p.cols))
	dts := make([]*typev1.DatetimeStats, len(p.cols))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range p.cols {
		if c := &p.cols[i]; c.num != nil {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				nums[i] = c.num.stats(quantiles)
			})
		}
		if c := &p.cols[i]; c.dt != nil {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				dts[i] = c.dt.stats(quantiles)
			})
		}
	}
	wg.Wait()
	for i := range p.cols {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := &p.cols[i]
		if c.skip {
			continue
		}
		cs := &typev1.ColumnStats{Name: c.name, Type: c.typ, Count: c.count, NullCount: c.nulls, Numeric: nums[i], Datetime: dts[i]}
		if p.rows > 0 {
			cs.NullShare = proto.Float64(float64(c.nulls) / float64(p.rows))
		}
		if c.cat != nil {
			var err error
			var d int64
			cs.Categorical, d, err = c.cat.stats(ctx, &p.tmp, p.fanIn, p.catPol)
			p.mem += d
			if err != nil {
				return nil, fmt.Errorf("column %d (%q): %w", i+1, c.name, err)
			}
		}
		rep.Columns = append(rep.Columns, cs)
	}
	if p.corr != nil {
		m := &typev1.CorrelationMatrix{}
		for _, i := range p.numIdx {
			m.Columns = append(m.Columns, p.cols[i].name)
		}
		for i := range p.numIdx {
			for j := range p.numIdx {
				m.Values = append(m.Values, p.corr.Corr(i, j))
			}
		}
		rep.Correlation = m
	}
	return rep, nil
}

// Close removes the partial's temporary files and frees its memory. The
// partial must not be used afterwards.
func (p *Partial) Close() error {
	p.cols, p.mem = nil, 0
	return p.tmp.close()
}
