// Package tradegen writes synthetic but realistic trades CSV files for tests
// and benchmarks. Output is deterministic for a seed, streamed through a
// fixed-size buffer (constant memory whatever the size) and fast enough to
// produce gigabytes in seconds.
//
// The columns are:
//
//	timestamp  ISO 8601 UTC with microseconds, strictly increasing
//	symbol     one of a few hundred tickers, Zipf-distributed popularity
//	side       BUY or SELL
//	price      a decimal with 2 to 4 places; about 1% empty (missing)
//	quantity   a positive integer, mostly round lots
//	notional   price*quantity with 2 places; empty when price is missing
//	venue      a market identifier code such as XNYS or XNAS
//	note       free text: usually empty or plain, about 5% quoted with
//	           embedded commas, doubled quotes or newlines, some non-ASCII
//
// The file is valid RFC 4180 CSV whose records end in "\n" (a quoted note
// may hold "\n" or "\r\n"), UTF-8 throughout. With a
// bad-row rate above zero, that share of rows is corrupted in ways a
// validator must reject: a missing or extra field, or a non-numeric price.
// Quoting stays valid even in bad rows.
package tradegen

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// Header is the header row's fields, in column order.
var Header = []string{"timestamp", "symbol", "side", "price", "quantity", "notional", "venue", "note"}

// DefaultSeed is the seed used when WithSeed is not given.
const DefaultSeed = 1

// DefaultStart is the first row's timestamp when WithStart is not given.
var DefaultStart = time.Date(2026, time.March, 2, 14, 30, 0, 0, time.UTC)

// Write limits.
const (
	// bufSize is the size of the output buffer; it is written out whenever a
	// row leaves it at least flushAt bytes full, so writes are about bufSize.
	bufSize = 256 << 10
	flushAt = bufSize - 4<<10
	// symbolCount is the number of distinct tickers.
	symbolCount = 400
	// zipfS is the Zipf exponent of ticker popularity.
	zipfS = 1.1
)

// Stats describes what Write produced.
type Stats struct {
	// Bytes is the number of bytes written, header included.
	Bytes int64
	// Rows is the number of data rows written (header excluded). A row with
	// an embedded newline counts once.
	Rows int64
	// BadRows is the number of rows deliberately corrupted.
	BadRows int64
	// MissingPrices is the number of good rows with an empty price.
	MissingPrices int64
	// MultilineRows is the number of rows whose note holds a newline.
	MultilineRows int64
}

// Option configures Write.
type Option func(*config)

type config struct {
	seed    uint64
	badRate float64
	start   time.Time
}

// WithSeed sets the random seed; the same seed and size give byte-identical
// output.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithBadRowRate sets the share of rows, in [0, 1], that are corrupted: a
// ragged row (one field missing or one extra) or a non-numeric price. The
// default is 0.
func WithBadRowRate(rate float64) Option { return func(c *config) { c.badRate = rate } }

// WithStart sets the first row's timestamp; it is truncated to microseconds.
func WithStart(t time.Time) Option { return func(c *config) { c.start = t } }

// ErrInvalidOption is returned when an option's value is out of range.
var ErrInvalidOption = errors.New("tradegen: invalid option")

// Write writes a header and then rows to w until at least size bytes have
// been written, stopping at the first row boundary at or after size; the
// output therefore exceeds size by less than one row. A size at or below the
// header's length gives the header alone.
func Write(w io.Writer, size int64, opts ...Option) (Stats, error) {
	cfg := config{seed: DefaultSeed, start: DefaultStart}
	for _, o := range opts {
		o(&cfg)
	}
	if !(cfg.badRate >= 0 && cfg.badRate <= 1) {
		return Stats{}, fmt.Errorf("%w: bad row rate %v not in [0, 1]", ErrInvalidOption, cfg.badRate)
	}
	if size < 0 {
		return Stats{}, fmt.Errorf("%w: negative size %d", ErrInvalidOption, size)
	}
	g := newGen(cfg)
	var st Stats
	buf := make([]byte, 0, bufSize)
	for i, h := range Header {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, h...)
	}
	buf = append(buf, '\n')
	written := int64(0)
	for written+int64(len(buf)) < size {
		buf = g.appendRow(buf, &st)
		st.Rows++
		if len(buf) >= flushAt {
			n, err := w.Write(buf)
			written += int64(n)
			st.Bytes = written
			if err != nil {
				return st, fmt.Errorf("tradegen: write: %w", err)
			}
			buf = buf[:0]
		}
	}
	n, err := w.Write(buf)
	written += int64(n)
	st.Bytes = written
	if err != nil {
		return st, fmt.Errorf("tradegen: write: %w", err)
	}
	return st, nil
}

// symbol is one ticker's state.
type symbol struct {
	name   string
	places int   // decimal places of its price: 2, 3 or 4
	price  int64 // current price in units of 1e-4
	lot    int64 // usual lot size
}

type gen struct {
	r       *rand.Rand
	badRate float64
	syms    []symbol
	cum     []uint64 // cumulative popularity, for Zipf sampling by binary search

	micros   int64 // current timestamp, Unix microseconds
	day      int64 // day of the cached date prefix
	datePref []byte
}

var venues = []string{"XNYS", "XNAS", "ARCX", "BATS", "IEXG", "EDGX", "XCHI", "MEMX"}

// venueCum is the cumulative weight of venues, out of 100.
var venueCum = []int{28, 55, 67, 78, 84, 91, 95, 100}

// plainNotes are written unquoted; they hold no comma, quote or newline.
var plainNotes = []string{
	"algo", "client order", "block trade", "VWAP slice", "TWAP slice",
	"odd lot", "cross", "auction", "café order", "fee in €", "Zürich desk",
	"München", "交易", "retail flow", "ISO", "dark pool",
}

// quotedNotes are written quoted; each holds a comma, a quote or a newline.
// Quotes inside are shown doubled as they appear in the file.
var quotedNotes = []string{
	`"partial fill, remainder cancelled"`,
	`"client said ""urgent"""`,
	"\"first line\nsecond line\"",
	"\"amended: price, qty\nsee ticket \"\"T-42\"\"\"",
	`"café, crème ""brûlée"" €"`,
	"\"line1\r\nline2, €5\"",
	`"size, venue, and price checked"`,
	`""""""`,
}

// quotedMultiline[i] tells whether quotedNotes[i] holds a newline.
var quotedMultiline = func() []bool {
	m := make([]bool, len(quotedNotes))
	for i, n := range quotedNotes {
		for j := 0; j < len(n); j++ {
			if n[j] == '\n' {
				m[i] = true
			}
		}
	}
	return m
}()

// badPrices are non-numeric price values used by corrupted rows.
var badPrices = []string{"N/A", "12.3x", "abc", "--", "1,5"}

func newGen(cfg config) *gen {
	r := rand.New(rand.NewPCG(cfg.seed, 0x7472616465676e)) // "tradegn"
	g := &gen{r: r, badRate: cfg.badRate, micros: cfg.start.UnixMicro(), day: -1 << 62}
	seen := make(map[string]bool, symbolCount)
	g.syms = make([]symbol, 0, symbolCount)
	for len(g.syms) < symbolCount {
		n := 1 + r.IntN(4) // 1 to 4 letters; most real tickers are 3-4
		if n < 3 && r.IntN(3) > 0 {
			n += 2
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + r.IntN(26))
		}
		name := string(b)
		if seen[name] {
			continue
		}
		seen[name] = true
		s := symbol{name: name, places: 2, lot: 100}
		switch x := r.IntN(100); {
		case x < 8: // penny stock, 4 places
			s.places = 4
			s.price = 500 + r.Int64N(9500) // 0.05 to 1.00
			s.lot = 1000
		case x < 20:
			s.places = 3
			s.price = 10_000 + r.Int64N(190_000) // 1 to 20
		default:
			s.price = 50_000 + r.Int64N(5_000_000) // 5 to 505
		}
		s.price = roundTo(s.price, s.places)
		g.syms = append(g.syms, s)
	}
	// Zipf weights 1/k^s scaled to integers.
	g.cum = make([]uint64, symbolCount)
	var total float64
	w := make([]float64, symbolCount)
	for k := range w {
		w[k] = 1 / math.Pow(float64(k+1), zipfS)
		total += w[k]
	}
	var acc float64
	for k := range w {
		acc += w[k]
		g.cum[k] = uint64(acc / total * (1 << 62))
	}
	g.cum[symbolCount-1] = 1 << 62
	return g
}

// roundTo rounds a price in 1e-4 units to the given number of places.
func roundTo(p int64, places int) int64 {
	m := int64(1)
	for i := places; i < 4; i++ {
		m *= 10
	}
	p = (p + m/2) / m * m
	if p < m {
		p = m
	}
	return p
}

func (g *gen) pickSymbol() *symbol {
	u := g.r.Uint64() >> 2
	i := sort.Search(len(g.cum), func(i int) bool { return g.cum[i] > u })
	if i == len(g.cum) {
		i--
	}
	return &g.syms[i]
}

// appendRow appends one data row, newline included.
func (g *gen) appendRow(b []byte, st *Stats) []byte {
	r := g.r
	// Exponential-ish gaps averaging ~300us, at least 1us: strictly increasing.
	g.micros += 1 + int64(r.Uint32()%600)
	b = g.appendTimestamp(b)
	s := g.pickSymbol()

	bad := g.badRate > 0 && r.Float64() < g.badRate
	badKind := 0
	if bad {
		badKind = 1 + r.IntN(3) // 1: missing field, 2: extra field, 3: bad price
		st.BadRows++
	}

	b = append(b, ',')
	b = append(b, s.name...)
	if r.Uint32()&1 == 0 {
		b = append(b, ",BUY,"...)
	} else {
		b = append(b, ",SELL,"...)
	}

	// Random walk of a few ticks, never below one tick.
	tick := roundTo(1, s.places)
	s.price += tick * int64(int(r.Uint32()%7)-3)
	if s.price < tick {
		s.price = tick
	}
	missing := r.Uint32()%100 == 0
	switch {
	case badKind == 3:
		b = append(b, badPrices[r.IntN(len(badPrices))]...)
	case missing:
		st.MissingPrices++
	default:
		b = appendFixed(b, s.price, 4, s.places)
	}
	b = append(b, ',')

	var qty int64
	switch x := r.Uint32() % 100; {
	case x < 70:
		qty = s.lot * (1 + int64(r.Uint32()%20))
	case x < 95:
		qty = 1 + int64(r.Uint32()%99)
	default:
		qty = s.lot * (20 + int64(r.Uint32()%980))
	}
	b = strconv.AppendInt(b, qty, 10)
	b = append(b, ',')
	if !missing && badKind != 3 {
		// price (1e-4 units) * qty, rounded half up to 1e-2.
		b = appendFixed(b, (s.price*qty+50)/100, 2, 2)
	}
	b = append(b, ',')

	v := int(r.Uint32() % 100)
	vi := 0
	for venueCum[vi] <= v {
		vi++
	}
	if badKind != 1 { // a missing-field row drops the venue
		b = append(b, venues[vi]...)
		b = append(b, ',')
	}

	switch x := r.Uint32() % 100; {
	case x < 55:
	case x < 95:
		b = append(b, plainNotes[r.IntN(len(plainNotes))]...)
	default:
		i := r.IntN(len(quotedNotes))
		b = append(b, quotedNotes[i]...)
		if quotedMultiline[i] {
			st.MultilineRows++
		}
	}
	if badKind == 2 {
		b = append(b, ",extra"...)
	}
	return append(b, '\n')
}

// appendFixed appends v, a value in units of 10^-scale, with the given number
// of decimal places (places <= scale; digits below are dropped).
func appendFixed(b []byte, v int64, scale, places int) []byte {
	div := int64(1)
	for i := 0; i < scale; i++ {
		div *= 10
	}
	b = strconv.AppendInt(b, v/div, 10)
	if places == 0 {
		return b
	}
	b = append(b, '.')
	frac := v % div
	for i := places; i < scale; i++ {
		frac /= 10
	}
	var d [4]byte
	for i := places - 1; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, d[:places]...)
}

const microsPerDay = 86_400_000_000

// appendTimestamp appends g.micros as 2006-01-02T15:04:05.000000Z.
func (g *gen) appendTimestamp(b []byte) []byte {
	day := floorDiv(g.micros, microsPerDay)
	if day != g.day {
		g.day = day
		g.datePref = time.UnixMicro(day*microsPerDay).UTC().AppendFormat(g.datePref[:0], "2006-01-02T")
	}
	b = append(b, g.datePref...)
	us := g.micros - day*microsPerDay
	sec := us / 1_000_000
	frac := us % 1_000_000
	b = append2(b, sec/3600)
	b = append(b, ':')
	b = append2(b, sec/60%60)
	b = append(b, ':')
	b = append2(b, sec%60)
	b = append(b, '.')
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	b = append(b, d[:]...)
	return append(b, 'Z')
}

func append2(b []byte, v int64) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
