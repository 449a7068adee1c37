package reference

import (
	"bytes"
	"io"
)

// writer is the simplest correct CSV writer: it buffers everything and
// quotes a field that holds a comma, a quote, CR or LF, or is the lone empty
// field of a one-field record.
type writer struct {
	w   io.Writer
	buf []byte
	n   int64
	err error
}

func newWriter(w io.Writer) *writer { return &writer{w: w} }

func (w *writer) WriteRecord(fields [][]byte) error {
	if w.err != nil {
		return w.err
	}
	w.buf = appendRecord(w.buf, fields)
	return nil
}

func (w *writer) WriteStrings(fields []string) error {
	b := make([][]byte, len(fields))
	for i, f := range fields {
		b[i] = []byte(f)
	}
	return w.WriteRecord(b)
}

func (w *writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	n, err := w.w.Write(w.buf)
	w.n += int64(n)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	w.buf = w.buf[:0]
	w.err = err
	return err
}

func (w *writer) Written() int64 { return w.n }

func appendRecord(dst []byte, fields [][]byte) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch {
		case len(f) == 0 && len(fields) == 1:
			dst = append(dst, `""`...)
		case bytes.ContainsAny(f, ",\"\r\n"):
			dst = append(dst, '"')
			dst = append(dst, bytes.ReplaceAll(f, []byte(`"`), []byte(`""`))...)
			dst = append(dst, '"')
		default:
			dst = append(dst, f...)
		}
	}
	return append(dst, '\n')
}
