package moments

import (
	"math"
	"math/big"
)

// Layout of the exact accumulator. A finite float64 is m·2^e with an integer
// 0 <= m < 2^53 and -1074 <= e <= 971, so every finite value is an integer
// multiple of 2^-1074 below 2^1024. The accumulator keeps that integer, the
// sum in units of 2^-1074, as signed 32-bit digits held in int64 words: digit
// k weighs 2^(32k). One Add changes three words by less than 2^32 each, so
// words absorb 2^30 additions before the carries must be propagated
// (normalize), and 68 words leave room above 2^1024 for the carries of 2^63
// additions.
const (
	sumWords     = 68
	sumDigitBits = 32
	sumBias      = 1074 // 2^-1074 is the unit of the accumulator
	// sumPendingLimit is how many additions the words absorb before carries
	// are propagated; well inside the 2^31 the int64 words could take.
	sumPendingLimit = 1 << 30
)

// exactSum is a fixed-size superaccumulator: the exact sum of any number of
// finite float64 values (up to 2^63 of them), independent of the order in
// which they are added or merged. Its value is rounded once, to nearest even,
// only when it is read. The zero value is an empty sum.
type exactSum struct {
	words   [sumWords]int64
	pending int64 // additions since the last normalize
}

// add adds a finite x exactly.
func (s *exactSum) add(x float64) {
	bits := math.Float64bits(x)
	exp := int(bits>>52) & 0x7ff
	mant := bits & (1<<52 - 1)
	if exp == 0 {
		if mant == 0 {
			return // ±0
		}
		exp = 1 // subnormal: m·2^-1074
	} else {
		mant |= 1 << 52
	}
	pos := exp - 1 // bit position of mant's lowest bit above 2^-1074
	k, sh := pos/sumDigitBits, uint(pos%sumDigitBits)
	lo := int64(uint32(mant << sh))
	rest := mant >> (sumDigitBits - sh)
	mid := int64(uint32(rest))
	hi := int64(rest >> sumDigitBits)
	if bits>>63 != 0 {
		s.words[k] -= lo
		s.words[k+1] -= mid
		s.words[k+2] -= hi
	} else {
		s.words[k] += lo
		s.words[k+1] += mid
		s.words[k+2] += hi
	}
	s.pending++
	if s.pending >= sumPendingLimit {
		s.normalize()
	}
}

// merge adds the exact sum held by o.
func (s *exactSum) merge(o *exactSum) {
	s.normalize()
	for i, w := range o.words {
		s.words[i] += w
	}
	s.pending = o.pending + 1
	if s.pending >= sumPendingLimit {
		s.normalize()
	}
}

// normalize propagates carries so that every word but the top one holds a
// digit in [0, 2^32); the top word carries the sign.
func (s *exactSum) normalize() {
	for i := 0; i < sumWords-1; i++ {
		c := s.words[i] >> sumDigitBits
		s.words[i] -= c << sumDigitBits
		s.words[i+1] += c
	}
	s.pending = 0
}

// bigFloat returns the exact sum as a big.Float (scaled back by 2^-1074).
func (s *exactSum) bigFloat() *big.Float {
	n := *s
	n.normalize()
	// The digits below the top word are non-negative; the top word is signed.
	buf := make([]byte, 4*(sumWords-1))
	for i := 0; i < sumWords-1; i++ {
		d := uint32(n.words[i])
		j := len(buf) - 4*(i+1)
		buf[j], buf[j+1], buf[j+2], buf[j+3] = byte(d>>24), byte(d>>16), byte(d>>8), byte(d)
	}
	v := new(big.Int).SetBytes(buf)
	if top := n.words[sumWords-1]; top != 0 {
		t := big.NewInt(top)
		t.Lsh(t, sumDigitBits*(sumWords-1))
		v.Add(v, t)
	}
	f := new(big.Float).SetInt(v) // exact: precision is v's bit length
	return f.SetMantExp(f, -sumBias)
}

// float64 returns the exact sum rounded to the nearest float64 (ties to
// even); a sum beyond the float64 range rounds to ±Inf.
func (s *exactSum) float64() float64 {
	f, _ := s.bigFloat().Float64()
	return f
}

// quo returns the exact sum divided by n, rounded once to the nearest float64.
// The quotient is first computed to quoPrec bits, enough that it cannot land
// on a rounding tie of float64 unless the exact quotient is that tie (the
// sum's integer spans at most 2162 bits and n < 2^63), so the final rounding
// is the correct one.
func (s *exactSum) quo(n int64) float64 {
	const quoPrec = 2300
	q := new(big.Float).SetPrec(quoPrec)
	q.Quo(s.bigFloat(), new(big.Float).SetInt64(n))
	f, _ := q.Float64()
	return f
}
