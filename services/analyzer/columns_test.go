package analyzer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// subReport returns the entries of full for the named columns, in schema
// order, with the correlation submatrix of the selected numeric columns,
// which is what a report of that selection must be.
func subReport(full *typev1.Report, columns []string) *typev1.Report {
	want := &typev1.Report{RowCount: full.GetRowCount()}
	for _, c := range full.GetColumns() {
		if slices.Contains(columns, c.GetName()) {
			want.Columns = append(want.Columns, c)
		}
	}
	m := full.GetCorrelation()
	var keep []int
	for i, name := range m.GetColumns() {
		if slices.Contains(columns, name) {
			keep = append(keep, i)
		}
	}
	if len(keep) > 0 {
		sub := &typev1.CorrelationMatrix{}
		n := len(m.GetColumns())
		for _, i := range keep {
			sub.Columns = append(sub.Columns, m.GetColumns()[i])
			for _, j := range keep {
				sub.Values = append(sub.Values, m.GetValues()[i*n+j])
			}
		}
		want.Correlation = sub
	}
	return want
}

// checkSelected fails t unless got is the report of the selection columns
// of full: the same row count, full's entries of those columns exactly, and
// the correlation submatrix within compareReports' 1e-10, since the
// matrix's accumulation order depends on which columns it covers.
func checkSelected(t *testing.T, got, full *typev1.Report, columns []string) {
	t.Helper()
	want := subReport(full, columns)
	if len(got.GetColumns()) != len(want.GetColumns()) {
		t.Fatalf("%d columns, want %d", len(got.GetColumns()), len(want.GetColumns()))
	}
	for i, w := range want.GetColumns() {
		if g := got.GetColumns()[i]; !proto.Equal(g, w) {
			t.Errorf("column %d:\ngot  %v\nwant %v", i, g, w)
		}
	}
	for _, d := range compareReports(got, want, 0) {
		t.Error(d)
	}
}

func TestColumnSelection(t *testing.T) {
	header, lines := genCSV(5, 2500)
	data := header + strings.Join(lines, "")
	qs := []float64{0.1, 0.5, 0.9}
	for _, tc := range []struct {
		name    string
		columns []string
		cfg     Config
		names   []string // the report's columns, in order
		corr    []string // the correlation matrix's columns
	}{
		{"all-by-empty", nil, Config{}, []string{"ts", "symbol", "price", "qty", "flag", "day", "note", "empty"}, []string{"price", "qty", "empty"}},
		{"out-of-order", []string{"qty", "note", "price"}, Config{}, []string{"price", "qty", "note"}, []string{"price", "qty"}},
		{"one-numeric", []string{"qty"}, Config{}, []string{"qty"}, []string{"qty"}},
		{"no-numeric", []string{"day", "symbol", "ts"}, Config{}, []string{"ts", "symbol", "day"}, nil},
		{"spilled", []string{"note", "price", "ts", "empty"}, Config{MemoryBudget: 8 << 10, fanIn: 3, ExactCategorical: true}, []string{"ts", "price", "note", "empty"}, []string{"price", "empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.TempDir = t.TempDir()
			full := report(t, analyzePartial(t, data, true, cfg), qs)
			cfg.Columns = tc.columns
			got := report(t, analyzePartial(t, data, true, cfg), qs)
			if got.GetRowCount() != int64(len(lines)) {
				t.Errorf("RowCount = %d, want %d", got.GetRowCount(), len(lines))
			}
			var names []string
			for _, c := range got.GetColumns() {
				names = append(names, c.GetName())
			}
			if !slices.Equal(names, tc.names) {
				t.Errorf("columns %q, want %q", names, tc.names)
			}
			if !slices.Equal(got.GetCorrelation().GetColumns(), tc.corr) {
				t.Errorf("correlation columns %q, want %q", got.GetCorrelation().GetColumns(), tc.corr)
			}
			sel := tc.columns
			if len(sel) == 0 {
				sel = tc.names
			}
			checkSelected(t, got, full, sel)
		})
	}
}

// TestColumnSelectionSkipsParsing checks that the values of columns outside
// the selection are not parsed, while the record shape still is checked.
func TestColumnSelectionSkipsParsing(t *testing.T) {
	bad := "ts,symbol,price,qty,flag,day,note,empty\n" +
		"2026-03-02T14:00:00Z,S1,seven,1,true,2026-03-02,x,\n" +
		"nonsense,S2,1.5,2,false,not-a-date,y,\n"
	for _, tc := range []struct {
		name    string
		data    string
		columns []string
		wantErr error
	}{
		{"all-fails", bad, nil, ErrMalformedInput},
		{"bad-columns-unselected", bad, []string{"symbol", "qty", "note"}, nil},
		{"bad-column-selected", bad, []string{"qty", "price"}, ErrMalformedInput},
		{"short-record", "ts,symbol,price,qty,flag,day,note,empty\n2026-03-02T14:00:00Z,S1\n", []string{"symbol"}, ErrMalformedInput},
		{"header-checked", "ts,sym,price,qty,flag,day,note,empty\n", []string{"symbol"}, ErrHeaderMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Analyze(context.Background(), strings.NewReader(tc.data), testSchema(), true, nil, Config{Columns: tc.columns, TempDir: t.TempDir()}, nil)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Analyze error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if rep.GetRowCount() != 2 || len(rep.GetColumns()) != 3 {
				t.Fatalf("RowCount %d with %d columns, want 2 with 3", rep.GetRowCount(), len(rep.GetColumns()))
			}
			if q := rep.GetColumns()[1]; q.GetName() != "qty" || q.GetCount() != 2 || q.GetNumeric().GetSum() != 3 {
				t.Errorf("qty stats %v, want count 2 and sum 3", q)
			}
		})
	}
}

func TestCheckColumns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		columns []string
		wantErr string // "" for none
	}{
		{"empty-selection", nil, ""},
		{"valid", []string{"note", "ts"}, ""},
		{"unknown", []string{"ts", "nope"}, `columns[1] ("nope") is not a field of the schema`},
		{"empty-name", []string{"", "ts"}, "columns[0] is empty"},
		{"duplicate", []string{"ts", "qty", "ts"}, `columns[2] ("ts") repeats columns[0]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckColumns(testSchema(), tc.columns)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckColumns = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidColumns) || !strings.HasSuffix(err.Error(), tc.wantErr) {
				t.Fatalf("CheckColumns = %v, want ErrInvalidColumns ending in %q", err, tc.wantErr)
			}
			if _, err := AnalyzePartial(context.Background(), strings.NewReader(""), testSchema(), false, Config{Columns: tc.columns}, nil); !errors.Is(err, ErrInvalidColumns) {
				t.Errorf("AnalyzePartial = %v, want ErrInvalidColumns", err)
			}
		})
	}
}

func TestMergeWithSelection(t *testing.T) {
	header, lines := genCSV(9, 3000)
	qs := []float64{0.25, 0.5, 0.75}
	columns := []string{"note", "qty", "ts", "price"}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"memory", Config{}},
		{"spilled", Config{MemoryBudget: 8 << 10, fanIn: 3, ExactCategorical: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.TempDir = t.TempDir()
			merged := func(cfg Config) *typev1.Report {
				bounds := []int{0, 700, 701, 1900, len(lines)}
				var ps []*Partial
				for i := 0; i+1 < len(bounds); i++ {
					data := strings.Join(lines[bounds[i]:bounds[i+1]], "")
					if i == 0 {
						data = header + data
					}
					ps = append(ps, analyzePartial(t, data, i == 0, cfg))
				}
				for _, p := range ps[1:] {
					if err := ps[0].Merge(p); err != nil {
						t.Fatalf("Merge: %v", err)
					}
				}
				return report(t, ps[0], qs)
			}
			full := merged(cfg)
			sel := cfg
			sel.Columns = columns
			got := merged(sel)
			checkSelected(t, got, full, columns)
			whole := report(t, analyzePartial(t, header+strings.Join(lines, ""), true, sel), qs)
			for _, d := range compareReports(got, whole, 1e-12) {
				t.Error(d)
			}
		})
	}
	t.Run("different-selections", func(t *testing.T) {
		for _, other := range [][]string{nil, {"note", "qty", "ts"}} {
			a := analyzePartial(t, "", false, Config{Columns: columns})
			b := analyzePartial(t, "", false, Config{Columns: other})
			if err := a.Merge(b); !errors.Is(err, ErrIncompatiblePartials) {
				t.Errorf("Merge with selection %q = %v, want ErrIncompatiblePartials", other, err)
			}
		}
	})
}

func TestServerColumns(t *testing.T) {
	data := "a,b,c\n1,x,2.5\n2,y,\n"
	schema := &typev1.Schema{Fields: []*typev1.Field{
		{Name: "a", Type: typev1.FieldType_FIELD_TYPE_INTEGER},
		{Name: "b", Type: typev1.FieldType_FIELD_TYPE_STRING},
		{Name: "c", Type: typev1.FieldType_FIELD_TYPE_NUMBER},
	}}
	for _, tc := range []struct {
		name       string
		columns    []string
		wantFields []string // BadRequest field violations; nil: success
		wantNames  []string // the report's columns on success
	}{
		{name: "all", columns: nil, wantNames: []string{"a", "b", "c"}},
		{name: "schema-order", columns: []string{"c", "b"}, wantNames: []string{"b", "c"}},
		{name: "unknown", columns: []string{"a", "d"}, wantFields: []string{"columns[1]"}},
		{name: "empty-name", columns: []string{""}, wantFields: []string{"columns[0]"}},
		{name: "duplicate", columns: []string{"b", "a", "b"}, wantFields: []string{"columns[2]"}},
		{name: "several", columns: []string{"x", "a", "", "a"}, wantFields: []string{"columns[0]", "columns[2]", "columns[3]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newDir(t)
			putObject(t, store, "in/data.csv", data)
			ts := startServer(t, store)
			stream, err := ts.client.Analyze(context.Background(), &analyzerv1.AnalyzeRequest{
				Source:         &typev1.ObjectRef{Key: "in/data.csv"},
				RangeHasHeader: true,
				Schema:         schema,
				Columns:        tc.columns,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, results, _, err := collect(stream)
			if tc.wantFields == nil {
				if err != nil || len(results) != 1 {
					t.Fatalf("got %d results and error %v, want one result", len(results), err)
				}
				rep := results[0].GetReport()
				var names []string
				for _, c := range rep.GetColumns() {
					names = append(names, c.GetName())
				}
				if rep.GetRowCount() != 2 || !slices.Equal(names, tc.wantNames) {
					t.Errorf("report of %d rows with columns %q, want 2 rows with %q", rep.GetRowCount(), names, tc.wantNames)
				}
				return
			}
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || len(results) != 0 {
				t.Fatalf("code %v with %d results, want InvalidArgument and none", st.Code(), len(results))
			}
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						fields = append(fields, v.GetField())
					}
				}
			}
			if !slices.Equal(fields, tc.wantFields) {
				t.Errorf("field violations %q, want %q", fields, tc.wantFields)
			}
		})
	}
}
