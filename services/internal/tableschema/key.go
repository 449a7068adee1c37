package tableschema

import (
	"encoding/binary"
	"math"
)

// Tags that start the keys ValueKey makes from values, so that keys of
// different forms never collide.
const (
	keyNumber   = 'f' // then the float64's bits, big-endian
	keyInstant  = 'u' // then UTC seconds since 1970 and nanoseconds, big-endian
	keyLocal    = 'l' // then local seconds since 1970 and nanoseconds, big-endian
	maxValueKey = 17  // the longest key of a number or datetime
)

// ValueKey appends to dst the key of a value whose canonical text (as
// Normalize appends it, before formula neutralization) is canonical: two
// values of the field have the same key exactly when they are the same
// value, as Frictionless compares values for unique, primaryKey and enum.
//
//   - number: the float64, so 1.0, 1.00 and 1e0 are one value; -0 and 0 are
//     one value, and every NaN is one value;
//   - datetime with an offset: the UTC instant, so 2024-01-02T03:04:05Z and
//     2024-01-02T05:04:05+02:00 are one value; without an offset the local
//     time (a fraction's trailing zeros do not matter);
//   - any other type: the canonical text, which is already one per value
//     (an integer's canonical text is its int64 in decimal, for example).
//
// It allocates nothing when dst has room.
func (f *Field) ValueKey(dst, canonical []byte) []byte {
	switch f.kind {
	case kindNumber:
		x := parseFloat(canonical)
		switch {
		case x == 0:
			x = 0 // -0
		case math.IsNaN(x):
			x = math.NaN()
		}
		dst = append(dst, keyNumber)
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(x))
	case kindDatetime, kindDatetimeLayout:
		var sc scalar
		if ok, _ := scanISODatetime(canonical, &sc); !ok {
			break
		}
		if sc.hasOff {
			dst = append(dst, keyInstant)
			dst = binary.BigEndian.AppendUint64(dst, uint64(sc.i-sc.off))
		} else {
			dst = append(dst, keyLocal)
			dst = binary.BigEndian.AppendUint64(dst, uint64(sc.i))
		}
		return binary.BigEndian.AppendUint64(dst, uint64(sc.ns))
	}
	return append(dst, canonical...)
}

// valueKeyed reports whether ValueKey differs from the canonical text for
// some values of the field.
func (f *Field) valueKeyed() bool {
	switch f.kind {
	case kindNumber, kindDatetime, kindDatetimeLayout:
		return true
	}
	return false
}
