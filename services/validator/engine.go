// Package validator checks CSV files for csvmesh: it parses RFC 4180 text,
// checks every row against a schema (or infers one over the whole input in
// the same pass), and writes the valid rows as normalized CSV and the rejected
// rows, with their location and reason, as a rejects CSV.
//
// Run is the engine; it needs no gRPC and works on any io.Reader and
// io.Writers. Server exposes it as csvmesh.validator.v1.ValidatorService over
// a storage.Store.
package validator

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
)

// Defaults used when a Config field is zero.
const (
	DefaultMaxRejectRowBytes = 4096
	DefaultErrorBatchSize    = 100
	DefaultMaxStreamedErrors = 1000
	// MaxValueBytes is how much of an offending value a RowError carries.
	MaxValueBytes = 256
)

// Row error codes.
const (
	CodeFieldCount    = "field_count"
	CodeEncoding      = "encoding"
	CodeQuote         = csvparse.CodeQuote
	CodeFieldTooLong  = csvparse.CodeFieldTooLong
	CodeRecordTooLong = csvparse.CodeRecordTooLong
	CodeType          = "type"
	CodeRequired      = "required"
)

// RejectsHeader is the header row of a rejects CSV.
var RejectsHeader = []string{"line", "record", "column", "field", "code", "message", "row"}

// Config says what Run reads and how. The zero value reads a whole
// comma-separated file with a header row and infers its schema.
type Config struct {
	// Delimiter is the field delimiter; 0 means ','. It must be an ASCII
	// byte other than '"', '\r' and '\n'.
	Delimiter byte
	// Schema is checked against the header and every row. Nil (or a schema
	// without fields) means infer one.
	Schema *typev1.Schema
	// Header gives the column names of input that has no header row (a
	// shard past the first). Nil means the first record is the header.
	Header []string
	// FirstLine is the physical line number of the input's first byte in the
	// file; 0 means 1.
	FirstLine int64
	// FirstRecord is the logical record number of the input's first record;
	// 0 means 1 when the input starts with the header and 2 otherwise.
	FirstRecord int64
	// FirstOffset is the byte offset of the input in the file.
	FirstOffset int64
	// TotalBytes is the size of the input, reported in progress; 0 if
	// unknown.
	TotalBytes int64
	// MaxRecordBytes, MaxFieldBytes and MaxFields bound one record; 0 means
	// the csvparse defaults.
	MaxRecordBytes, MaxFieldBytes, MaxFields int
	// MaxRejectRowBytes bounds the row text in the rejects CSV; 0 means
	// DefaultMaxRejectRowBytes.
	MaxRejectRowBytes int
	// ProgressInterval is how often to report progress; 0 means only once,
	// at the end.
	ProgressInterval time.Duration
	// ErrorBatchSize is how many row errors go in one RowErrors call; 0
	// means DefaultErrorBatchSize.
	ErrorBatchSize int
	// MaxStreamedErrors caps the row errors passed to the EventSink (the
	// rejects output and the counts always have all of them); 0 means
	// DefaultMaxStreamedErrors, negative means none.
	MaxStreamedErrors int
}

// EventSink receives Run's events as they happen. Returning an error stops
// Run, which returns that error.
type EventSink interface {
	// Progress reports how far validation has come.
	Progress(*validatorv1.ValidationProgress) error
	// RowErrors reports rejected rows, in input order.
	RowErrors(*validatorv1.RowErrorBatch) error
}

// ConfigError is a Config (or request) that cannot be run. It maps to
// InvalidArgument.
type ConfigError struct {
	// Field names the offending setting as a request field path, such as
	// "dialect.delimiter" or "schema.fields[2].type".
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
	// ErrEmptyFile is returned for input without any record.
	ErrEmptyFile error = &FileError{Type: ViolationEmptyFile, Msg: "the file is empty"}
	// ErrNoDataRows is returned for input with a header row and nothing else.
	ErrNoDataRows error = &FileError{Type: ViolationNoDataRows, Msg: "the file has a header row but no data rows"}
	// ErrHeaderMismatch matches (with errors.Is) a header that differs from
	// the schema.
	ErrHeaderMismatch error = &FileError{Type: ViolationHeaderMismatch, Msg: "the header does not match the schema"}
	// ErrMalformedHeader matches a header row that cannot be read.
	ErrMalformedHeader error = &FileError{Type: ViolationMalformedHeader, Msg: "the header row is malformed"}
)

// validate checks cfg and returns the column types of its schema, or nil to
// infer.
func (cfg *Config) validate() error {
	switch d := cfg.Delimiter; {
	case d == 0:
	case d >= utf8.RuneSelf || d == '"' || d == '\r' || d == '\n':
		return &ConfigError{Field: "dialect.delimiter", Description: fmt.Sprintf("%q cannot be a delimiter: use one ASCII character other than a quote or a line break", d)}
	}
	if cfg.Header != nil && len(cfg.Header) == 0 {
		return &ConfigError{Field: "header", Description: "the header must name at least one column"}
	}
	for i, h := range cfg.Header {
		if !utf8.ValidString(h) {
			return &ConfigError{Field: fmt.Sprintf("header[%d]", i), Description: "the column name is not valid UTF-8"}
		}
	}
	if cfg.Schema != nil {
		seen := make(map[string]int, len(cfg.Schema.GetFields()))
		for i, f := range cfg.Schema.GetFields() {
			path := fmt.Sprintf("schema.fields[%d]", i)
			switch {
			case f.GetName() == "":
				return &ConfigError{Field: path + ".name", Description: "the field name is empty"}
			case !utf8.ValidString(f.GetName()):
				return &ConfigError{Field: path + ".name", Description: "the field name is not valid UTF-8"}
			case f.GetType() == typev1.FieldType_FIELD_TYPE_UNSPECIFIED:
				return &ConfigError{Field: path + ".type", Description: fmt.Sprintf("field %q has no type", f.GetName())}
			case typev1.FieldType_name[int32(f.GetType())] == "":
				return &ConfigError{Field: path + ".type", Description: fmt.Sprintf("field %q has unknown type %d", f.GetName(), f.GetType())}
			}
			if j, dup := seen[f.GetName()]; dup {
				return &ConfigError{Field: path + ".name", Description: fmt.Sprintf("field %q is also field %d", f.GetName(), j)}
			}
			seen[f.GetName()] = i
		}
	}
	if cfg.FirstLine < 0 || cfg.FirstRecord < 0 || cfg.FirstOffset < 0 || cfg.TotalBytes < 0 {
		return &ConfigError{Field: "first_line", Description: "line, record and byte positions cannot be negative"}
	}
	return nil
}

// sourceReader counts the bytes read, stops when ctx is done and raises a
// flag when progress is due.
type sourceReader struct {
	ctx      context.Context
	r        io.Reader
	n        int64
	interval time.Duration
	last     time.Time
	due      atomic.Bool
}

func (s *sourceReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.interval > 0 {
		if now := time.Now(); now.Sub(s.last) >= s.interval {
			s.last = now
			s.due.Store(true)
		}
	}
	return n, err
}

// rowError is the first problem of a row: the one whose column, code and
// value a reject reports.
type rowError struct {
	col   int // 1-based, 0 for the row
	code  string
	value []byte
}

// run holds the state of one Run.
type run struct {
	cfg    Config
	events EventSink
	src    *sourceReader
	rd     *csvparse.Reader
	norm   *csvparse.Writer
	rej    *csvparse.Writer

	header []string
	types  []typev1.FieldType // nil when inferring
	req    []bool
	alive  []uint8 // inference candidates per column
	seen   []bool  // a column had a non-missing value

	result   validatorv1.ValidationResult
	streamed int
	batch    []*typev1.RowError

	// The problems of the current row: how many, the first, and all their
	// messages joined by "; ".
	nerrs int
	first rowError
	msg   []byte

	comma   byte   // the input's delimiter
	line    []byte // the current row's normalized record, reused
	rowBuf  []byte // the current reject's row text, reused
	rejLine []byte // the current reject's record, reused
	textBuf []byte // the current reject's row text made valid UTF-8, reused
}

// Run validates the CSV read from src. It writes the header and the valid
// rows, normalized, to normalized, and a RejectsHeader row plus one row per
// rejected record to rejects; it reports progress and rejected rows to
// events (which may be nil) as it goes. With cfg.Schema it checks and
// normalizes every value; without, it infers a schema over the whole input
// in the same pass and normalizes only missing values (to empty fields).
//
// Run reads src once, front to back, in memory bounded by cfg's limits. Row
// problems never fail Run: the row goes to rejects and Run carries on. Run
// returns a *ConfigError for an unusable cfg, a *FileError for a file that
// cannot be validated at all (see ErrEmptyFile, ErrNoDataRows,
// ErrHeaderMismatch, ErrMalformedHeader), ctx's error when ctx is done, or
// the error of src, the writers or events. Both writers are flushed; on
// error their content is incomplete and should be discarded.
func Run(ctx context.Context, src io.Reader, normalized, rejects io.Writer, cfg Config, events EventSink) (*validatorv1.ValidationResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Schema != nil && len(cfg.Schema.GetFields()) == 0 {
		cfg.Schema = nil
	}
	if cfg.MaxRejectRowBytes <= 0 {
		cfg.MaxRejectRowBytes = DefaultMaxRejectRowBytes
	}
	if cfg.ErrorBatchSize <= 0 {
		cfg.ErrorBatchSize = DefaultErrorBatchSize
	}
	if cfg.MaxStreamedErrors == 0 {
		cfg.MaxStreamedErrors = DefaultMaxStreamedErrors
	}
	firstRecord := cfg.FirstRecord
	if firstRecord == 0 {
		firstRecord = 1
		if cfg.Header != nil {
			firstRecord = 2
		}
	}
	r := &run{cfg: cfg, events: events, comma: cfg.Delimiter}
	if r.comma == 0 {
		r.comma = ','
	}
	r.src = &sourceReader{ctx: ctx, r: src, interval: cfg.ProgressInterval, last: time.Now()}
	r.rd = csvparse.NewReader(r.src, csvparse.Options{
		Comma:          cfg.Delimiter,
		MaxRecordBytes: cfg.MaxRecordBytes,
		MaxFieldBytes:  cfg.MaxFieldBytes,
		MaxFields:      cfg.MaxFields,
		FirstLine:      cfg.FirstLine,
		FirstRecord:    firstRecord,
		FirstOffset:    cfg.FirstOffset,
	})
	r.norm = csvparse.NewWriter(normalized)
	r.rej = csvparse.NewWriter(rejects)
	if err := r.run(); err != nil {
		return nil, err
	}
	return &r.result, nil
}

func (r *run) run() error {
	if err := r.readHeader(); err != nil {
		return err
	}
	if err := r.norm.WriteStrings(r.header); err != nil {
		return fmt.Errorf("write normalized output: %w", err)
	}
	if err := r.rej.WriteStrings(RejectsHeader); err != nil {
		return fmt.Errorf("write rejects output: %w", err)
	}
	ncols := len(r.header)
	if r.types == nil {
		r.alive = make([]uint8, ncols)
		for i := range r.alive {
			r.alive[i] = candAll
		}
		r.seen = make([]bool, ncols)
	}
	for {
		rec, err := r.rd.Next()
		if err == io.EOF {
			break
		}
		// csvparse returns *RecordError unwrapped; a type assertion keeps
		// re off the heap.
		re, isRecErr := err.(*csvparse.RecordError)
		if err != nil && !isRecErr {
			return readError(err)
		}
		r.result.RowsTotal++
		r.nerrs, r.msg = 0, r.msg[:0]
		if re != nil {
			r.addError(re.Column, re.Code, nil)
			r.msg = append(r.msg, re.Msg...)
			if err := r.reject(rec, nil); err != nil {
				return err
			}
		} else if err := r.row(rec); err != nil {
			return err
		}
		if r.src.due.Load() {
			r.src.due.Store(false)
			if err := r.progress(); err != nil {
				return err
			}
		}
	}
	if r.result.RowsTotal == 0 {
		if r.cfg.Header == nil {
			return ErrNoDataRows
		}
		return ErrEmptyFile
	}
	if err := r.norm.Flush(); err != nil {
		return fmt.Errorf("write normalized output: %w", err)
	}
	if err := r.rej.Flush(); err != nil {
		return fmt.Errorf("write rejects output: %w", err)
	}
	if err := r.flushBatch(); err != nil {
		return err
	}
	r.result.BytesRead = r.src.n
	r.result.NormalizedSizeBytes = r.norm.Written()
	r.result.RejectsSizeBytes = r.rej.Written()
	if r.types == nil {
		s := &typev1.Schema{}
		for i, name := range r.header {
			s.Fields = append(s.Fields, &typev1.Field{Name: name, Type: inferredType(r.alive[i], r.seen[i])})
		}
		r.result.Schema = s
	} else {
		r.result.Schema = r.cfg.Schema
	}
	return r.progress()
}

// readError wraps a failure to read the source, keeping ctx errors as they
// are so callers can tell cancellation apart.
func readError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("read source: %w", err)
}

func (r *run) readHeader() error {
	if r.cfg.Header != nil {
		r.header = MangleHeader(r.cfg.Header)
	} else {
		rec, err := r.rd.Next()
		if err == io.EOF {
			return ErrEmptyFile
		}
		var re *csvparse.RecordError
		if errors.As(err, &re) {
			return &FileError{Type: ViolationMalformedHeader, Msg: fmt.Sprintf("the header row (line %d) cannot be read: %s", re.Line, re.Msg)}
		}
		if err != nil {
			return readError(err)
		}
		names := make([]string, len(rec.Fields))
		for i, f := range rec.Fields {
			if !utf8.Valid(f) {
				return &FileError{Type: ViolationMalformedHeader, Msg: fmt.Sprintf("header column %d is not valid UTF-8; save the file as UTF-8", i+1)}
			}
			names[i] = string(f)
		}
		r.header = MangleHeader(names)
	}
	if r.cfg.Schema == nil {
		return nil
	}
	fields := r.cfg.Schema.GetFields()
	names := make([]string, len(fields))
	r.types = make([]typev1.FieldType, len(fields))
	r.req = make([]bool, len(fields))
	for i, f := range fields {
		names[i], r.types[i], r.req[i] = f.GetName(), f.GetType(), f.GetRequired()
	}
	return checkHeader(r.header, names)
}

// addError records a problem of the current row; the caller appends its
// message to r.msg.
func (r *run) addError(col int, code string, value []byte) {
	if r.nerrs == 0 {
		r.first = rowError{col: col, code: code, value: value}
	} else {
		r.msg = append(r.msg, "; "...)
	}
	r.nerrs++
}

// appendColumn appends `column N ("name")`, how messages name column i.
func (r *run) appendColumn(dst []byte, i int) []byte {
	dst = append(dst, "column "...)
	dst = strconv.AppendInt(dst, int64(i+1), 10)
	dst = append(dst, " ("...)
	dst = strconv.AppendQuote(dst, r.header[i])
	return append(dst, ')')
}

// row checks one well-formed record and writes it to the normalized or the
// rejects output.
//
// The normalized record is built in r.line and written with one copy. A value
// needs CSV quoting only if it holds a comma, a quote, CR or LF; in a record
// whose text has no quote (so every field is unquoted, without CR or LF) and
// either uses ',' as the delimiter or holds no ',', no value does, and the
// per-value check is skipped. Normalized integers, numbers, booleans, dates
// and date-times never need quoting.
func (r *run) row(rec *csvparse.Record) error {
	fields := rec.Fields
	ncols := len(r.header)
	if len(fields) != ncols {
		r.addError(0, CodeFieldCount, nil)
		r.msg = append(r.msg, "the row has "...)
		r.msg = strconv.AppendInt(r.msg, int64(len(fields)), 10)
		r.msg = append(r.msg, " fields but the header has "...)
		r.msg = strconv.AppendInt(r.msg, int64(ncols), 10)
		return r.reject(rec, fields)
	}
	ascii, plain := scanRecord(rec.Raw, r.comma)
	badUTF8 := !ascii && !utf8.Valid(rec.Raw)
	if badUTF8 {
		for i, f := range fields {
			if !utf8.Valid(f) {
				r.addError(i+1, CodeEncoding, f)
				r.msg = append(r.appendColumn(r.msg, i), " is not valid UTF-8"...)
			}
		}
	}
	if r.types == nil {
		if badUTF8 {
			return r.reject(rec, fields)
		}
		return r.inferRow(rec, fields, plain)
	}
	line := r.line[:0]
	for i, f := range fields {
		if i > 0 {
			line = append(line, ',')
		}
		if badUTF8 && !utf8.Valid(f) {
			continue // reported above
		}
		typ := r.types[i]
		// Only a string can be a missing marker; other types check for one
		// only once the value fails to parse.
		if len(f) == 0 || typ == typev1.FieldType_FIELD_TYPE_STRING && IsMissing(f) {
			line = r.missingValue(line, i, f)
			continue
		}
		start := len(line)
		var ok bool
		var why string
		switch typ {
		case typev1.FieldType_FIELD_TYPE_STRING:
			if plain {
				line = append(line, f...)
			} else {
				line = csvparse.AppendField(line, f)
			}
			ok = true
		case typev1.FieldType_FIELD_TYPE_INTEGER:
			var overflow bool
			line, ok, overflow = appendInteger(line, f)
			if overflow {
				ok, why = false, "is out of range for an integer (64-bit)"
			} else if !ok {
				why = "is not an integer"
			}
		case typev1.FieldType_FIELD_TYPE_NUMBER:
			line, ok = appendNumber(line, f)
			why = "is not a number"
		case typev1.FieldType_FIELD_TYPE_BOOLEAN:
			var b bool
			if b, ok = parseBool(f); ok {
				line = strconv.AppendBool(line, b)
			}
			why = "is not a boolean (true/false, yes/no, t/f, y/n, 1/0)"
		case typev1.FieldType_FIELD_TYPE_DATE:
			if ok = isDate(f); ok {
				line = append(line, f...)
			}
			why = "is not a date (YYYY-MM-DD)"
		case typev1.FieldType_FIELD_TYPE_DATETIME:
			line, ok = appendDatetime(line, f)
			why = "is not a date-time (RFC 3339, or YYYY-MM-DD HH:MM:SS[.fff])"
		}
		if ok {
			continue
		}
		line = line[:start]
		if IsMissing(f) {
			line = r.missingValue(line, i, f)
			continue
		}
		r.addError(i+1, CodeType, f)
		r.msg = append(r.appendColumn(r.msg, i), ": "...)
		r.msg = appendQuotedValue(r.msg, f)
		r.msg = append(r.msg, ' ')
		r.msg = append(r.msg, why...)
	}
	r.line = line
	if r.nerrs > 0 {
		return r.reject(rec, fields)
	}
	return r.accept(line)
}

// missingValue handles the missing value f of column i in a row checked
// against a schema: an error if the column is required, else an empty field
// appended to line.
func (r *run) missingValue(line []byte, i int, f []byte) []byte {
	if r.req[i] {
		r.addError(i+1, CodeRequired, f)
		r.msg = append(r.appendColumn(r.msg, i), " is required but the value is missing"...)
	} else if len(r.header) == 1 {
		line = append(line, '"', '"') // a lone empty field is not a blank line
	}
	return line
}

// inferRow narrows the inference candidates of each column by a valid UTF-8
// row's values and writes the row, missing values emptied and the rest as
// they are.
func (r *run) inferRow(rec *csvparse.Record, fields [][]byte, plain bool) error {
	alive, seen := r.alive[:len(fields)], r.seen[:len(fields)]
	emptied := false // a missing value other than the empty string
	for i, f := range fields {
		if len(f) == 0 {
			continue
		}
		a := alive[i]
		if a == 0 {
			// A string column: it has seen a value, and only a missing
			// marker matters.
			emptied = emptied || IsMissing(f)
			continue
		}
		// A value of some type is no missing marker, so IsMissing is only
		// needed when there is none.
		if m := candidates(f, a); m != 0 {
			alive[i], seen[i] = m, true
		} else if IsMissing(f) {
			emptied = true
		} else {
			alive[i], seen[i] = 0, true
		}
	}
	if plain && !emptied && r.comma == ',' {
		// The record's text is the normalized record: its fields are
		// unquoted and need no quotes, and none is emptied. (It is not
		// one empty field, which would be a blank line.)
		return r.accept(rec.Raw)
	}
	line := r.line[:0]
	for i, f := range fields {
		if i > 0 {
			line = append(line, ',')
		}
		switch {
		case IsMissing(f):
			if len(fields) == 1 {
				line = append(line, '"', '"')
			}
		case plain:
			line = append(line, f...)
		default:
			line = csvparse.AppendField(line, f)
		}
	}
	r.line = line
	return r.accept(line)
}

// scanRecord reports whether raw is all ASCII, and whether it is plain: free
// of quotes and, unless comma is ',', of commas.
//
// It reads eight bytes at a time. For a mask m repeating byte b, a byte of
// x = v^m is zero exactly where v holds b, and ((x - lsb) &^ x) & msb is
// non-zero if and only if some byte of x is zero. The accumulators only
// need to know whether a byte matched anywhere, so the last, partial word is
// read as the eight bytes ending the record, overlapping the previous one.
func scanRecord(raw []byte, comma byte) (ascii, plain bool) {
	const (
		lsb       = 0x0101010101010101
		msb       = 0x8080808080808080
		quoteMask = '"' * lsb
	)
	commaMask := uint64(quoteMask) // with ',' as the delimiter, commas are fine
	if comma != ',' {
		commaMask = ',' * lsb
	}
	var high, found uint64
	if len(raw) < 8 {
		for _, c := range raw {
			high |= uint64(c)
			if c == '"' || c == ',' && comma != ',' {
				found = msb
			}
		}
		return high&msb == 0, found == 0
	}
	last := binary.LittleEndian.Uint64(raw[len(raw)-8:])
	var q, c uint64
	for len(raw) >= 16 {
		v, w := binary.LittleEndian.Uint64(raw), binary.LittleEndian.Uint64(raw[8:])
		high |= v | w
		q, c = v^quoteMask, v^commaMask
		found |= ((q - lsb) &^ q) | ((c - lsb) &^ c)
		q, c = w^quoteMask, w^commaMask
		found |= ((q - lsb) &^ q) | ((c - lsb) &^ c)
		raw = raw[16:]
	}
	if len(raw) >= 8 {
		v := binary.LittleEndian.Uint64(raw)
		high |= v
		q, c = v^quoteMask, v^commaMask
		found |= ((q - lsb) &^ q) | ((c - lsb) &^ c)
		raw = raw[8:]
	}
	if len(raw) > 0 {
		// The last bytes, as the eight ending the record: the ones read
		// again change nothing.
		v := last
		high |= v
		q, c = v^quoteMask, v^commaMask
		found |= ((q - lsb) &^ q) | ((c - lsb) &^ c)
	}
	return high&msb == 0, found&msb == 0
}

// appendQuotedValue appends v, shortened to MaxValueBytes, Go-quoted for a
// message.
func appendQuotedValue(dst, v []byte) []byte {
	v = cutUTF8(v, MaxValueBytes)
	if !utf8.Valid(v) {
		return strconv.AppendQuote(dst, strings.ToValidUTF8(string(v), "\uFFFD"))
	}
	return strconv.AppendQuote(dst, string(v))
}

// truncateUTF8 shortens s to at most n bytes without splitting a rune and
// replaces invalid UTF-8, so the result can go in a proto string.
func truncateUTF8(s string, n int) string {
	return strings.ToValidUTF8(cutUTF8(s, n), "\uFFFD")
}

// appendValidUTF8 appends s with each run of invalid UTF-8 bytes replaced
// by one U+FFFD, as strings.ToValidUTF8(s, "\uFFFD") does, without
// allocating.
func appendValidUTF8(dst, s []byte) []byte {
	invalid := false // the previous byte was invalid
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, c)
			invalid = false
			i++
			continue
		}
		_, w := utf8.DecodeRune(s[i:])
		if w == 1 {
			if !invalid {
				dst = append(dst, "\uFFFD"...)
				invalid = true
			}
			i++
			continue
		}
		dst = append(dst, s[i:i+w]...)
		invalid = false
		i += w
	}
	return dst
}

// cutUTF8 shortens s to at most n bytes without splitting a rune.
func cutUTF8[T string | []byte](s T, n int) T {
	if len(s) > n {
		cut := n
		for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// accept writes a valid row's normalized record, without its line ending.
func (r *run) accept(line []byte) error {
	r.result.RowsValid++
	if err := r.norm.WriteLine(line); err != nil {
		return fmt.Errorf("write normalized output: %w", err)
	}
	return nil
}

// reject writes rec to the rejects output with the row's problems, and
// streams it. fields is nil when rec could not be split into fields.
func (r *run) reject(rec *csvparse.Record, fields [][]byte) error {
	r.result.RowsRejected++
	first := r.first
	field := ""
	if first.col > 0 && first.col <= len(r.header) {
		field = r.header[first.col-1]
	}
	var row []byte
	if fields != nil {
		r.rowBuf = csvparse.AppendRecord(r.rowBuf[:0], fields)
		row = r.rowBuf[:len(r.rowBuf)-1]
	} else {
		row = rec.Raw
	}
	b := strconv.AppendInt(r.rejLine[:0], rec.Line, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, rec.Number, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(first.col), 10)
	b = append(b, ',')
	b = csvparse.AppendField(b, field)
	b = append(b, ',')
	b = csvparse.AppendField(b, first.code)
	b = append(b, ',')
	b = csvparse.AppendField(b, r.msg)
	b = append(b, ',')
	if row = cutUTF8(row, r.cfg.MaxRejectRowBytes); !utf8.Valid(row) {
		r.textBuf = appendValidUTF8(r.textBuf[:0], row)
		row = r.textBuf
	}
	b = csvparse.AppendField(b, row)
	r.rejLine = b
	if err := r.rej.WriteLine(b); err != nil {
		return fmt.Errorf("write rejects output: %w", err)
	}
	if r.events == nil || r.streamed >= r.cfg.MaxStreamedErrors || r.cfg.MaxStreamedErrors < 0 {
		return nil
	}
	r.streamed++
	r.batch = append(r.batch, &typev1.RowError{
		Line:    rec.Line,
		Record:  rec.Number,
		Column:  int32(first.col),
		Field:   field,
		Code:    first.code,
		Message: string(r.msg),
		Value:   truncateUTF8(string(first.value), MaxValueBytes),
	})
	if len(r.batch) >= r.cfg.ErrorBatchSize {
		return r.flushBatch()
	}
	return nil
}

func (r *run) flushBatch() error {
	if len(r.batch) == 0 || r.events == nil {
		return nil
	}
	b := &validatorv1.RowErrorBatch{Errors: r.batch}
	r.batch = nil
	return r.events.RowErrors(b)
}

func (r *run) progress() error {
	if err := r.flushBatch(); err != nil {
		return err
	}
	if r.events == nil {
		return nil
	}
	return r.events.Progress(&validatorv1.ValidationProgress{
		BytesRead:  r.rd.InputOffset() - r.cfg.FirstOffset,
		BytesTotal: r.cfg.TotalBytes,
		RowsRead:   r.result.RowsTotal,
	})
}
