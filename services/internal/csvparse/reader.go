// Package csvparse reads and writes RFC 4180 CSV quickly and in bounded
// memory.
//
// Reader is a streaming tokenizer over an io.Reader. It keeps one reusable
// buffer, returns fields as byte slices into that buffer (valid until the next
// call to Next), and enforces explicit limits on the size of a record, the size
// of a field and the number of fields, so a malformed multi-gigabyte file can
// never make it grow without bound. Problems confined to one record (a stray
// quote, an over-long field, an unterminated quoted field) are reported as a
// *RecordError after the record has been consumed, so the caller can reject
// the row and carry on.
//
// NewBytesReader reads an in-memory block the same way without copying it,
// and Splitter cuts a stream into such blocks at record boundaries, so that
// blocks can be parsed in parallel with the same records, line numbers and
// offsets as one Reader over the whole stream.
//
// The default dialect is RFC 4180 with the relaxations real files need: LF,
// CRLF or a lone CR ends a record, a UTF-8 byte order mark at the start of
// the file is skipped, the last record may lack a line ending, blank lines
// are skipped (as pandas does) while physical line numbers stay exact, and a
// quote inside an unquoted field is taken literally (like encoding/csv's
// LazyQuotes). Options select other dialects after Python's csv module and
// the Frictionless CSV Dialect: another quote character, an escape character,
// no doubled quotes, skipped initial spaces, comment lines and blank rows.
package csvparse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Default limits used when an Options field is zero.
const (
	// DefaultMaxRecordBytes bounds the raw size of one record (4 MiB).
	DefaultMaxRecordBytes = 4 << 20
	// DefaultMaxFieldBytes bounds the raw size of one field (1 MiB).
	DefaultMaxFieldBytes = 1 << 20
	// DefaultMaxFields bounds the number of fields in one record.
	DefaultMaxFields = 16384
	// DefaultBufferSize is the initial size of the read buffer (64 KiB).
	DefaultBufferSize = 64 << 10
	// RawPrefixBytes is how much of an over-long record Record.Raw keeps
	// (at most MaxRecordBytes).
	RawPrefixBytes = 1024
)

// Codes of a RecordError. They double as the `code` of a csvmesh row error.
const (
	// CodeQuote is a quoting problem: text after a closing quote, or a
	// quoted field that is never closed.
	CodeQuote = "quote"
	// CodeFieldTooLong is a field larger than Options.MaxFieldBytes.
	CodeFieldTooLong = "field_too_long"
	// CodeRecordTooLong is a record larger than Options.MaxRecordBytes.
	CodeRecordTooLong = "record_too_long"
	// CodeFieldCount is a record with more than Options.MaxFields fields.
	CodeFieldCount = "field_count"
)

// RecordError is a problem confined to one record. The record has been
// consumed when it is returned; the next call to Next reads the following
// record.
//
// A record can have several problems; the one reported is the first in the
// record's text, where an over-long record's problem lies at byte
// MaxRecordBytes, except that a quoted field that opens within the first
// MaxRecordBytes bytes and is never closed is always the one reported.
type RecordError struct {
	// Line is the 1-based physical line on which the record starts.
	Line int64
	// Record is the 1-based logical record number.
	Record int64
	// Offset is the byte offset of the record's first byte.
	Offset int64
	// Column is the 1-based field the problem is in, 0 for the whole record.
	Column int
	// Code is a short machine-readable reason, one of the Code constants.
	Code string
	// Msg says what is wrong in words a person understands.
	Msg string
}

// Error implements error.
func (e *RecordError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("csvparse: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("csvparse: line %d: %s", e.Line, e.Msg)
}

// Options configures a Reader. The zero value reads comma-separated input with
// the default limits.
type Options struct {
	// Comma is the field delimiter; 0 means ','. It must not be the quote
	// character, '\r' or '\n'.
	Comma byte
	// Quote is the quote character; 0 means '"'. A field that starts with
	// it is quoted: it may hold delimiters and line breaks and ends at the
	// next quote that is not doubled (or escaped). Elsewhere in a field it
	// is taken literally.
	Quote byte
	// NoDoubleQuote turns off the doubled quote ("") as a literal quote
	// inside a quoted field: a quote then always ends the quoted field
	// (unless Escape escapes it).
	NoDoubleQuote bool
	// Escape is the escape character; 0 means none. In quoted and unquoted
	// fields alike it makes the next byte literal (a delimiter, a quote, a
	// line break or itself), and is dropped. At the very end of the input
	// it is kept.
	Escape byte
	// SkipInitialSpace drops the spaces (' ') at the start of every field;
	// a quote after them still starts a quoted field.
	SkipInitialSpace bool
	// Comment is a line prefix marking comment lines: a line that starts a
	// record and begins with it is skipped through its line ending. Such
	// lines get no record number but still count as physical lines. Empty
	// means no comments.
	Comment string
	// BlankRows returns each blank line as a record whose Fields is one
	// empty field and whose Raw is empty, instead of skipping it.
	BlankRows bool

	// MaxRecordBytes bounds the raw bytes of one record, line ending
	// excluded; 0 means DefaultMaxRecordBytes. It also bounds the buffer.
	MaxRecordBytes int
	// MaxFieldBytes bounds the bytes of one field as written, between its
	// quotes if it has any and before doubled quotes are unescaped; 0 means
	// DefaultMaxFieldBytes.
	MaxFieldBytes int
	// MaxFields bounds the fields of one record; 0 means DefaultMaxFields.
	MaxFields int
	// BufferSize is the initial read buffer size; 0 means DefaultBufferSize.
	// The buffer grows, only for records that need it, up to about
	// MaxRecordBytes.
	BufferSize int
	// FirstLine is the physical line number of the input's first byte; 0
	// means 1. Set it when the input is a shard of a larger file.
	FirstLine int64
	// FirstRecord is the logical number of the input's first record; 0 means
	// 1.
	FirstRecord int64
	// FirstOffset is the byte offset of the input's first byte in the file.
	// A byte order mark is only skipped when it is 0.
	FirstOffset int64
}

// Record is one record read by Reader.Next. It and the slices it holds are
// only valid until the next call to Next.
type Record struct {
	// Fields are the record's fields, unquoted and unescaped. It is nil when
	// Next returns a *RecordError.
	Fields [][]byte
	// Raw is the record's text as it appears in the input, line ending
	// excluded; for a record over MaxRecordBytes, only its first
	// min(RawPrefixBytes, MaxRecordBytes) bytes.
	Raw []byte
	// Line is the 1-based physical line on which the record starts.
	Line int64
	// Offset is the byte offset of the record's first byte.
	Offset int64
	// Number is the 1-based logical record number (skipped blank lines and
	// comment lines do not count).
	Number int64
}

// ErrInvalidDelimiter is returned by readers whose Comma cannot be a
// delimiter.
var ErrInvalidDelimiter = errors.New(`csvparse: the delimiter must not be the quote character, '\r' or '\n'`)

var errBufferFull = errors.New("csvparse: buffer full")

// Reader reads records from an io.Reader or an in-memory block. It is not
// safe for concurrent use.
type Reader struct {
	src    io.Reader // nil for a bytes reader
	buf    []byte
	pos    int   // next unread byte
	end    int   // end of buffered data
	base   int64 // input offset of buf[0]
	eof    bool
	err    error // sticky fatal error
	maxBuf int

	d                   dialect
	plain               bool // no escape and no skipped spaces: fast applies
	maxRecord, maxField int
	maxFields           int

	started bool
	line    int64 // physical line at buf[pos] between records
	nextRec int64 // number the next record gets

	recErr  *RecordError
	errPos  int // offset of recErr's cause in its record
	fields  [][]byte
	scratch []byte
	prefix  []byte
	rec     Record

	// The special-byte window of parse: bit i of mask is set when
	// buf[mb+i] is a delimiter, CR, LF or escape (bits before the parse
	// position may be left over). mb = -64 means none.
	mb   int
	mask uint64

	// Where parse ran out of input: its state, the record offset of the
	// open quoted field's quote (or -1) and the fields completed.
	stState  uint8
	stQuote  int
	stFields int
}

// NewReader returns a Reader reading from src with the given options.
func NewReader(src io.Reader, opts Options) *Reader {
	r := newReader(opts)
	r.src = src
	size := opts.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	// A record of maxRecord bytes plus a CRLF and one byte of look-ahead
	// always fits, so a full buffer means an over-long record.
	r.maxBuf = max(size, r.maxRecord+4)
	r.buf = make([]byte, min(size, r.maxBuf))
	return r
}

// NewBytesReader returns a Reader over the in-memory input data, such as a
// Block's Data, with the given options (FirstLine, FirstRecord and
// FirstOffset place data in its file; BufferSize is ignored). It parses data
// in place: fields are sub-slices of data, except those holding doubled
// quotes or escapes, which are unescaped into a reused buffer. data must
// not change while the Reader is in use.
func NewBytesReader(data []byte, opts Options) *Reader {
	r := newReader(opts)
	r.buf = data
	r.end = len(data)
	r.eof = true
	r.maxBuf = len(data)
	return r
}

func newReader(opts Options) *Reader {
	r := &Reader{}
	r.maxRecord = opts.MaxRecordBytes
	if r.maxRecord <= 0 {
		r.maxRecord = DefaultMaxRecordBytes
	}
	r.maxField = opts.MaxFieldBytes
	if r.maxField <= 0 {
		r.maxField = DefaultMaxFieldBytes
	}
	r.maxFields = opts.MaxFields
	if r.maxFields <= 0 {
		r.maxFields = DefaultMaxFields
	}
	d, err := newDialect(opts, r.maxRecord)
	r.d, r.err = d, err
	r.plain = !d.hasEscape && !d.skipSpace
	r.line = opts.FirstLine
	if r.line <= 0 {
		r.line = 1
	}
	r.nextRec = opts.FirstRecord
	if r.nextRec <= 0 {
		r.nextRec = 1
	}
	r.base = opts.FirstOffset
	r.mb = -64
	return r
}

// lo7 repeats 0x7f over a word; ctrlAdd adds to the low seven bits of
// each byte what carries into the high bit exactly from 0x0e on.
const (
	lo7     = 0x7f7f7f7f7f7f7f7f
	ctrlAdd = (0x80 - 0x0e) * lsb
)

// window returns a bit for each byte of buf[mb:mb+64] that may be special
// (the delimiter, CR, LF or the escape): bit i for buf[mb+i]. Every special
// byte has its bit; a few other bytes may too (control bytes below 0x0e,
// and a byte one above the delimiter or escape right after it), so callers
// check the byte.
func (r *Reader) window(buf []byte, mb int) uint64 {
	if mb+64 > len(buf) {
		var m uint64
		for i, c := range buf[mb:] {
			if r.d.special[c] {
				m |= 1 << i
			}
		}
		return m
	}
	w := (*[64]byte)(buf[mb : mb+64])
	cm := uint64(r.d.comma) * lsb
	if !r.d.hasEscape {
		// Shifted right by 7-j, the flags of word j land on bit j of each
		// byte: byte k then holds the flags of bytes k, 8+k, ..., 56+k.
		return transpose8(flags(binary.LittleEndian.Uint64(w[0:8]), cm)>>7 |
			flags(binary.LittleEndian.Uint64(w[8:16]), cm)>>6 |
			flags(binary.LittleEndian.Uint64(w[16:24]), cm)>>5 |
			flags(binary.LittleEndian.Uint64(w[24:32]), cm)>>4 |
			flags(binary.LittleEndian.Uint64(w[32:40]), cm)>>3 |
			flags(binary.LittleEndian.Uint64(w[40:48]), cm)>>2 |
			flags(binary.LittleEndian.Uint64(w[48:56]), cm)>>1 |
			flags(binary.LittleEndian.Uint64(w[56:64]), cm))
	}
	em := uint64(r.d.escape) * lsb
	return transpose8(flagsEsc(binary.LittleEndian.Uint64(w[0:8]), cm, em)>>7 |
		flagsEsc(binary.LittleEndian.Uint64(w[8:16]), cm, em)>>6 |
		flagsEsc(binary.LittleEndian.Uint64(w[16:24]), cm, em)>>5 |
		flagsEsc(binary.LittleEndian.Uint64(w[24:32]), cm, em)>>4 |
		flagsEsc(binary.LittleEndian.Uint64(w[32:40]), cm, em)>>3 |
		flagsEsc(binary.LittleEndian.Uint64(w[40:48]), cm, em)>>2 |
		flagsEsc(binary.LittleEndian.Uint64(w[48:56]), cm, em)>>1 |
		flagsEsc(binary.LittleEndian.Uint64(w[56:64]), cm, em))
}

// flags sets the high bit of each byte of v that may be the delimiter
// (repeated in cm), CR or LF. The high bit of a byte of (x-lsb)&^x is set
// where x has a zero byte (and, after a borrow, maybe where it has a 1);
// that of (v&lo7+ctrlAdd)|v is clear exactly where v < 0x0e.
func flags(v, cm uint64) uint64 {
	x := v ^ cm
	return (((x - lsb) &^ x) | ^(((v & lo7) + ctrlAdd) | v)) & msb
}

// flagsEsc is flags that also flags the escape (repeated in em).
func flagsEsc(v, cm, em uint64) uint64 {
	x, e := v^cm, v^em
	return (((x - lsb) &^ x) | ((e - lsb) &^ e) | ^(((v & lo7) + ctrlAdd) | v)) & msb
}

// transpose8 transposes the 8x8 bit matrix x whose rows are its bytes: bit
// 8k+j moves to bit 8j+k.
func transpose8(x uint64) uint64 {
	t := (x ^ x>>7) & 0x00aa00aa00aa00aa
	x ^= t ^ t<<7
	t = (x ^ x>>14) & 0x0000cccc0000cccc
	x ^= t ^ t<<14
	t = (x ^ x>>28) & 0x00000000f0f0f0f0
	return x ^ t ^ t<<28
}

// InputOffset returns the offset just past the last byte consumed, counting
// from FirstOffset.
func (r *Reader) InputOffset() int64 { return r.base + int64(r.pos) }

// Line returns the physical line number the next record would start on (or,
// after blank lines, before them).
func (r *Reader) Line() int64 { return r.line }

// more reads more input into the buffer, keeping buf[keep:end], until at
// least want more bytes are buffered, the buffer is full or the input ends.
// It returns the number of bytes read; 0 with a nil error means end of input.
func (r *Reader) more(keep, want int) (int, error) {
	if r.eof {
		return 0, nil
	}
	r.mb = -64
	if keep > 0 {
		copy(r.buf, r.buf[keep:r.end])
		r.end -= keep
		r.pos -= keep
		r.base += int64(keep)
	}
	if r.end == len(r.buf) || len(r.buf)-r.end < want {
		if r.end == len(r.buf) && len(r.buf) >= r.maxBuf {
			return 0, errBufferFull
		}
		if len(r.buf) < r.maxBuf {
			nb := make([]byte, min(max(2*len(r.buf), r.end+want), r.maxBuf))
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
	}
	total, idle := 0, 0
	for total < want && r.end < len(r.buf) {
		n, err := r.src.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			return total, errors.New("csvparse: invalid Read count")
		}
		r.end += n
		total += n
		if err == io.EOF {
			r.eof = true
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			if idle++; idle == 100 {
				return total, io.ErrNoProgress
			}
		}
	}
	return total, nil
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

// Next reads the next record. It returns io.EOF at the end of the input, a
// *RecordError (with the record's position filled in) for a problem confined
// to the record, after which reading may continue, and any other error for a
// failure of the underlying reader, after which it may not.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.started {
		r.started = true
		if r.base == 0 {
			for r.end-r.pos < 3 && !r.eof {
				if _, err := r.more(r.pos, 3-(r.end-r.pos)); err != nil {
					return nil, r.fail(err)
				}
			}
			if bytes.HasPrefix(r.buf[r.pos:r.end], []byte("\xef\xbb\xbf")) {
				r.pos += 3
			}
		}
	}
	// Skip blank lines and comment lines.
	for {
		if r.pos == r.end {
			n, err := r.more(r.pos, 1)
			if err != nil {
				return nil, r.fail(err)
			}
			if n == 0 {
				return nil, io.EOF
			}
		}
		c := r.buf[r.pos]
		if c == '\n' || c == '\r' {
			if c == '\r' && r.pos+1 == r.end && !r.eof {
				if _, err := r.more(r.pos, 1); err != nil {
					return nil, r.fail(err)
				}
			}
			start := r.pos
			r.pos++
			if c == '\r' && r.pos < r.end && r.buf[r.pos] == '\n' {
				r.pos++
			}
			r.line++
			if r.d.blankRows {
				return r.blank(start), nil
			}
			continue
		}
		if cm := r.d.comment; len(cm) > 0 && c == cm[0] {
			for r.end-r.pos < len(cm) && !r.eof {
				if _, err := r.more(r.pos, len(cm)-(r.end-r.pos)); err != nil {
					return nil, r.fail(err)
				}
			}
			if bytes.HasPrefix(r.buf[r.pos:r.end], cm) {
				if err := r.skipLine(); err != nil {
					return nil, r.fail(err)
				}
				continue
			}
		}
		break
	}
	if r.plain && r.fast() {
		return &r.rec, nil
	}
	for !r.parse() {
		if _, err := r.more(r.pos, r.end-r.pos); err != nil {
			if err == errBufferFull {
				return r.skipLong()
			}
			return nil, r.fail(err)
		}
	}
	if r.recErr != nil {
		return &r.rec, r.recErr
	}
	return &r.rec, nil
}

// blank returns the blank line that started at buf[start] as a record.
func (r *Reader) blank(start int) *Record {
	r.fields = append(r.fields[:0], r.buf[start:start:start])
	r.rec = Record{Fields: r.fields, Raw: r.buf[start:start:start], Line: r.line - 1,
		Offset: r.base + int64(start), Number: r.nextRec}
	r.nextRec++
	return &r.rec
}

// skipLine skips a comment line, of any length, through its line ending.
func (r *Reader) skipLine() error {
	for {
		k := indexEither(r.buf[r.pos:r.end], '\n', '\r')
		if k < 0 {
			r.pos = r.end
			n, err := r.more(r.pos, 1)
			if err != nil || n == 0 {
				return err
			}
			continue
		}
		r.pos += k + 1
		r.line++
		if r.buf[r.pos-1] == '\r' {
			if r.pos == r.end {
				if _, err := r.more(r.pos, 1); err != nil {
					return err
				}
			}
			if r.pos < r.end && r.buf[r.pos] == '\n' {
				r.pos++
			}
		}
		return nil
	}
}

// setErr records the record's first problem, found at record offset pos.
func (r *Reader) setErr(pos, col int, code, msg string) {
	if r.recErr == nil {
		r.recErr = &RecordError{Column: col, Code: code, Msg: msg}
		r.errPos = pos
	}
}

// addField is the slow path of adding field f (as written) of a record with
// len(fields)+extra fields before it; it checks the limits and unescapes.
// pos is the record offset of the byte after the field.
func (r *Reader) addField(fields [][]byte, extra int, f []byte, escaped, quoted bool, pos int) ([][]byte, int) {
	nf := len(fields) + extra + 1
	if nf > r.maxFields {
		r.setErr(pos, 0, CodeFieldCount, fmt.Sprintf("the record has more than %d fields", r.maxFields))
	} else if len(f) > r.maxField {
		r.setErr(pos, nf, CodeFieldTooLong, fmt.Sprintf("field %d is longer than %d bytes", nf, r.maxField))
	}
	if len(fields) >= r.maxFields {
		return fields, extra + 1
	}
	if escaped {
		f = r.unescape(f, quoted)
	}
	return append(fields, f), extra
}

// unescape appends f, a field as written, without its escapes (and, for a
// quoted field's contents, with doubled quotes made single) to the scratch
// buffer and returns the result.
func (r *Reader) unescape(f []byte, quoted bool) []byte {
	s := len(r.scratch)
	for len(f) > 0 {
		i := -1
		switch {
		case quoted && r.d.hasEscape:
			i = indexEither(f, r.d.quote, r.d.escape)
		case quoted:
			i = bytes.IndexByte(f, r.d.quote)
		case r.d.hasEscape:
			i = bytes.IndexByte(f, r.d.escape)
		}
		if i < 0 || i+1 == len(f) {
			r.scratch = append(r.scratch, f...)
			break
		}
		r.scratch = append(r.scratch, f[:i]...)
		r.scratch = append(r.scratch, f[i+1])
		f = f[i+2:]
	}
	return r.scratch[s:len(r.scratch):len(r.scratch)]
}

const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	lfMask = '\n' * lsb
	crMask = '\r' * lsb
)

// fast reads the record at buf[pos] if it is of the common kind, plain
// unquoted fields within the limits ended by a line break, and reports
// whether it did; if not, it changes nothing and parse must read the
// record. It is plainRun and the end of parse in one.
func (r *Reader) fast() bool {
	var (
		buf       = r.buf[:r.end]
		rs        = r.pos
		p         = rs
		fs        = rs
		comma     = r.d.comma
		quote     = r.d.quote
		maxField  = r.maxField
		maxFields = r.maxFields
		fields    = r.fields[:0]
		mb, mask  = r.mb, r.mask
	)
	if buf[rs] == quote {
		return false
	}
	if uint(p-mb) < 64 {
		mask &= ^uint64(0) << uint(p-mb)
	} else {
		mb = p
		mask = r.window(buf, mb)
	}
	for {
		for mask == 0 {
			if mb += 64; mb >= len(buf) {
				return false
			}
			mask = r.window(buf, mb)
		}
		p = mb + bits.TrailingZeros64(mask)
		if p-fs > maxField || len(fields) >= maxFields {
			return false
		}
		c := buf[p]
		if c != comma {
			next := p + 1
			switch {
			case c == '\n':
			case c == '\r' && next < len(buf):
				if buf[next] == '\n' {
					next++
				}
			default:
				return false
			}
			if p-rs > r.maxRecord {
				return false
			}
			mask &= mask - 1
			r.mb, r.mask = mb, mask
			fields = append(fields, buf[fs:p:p])
			r.fields, r.recErr = fields, nil
			rec := &r.rec
			rec.Fields, rec.Raw = fields, buf[rs:p:p]
			rec.Line, rec.Offset, rec.Number = r.line, r.base+int64(rs), r.nextRec
			r.line++
			r.nextRec++
			r.pos = next
			return true
		}
		mask &= mask - 1
		fields = append(fields, buf[fs:p:p])
		fs = p + 1
		if fs < len(buf) && buf[fs] == quote {
			return false
		}
	}
}

// plainRun reads the run of plain unquoted fields that starts at buf[p], a
// field start that is not a quote, appending each field that a delimiter
// ends. It stops at the first byte that ends a field in another way (a
// line break, the end of buf) or that ends a field the slow path must see
// (over MaxFieldBytes, past MaxFields), returning its position p and the
// start fs of the field it ends, or at the start of a quoted field, with
// fs == p. It keeps the window in r.
func (r *Reader) plainRun(buf []byte, p int, fields [][]byte) (int, int, [][]byte) {
	var (
		comma     = r.d.comma
		quote     = r.d.quote
		maxField  = r.maxField
		maxFields = r.maxFields
		mb, mask  = r.mb, r.mask
		fs        = p
	)
	if uint(p-mb) < 64 {
		mask &= ^uint64(0) << uint(p-mb)
	} else {
		mb = p
		mask = r.window(buf, mb)
	}
	for {
		for mask == 0 {
			if mb += 64; mb >= len(buf) {
				r.mb, r.mask = mb, 0
				return len(buf), fs, fields
			}
			mask = r.window(buf, mb)
		}
		p = mb + bits.TrailingZeros64(mask)
		if buf[p] != comma || p-fs > maxField || len(fields) >= maxFields {
			break
		}
		mask &= mask - 1
		fields = append(fields, buf[fs:p:p])
		fs = p + 1
		if fs < len(buf) && buf[fs] == quote {
			p = fs
			break
		}
	}
	r.mb, r.mask = mb, mask
	return p, fs, fields
}

// parse splits the record at buf[pos], which starts neither a blank line nor
// a comment, and fills r.rec and r.recErr. It returns false, with the state
// it reached saved, when the buffered input ends inside the record and more
// may follow; the caller then reads more and calls it again from the
// record's start.
func (r *Reader) parse() bool {
	var (
		buf        = r.buf[:r.end]
		n          = len(buf)
		rs         = r.pos
		p          = rs
		atEOF      = r.eof
		fields     = r.fields[:0]
		comma      = r.d.comma
		quote      = r.d.quote
		esc        = r.d.escape
		hasEsc     = r.d.hasEscape
		dq         = r.d.doubleQuote
		skipSpace  = r.d.skipSpace
		maxField   = r.maxField
		maxFields  = r.maxFields
		extra      int  // fields past maxFields, not kept
		complex    bool // a quoted field or an escape: count breaks in the text
		fs, fe     int  // the field's text as written
		escaped    bool // the field needs unescaping
		q          = -1 // the last quoted field's opening quote
		open       bool // that field is never closed
		rawEnd     int
		terminated bool
		c          byte
		state      uint8
		mb, mask   = r.mb, r.mask // the window: special bytes in buf[mb:mb+64]
		plain      = !hasEsc && !skipSpace
	)
	r.recErr = nil
	r.scratch = r.scratch[:0]
	for {
		if skipSpace {
			for p < n && buf[p] == ' ' {
				p++
			}
		}
		if p < n && buf[p] == quote {
			goto quoted
		}
		fs = p
		escaped = false
		if plain {
			r.mb, r.mask = mb, mask
			p, fs, fields = r.plainRun(buf, p, fields)
			mb, mask = r.mb, r.mask
			if fs == p && p < n && buf[p] == quote {
				goto quoted
			}
			goto found
		}
	unquoted:
		// The hot path: find the next delimiter, CR or LF (or escape) in
		// the 64-byte window of special-byte bits, moving the window on as
		// needed.
		if uint(p-mb) < 64 {
			mask &= ^uint64(0) << uint(p-mb)
		} else {
			mb = p
			mask = r.window(buf, mb)
		}
		for mask == 0 {
			if mb += 64; mb >= n {
				p = n
				goto found
			}
			mask = r.window(buf, mb)
		}
		p = mb + bits.TrailingZeros64(mask)
	found:
		if p < n && !r.d.special[buf[p]] {
			p++ // not special after all
			goto unquoted
		}
		if p == n {
			if !atEOF {
				state = scUnquoted
				if p == fs {
					state = scFieldStart // a quote may follow
				}
				goto more
			}
			fields, extra = r.addField(fields, extra, buf[fs:p], escaped, false, p-rs)
			rawEnd = n
			break
		}
		c = buf[p]
		if hasEsc && c == esc {
			escaped, complex = true, true
			if p += 2; p > n {
				p = n
				if !atEOF {
					state = scEscU
					goto more
				}
			}
			goto unquoted
		}
		if !escaped && len(fields) < maxFields && p-fs <= maxField {
			fields = append(fields, buf[fs:p:p])
		} else {
			fields, extra = r.addField(fields, extra, buf[fs:p], escaped, false, p-rs)
		}
		p++
		if c == comma {
			continue
		}
		rawEnd = p - 1
		terminated = true
		if c == '\r' {
			if p < n {
				if buf[p] == '\n' {
					p++
				}
			} else if !atEOF {
				state = scCR
				goto more
			}
		}
		break

	quoted:
		complex = true
		q = p
		p++
		fs = p
		escaped = false
		for {
			var k int
			if hasEsc {
				k = indexEither(buf[p:], quote, esc)
			} else {
				k = bytes.IndexByte(buf[p:], quote)
			}
			if k < 0 {
				p = n
				if !atEOF {
					state = scQuoted
					goto more
				}
				open = true
				break
			}
			p += k
			if buf[p] != quote { // an escape
				escaped = true
				if p += 2; p > n {
					p = n
					if !atEOF {
						state = scEscQ
						goto more
					}
					open = true
					break
				}
				continue
			}
			if p+1 == n {
				if !atEOF {
					p = n
					state = scAfterQuote
					goto more
				}
				break
			}
			if dq && buf[p+1] == quote {
				escaped = true
				p += 2
				continue
			}
			break
		}
		if open {
			rawEnd = n
			break
		}
		fe = p
		p++
		if p == n {
			fields, extra = r.addField(fields, extra, buf[fs:fe], escaped, true, p-rs)
			rawEnd = n
			break
		}
		c = buf[p]
		if c == comma || c == '\n' || c == '\r' {
			if !escaped && len(fields) < maxFields && fe-fs <= maxField {
				fields = append(fields, buf[fs:fe:fe])
			} else {
				fields, extra = r.addField(fields, extra, buf[fs:fe], escaped, true, p-rs)
			}
			p++
			if c == comma {
				continue
			}
			rawEnd = p - 1
			terminated = true
			if c == '\r' {
				if p < n {
					if buf[p] == '\n' {
						p++
					}
				} else if !atEOF {
					state = scCR
					goto more
				}
			}
			break
		}
		r.setErr(p-rs, len(fields)+extra+1, CodeQuote,
			fmt.Sprintf("unexpected %q after the closing quote of field %d", c, len(fields)+extra+1))
		// Recover: read the rest of the field as unquoted text.
		escaped = false
		goto unquoted
	}
	r.mb, r.mask = mb, mask
	r.finish(rs, p, rawEnd, terminated, complex, fields, extra, q, open)
	return true

more:
	r.mb = -64
	r.fields = fields
	r.stState, r.stFields = state, len(fields)+extra
	r.stQuote = -1
	if q >= 0 {
		r.stQuote = q - rs
	}
	return false
}

// finish completes the record parse found in buf[rs:next]: raw text up to
// rawEnd, q the last quoted field's quote and open whether it is never
// closed.
func (r *Reader) finish(rs, next, rawEnd int, terminated, complex bool, fields [][]byte, extra, q int, open bool) {
	recLine := r.line
	if complex {
		n, _ := countBreaks(r.buf[rs:next], false)
		r.line += n
	} else if terminated {
		r.line++
	}
	r.pos = next
	num := r.nextRec
	r.nextRec++
	r.fields = fields
	raw := r.buf[rs:rawEnd:rawEnd]
	over := len(raw) > r.maxRecord
	if over {
		raw = raw[:min(RawPrefixBytes, r.maxRecord)]
	}
	switch {
	case open && q-rs < r.maxRecord:
		// An unterminated quote swallowed the rest of the input; that
		// explains the record better than any other error.
		r.recErr = nil
		n, _ := countBreaks(r.buf[rs:q], false)
		r.setErr(q-rs, len(fields)+extra+1, CodeQuote,
			fmt.Sprintf("unterminated quoted field starting at line %d", recLine+n))
	case over && (r.recErr == nil || r.errPos >= r.maxRecord):
		r.recErr = nil
		r.setErr(r.maxRecord, 0, CodeRecordTooLong, fmt.Sprintf("the record is longer than %d bytes", r.maxRecord))
	}
	// Field by field: a struct literal would be built and then copied.
	rec := &r.rec
	rec.Fields, rec.Raw = fields, raw
	rec.Line, rec.Offset, rec.Number = recLine, r.base+int64(rs), num
	if e := r.recErr; e != nil {
		e.Line, e.Record, e.Offset = recLine, num, rec.Offset
		rec.Fields = nil
	}
}

// skipLong reads the rest of a record too long for the buffer, which
// holds its start, and reports it: parse has saved the state it reached at
// the end of the buffer.
func (r *Reader) skipLong() (*Record, error) {
	rs := r.pos
	recLine, recOff := r.line, r.base+int64(rs)
	buf := r.buf[:r.end]
	r.prefix = append(r.prefix[:0], buf[rs:rs+min(RawPrefixBytes, r.maxRecord)]...)
	breaks, prevCR := countBreaks(buf[rs:], false)
	openQ := r.stQuote >= 0 && r.stQuote < r.maxRecord &&
		(r.stState == scQuoted || r.stState == scEscQ || r.stState == scAfterQuote)
	var quoteLine int64
	if openQ {
		n, _ := countBreaks(buf[rs:rs+r.stQuote], false)
		quoteLine = recLine + n
	}
	sc := scanner{d: &r.d, st: r.stState}
	r.pos = r.end
	done := false
	for !done {
		n, err := r.more(r.pos, 1)
		if err != nil {
			return nil, r.fail(err)
		}
		if n == 0 {
			break
		}
		var j int
		j, done = sc.scan(r.buf[:r.end], r.pos, r.eof)
		nb, cr := countBreaks(r.buf[r.pos:j], prevCR)
		breaks, prevCR, r.pos = breaks+nb, cr, j
	}
	r.line = recLine + breaks
	num := r.nextRec
	r.nextRec++
	if !done && openQ && sc.opened == 0 && sc.inQuotes() {
		r.recErr = nil
		r.setErr(r.stQuote, r.stFields+1, CodeQuote, fmt.Sprintf("unterminated quoted field starting at line %d", quoteLine))
	} else if r.recErr == nil || r.errPos >= r.maxRecord {
		r.recErr = nil
		r.setErr(r.maxRecord, 0, CodeRecordTooLong, fmt.Sprintf("the record is longer than %d bytes", r.maxRecord))
	}
	r.rec = Record{Raw: r.prefix, Line: recLine, Offset: recOff, Number: num}
	e := r.recErr
	e.Line, e.Record, e.Offset = recLine, num, recOff
	return &r.rec, e
}
