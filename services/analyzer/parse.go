package analyzer

import (
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
)

// recordReader is the analyzer's only dependency on a CSV parser, so that
// the parser can change by changing newRecordReader alone.
type recordReader interface {
	// Read returns the next record, or io.EOF after the last one. The slice
	// and its strings are only valid until the next call: callers must copy
	// what they keep. A record that is not valid CSV within the limits gives
	// an error wrapping ErrMalformedInput; a failure of the underlying reader
	// is returned as is.
	Read() ([]string, error)
	// InputOffset returns how many bytes of the input the records read so
	// far span.
	InputOffset() int64
}

// newRecordReader returns a parser of normalized CSV: comma-delimited,
// RFC 4180 quoting, at most maxFields fields and maxRecordBytes bytes per
// record (0: csvparse's defaults), so that a malformed input (an unterminated
// quote, a missing line ending) cannot make it buffer without bound.
func newRecordReader(r io.Reader, maxFields, maxRecordBytes int) recordReader {
	opts := csvparse.Options{MaxFields: maxFields}
	if maxRecordBytes > 0 {
		opts.MaxRecordBytes, opts.MaxFieldBytes = maxRecordBytes, maxRecordBytes
	}
	return &csvparseReader{r: csvparse.NewReader(r, opts)}
}

// csvparseReader adapts csvparse.Reader, whose fields are byte slices into
// its buffer, to recordReader without copying: the strings alias the buffer,
// which is why they are only valid until the next Read.
type csvparseReader struct {
	r   *csvparse.Reader
	rec []string
}

func (c *csvparseReader) Read() ([]string, error) {
	rec, err := c.r.Next()
	if err != nil {
		if _, ok := errors.AsType[*csvparse.RecordError](err); ok {
			return nil, fmt.Errorf("%w: %w", ErrMalformedInput, err)
		}
		return nil, err
	}
	c.rec = c.rec[:0]
	for _, f := range rec.Fields {
		c.rec = append(c.rec, unsafe.String(unsafe.SliceData(f), len(f)))
	}
	return c.rec, nil
}

func (c *csvparseReader) InputOffset() int64 { return c.r.InputOffset() }
