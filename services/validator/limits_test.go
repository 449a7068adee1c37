package validator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
	"github.com/csvmesh/csvmesh/services/internal/uniq"
)

// wideHeader is a header of n fields c1..cn.
func wideHeader(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i+1)
	}
	return strings.Join(names, ",") + "\n"
}

// TestRunMissingAndExtraCellsOneErrorPerRow checks that a row with many
// missing or extra cells has one error, in the rejects and the sample, while
// the counts count every cell.
func TestRunMissingAndExtraCellsOneErrorPerRow(t *testing.T) {
	const cols, rows = 500, 200
	var in strings.Builder
	in.WriteString(wideHeader(cols))
	for range rows {
		in.WriteString("x\n")
	}
	in.WriteString(strings.Repeat("y,", cols+299) + "z\n") // 300 extra cells
	for _, workers := range []int{1, 3} {
		var rej bytes.Buffer
		var events collector
		res, err := Run(context.Background(), strings.NewReader(in.String()), int64(in.Len()), Outputs{Rejects: &rej},
			Config{Workers: workers, BlockSize: 1000, Options: &typev1.ValidationOptions{ErrorSampleSize: 10000}}, &events)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.GetErrorTotal(), int64(rows*(cols-1)+300); got != want {
			t.Errorf("workers %d: error total %d, want %d", workers, got, want)
		}
		counts := res.GetErrorCounts()
		if len(counts) != cols {
			t.Fatalf("workers %d: %d error counts, want %d", workers, len(counts), cols)
		}
		if c := counts[0]; c.GetType() != "extra-cell" || c.GetFieldNumber() != 0 || c.GetCount() != 300 {
			t.Errorf("workers %d: count 0 = %v, want 300 extra cells", workers, c)
		}
		for f, c := range counts[1:] {
			if c.GetType() != "missing-cell" || c.GetFieldNumber() != int32(f+2) || c.GetFieldName() != fmt.Sprintf("c%d", f+2) || c.GetCount() != rows {
				t.Fatalf("workers %d: count %d = %v, want %d missing cells in field %d", workers, f+1, c, rows, f+2)
			}
		}
		lines := strings.Split(strings.TrimSuffix(rej.String(), "\n"), "\n")
		if len(lines) != rows+2 {
			t.Fatalf("workers %d: rejects has %d lines, want %d", workers, len(lines), rows+2)
		}
		if want := "2,2,2392,missing-cell,row 2: the row has 1 cell but the header has 500: cells 2 to 500 are missing,x"; lines[1] != want {
			t.Errorf("workers %d: rejects line 1 = %q, want %q", workers, lines[1], want)
		}
		if want := `202,202,2792,extra-cell,"row 202: the row has 800 cells but the header has 500: cells 501 to 800 are extra (cell 501: ""y"")",`; !strings.HasPrefix(lines[rows+1], want) {
			t.Errorf("workers %d: rejects last line = %.200q, want it to start %q", workers, lines[rows+1], want)
		}
		errs := events.errors()
		if len(errs) != rows+1 {
			t.Fatalf("workers %d: %d row errors, want %d", workers, len(errs), rows+1)
		}
		if e := errs[0]; e.GetFieldNumber() != 2 || e.GetFieldName() != "c2" || e.GetType() != "missing-cell" {
			t.Errorf("workers %d: first error = %v, want missing-cell at field 2", workers, e)
		}
		if e := errs[rows]; e.GetFieldNumber() != 501 || e.GetValue() != "y" || e.GetType() != "extra-cell" {
			t.Errorf("workers %d: last error = %v, want extra-cell at field 501", workers, e)
		}
	}
}

// TestRunRowErrorCaps checks that a row keeps at most maxRowErrors errors
// with messages and maxRowMessageBytes of messages, and that all its
// errors are counted.
func TestRunRowErrorCaps(t *testing.T) {
	const cols = 150
	specs := make([]string, cols)
	for i := range specs {
		specs[i] = fmt.Sprintf("c%d:integer", i+1)
	}
	short := strings.Repeat("x,", cols-1) + "x\n"
	long := strings.Repeat(strings.Repeat("é", 100)+",", cols-1) + "z\n"
	in := wideHeader(cols) + short + long
	var rej bytes.Buffer
	var events collector
	res, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{Rejects: &rej},
		Config{Schema: schema(specs...), Options: &typev1.ValidationOptions{ErrorSampleSize: 10000}}, &events)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetErrorTotal() != 2*cols || len(res.GetErrorCounts()) != cols || res.GetErrorCounts()[cols-1].GetCount() != 2 {
		t.Errorf("error total %d, counts %v: want every error counted", res.GetErrorTotal(), res.GetErrorCounts())
	}
	if n := len(events.errors()); n != 2*maxRowErrors {
		t.Errorf("%d row errors, want %d", n, 2*maxRowErrors)
	}
	lines := strings.Split(rej.String(), "\n")
	msgs := strings.Split(lines[1], ",")
	msg := strings.Join(msgs[4:len(msgs)-cols], ",")
	if !strings.HasSuffix(msg, `row 2, field 100 (""c100""): ""x"" is not an integer; and 50 more errors"`) {
		t.Errorf("row 2's messages end %q, want 100 messages and a note of the 50 more", msg[max(0, len(msg)-120):])
	}
	if got := strings.Count(msg, "is not an integer"); got != maxRowErrors {
		t.Errorf("row 2 has %d messages, want %d", got, maxRowErrors)
	}
	const prefix = `3,3,` // row, line
	if !strings.HasPrefix(lines[2], prefix) {
		t.Fatalf("rejects line 2 = %.100q", lines[2])
	}
	// The messages field is quoted; ""é"" values double the quotes.
	end := strings.Index(lines[2], "…\",")
	if end < 0 {
		t.Fatalf("row 3's messages are not cut: %.300q", lines[2])
	}
	start := strings.Index(lines[2], ",\"row 3") + 2
	unquoted := strings.ReplaceAll(lines[2][start:end+len("…")], `""`, `"`)
	if len(unquoted) > maxRowMessageBytes || len(unquoted) < maxRowMessageBytes-4 {
		t.Errorf("row 3's messages are %d bytes, want about %d", len(unquoted), maxRowMessageBytes)
	}
}

func TestCheckerBudget(t *testing.T) {
	tests := []struct {
		total int64
		n     int
		want  int64
	}{
		{total: 64 << 20, n: 1, want: 64 << 20},
		{total: 64 << 20, n: 4, want: 16 << 20},
		{total: 0, n: 2, want: uniq.DefaultMemBudget / 2},
		{total: 3, n: 10, want: 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d", tc.total, tc.n), func(t *testing.T) {
			if got := checkerBudget(tc.total, tc.n); got != tc.want {
				t.Errorf("checkerBudget(%d, %d) = %d, want %d", tc.total, tc.n, got, tc.want)
			}
		})
	}
}

// TestRunLongNames checks that long field names are cut in row errors,
// messages and counts, and that an inferred schema refuses a name it could
// not hold.
func TestRunLongNames(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	cut := strings.Repeat("é", 126) + "…"
	in := "id," + long + "\n1\n"
	var rej bytes.Buffer
	var events collector
	res, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{Rejects: &rej}, Config{}, &events)
	if err != nil {
		t.Fatal(err)
	}
	errs := events.errors()
	if len(errs) != 1 || errs[0].GetFieldName() != cut {
		t.Fatalf("row errors = %v, want one with the name cut to %d bytes", errs, len(cut))
	}
	if want := `row 2: the row has 1 cell but the header has 2: cell 2 ("` + cut + `") is missing`; errs[0].GetMessage() != want {
		t.Errorf("message = %q, want %q", errs[0].GetMessage(), want)
	}
	if c := res.GetErrorCounts(); len(c) != 1 || c[0].GetFieldName() != cut {
		t.Errorf("error counts = %v, want the name cut", c)
	}
	if strings.Contains(rej.String(), long) {
		t.Errorf("rejects hold the whole name: %q", rej.String())
	}

	in = "id," + strings.Repeat("n", tableschema.MaxNameBytes+1) + "\n1,2\n"
	_, err = Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{}, Config{}, nil)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Type != ViolationMalformedHeader || !strings.Contains(fe.Msg, "1025 bytes long") {
		t.Errorf("Run with a %d-byte name = %v, want a MALFORMED_HEADER FileError", tableschema.MaxNameBytes+1, err)
	}
}

// TestRunSampleBytes checks that the error sample and its batches are
// bounded in bytes.
func TestRunSampleBytes(t *testing.T) {
	value := strings.Repeat("v", MaxValueBytes)
	var in strings.Builder
	in.WriteString("n\n")
	const rows = 20000 // ~10 MB of errors
	for range rows {
		in.WriteString(value + "\n")
	}
	var events collector
	res, err := Run(context.Background(), strings.NewReader(in.String()), int64(in.Len()), Outputs{},
		Config{Schema: schema("n:integer"), ErrorBatchSize: 1000, Options: &typev1.ValidationOptions{ErrorSampleSize: MaxErrorSampleSize}}, &events)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetErrorTotal() != rows {
		t.Errorf("error total %d, want %d", res.GetErrorTotal(), rows)
	}
	total := 0
	for i, b := range events.batches {
		size := 0
		for _, e := range b.GetErrors() {
			size += rowErrorBytes(e)
		}
		if size > maxBatchBytes+1024 {
			t.Errorf("batch %d: %d bytes, want at most about %d", i, size, maxBatchBytes)
		}
		total += size
	}
	if total > maxSampleBytes+1024 || total < maxSampleBytes {
		t.Errorf("sample: %d bytes, want about %d", total, maxSampleBytes)
	}
	if n := len(events.errors()); n >= MaxErrorSampleSize {
		t.Errorf("sample: %d errors, want fewer than %d", n, MaxErrorSampleSize)
	}
}

// TestRunUniqueInRowsWithWrongCellCounts checks that the key cells of a
// row with missing or extra cells are keyed.
func TestRunUniqueInRowsWithWrongCellCounts(t *testing.T) {
	pk := schema("k:string", "v:integer")
	pk.PrimaryKey = []string{"k"}
	tests := []struct {
		name   string
		schema *typev1.Schema
		in     string
		want   []string // the row errors' messages
	}{
		{
			name:   "unique, extra cell first",
			schema: schema("k:string~", "v:integer"),
			in:     "k,v\na,1,extra\na,2\n",
			want: []string{
				`row 2: the row has 3 cells but the header has 2: cell 3 is extra: "extra"`,
				`row 3, field 1 ("k"): "a" is also in row 2 (unique)`,
			},
		},
		{
			name:   "unique, missing cell later",
			schema: schema("k:string~", "v:integer"),
			in:     "k,v\na,1\na\n",
			want: []string{
				`row 3, field 1 ("k"): "a" is also in row 2 (unique)`,
				`row 3: the row has 1 cell but the header has 2: cell 2 ("v") is missing`,
			},
		},
		{
			name:   "missing unique cell is not a key",
			schema: schema("v:integer", "k:string~"),
			in:     "v,k\n1\n2\n",
			want: []string{
				`row 2: the row has 1 cell but the header has 2: cell 2 ("k") is missing`,
				`row 3: the row has 1 cell but the header has 2: cell 2 ("k") is missing`,
			},
		},
		{
			name:   "primary key",
			schema: pk,
			in:     "k,v\na,1,extra\na\n",
			want: []string{
				`row 2: the row has 3 cells but the header has 2: cell 3 is extra: "extra"`,
				`row 3: the row has 1 cell but the header has 2: cell 2 ("v") is missing`,
				`row 3: primary key ("k") = ("a") is also the key of row 2`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var events collector
			_, err := Run(context.Background(), strings.NewReader(tc.in), int64(len(tc.in)), Outputs{}, Config{Schema: tc.schema}, &events)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range events.errors() {
				got = append(got, e.GetMessage())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestRunRequiredAfterTransforms checks that a value its transforms leave
// empty fails required, and has no unique key.
func TestRunRequiredAfterTransforms(t *testing.T) {
	s := schema("id:integer", "name:string!", "tag:string~")
	s.Fields[1].Transforms = []typev1.Transform{typev1.Transform_TRANSFORM_TRIM}
	s.Fields[2].Transforms = []typev1.Transform{typev1.Transform_TRANSFORM_TRIM}
	in := "id,name,tag\n1,  ,x\n2, b , \n3,c,  \n"
	for _, workers := range []int{1, 2} {
		var norm, rej bytes.Buffer
		_, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{Normalized: &norm, Rejects: &rej},
			Config{Schema: s, Workers: workers, BlockSize: 8}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := "id,name,tag\n2,b,\n3,c,\n"; norm.String() != want {
			t.Errorf("workers %d: normalized = %q, want %q", workers, norm.String(), want)
		}
		if want := rejectsHeader + "2,2,12,constraint-error,\"row 2, field 2 (\"\"name\"\"): a value is required but it is missing\",\"1,  ,x\"\n"; rej.String() != want {
			t.Errorf("workers %d: rejects = %q, want %q", workers, rej.String(), want)
		}
	}
}

// TestRunUniqueNeutralized checks that unique keys are the values before
// formula neutralization.
func TestRunUniqueNeutralized(t *testing.T) {
	in := "k\n=A\n'=A\n=A\n"
	var events collector
	var norm bytes.Buffer
	_, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{Normalized: &norm},
		Config{Schema: schema("k:string~"), Options: &typev1.ValidationOptions{NeutralizeFormulas: true}}, &events)
	if err != nil {
		t.Fatal(err)
	}
	if want := "k\n'=A\n'=A\n"; norm.String() != want {
		t.Errorf("normalized = %q, want %q", norm.String(), want)
	}
	errs := events.errors()
	if len(errs) != 1 || errs[0].GetMessage() != `row 4, field 1 ("k"): "=A" is also in row 2 (unique)` {
		t.Errorf("errors = %v, want only row 4's", errs)
	}
}

// TestRunUniqueByValue checks that unique and primary keys compare values,
// not their texts.
func TestRunUniqueByValue(t *testing.T) {
	pk := schema("at:datetime", "n:number")
	pk.PrimaryKey = []string{"at", "n"}
	tests := []struct {
		name   string
		schema *typev1.Schema
		in     string
		want   []string
	}{
		{
			name:   "numbers",
			schema: schema("n:number~"),
			in:     "n\n1.0\n1.00\n1e0\n-0\n0\n2\n",
			want: []string{
				`row 3, field 1 ("n"): "1.00" is also in row 2 (unique)`,
				`row 4, field 1 ("n"): "1e0" is also in row 2 (unique)`,
				`row 6, field 1 ("n"): "0" is also in row 5 (unique)`,
			},
		},
		{
			name:   "datetimes",
			schema: schema("at:datetime~"),
			in:     "at\n2024-01-02T03:04:05Z\n2024-01-02T05:04:05+02:00\n2024-01-02T03:04:05\n",
			want:   []string{`row 3, field 1 ("at"): "2024-01-02T05:04:05+02:00" is also in row 2 (unique)`},
		},
		{
			name:   "primary key",
			schema: pk,
			in:     "at,n\n2024-01-02T03:04:05Z,1.5\n2024-01-02T03:04:05+00:00,15e-1\n",
			want:   []string{`row 3: primary key ("at", "n") = ("2024-01-02T03:04:05+00:00", "15e-1") is also the key of row 2`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var events collector
			_, err := Run(context.Background(), strings.NewReader(tc.in), int64(len(tc.in)), Outputs{}, Config{Schema: tc.schema}, &events)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range events.errors() {
				got = append(got, e.GetMessage())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
