package analyzer

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// rowReader generates rows of memSchema without allocating: a sorted,
// distinct id (the sorted path of text columns), a random, mostly distinct
// key (the hash table), a number and an integer.
type rowReader struct {
	rng     *rand.Rand
	left    int
	pending []byte
	line    []byte
	row     int
}

func newRowReader(rows int) *rowReader {
	return &rowReader{rng: rand.New(rand.NewPCG(1, 2)), left: rows, pending: []byte("id,key,x,n\n")}
}

func (g *rowReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.pending) == 0 {
			if g.left == 0 {
				break
			}
			g.left--
			g.row++
			l := g.line[:0]
			l = append(l, "id-"...)
			l = strconv.AppendInt(l, 1e12+int64(g.row), 10)
			l = append(l, ',')
			l = strconv.AppendUint(l, g.rng.Uint64()>>8, 36)
			l = append(l, ',')
			l = strconv.AppendFloat(l, g.rng.NormFloat64()*100, 'f', 3, 64)
			l = append(l, ',')
			l = strconv.AppendInt(l, g.rng.Int64N(1e6), 10)
			l = append(l, '\n')
			g.line, g.pending = l, l
		}
		k := copy(p[n:], g.pending)
		n += k
		g.pending = g.pending[k:]
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func memSchema() *typev1.Schema {
	f := func(name string, t typev1.FieldType) *typev1.Field { return &typev1.Field{Name: name, Type: t} }
	return &typev1.Schema{Fields: []*typev1.Field{
		f("id", typev1.FieldType_FIELD_TYPE_STRING),
		f("key", typev1.FieldType_FIELD_TYPE_STRING),
		f("x", typev1.FieldType_FIELD_TYPE_NUMBER),
		f("n", typev1.FieldType_FIELD_TYPE_INTEGER),
	}}
}

// memorySlack is what the heap may hold beyond the memory budget while an
// analysis runs, as documented on Config.MemoryBudget: the parser and its
// batches, spill buffers, what a batch adds before the next budget check,
// and garbage below collectAfterSpill that waits for the next collection.
func memorySlack(budget int64) int64 { return budget/8 + 8<<20 }

// TestHeapStaysWithinBudget analyzes an input whose statistics need several
// times the budget, sampling the process heap as it runs: the heap in use
// must stay within the budget plus memorySlack, counting the runtime's view
// of memory (map-free tables, slices, arenas, garbage awaiting collection),
// not the engine's own accounting. It does so with text columns spilling to
// disk (ExactCategorical) and switching to sketches (the ascending id to an
// exact stream).
func TestHeapStaysWithinBudget(t *testing.T) {
	budget, rows := int64(24<<20), 600_000
	if testing.Short() {
		// Fewer rows need a smaller budget to need several times it.
		budget, rows = 8<<20, 250_000
	}
	for _, tc := range []struct {
		name  string
		exact bool
	}{
		{"exact-spilling", true},
		{"sketches", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)

			var (
				mu      sync.Mutex
				peak    uint64
				samples int
			)
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				tick := time.NewTicker(2 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					runtime.ReadMemStats(&ms)
					mu.Lock()
					peak = max(peak, ms.HeapInuse)
					samples++
					mu.Unlock()
				}
			}()
			dir := t.TempDir()
			cfg := Config{MemoryBudget: budget, TempDir: dir, ExactCategorical: tc.exact}
			p, err := AnalyzePartial(context.Background(), newRowReader(rows), memSchema(), true, cfg, nil)
			if err != nil {
				close(stop)
				t.Fatal(err)
			}
			defer p.Close()
			rep, err := p.Report(context.Background(), []float64{0.5})
			close(stop)
			<-sampled
			if err != nil {
				t.Fatal(err)
			}
			id := rep.GetColumns()[0].GetCategorical()
			if tc.exact {
				if p.tmp.seq < 3 {
					t.Fatalf("spilled %d runs; the input must need several times the budget", p.tmp.seq)
				}
				if got := id.GetUnique(); got != int64(rows) || !id.GetDistinct().GetExact() {
					t.Errorf("id: %d distinct (exact %v), want exactly %d", got, id.GetDistinct().GetExact(), rows)
				}
			} else {
				if p.tmp.seq != 0 {
					t.Errorf("wrote %d spill files without ExactCategorical", p.tmp.seq)
				}
				// The ascending id stays exact as a stream; the random key
				// is sketched.
				if p.cols[0].cat.st == nil {
					t.Fatal("id: not a stream; the input must need several times the budget")
				}
				if got := id.GetUnique(); got != int64(rows) || !id.GetDistinct().GetExact() || !id.GetTopValuesExact() {
					t.Errorf("id: %d distinct (exact %v, top values exact %v), want exactly %d", got, id.GetDistinct().GetExact(), id.GetTopValuesExact(), rows)
				}
				if p.cols[1].cat.sk == nil {
					t.Fatal("key: not sketched; the input must need several times the budget")
				}
				d := rep.GetColumns()[1].GetCategorical().GetDistinct()
				if d.GetExact() || math.Abs(float64(d.GetValue())-float64(rows)) > 3*d.GetRelativeError()*float64(rows) {
					t.Errorf("key: distinct %v, want an estimate within 3 relative errors of %d", d, rows)
				}
			}
			used := int64(peak) - int64(base.HeapInuse)
			t.Logf("peak heap in use %.1f MiB above the %.1f MiB before (%d samples, %d runs); budget %d MiB, slack %.1f MiB",
				float64(used)/(1<<20), float64(base.HeapInuse)/(1<<20), samples, p.tmp.seq, budget>>20, float64(memorySlack(budget))/(1<<20))
			if samples == 0 {
				t.Fatal("no heap sample was taken")
			}
			if limit := budget + memorySlack(budget); used > limit {
				t.Errorf("heap in use peaked %d bytes above its level before the analysis, want at most %d (budget %d + slack %d)", used, limit, budget, memorySlack(budget))
			}
		})
	}
}
