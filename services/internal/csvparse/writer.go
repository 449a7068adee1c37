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

// AppendField appends one field to dst, quoted if it needs to be.
func AppendField(dst, field []byte) []byte { return appendField(dst, field, false) }

func appendField[T string | []byte](dst []byte, f T, alone bool) []byte {
	if len(f) == 0 {
		if alone {
			return append(dst, '"', '"')
		}
		return dst
	}
	quote := false
	for i := 0; i < len(f); i++ {
		if needsQuote[f[i]] {
			quote = true
			break
		}
	}
	if !quote {
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

var needsQuote = [256]bool{',': true, '"': true, '\r': true, '\n': true}
