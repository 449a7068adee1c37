package sketch

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
)

// KLL sketch parameters.
const (
	// DefaultK is the KLL accuracy parameter NewKLL uses for k <= 0: a
	// normalized rank error of about 1.33% (see KLL.NormalizedRankError).
	DefaultK = 200
	// MinK and MaxK bound the KLL accuracy parameter (as in Apache
	// DataSketches).
	MinK = 8
	MaxK = 1<<16 - 1

	// kllM is the minimum width of a level (DataSketches' m).
	kllM = 8
	// kllMaxLevels bounds the number of levels: 2^61 items of weight is
	// beyond any stream this package sees.
	kllMaxLevels = 61

	// DataSketches' empirical fit to the 99th percentile of the maximum rank
	// error over thousands of trials: eps(k) = coef / k^exp.
	kllRankCoef = 2.296
	kllRankExp  = 0.9723
	kllPMFCoef  = 2.446
	kllPMFExp   = 0.9433
)

// KLL is a mergeable quantile sketch over float64 values: the KLL sketch of
// Karnin, Lang and Liberty (2016) with the lazy compaction scheme of Apache
// DataSketches' KllDoublesSketch (levels of capacity k*(2/3)^depth, at least
// 8; one level compacted when the buffer is full, by sorting it and keeping
// every other item from a random offset at twice the weight).
//
// Guarantees. While N() <= K() nothing is compacted (Exact reports it) and
// every answer is exact: Quantile equals numpy.quantile(values, q) (linear
// method) bit for bit. Beyond that, with eps = NormalizedRankError():
//   - Rank(v) is within eps of the true fraction of values <= v, for all v
//     at once, with probability >= 99% (DataSketches' empirical bound; the
//     KLL paper proves eps = O(sqrt(log(1/delta))/k) for one query);
//   - Quantile(q) lies between the exact (linearly interpolated) quantiles of
//     the stream at ranks q-eps and q+eps, widened by one order statistic;
//   - Min and Max are exact, and Quantile(0) == Min, Quantile(1) == Max
//     (for finite values: with infinities Quantile returns what numpy does,
//     NaN wherever the interpolation computes inf-inf or 0*inf).
//
// The guarantees hold after any sequence of Merge calls, provided the merged
// sketches drew their randomness independently: give every shard its own
// seed (NewKLL does; with NewKLLWithSeed use, say, the shard number).
//
// Memory is O(k + log(n/k)) values (about 3k: 600 float64 at k = 200), fixed
// after the first levels have grown; Update allocates only when a new level is
// added (O(log n) times over the whole stream).
//
// A KLL is not safe for concurrent use, including the query methods (they
// cache a sorted view). Make one with NewKLL or NewKLLWithSeed; the zero
// value is only a target for UnmarshalBinary.
type KLL struct {
	k    int
	minK int // the smallest k of any sketch merged in, which sets the error
	n    uint64
	min  float64
	max  float64

	// items holds the levels; level h is items[levels[h]:levels[h+1]], with
	// free space items[:levels[0]] that level 0 grows down into. Levels above
	// 0 are sorted; an item of level h stands for 2^h values.
	levels []int
	items  []float64

	rng   *rand.PCG
	coins uint64 // random bits not yet used
	ncoin uint8

	view   []kllEntry // the retained items sorted, with cumulative weights
	viewOK bool
}

type kllEntry struct {
	v   float64
	cum uint64 // the total weight of this entry and all before it
}

// NewKLL returns an empty KLL sketch with accuracy parameter k (DefaultK when
// k <= 0; clamped to [MinK, MaxK]) whose compactions draw from a random seed.
func NewKLL(k int) *KLL {
	return NewKLLWithSeed(k, rand.Uint64())
}

// NewKLLWithSeed is NewKLL with the seed of the compaction coin flips given, so
// that the same stream always yields the same sketch. Sketches that will be
// merged must have different seeds.
func NewKLLWithSeed(k int, seed uint64) *KLL {
	switch {
	case k <= 0:
		k = DefaultK
	case k < MinK:
		k = MinK
	case k > MaxK:
		k = MaxK
	}
	s := &KLL{
		k:      k,
		minK:   k,
		levels: []int{k, k},
		items:  make([]float64, k),
		rng:    rand.NewPCG(seed, seed^0x9e3779b97f4a7c15),
	}
	return s
}

// K returns the accuracy parameter.
func (s *KLL) K() int { return s.k }

// N returns the number of values the sketch summarizes.
func (s *KLL) N() uint64 { return s.n }

// Exact reports whether the sketch still holds every value (nothing has been
// compacted), so that all its answers are exact.
func (s *KLL) Exact() bool { return s.numLevels() == 1 }

// Retained returns the number of values the sketch stores.
func (s *KLL) Retained() int { return len(s.items) - s.levels[0] }

// Min returns the smallest value, or NaN when the sketch is empty.
func (s *KLL) Min() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.min
}

// Max returns the largest value, or NaN when the sketch is empty.
func (s *KLL) Max() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.max
}

// NormalizedRankError returns the a-priori bound on the error of Rank and on
// the rank of Quantile's answer, as a fraction of N: 2.296 / k^0.9723 for the
// smallest k merged in (DataSketches' fit of the 99th percentile of the
// maximum error; 0.0133 at k = 200, 0.0069 at k = 400, 0.0251 at k = 100).
// It holds with probability >= 99% for all ranks at once. It is the bound,
// not the error of this sketch: while Exact the error is 0.
func (s *KLL) NormalizedRankError() float64 {
	return kllRankCoef / math.Pow(float64(s.minK), kllRankExp)
}

// NormalizedPMFError is the a-priori bound on the error of each count of
// Histogram as a fraction of N: 2.446 / k^0.9433 (0.0165 at k = 200), with
// probability >= 99% for all bins at once.
func (s *KLL) NormalizedPMFError() float64 {
	return kllPMFCoef / math.Pow(float64(s.minK), kllPMFExp)
}

// Update adds v to the sketch. NaN is ignored: like pandas (skipna), the
// sketch summarizes the non-missing values, and callers that need the number
// of missing values count them. Update does not allocate except when the
// sketch grows a level.
func (s *KLL) Update(v float64) {
	if v != v {
		return
	}
	if s.n == 0 {
		s.min, s.max = v, v
	} else if v < s.min {
		s.min = v
	} else if v > s.max {
		s.max = v
	}
	s.insert(v)
	s.n++
	s.viewOK = false
}

func (s *KLL) numLevels() int { return len(s.levels) - 1 }

// insert puts v in level 0, compacting first if the buffer is full. It does
// not change n, min or max.
func (s *KLL) insert(v float64) {
	if s.levels[0] == 0 {
		s.compressWhileUpdating()
	}
	s.levels[0]--
	s.items[s.levels[0]] = v
}

// coin returns a random bit.
func (s *KLL) coin() int {
	if s.ncoin == 0 {
		s.coins = s.rng.Uint64()
		s.ncoin = 64
	}
	b := int(s.coins & 1)
	s.coins >>= 1
	s.ncoin--
	return b
}

// compressWhileUpdating frees space in a full buffer by compacting the lowest
// level that is at capacity, adding a level on top first when that is the top
// level (DataSketches' KllHelper.compressWhileUpdatingSketch).
func (s *KLL) compressWhileUpdating() {
	lvl := s.levelToCompact()
	if lvl == s.numLevels()-1 {
		s.addEmptyTopLevel()
	}
	L, items := s.levels, s.items
	rawBeg, rawEnd := L[lvl], L[lvl+1]
	popAbove := L[lvl+2] - rawEnd
	rawPop := rawEnd - rawBeg
	odd := rawPop&1 == 1
	adjBeg, adjPop := rawBeg, rawPop
	if odd {
		adjBeg++
		adjPop--
	}
	half := adjPop / 2
	if lvl == 0 {
		slices.Sort(items[adjBeg : adjBeg+adjPop])
	}
	if popAbove == 0 {
		halveUp(items[adjBeg:adjBeg+adjPop], s.coin())
	} else {
		halveDown(items[adjBeg:adjBeg+adjPop], s.coin())
		mergeSortedInPlace(items, adjBeg, half, rawEnd, popAbove, adjBeg+half)
	}
	L[lvl+1] -= half
	if odd {
		L[lvl] = L[lvl+1] - 1
		items[L[lvl]] = items[rawBeg] // the one item left behind
	} else {
		L[lvl] = L[lvl+1]
	}
	// Shift the levels below up into the freed space.
	if lvl > 0 {
		copy(items[L[0]+half:], items[L[0]:rawBeg])
	}
	for i := 0; i < lvl; i++ {
		L[i] += half
	}
}

// levelToCompact returns the lowest level whose population has reached its
// capacity; one exists whenever the buffer is full.
func (s *KLL) levelToCompact() int {
	nl := s.numLevels()
	for lvl := 0; lvl < nl-1; lvl++ {
		if s.levels[lvl+1]-s.levels[lvl] >= kllLevelCapacity(s.k, nl, lvl) {
			return lvl
		}
	}
	return nl - 1
}

// addEmptyTopLevel grows the full buffer by the capacity of the new level 0
// and adds an empty top level.
func (s *KLL) addEmptyTopLevel() {
	nl := s.numLevels()
	delta := kllLevelCapacity(s.k, nl+1, 0)
	items := make([]float64, len(s.items)+delta)
	copy(items[delta:], s.items)
	for i := range s.levels {
		s.levels[i] += delta
	}
	s.levels = append(s.levels, len(items))
	s.items = items
}

// halveDown keeps every other item of the sorted buf, from offset 0 or 1, in
// its lower half.
func halveDown(buf []float64, offset int) {
	half := len(buf) / 2
	j := offset
	for i := 0; i < half; i++ {
		buf[i] = buf[j]
		j += 2
	}
}

// halveUp keeps every other item of the sorted buf in its upper half.
func halveUp(buf []float64, offset int) {
	half := len(buf) / 2
	j := len(buf) - 1 - offset
	for i := len(buf) - 1; i >= half; i-- {
		buf[i] = buf[j]
		j -= 2
	}
}

// mergeSortedInPlace merges the sorted runs buf[a:a+na] and buf[b:b+nb] into
// buf[dst:dst+na+nb], where a+na <= dst and dst+na == b, so that writing never
// overtakes an unread item of the second run.
func mergeSortedInPlace(buf []float64, a, na, b, nb, dst int) {
	aEnd, bEnd := a+na, b+nb
	for a < aEnd && b < bEnd {
		if buf[a] <= buf[b] {
			buf[dst] = buf[a]
			a++
		} else {
			buf[dst] = buf[b]
			b++
		}
		dst++
	}
	dst += copy(buf[dst:], buf[a:aEnd])
	copy(buf[dst:], buf[b:bEnd])
}

// mergeSorted merges the sorted a and b into dst (len(a)+len(b) long).
func mergeSorted(dst, a, b []float64) {
	i, j, d := 0, 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			dst[d] = a[i]
			i++
		} else {
			dst[d] = b[j]
			j++
		}
		d++
	}
	d += copy(dst[d:], a[i:])
	copy(dst[d:], b[j:])
}

// powersOfThree holds 3^0..3^30.
var powersOfThree = func() [31]int64 {
	var p [31]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 3
	}
	return p
}()

// kllLevelCapacity is the capacity of level lvl of a sketch with numLevels
// levels: max(8, round(k * (2/3)^depth)) with depth counted from the top,
// computed in integers exactly as DataSketches does.
func kllLevelCapacity(k, numLevels, lvl int) int {
	depth := numLevels - lvl - 1
	var c int64
	if depth <= 30 {
		c = kllCapAux(int64(k), depth)
	} else {
		half := depth / 2
		c = kllCapAux(kllCapAux(int64(k), half), depth-half)
	}
	return max(kllM, int(c))
}

func kllCapAux(k int64, depth int) int64 {
	twok := k << 1 // round at the end: (2k*(2/3)^depth + 1) / 2
	tmp := (twok << depth) / powersOfThree[depth]
	return (tmp + 1) >> 1
}

// kllTotalCapacity is the buffer size of a sketch with numLevels levels.
func kllTotalCapacity(k, numLevels int) int {
	t := 0
	for lvl := 0; lvl < numLevels; lvl++ {
		t += kllLevelCapacity(k, numLevels, lvl)
	}
	return t
}

// Merge adds the values summarized by o to s; o is not changed. The result
// has the guarantees of a sketch of the concatenated streams, with the
// smaller of the two k setting the error bound. o may be s.
func (s *KLL) Merge(o *KLL) {
	if o == nil || o.n == 0 {
		return
	}
	if o == s {
		o = s.clone()
	}
	finalN := s.n + o.n
	for _, v := range o.items[o.levels[0]:o.levels[1]] {
		s.insert(v)
	}
	if o.numLevels() > 1 {
		s.mergeHigherLevels(o, finalN)
		s.minK = min(s.minK, o.minK)
	}
	if s.n == 0 {
		s.min, s.max = o.min, o.max
	} else {
		s.min = min(s.min, o.min)
		s.max = max(s.max, o.max)
	}
	s.n = finalN
	s.viewOK = false
}

// mergeHigherLevels merges o's levels above 0 into s level by level and then
// compacts until the result fits (DataSketches' mergeDoubleImpl and
// generalDoublesCompress).
func (s *KLL) mergeHigherLevels(o *KLL, finalN uint64) {
	myNL, oNL := s.numLevels(), o.numLevels()
	work := make([]float64, s.Retained()+o.levels[oNL]-o.levels[1])
	ub := bits.Len64(finalN) // 1 + floor(log2 n): no sketch of n values has more levels
	provisional := max(myNL, oNL)
	inLevels := make([]int, max(ub, provisional)+3)
	outLevels := make([]int, len(inLevels))
	inLevels[1] = copy(work, s.items[s.levels[0]:s.levels[1]])
	for lvl := 1; lvl < provisional; lvl++ {
		var a, b []float64
		if lvl < myNL {
			a = s.items[s.levels[lvl]:s.levels[lvl+1]]
		}
		if lvl < oNL {
			b = o.items[o.levels[lvl]:o.levels[lvl+1]]
		}
		end := inLevels[lvl] + len(a) + len(b)
		mergeSorted(work[inLevels[lvl]:end], a, b)
		inLevels[lvl+1] = end
	}
	nl, target, count := s.generalCompress(provisional, work, inLevels, outLevels)
	target = max(target, count)
	items := s.items
	if len(items) != target {
		items = make([]float64, target)
	}
	free := target - count
	copy(items[free:], work[outLevels[0]:outLevels[0]+count])
	levels := s.levels[:0]
	for lvl := 0; lvl <= nl; lvl++ {
		levels = append(levels, outLevels[lvl]-outLevels[0]+free)
	}
	s.items, s.levels = items, levels
}

// generalCompress compacts the levels of buf (bounded by in) from the bottom
// up, each level that is over its capacity while the whole is over the total
// capacity, writing the result into buf bounded by out. It returns the new
// number of levels, the total capacity for them and the number of items.
func (s *KLL) generalCompress(numLevels int, buf []float64, in, out []int) (int, int, int) {
	count := in[numLevels] - in[0]
	target := kllTotalCapacity(s.k, numLevels)
	out[0] = 0
	for lvl := 0; ; lvl++ {
		if lvl == numLevels-1 {
			in[lvl+2] = in[lvl+1] // an empty level above the top, for convenience
		}
		rawBeg, rawLim := in[lvl], in[lvl+1]
		rawPop := rawLim - rawBeg
		if count < target || rawPop < kllLevelCapacity(s.k, numLevels, lvl) {
			copy(buf[out[lvl]:], buf[rawBeg:rawLim])
			out[lvl+1] = out[lvl] + rawPop
		} else {
			popAbove := in[lvl+2] - rawLim
			odd := rawPop&1 == 1
			adjBeg, adjPop := rawBeg, rawPop
			if odd {
				adjBeg++
				adjPop--
			}
			half := adjPop / 2
			if odd {
				buf[out[lvl]] = buf[rawBeg]
				out[lvl+1] = out[lvl] + 1
			} else {
				out[lvl+1] = out[lvl]
			}
			if lvl == 0 {
				slices.Sort(buf[adjBeg : adjBeg+adjPop])
			}
			if popAbove == 0 {
				halveUp(buf[adjBeg:adjBeg+adjPop], s.coin())
			} else {
				halveDown(buf[adjBeg:adjBeg+adjPop], s.coin())
				mergeSortedInPlace(buf, adjBeg, half, rawLim, popAbove, adjBeg+half)
			}
			count -= half
			in[lvl+1] -= half
			if lvl == numLevels-1 {
				numLevels++
				target += kllLevelCapacity(s.k, numLevels, 0)
			}
		}
		if lvl == numLevels-1 {
			return numLevels, target, count
		}
	}
}

func (s *KLL) clone() *KLL {
	c := *s
	c.levels = slices.Clone(s.levels)
	c.items = slices.Clone(s.items)
	pcg := *s.rng
	c.rng = &pcg
	c.view, c.viewOK = nil, false
	return &c
}

func (s *KLL) ensureView() {
	if s.viewOK {
		return
	}
	s.view = s.view[:0]
	for lvl := range s.numLevels() {
		w := uint64(1) << lvl
		for _, v := range s.items[s.levels[lvl]:s.levels[lvl+1]] {
			s.view = append(s.view, kllEntry{v: v, cum: w})
		}
	}
	slices.SortFunc(s.view, func(a, b kllEntry) int { return cmp.Compare(a.v, b.v) })
	var cum uint64
	for i := range s.view {
		cum += s.view[i].cum
		s.view[i].cum = cum
	}
	s.viewOK = true
}

// orderStat returns the j-th smallest (from 0) of the n values the sketch
// stands for, taking each retained item as often as its weight, with Min and
// Max at the two ends.
func (s *KLL) orderStat(j uint64) float64 {
	switch j {
	case 0:
		return s.min
	case s.n - 1:
		return s.max
	}
	i := sort.Search(len(s.view), func(i int) bool { return s.view[i].cum > j })
	return s.view[i].v
}

// Quantile returns the q-quantile with pandas' and numpy's default (linear)
// interpolation: at position p = q*(N-1) among the values sorted, the order
// statistics x[floor(p)] and x[floor(p)+1] interpolated by the fraction of p,
// with numpy's rounding (a+(b-a)*t for t < 0.5, else b-(b-a)*(1-t)). While
// Exact this equals numpy.quantile(values, q) exactly; note that pandas'
// Series.quantile(q) passes q through numpy.percentile as q*100/100, which
// PandasQ reproduces. Quantile returns NaN when the sketch is empty or q is
// not in [0, 1].
func (s *KLL) Quantile(q float64) float64 {
	if s.n == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	s.ensureView()
	last := float64(s.n - 1)
	vi := q * last
	if vi >= last {
		// numpy takes both neighbours from the last index, with gamma = vi+1.
		return lerp(s.max, s.max, vi+1)
	}
	prev := math.Floor(vi)
	j := uint64(prev)
	return lerp(s.orderStat(j), s.orderStat(j+1), vi-prev)
}

// PandasQ returns the q that pandas' Series.quantile(q) effectively passes to
// numpy (q*100 divided by 100 again in numpy.percentile), so that
// s.Quantile(PandasQ(q)) equals pandas bit for bit where numpy.quantile(q) and
// pandas differ in the last place.
func PandasQ(q float64) float64 {
	p := float64(q * 100) // the conversion keeps the product from fusing
	return p / 100
}

// lerp is numpy's _lerp: a+(b-a)*t, computed from b for t >= 0.5.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}

// Rank returns the estimated fraction of values <= v (0 below Min, 1 at or
// above Max, NaN when the sketch is empty or v is NaN).
func (s *KLL) Rank(v float64) float64 {
	if s.n == 0 || v != v {
		return math.NaN()
	}
	s.ensureView()
	return float64(s.weightLE(v)) / float64(s.n)
}

// weightLE returns the estimated number of values <= v.
func (s *KLL) weightLE(v float64) uint64 {
	switch {
	case v < s.min:
		return 0
	case v >= s.max:
		return s.n
	}
	i := sort.Search(len(s.view), func(i int) bool { return s.view[i].v > v })
	if i == 0 {
		return 0
	}
	return s.view[i-1].cum
}

// Histogram returns estimated counts of the values in the len(edges)+1 bins
// (-inf, e0], (e0, e1], ..., (e_last, +inf) (right-closed, like pandas.cut);
// the counts add up to N. edges must be strictly increasing and not NaN, else
// Histogram returns nil. Each count is within NormalizedPMFError()*N of the
// true count with probability >= 99% (exact while Exact).
func (s *KLL) Histogram(edges []float64) []int64 {
	for i, e := range edges {
		if e != e || (i > 0 && !(edges[i-1] < e)) {
			return nil
		}
	}
	out := make([]int64, len(edges)+1)
	if s.n == 0 {
		return out
	}
	s.ensureView()
	var prev uint64
	for i, e := range edges {
		w := s.weightLE(e)
		out[i] = int64(w - prev)
		prev = w
	}
	out[len(edges)] = int64(s.n - prev)
	return out
}

// MarshalBinary encodes the sketch, including the state of its random
// source, so that a partial can travel and be merged elsewhere (format
// version 1).
func (s *KLL) MarshalBinary() ([]byte, error) {
	rng, err := s.rng.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+len(rng)+8*s.Retained())
	b = append(b, tagKLL, formatVersion1)
	b = binary.AppendUvarint(b, uint64(s.k))
	b = binary.AppendUvarint(b, uint64(s.minK))
	b = binary.AppendUvarint(b, uint64(len(rng)))
	b = append(b, rng...)
	b = binary.LittleEndian.AppendUint64(b, s.coins)
	b = append(b, s.ncoin)
	b = binary.AppendUvarint(b, s.n)
	if s.n == 0 {
		return b, nil
	}
	b = appendF64(b, s.min)
	b = appendF64(b, s.max)
	b = binary.AppendUvarint(b, uint64(s.numLevels()))
	for lvl := range s.numLevels() {
		b = binary.AppendUvarint(b, uint64(s.levels[lvl+1]-s.levels[lvl]))
	}
	for _, v := range s.items[s.levels[0]:] {
		b = appendF64(b, v)
	}
	return b, nil
}

// UnmarshalBinary replaces s with the sketch encoded in data by
// MarshalBinary. It checks the sketch's invariants (weights adding up to N,
// sorted levels, items within [Min, Max], size within capacity) and returns
// an error wrapping ErrCorrupt, leaving s unchanged, when they fail.
func (s *KLL) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	d.header(tagKLL)
	k := d.count("k", MaxK)
	minK := d.count("min k", MaxK)
	rngState := d.bytes("random state", d.count("random state length", 64))
	coins := d.u64("coins")
	ncoin := d.bytes("coin count", 1)
	n := d.uvarint("n")
	if d.err != nil {
		return d.err
	}
	if k < MinK || minK < MinK || minK > k || ncoin[0] > 64 {
		return corrupt("k %d, min k %d, coin count %d", k, minK, ncoin[0])
	}
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(rngState); err != nil {
		return corrupt("random state: %v", err)
	}
	t := KLL{k: k, minK: minK, n: n, rng: &pcg, coins: coins, ncoin: ncoin[0]}
	if n == 0 {
		t.levels, t.items = []int{k, k}, make([]float64, k)
	} else {
		t.min, t.max = d.f64("min"), d.f64("max")
		nl := d.count("level count", kllMaxLevels)
		if d.err == nil && (nl < 1 || !(t.min <= t.max)) {
			return corrupt("%d levels, min %v, max %v", nl, t.min, t.max)
		}
		capacity := kllTotalCapacity(k, nl)
		pops := make([]int, nl)
		retained := 0
		var weight, carry uint64
		for lvl := range pops {
			pops[lvl] = d.count("level size", uint64(capacity))
			retained += pops[lvl]
			hi, lo := bits.Mul64(uint64(pops[lvl]), uint64(1)<<lvl)
			weight, carry = bits.Add64(weight, lo, 0)
			if hi != 0 || carry != 0 {
				return corrupt("level weights overflow")
			}
		}
		if d.err != nil {
			return d.err
		}
		if retained > capacity || weight != n {
			return corrupt("%d items in %d levels weigh %d, n %d, capacity %d", retained, nl, weight, n, capacity)
		}
		t.items = make([]float64, capacity)
		t.levels = make([]int, nl+1)
		t.levels[0] = capacity - retained
		for lvl, p := range pops {
			t.levels[lvl+1] = t.levels[lvl] + p
		}
		for i := t.levels[0]; i < capacity; i++ {
			v := d.f64("item")
			if d.err == nil && !(v >= t.min && v <= t.max) {
				return corrupt("item %v outside [%v, %v]", v, t.min, t.max)
			}
			t.items[i] = v
		}
		for lvl := 1; lvl < nl; lvl++ {
			if !slices.IsSorted(t.items[t.levels[lvl]:t.levels[lvl+1]]) {
				return corrupt("level %d not sorted", lvl)
			}
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*s = t
	return nil
}
