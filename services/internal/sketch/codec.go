package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Format tags: the first byte of every serialized summary names its kind and
// the second its format version, so that a partial that travels between
// processes is never decoded as the wrong kind or with the wrong layout.
const (
	tagKLL         = 'K'
	tagHLL         = 'H'
	tagSpaceSaving = 'S'
	formatVersion1 = 1
)

// ErrCorrupt is wrapped by every UnmarshalBinary error: the bytes are not a
// summary this package wrote (truncated, another kind, an unknown version, or
// values that break the summary's invariants).
var ErrCorrupt = errors.New("sketch: corrupt or incompatible serialized summary")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// decoder reads the little-endian and varint fields of a serialized summary,
// remembering the first error so callers can check once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = corrupt("truncated or malformed %s", what)
	}
}

func (d *decoder) header(tag byte) {
	if len(d.b) < 2 {
		d.fail("header")
		return
	}
	if d.b[0] != tag {
		d.err = corrupt("kind %q, want %q", d.b[0], tag)
		return
	}
	if d.b[1] != formatVersion1 {
		d.err = corrupt("format version %d, want %d", d.b[1], formatVersion1)
		return
	}
	d.b = d.b[2:]
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a uvarint that must not exceed limit.
func (d *decoder) count(what string, limit uint64) int {
	v := d.uvarint(what)
	if d.err == nil && v > limit {
		d.err = corrupt("%s %d over the limit %d", what, v, limit)
		return 0
	}
	return int(v)
}

func (d *decoder) u64(what string) uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) f64(what string) float64 {
	return math.Float64frombits(d.u64(what))
}

func (d *decoder) bytes(what string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail(what)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = corrupt("%d trailing bytes", len(d.b))
	}
	return d.err
}

func appendF64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}
