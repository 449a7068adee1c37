package analyzer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// sortedSchema is the schema of sortedCSV: an ascending timestamp and an
// ascending name.
func sortedSchema() *typev1.Schema {
	return &typev1.Schema{Fields: []*typev1.Field{
		{Name: "ts", Type: typev1.FieldType_FIELD_TYPE_DATETIME},
		{Name: "name", Type: typev1.FieldType_FIELD_TYPE_STRING},
	}}
}

// sortedCSV returns the header and lines of a file whose two columns
// ascend, each distinct value repeated on consecutive rows: mostly 1 to 3
// times, every 37th value 10 to 59 times (ties among those go to the value
// seen first). With long, every 11th name is longer than MaxTopBytes and
// non-ASCII (cut in reports).
func sortedCSV(seed uint64, rows int, long bool) (header string, lines []string) {
	rng := rand.New(rand.NewPCG(seed, 11))
	base := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	header = "ts,name\n"
	for i := 0; len(lines) < rows; i++ {
		r := 1 + rng.IntN(3)
		if i%37 == 0 {
			r = 10 + rng.IntN(50)
		}
		ts := base.Add(time.Duration(i) * 1013 * time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
		name := fmt.Sprintf("name-%08d-Zürich", i)
		if long && i%11 == 0 {
			name += strings.Repeat("東", 400)
		}
		for range r {
			lines = append(lines, ts+","+name+"\n")
		}
	}
	return header, lines[:rows]
}

// analyzeSorted analyzes data (sortedSchema) into a partial the test
// closes.
func analyzeSorted(t *testing.T, data string, hasHeader bool, cfg Config) *Partial {
	t.Helper()
	p, err := AnalyzePartial(context.Background(), strings.NewReader(data), sortedSchema(), hasHeader, cfg, nil)
	if err != nil {
		t.Fatalf("AnalyzePartial: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// tinyBudget is far below what sortedCSV's columns need in memory.
const tinyBudget = 16 << 10

// checkCategoricalEqual checks that every text column of got has exactly
// want's figures.
func checkCategoricalEqual(t *testing.T, got, want *typev1.Report) {
	t.Helper()
	for i, cs := range got.GetColumns() {
		g, w := cs.GetCategorical(), want.GetColumns()[i].GetCategorical()
		if !proto.Equal(g, w) {
			t.Errorf("%s: got %v\nwant %v", cs.GetName(), g, w)
		}
		if cs.GetCount() != want.GetColumns()[i].GetCount() {
			t.Errorf("%s: count %d, want %d", cs.GetName(), cs.GetCount(), want.GetColumns()[i].GetCount())
		}
	}
}

// TestStreamIsExact analyzes ascending columns with a budget they outgrow
// many times over: they become streams (catStream), and their figures are
// exactly those of the in-memory analysis, whether the parser runs on the
// analysis' goroutine or its own.
func TestStreamIsExact(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rows       int
		long       bool
		sequential bool
	}{
		{"timestamps-sequential", 20000, false, true},
		{"timestamps-pipelined", 20000, false, false},
		{"long-values-sequential", 6000, true, true},
		{"long-values-pipelined", 6000, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, lines := sortedCSV(1, tc.rows, tc.long)
			data := header + strings.Join(lines, "")
			want := report(t, analyzeSorted(t, data, true, Config{MemoryBudget: 1 << 30, sequential: true}), nil)
			for _, cs := range want.GetColumns() {
				if c := cs.GetCategorical(); !c.GetDistinct().GetExact() || !c.GetTopValuesExact() {
					t.Fatalf("%s: the in-memory analysis is not exact", cs.GetName())
				}
			}
			p := analyzeSorted(t, data, true, Config{MemoryBudget: tinyBudget, sequential: tc.sequential, TempDir: t.TempDir()})
			for i := range p.cols {
				if p.cols[i].cat.st == nil {
					t.Fatalf("%s: not a stream; the budget should have made it one", p.cols[i].name)
				}
			}
			checkCategoricalEqual(t, report(t, p, nil), want)
		})
	}
}

// TestStreamOutOfOrder feeds ascending values past the budget, then values
// out of order: the column turns to sketches seeded from the stream, whose
// figures are approximate and hold their stated bounds against the exact
// counts.
func TestStreamOutOfOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix int // ascending rows
		suffix int // rows drawn at random from the prefix's values and new ones
		heavy  bool
		// only the first value (among the most frequent, so kept by the
		// sketch the stream seeds) comes back: the sketch must still know
		// it lacks the other values
		kept bool
	}{
		{"few-out-of-order", 20000, 50, false, false},
		{"many-out-of-order", 8000, 20000, false, false},
		{"heavy-suffix", 8000, 20000, true, false},
		{"kept-value-only", 8000, 30, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, lines := sortedCSV(2, tc.prefix, false)
			rng := rand.New(rand.NewPCG(3, uint64(tc.suffix)))
			for range tc.suffix {
				var l string
				switch {
				case tc.kept:
					l = lines[0]
				case tc.heavy && rng.IntN(3) == 0:
					l = lines[100] // one prefix value comes back often
				case rng.IntN(2) == 0:
					l = lines[rng.IntN(tc.prefix)]
				default:
					l = fmt.Sprintf("2025-01-01T00:00:%02d.000000Z,new-%d\n", rng.IntN(60), rng.IntN(500))
				}
				lines = append(lines, l)
			}
			data := header + strings.Join(lines, "")
			p := analyzeSorted(t, data, true, Config{MemoryBudget: tinyBudget, TempDir: t.TempDir()})
			rep := report(t, p, nil)
			truth := columnTruths(lines)
			for i, cs := range rep.GetColumns() {
				if p.cols[i].cat.sk == nil {
					t.Fatalf("%s: not sketched after values out of order", cs.GetName())
				}
				if !checkAgainstTruth(t, cs, truth[i]) {
					t.Errorf("%s: exact figures after values out of order past the budget", cs.GetName())
				}
			}
		})
	}
}

// columnTruths returns the exact figures of sortedSchema's columns of
// lines (values without quotes or commas).
func columnTruths(lines []string) []*textTruth {
	out := []*textTruth{{counts: map[string]int64{}}, {counts: map[string]int64{}}}
	for _, l := range lines {
		for i, v := range strings.Split(strings.TrimSuffix(l, "\n"), ",") {
			tt := out[i]
			n := int64(utf8.RuneCountInString(v))
			if tt.count == 0 || n < tt.minLen {
				tt.minLen = n
			}
			tt.maxLen = max(tt.maxLen, n)
			tt.sumLen += n
			tt.count++
			tt.counts[v]++
		}
	}
	return out
}

// TestMergeStreams cuts ascending files at random rows, often inside a run
// of repeats, analyzes the shards with a budget that makes streams of most
// of them (the smallest stay in memory) and merges them in a random tree:
// the figures are exactly those of the whole file in memory. Shards out of
// order merge into sketches that keep their bounds.
func TestMergeStreams(t *testing.T) {
	for _, tc := range []struct {
		name     string
		shards   int
		long     bool
		shuffled bool // shards merged out of order: approximate
	}{
		{"two", 2, false, false},
		{"seven", 7, false, false},
		{"thirty", 30, false, false},
		{"seven-long-values", 7, true, false},
		{"out-of-order", 5, false, true},
	} {
		for trial := range 3 {
			t.Run(fmt.Sprintf("%s/%d", tc.name, trial), func(t *testing.T) {
				header, lines := sortedCSV(uint64(4+trial), 12000, tc.long)
				rng := rand.New(rand.NewPCG(uint64(trial), uint64(tc.shards)))
				bounds := []int{0}
				for i := 1; i < tc.shards; i++ {
					bounds = append(bounds, max(bounds[i-1], i*len(lines)/tc.shards+rng.IntN(200)-100))
				}
				bounds = append(bounds, len(lines))
				var shards [][]string
				for i := 0; i+1 < len(bounds); i++ {
					shards = append(shards, lines[bounds[i]:bounds[i+1]])
				}
				if tc.shuffled {
					rng.Shuffle(len(shards), func(i, j int) { shards[i], shards[j] = shards[j], shards[i] })
					lines = slices.Concat(shards...)
				}
				dir := t.TempDir()
				var ps []*Partial
				streams := 0
				for i, sh := range shards {
					data := strings.Join(sh, "")
					if i == 0 {
						data = header + data
					}
					p := analyzeSorted(t, data, i == 0, Config{MemoryBudget: tinyBudget, TempDir: dir})
					if p.cols[0].cat.st != nil {
						streams++
					}
					ps = append(ps, p)
				}
				if streams == 0 {
					t.Fatal("no shard became a stream; the budget should have made some")
				}
				root := mergeTree(t, rng, ps)
				got := report(t, root, nil)
				if tc.shuffled {
					truth := columnTruths(lines)
					for i, cs := range got.GetColumns() {
						if !checkAgainstTruth(t, cs, truth[i]) {
							t.Errorf("%s: exact figures from shards merged out of order", cs.GetName())
						}
					}
					return
				}
				for i := range root.cols {
					if root.cols[i].cat.st == nil {
						t.Errorf("%s: merged shards in order are not a stream", root.cols[i].name)
					}
				}
				want := report(t, analyzeSorted(t, header+strings.Join(lines, ""), true, Config{MemoryBudget: 1 << 30}), nil)
				checkCategoricalEqual(t, got, want)
			})
		}
	}
}

// TestTradesTimestampStream analyzes a generated trades file with a budget
// its ascending, all distinct timestamps outgrow: the timestamp column
// becomes a stream with exactly the figures of an analysis in memory.
func TestTradesTimestampStream(t *testing.T) {
	data, st := trades(t, 2<<20)
	analyze := func(budget int64) (*Partial, *typev1.Report) {
		p, err := AnalyzePartial(context.Background(), bytes.NewReader(data), tradesSchema(), true, Config{MemoryBudget: budget, TempDir: t.TempDir()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p, report(t, p, nil)
	}
	_, want := analyze(1 << 30)
	p, got := analyze(256 << 10)
	if p.cols[0].cat.st == nil {
		t.Fatal("timestamp: not a stream; the budget should have made it one")
	}
	g, w := got.GetColumns()[0].GetCategorical(), want.GetColumns()[0].GetCategorical()
	if !proto.Equal(g, w) {
		t.Errorf("timestamp: got %v\nwant %v", g, w)
	}
	if g.GetUnique() != st.Rows || !g.GetDistinct().GetExact() || !g.GetTopValuesExact() {
		t.Errorf("timestamp: %d distinct (exact %v, top values exact %v), want exactly %d", g.GetUnique(), g.GetDistinct().GetExact(), g.GetTopValuesExact(), st.Rows)
	}
}
