package csvparse

import "io"

// DefaultWriterBufferSize is the buffer size of a Writer made by NewWriter.
const DefaultWriterBufferSize = 64 << 10

// Writer writes RFC 4180 CSV: comma-separated, LF line endings, and quotes
// only around fields that need them (those holding a comma, a quote, CR or
// LF, and the lone empty field of a one-field record, which would otherwise
// be a blank line). Output is buffered; call Flush at the end.
type Writer struct {
	w    io.Writer
	buf  []byte
	size int
	n    int64
	err  error
}

// NewWriter returns a Writer with a DefaultWriterBufferSize buffer.
func NewWriter(w io.Writer) *Writer { return NewWriterSize(w, DefaultWriterBufferSize) }

// NewWriterSize returns a Writer that flushes once size bytes are buffered.
func NewWriterSize(w io.Writer, size int) *Writer {
	if size <= 0 {
		size = DefaultWriterBufferSize
	}
	return &Writer{w: w, buf: make([]byte, 0, size+size/4), size: size}
}

// WriteRecord writes one record.
func (w *Writer) WriteRecord(fields [][]byte) error {
	if w.err != nil {
		return w.err
	}
	w.buf = AppendRecord(w.buf, fields)
	return w.maybeFlush()
}

// WriteStrings writes one record of strings.
func (w *Writer) WriteStrings(fields []string) error {
	if w.err != nil {
		return w.err
	}
	for i, f := range fields {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendField(w.buf, f, len(fields) == 1)
	}
	w.buf = append(w.buf, '\n')
	return w.maybeFlush()
}

// WriteLine writes line, a record already in the Writer's format (fields
// joined by commas, quoted where they need to be, as AppendField and
// AppendRecord produce), followed by a line ending. It copies line once and
// checks nothing, so it is the fast way to write a record built in a reused
// buffer or one known to need no quoting.
func (w *Writer) WriteLine(line []byte) error {
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf, line...)
	w.buf = append(w.buf, '\n')
	return w.maybeFlush()
}

func (w *Writer) maybeFlush() error {
	if len(w.buf) >= w.size {
		return w.Flush()
	}
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	w.n += int64(n)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// Written returns the number of bytes flushed to the underlying writer.
func (w *Writer) Written() int64 { return w.n }

// AppendRecord appends one CSV record, LF included, to dst and returns the
// extended slice.
func AppendRecord(dst []byte, fields [][]byte) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendField(dst, f, len(fields) == 1)
	}
	return append(dst, '\n')
}

// AppendField appends one field, a string or a byte slice, to dst, quoted if
// it needs to be.
func AppendField[T string | []byte](dst []byte, field T) []byte {
	return appendField(dst, field, false)
}

func appendField[T string | []byte](dst []byte, f T, alone bool) []byte {
	if len(f) == 0 {
		if alone {
			return append(dst, '"', '"')
		}
		return dst
	}
	if !needsQuoting(f) {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(f); i++ {
		if f[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, f[i])
	}
	return append(dst, '"')
}

// SWAR constants: lsb and msb repeat the lowest and the highest bit of a
// byte over a word; a byte of v^(b*lsb) is zero exactly where v holds b.
const (
	commaMask = ',' * lsb
	quoteMask = '"' * lsb
)

// needsQuoting reports whether f holds a comma, a quote, CR or LF. It scans
// eight bytes at a time: ((x - lsb) &^ x) & msb is non-zero if and only if
// a byte of x is zero.
func needsQuoting[T string | []byte](f T) bool {
	i := 0
	for ; i+8 <= len(f); i += 8 {
		v := load64(f[i : i+8])
		a, b, c, d := v^commaMask, v^quoteMask, v^lfMask, v^crMask
		if (((a-lsb)&^a)|((b-lsb)&^b)|((c-lsb)&^c)|((d-lsb)&^d))&msb != 0 {
			return true
		}
	}
	for ; i < len(f); i++ {
		if needsQuote[f[i]] {
			return true
		}
	}
	return false
}

// load64 reads 8 bytes little-endian; the compiler turns it into one load.
func load64[T string | []byte](b T) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

var needsQuote = [256]bool{',': true, '"': true, '\r': true, '\n': true}
