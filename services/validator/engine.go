// Package validator checks CSV files for csvmesh: it reads any CSV dialect
// and text encoding, checks every row against a Frictionless Table Schema
// (or infers one over the whole file), and writes the valid rows as
// normalized CSV and the invalid rows, with Frictionless-style errors, as a
// rejects CSV.
//
// Run is the engine; it needs no gRPC and works on any io.ReaderAt and
// io.Writers. It cuts the input into blocks of whole records and checks them
// on several goroutines, in memory bounded by its Config whatever the file's
// size. Server exposes it as csvmesh.validator.v1.ValidatorService over a
// storage.Store, and adds the Parquet, schema and error report outputs.
package validator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/dialect"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// Defaults and limits used when a Config field is zero.
const (
	// DefaultErrorBatchSize is how many row errors go in one RowErrors call
	// (a batch also ends once its errors hold about 1 MiB).
	DefaultErrorBatchSize = 100
	// DefaultErrorSampleSize is how many row errors are streamed when the
	// options give no error_sample_size.
	DefaultErrorSampleSize = 100
	// MaxErrorSampleSize is the largest error_sample_size accepted. The
	// sample also stops once its errors hold about 4 MiB; the counts stay
	// exact.
	MaxErrorSampleSize = 10000
	// DefaultBlockSize is the size of the blocks the input is cut into.
	DefaultBlockSize = 512 << 10
	// SampleBytes is how much of the input dialect detection reads.
	SampleBytes = 64 << 10
	// MaxValueBytes is how much of an offending value a RowError carries.
	MaxValueBytes = 256
	// MaxNameBytes is how much of a field's name a RowError or an error
	// message carries; a longer name is cut, with "…".
	MaxNameBytes = 256
	// maxBatchBytes bounds a RowErrorBatch: a batch is sent when its
	// errors reach it (or ErrorBatchSize errors).
	maxBatchBytes = 1 << 20
	// maxSampleBytes bounds the error sample: no error is added to it once
	// its errors reach it (the counts stay exact).
	maxSampleBytes = 4 << 20
	// maxRowErrors is how many errors of a row get a message and a RowError;
	// the others are only counted.
	maxRowErrors = 100
	// maxRowMessageBytes bounds the error_messages of a row in the rejects
	// output; a longer text is cut, with "…".
	maxRowMessageBytes = 8 << 10
)

// RejectsHeader is the header row of a rejects CSV. error_types lists the
// distinct error types of the row in order, joined by ";"; error_messages
// the messages of its errors, joined by "; ": one message for all its
// missing cells and one for all its extra cells, at most 100 messages
// (then "and N more errors"), cut to 8 KiB with "…"; original_row is the
// row's text as it was in the file (as UTF-8).
var RejectsHeader = []string{"row_number", "line_number", "byte_offset", "error_types", "error_messages", "original_row"}

// Config says what Run reads and how. The zero value reads a whole file in
// any detected dialect and infers its schema.
type Config struct {
	// Dialect gives the fields of the CSV dialect that are known; the others
	// are detected from the first SampleBytes of the input.
	Dialect *typev1.Dialect
	// Schema is checked against the header and every row. Nil (or a schema
	// without fields) means infer one over the whole input.
	Schema *typev1.Schema
	// Options are the thresholds, error sample size and output options.
	Options *typev1.ValidationOptions
	// Header gives the column names of input that has no header row (a
	// range past the first). Nil means the input starts with the dialect's
	// header rows.
	Header []string
	// FirstLine is the physical line number of the input's first byte in the
	// file; 0 means 1.
	FirstLine int64
	// FirstRecord is the row number of the input's first row (the header
	// row is row 1); 0 means 1 when the input starts with the header rows
	// and 1 + header rows otherwise.
	FirstRecord int64
	// FirstOffset is the byte offset of the input in the file, added to
	// every reported offset.
	FirstOffset int64
	// MaxRecordBytes, MaxFieldBytes and MaxFields bound one record; 0 means
	// the csvparse defaults.
	MaxRecordBytes, MaxFieldBytes, MaxFields int
	// Workers is how many goroutines check blocks; 0 means GOMAXPROCS.
	Workers int
	// BlockSize is the size of a block of records; 0 means
	// DefaultBlockSize. At most 2*Workers blocks are in memory at once.
	BlockSize int
	// SpillDir is where unique and primary key checks keep their temporary
	// files; "" means the system's temporary directory.
	SpillDir string
	// UniqueMemoryBudget bounds the memory of all the unique and primary key
	// checks together: it is the total, split evenly between them; 0 means
	// uniq.DefaultMemBudget.
	UniqueMemoryBudget int64
	// ProgressInterval is how often to report progress; 0 means only once,
	// at the end, and a negative interval after every block.
	ProgressInterval time.Duration
	// ErrorBatchSize is how many row errors go in one RowErrors call; 0
	// means DefaultErrorBatchSize.
	ErrorBatchSize int

	// general makes every row take the general path (no fused blocks, no
	// copied records), so tests can check that the paths agree.
	general bool
}

// Outputs are where Run writes.
type Outputs struct {
	// Normalized receives the header and the valid rows as normalized CSV:
	// UTF-8, ',' delimiter, '"' quotes where needed, '\n' line endings,
	// values in their canonical form, missing values empty.
	Normalized io.Writer
	// Rejects receives a RejectsHeader row and one row per invalid row.
	Rejects io.Writer
	// Rewrite, when not nil and the schema is inferred, is set to one flag
	// per field telling whether Renormalize must rewrite that field: some
	// value was written as it was in the file but its canonical form
	// differs. It is set to nil when a schema was given.
	Rewrite *[]bool
}

// EventSink receives Run's events as they happen, from one goroutine.
// Returning an error stops Run, which returns that error.
type EventSink interface {
	// Progress reports how far validation has come. bytes_total is the
	// input's size and bytes_read never passes it. With unique or primary
	// key checks the input is read twice, and bytes_read counts each pass
	// as half the input. The bytes counted are those of the decoded text:
	// for a UTF-16 file (whose UTF-8 text has a different length) they are
	// an estimate that reaches bytes_total only at the end.
	Progress(*validatorv1.ValidationProgress) error
	// RowErrors reports the first row errors (the error sample), in input
	// order.
	RowErrors(*validatorv1.RowErrorBatch) error
}

// ConfigError is a Config (or request) that cannot be run. It maps to
// InvalidArgument. A bad dialect is reported as a *dialect.FieldError and a
// bad schema as a *tableschema.SchemaError instead.
type ConfigError struct {
	// Field names the offending setting as a request field path, such as
	// "header" or "options.max_invalid_ratio".
	Field string
	// Description says what is wrong.
	Description string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("validator: invalid %s: %s", e.Field, e.Description)
}

// Violation types of a FileError, used as PreconditionFailure violation types.
const (
	ViolationEmptyFile       = "EMPTY_FILE"
	ViolationNoDataRows      = "NO_DATA_ROWS"
	ViolationHeaderMismatch  = "HEADER_MISMATCH"
	ViolationMalformedHeader = "MALFORMED_HEADER"
)

// FileError is a problem with the file as a whole, so no row can be checked.
// It maps to FailedPrecondition. Msg is written for the person who uploaded
// the file.
type FileError struct {
	// Type is one of the Violation constants.
	Type string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *FileError) Error() string { return e.Msg }

// Is makes errors.Is match FileErrors of the same Type, so
// errors.Is(err, ErrEmptyFile) works.
func (e *FileError) Is(target error) bool {
	t, ok := target.(*FileError)
	return ok && t.Type == e.Type
}

var (
	// ErrEmptyFile is returned for input without any row.
	ErrEmptyFile error = &FileError{Type: ViolationEmptyFile, Msg: "the file is empty"}
	// ErrNoDataRows is returned for input with a header and nothing else.
	ErrNoDataRows error = &FileError{Type: ViolationNoDataRows, Msg: "the file has a header row but no data rows"}
	// ErrHeaderMismatch matches (with errors.Is) a header that differs from
	// the schema.
	ErrHeaderMismatch error = &FileError{Type: ViolationHeaderMismatch, Msg: "the header does not match the schema"}
	// ErrMalformedHeader matches a header row that cannot be read.
	ErrMalformedHeader error = &FileError{Type: ViolationMalformedHeader, Msg: "the header row is malformed"}
)

// validate checks cfg.
func (cfg *Config) validate() error {
	if err := dialect.Check(cfg.Dialect); err != nil {
		return err
	}
	if cfg.Header != nil && len(cfg.Header) == 0 {
		return &ConfigError{Field: "header", Description: "the header must name at least one column"}
	}
	for i, h := range cfg.Header {
		if !utf8.ValidString(h) {
			return &ConfigError{Field: fmt.Sprintf("header[%d]", i), Description: "the column name is not valid UTF-8"}
		}
	}
	if len(cfg.Schema.GetFields()) > 0 {
		if err := tableschema.Check(cfg.Schema); err != nil {
			return err
		}
	}
	switch {
	case cfg.FirstLine < 0:
		return &ConfigError{Field: "first_line", Description: "the first line cannot be negative"}
	case cfg.FirstRecord < 0:
		return &ConfigError{Field: "first_record", Description: "the first record cannot be negative"}
	case cfg.FirstOffset < 0:
		return &ConfigError{Field: "range.offset", Description: "the offset cannot be negative"}
	case cfg.Workers < 0 || cfg.BlockSize < 0:
		return &ConfigError{Field: "workers", Description: "workers and block size cannot be negative"}
	}
	o := cfg.Options
	if o == nil {
		o = &typev1.ValidationOptions{}
	}
	if n := o.MaxInvalidRows; n != nil && *n < 0 {
		return &ConfigError{Field: "options.max_invalid_rows", Description: "the limit cannot be negative"}
	}
	if r := o.MaxInvalidRatio; r != nil && !(*r >= 0 && *r <= 1) {
		return &ConfigError{Field: "options.max_invalid_ratio", Description: fmt.Sprintf("%v is not a ratio between 0 and 1", *r)}
	}
	if n := o.GetErrorSampleSize(); n < 0 || n > MaxErrorSampleSize {
		return &ConfigError{Field: "options.error_sample_size", Description: fmt.Sprintf("%d is not between 0 and %d", n, MaxErrorSampleSize)}
	}
	return nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// engine is the setup of one Run, shared read-only by its goroutines.
type engine struct {
	cfg  Config
	src  io.ReaderAt
	size int64

	d         dialect.Detected
	enc       dialect.Encoding
	transcode bool  // the encoding is single-byte: fields are transcoded
	decode    bool  // the encoding is UTF-16: the stream is decoded
	bom       int64 // bytes of a UTF-8 byte order mark skipped at the start
	opts      csvparse.Options

	header     []string
	ncols      int
	headerRows int   // header rows read from the input
	dataStart  int64 // stream offset of the first data row
	dataLine   int64 // physical line of the first data row
	firstRow   int64 // row number of the first data row

	inferring    bool
	compiled     *tableschema.Compiled
	keyCompiled  *tableschema.Compiled // compiled without neutralization, for keys
	cols         []column
	missingEmpty bool   // the only missing value is ""
	keyFields    []int  // per checker: the field of a unique checker, -1 for the primary key
	pkChecker    int    // the primary key's checker, or -1
	pkNames      string // `("a", "b")`
	pkMaxField   int    // the last primary key field's index
	neutralize   bool
	rawCopy      bool // infer mode: a plain record can be copied as it is
	copyRows     bool // schema mode: a record can be copied as it is when its values are canonical
	fused        bool // schema mode: blocks take the fused path (fused.go)
	quick        []quickCol
	lineLimit    int // the longest line no csvparse limit applies to
	maxFields    int

	workers    int
	blockSize  int
	sampleSize int
	batchSize  int
}

// Run validates the CSV in the first size bytes of src. It writes the
// header and the valid rows, normalized, to out.Normalized, and a
// RejectsHeader row plus one row per invalid row to out.Rejects; it reports
// progress and the first row errors to events (which may be nil) as it goes.
//
// Run first reads a sample of the input to complete cfg.Dialect (encoding,
// delimiter, quoting, header rows, ...), then the header rows. With a
// schema it checks and normalizes every value; without, it infers a schema
// over the whole input and writes the values as they are (missing values
// empty): Renormalize then rewrites the fields out.Rewrite flags. When the
// schema has unique fields or a primary key, Run reads the input twice: a
// first pass collects the keys (spilling to cfg.SpillDir beyond
// cfg.UniqueMemoryBudget), the second checks the rows.
//
// Row problems never fail Run: the row goes to the rejects output and Run
// carries on. Run returns a *ConfigError, *dialect.FieldError or
// *tableschema.SchemaError for an unusable cfg, a *FileError for a file
// that cannot be validated at all (see ErrEmptyFile, ErrNoDataRows,
// ErrHeaderMismatch, ErrMalformedHeader), ctx's error when ctx is done, or
// the error of src, the writers or events. On error the outputs are
// incomplete and should be discarded.
func Run(ctx context.Context, src io.ReaderAt, size int64, out Outputs, cfg Config, events EventSink) (*validatorv1.ValidationResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := &engine{cfg: cfg, src: src, size: size}
	if err := e.setup(ctx); err != nil {
		return nil, err
	}
	if out.Normalized == nil {
		out.Normalized = io.Discard
	}
	if out.Rejects == nil {
		out.Rejects = io.Discard
	}
	return e.run(ctx, out, events)
}

// setup resolves the dialect, reads the header and compiles the schema.
func (e *engine) setup(ctx context.Context) error {
	cfg := &e.cfg
	sample := make([]byte, min(e.size, SampleBytes))
	n, err := e.src.ReadAt(sample, 0)
	if n < len(sample) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read source: %w", err)
	}
	e.d, err = dialect.Resolve(cfg.Dialect, sample, e.size <= SampleBytes)
	if err != nil {
		return err
	}
	e.enc = e.d.Encoding
	e.transcode = e.enc == dialect.Windows1252 || e.enc == dialect.Latin1
	e.decode = !e.enc.ASCIICompatible()
	if (e.enc == dialect.UTF8 || e.enc == dialect.UTF8BOM) && strings.HasPrefix(string(sample[:min(3, len(sample))]), "\xef\xbb\xbf") {
		e.bom = 3
	}
	e.opts = e.d.CSVOptions()
	e.opts.MaxRecordBytes = cfg.MaxRecordBytes
	e.opts.MaxFieldBytes = cfg.MaxFieldBytes
	e.opts.MaxFields = cfg.MaxFields

	e.workers = cfg.Workers
	if e.workers == 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	e.blockSize = cmpOr(cfg.BlockSize, DefaultBlockSize)
	e.sampleSize = int(cfg.Options.GetErrorSampleSize())
	if e.sampleSize == 0 {
		e.sampleSize = DefaultErrorSampleSize
	}
	e.batchSize = cmpOr(cfg.ErrorBatchSize, DefaultErrorBatchSize)
	e.neutralize = cfg.Options.GetNeutralizeFormulas()

	schema := cfg.Schema
	if len(schema.GetFields()) == 0 {
		schema = nil
	}
	if err := e.readHeader(ctx, schema); err != nil {
		return err
	}
	firstLine := cmpOr(cfg.FirstLine, 1)
	if cfg.Header != nil {
		e.dataStart, e.dataLine = 0, firstLine
		e.firstRow = cmpOr(cfg.FirstRecord, 1+int64(e.d.HeaderRows))
	} else {
		e.firstRow = cmpOr(cfg.FirstRecord, 1) + int64(e.headerRows)
	}
	e.ncols = len(e.header)
	e.pkChecker = -1
	if schema == nil {
		e.inferring = true
		e.rawCopy = e.d.Comma == ',' && !e.d.SkipInitialSpace && !e.transcode
		return nil
	}
	e.compiled, err = tableschema.Compile(schema, tableschema.Options{NeutralizeFormulas: e.neutralize})
	if err != nil {
		return err
	}
	e.keyCompiled = e.compiled
	if e.neutralize {
		// Keys are the values before neutralization, so that =A and '=A
		// (both written '=A) differ.
		if e.keyCompiled, err = tableschema.Compile(schema, tableschema.Options{}); err != nil {
			return err
		}
	}
	mv := e.compiled.MissingValues
	e.missingEmpty = len(mv) == 1 && mv[0] == ""
	e.copyRows = e.d.Comma == ',' && !e.transcode && !cfg.general
	e.cols = make([]column, e.ncols)
	for i, f := range e.compiled.Fields {
		c := &e.cols[i]
		c.field, c.required, c.unique = f, f.Required, -1
		switch f.Type {
		case typev1.FieldType_FIELD_TYPE_STRING, typev1.FieldType_FIELD_TYPE_ANY, typev1.FieldType_FIELD_TYPE_DURATION:
			c.mayQuote = true
		}
		c.identity = !e.neutralize && isIdentity(schema.GetFields()[i])
	}
	for _, i := range e.compiled.Unique {
		e.cols[i].unique = len(e.keyFields)
		e.keyFields = append(e.keyFields, i)
	}
	if pk := e.compiled.PrimaryKey; len(pk) > 0 {
		e.pkChecker = len(e.keyFields)
		e.keyFields = append(e.keyFields, -1)
		var b []byte
		b = append(b, '(')
		for k, i := range pk {
			e.cols[i].required = true
			if k > 0 {
				b = append(b, ", "...)
			}
			b = appendName(b, e.header[i])
		}
		e.pkNames = string(append(b, ')'))
		e.pkMaxField = slices.Max(pk)
	}
	e.setupFused()
	return nil
}

// column is what checking a field of a schema needs.
type column struct {
	field    *tableschema.Field
	required bool // a missing value is an error (also for primary key fields)
	mayQuote bool // the canonical text may need CSV quoting
	identity bool // every value is its own canonical text
	unique   int  // the field's unique checker, or -1
}

// isIdentity reports whether tableschema's Normalize writes every value of
// f as it is: a string or any field in the default format, without
// transforms or constraints other than required and unique.
func isIdentity(f *typev1.Field) bool {
	switch f.GetType() {
	case typev1.FieldType_FIELD_TYPE_STRING, typev1.FieldType_FIELD_TYPE_ANY:
	default:
		return false
	}
	if c := f.GetConstraints(); c != nil && (c.Minimum != nil || c.Maximum != nil || c.MinLength != nil ||
		c.MaxLength != nil || c.GetPattern() != "" || len(c.GetEnumValues()) > 0) {
		return false
	}
	return (f.GetFormat() == "" || f.GetFormat() == "default") && len(f.GetTransforms()) == 0
}

// isMissing reports whether v is a missing value of the schema.
func (e *engine) isMissing(v []byte) bool {
	if e.missingEmpty {
		return len(v) == 0
	}
	return e.compiled.IsMissing(v)
}

// blockValid reports whether every field of a block is valid UTF-8 as it
// is: all ASCII, or valid UTF-8 in a UTF-8 file.
func (e *engine) blockValid(data []byte) bool {
	if e.transcode {
		return isASCII(data)
	}
	return validUTF8(data)
}

// cmpOr returns v, or def when v is zero.
func cmpOr[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// stream returns the input as UTF-8 (for UTF-16) or as it is (otherwise),
// without a byte order mark, from stream offset start.
func (e *engine) stream(ctx context.Context, start int64) (io.Reader, error) {
	if !e.decode {
		off := e.bom + start
		return &ctxReader{ctx: ctx, r: io.NewSectionReader(e.src, off, e.size-off)}, nil
	}
	dec := dialect.NewDecoder(io.NewSectionReader(e.src, 0, e.size), e.enc)
	if start > 0 {
		if _, err := io.CopyN(io.Discard, dec, start); err != nil {
			return nil, fmt.Errorf("read source: %w", err)
		}
	}
	return &ctxReader{ctx: ctx, r: dec}, nil
}

// readHeader reads the header rows, or takes the header from the config or
// the schema, and checks it against the schema.
func (e *engine) readHeader(ctx context.Context, schema *typev1.Schema) error {
	cfg := &e.cfg
	var names []string
	for _, f := range schema.GetFields() {
		names = append(names, f.GetName())
	}
	if cfg.Header != nil {
		e.header = MangleHeader(cfg.Header)
		if schema != nil {
			return checkHeader(e.header, names)
		}
		return nil
	}
	src, err := e.stream(ctx, 0)
	if err != nil {
		return err
	}
	opts := e.opts
	opts.FirstLine = cmpOr(cfg.FirstLine, 1)
	rd := csvparse.NewReader(src, opts)
	h := e.d.HeaderRows
	if h == 0 {
		// No header: the first row only tells the number of columns.
		e.dataLine = opts.FirstLine
		rec, err := rd.Next()
		switch re := (*csvparse.RecordError)(nil); {
		case err == io.EOF:
			return ErrEmptyFile
		case schema != nil:
			e.header = names
			return nil
		case errors.As(err, &re):
			return &FileError{Type: ViolationMalformedHeader, Msg: fmt.Sprintf(
				"the first row (line %d) cannot be read, so the number of columns is unknown: %s", re.Line, re.Msg)}
		case err != nil:
			return readError(err)
		}
		e.header = make([]string, len(rec.Fields))
		for i := range e.header {
			e.header[i] = "field" + strconv.Itoa(i+1)
		}
		return nil
	}
	var rows [][]string
	var buf []byte
	for k := range h {
		rec, err := rd.Next()
		var re *csvparse.RecordError
		switch {
		case err == io.EOF && k == 0:
			return ErrEmptyFile
		case err == io.EOF:
			return ErrNoDataRows
		case errors.As(err, &re):
			return &FileError{Type: ViolationMalformedHeader, Msg: fmt.Sprintf("the header row (line %d) cannot be read: %s", re.Line, re.Msg)}
		case err != nil:
			return readError(err)
		}
		row := make([]string, len(rec.Fields))
		for i, f := range rec.Fields {
			var ok bool
			if buf, ok = e.enc.AppendUTF8(buf[:0], f); !ok {
				return &FileError{Type: ViolationMalformedHeader, Msg: fmt.Sprintf(
					"header column %d is not valid %s; give the file's encoding in the dialect", i+1, encodingName(e.enc))}
			}
			row[i] = string(buf)
		}
		rows = append(rows, row)
	}
	e.headerRows = h
	e.dataStart, e.dataLine = rd.InputOffset(), rd.Line()
	e.header = MangleHeader(joinHeaderRows(rows))
	if schema != nil {
		return checkHeader(e.header, names)
	}
	for i, n := range e.header {
		if len(n) > tableschema.MaxNameBytes {
			// The inferred schema could not hold it.
			return &FileError{Type: ViolationMalformedHeader, Msg: fmt.Sprintf(
				"header column %d (%q) is %d bytes long, more than the %d a field name may have", i+1, fieldName(n), len(n), tableschema.MaxNameBytes)}
		}
	}
	return nil
}

// joinHeaderRows joins the cells of each column of several header rows with
// a space, leaving out empty ones.
func joinHeaderRows(rows [][]string) []string {
	if len(rows) == 1 {
		return rows[0]
	}
	n := 0
	for _, r := range rows {
		n = max(n, len(r))
	}
	out := make([]string, n)
	for i := range out {
		var parts []string
		for _, r := range rows {
			if i < len(r) && r[i] != "" {
				parts = append(parts, r[i])
			}
		}
		out[i] = strings.Join(parts, " ")
	}
	return out
}

// encodingName names an encoding in messages.
func encodingName(enc dialect.Encoding) string {
	switch enc {
	case dialect.UTF8, dialect.UTF8BOM, dialect.UTF16, dialect.UTF16LE, dialect.UTF16BE:
		return "UTF-8"
	}
	return enc.String()
}

// readError wraps a failure to read the source, keeping ctx errors as they
// are so callers can tell cancellation apart.
func readError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("read source: %w", err)
}

// blockOptions returns the parser options for the records of blk.
func (e *engine) blockOptions(blk *csvparse.Block) csvparse.Options {
	opts := e.opts
	opts.BlankRows = true
	opts.FirstLine = e.dataLine + blk.Line - 1
	opts.FirstOffset = e.cfg.FirstOffset + e.bom + e.dataStart + blk.Offset
	opts.FirstRecord = 1
	return opts
}

// splitterOptions returns the options that cut the data rows into blocks.
func (e *engine) splitterOptions() csvparse.Options {
	opts := e.opts
	opts.BlankRows = true
	opts.FirstLine, opts.FirstOffset, opts.FirstRecord = 1, 0, 1
	return opts
}

// run checks the rows and builds the result.
func (e *engine) run(ctx context.Context, out Outputs, events EventSink) (*validatorv1.ValidationResult, error) {
	m := newMerger(e, out, events)
	if err := m.start(); err != nil {
		return nil, err
	}
	m.progressTotal, m.passes = e.size, 1
	var dups *dupSource
	if len(e.keyFields) > 0 {
		// Progress covers both passes, each as half the input.
		m.passes = 2
		var err error
		if dups, err = e.prePass(ctx, m); err != nil {
			return nil, err
		}
		defer dups.close()
		m.progressBase = e.size
	}
	src, err := e.stream(ctx, e.dataStart)
	if err != nil {
		return nil, err
	}
	if err := runPipeline(ctx, src, e.splitterOptions(), e.blockSize, e.workers, &mainStage{e: e, m: m, dups: dups}); err != nil {
		return nil, err
	}
	if m.rows == 0 {
		if e.cfg.Header == nil && e.headerRows > 0 {
			return nil, ErrNoDataRows
		}
		return nil, ErrEmptyFile
	}
	res, err := m.finish()
	if err != nil {
		return nil, err
	}
	if out.Rewrite != nil {
		*out.Rewrite = m.rewrite
	}
	return res, nil
}

// plural returns one when n is 1 and many otherwise.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// threshold returns why the invalid rows exceed a limit of opts, or a
// warning quoting the counts when there are invalid rows under the limits.
func threshold(opts *typev1.ValidationOptions, total, invalid int64) (exceeded, warning string) {
	if opts == nil {
		opts = &typev1.ValidationOptions{}
	}
	if invalid == 0 {
		return "", ""
	}
	counts := fmt.Sprintf("%s of %s rows (%s) are invalid", groupDigits(invalid), groupDigits(total), percent(invalid, total))
	if n := opts.MaxInvalidRows; n != nil && invalid > *n {
		return fmt.Sprintf("%s, over the limit of %s invalid %s (max_invalid_rows)", counts, groupDigits(*n), plural(*n, "row", "rows")), ""
	}
	if r := opts.MaxInvalidRatio; r != nil && float64(invalid)/float64(total) > *r {
		return fmt.Sprintf("%s, over the limit of %s%% (max_invalid_ratio)", counts, trimFloat(*r*100, 4)), ""
	}
	return "", counts + "; they are in the rejects output"
}

// percent formats n/total, 0 < n <= total, as a percentage rounded half up
// to two decimals, without trailing zeros.
func percent(n, total int64) string {
	hundredths := (n*10000 + total/2) / total
	switch {
	case hundredths == 0:
		return "<0.01%"
	case hundredths == 10000 && n < total:
		return ">99.99%"
	}
	s := strconv.FormatInt(hundredths/100, 10)
	if f := hundredths % 100; f != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%02d", f), "0")
	}
	return s + "%"
}

// trimFloat formats f with at most prec decimals, without trailing zeros.
func trimFloat(f float64, prec int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// groupDigits formats n with a ',' between groups of three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
