package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// analysisRows is the number of data rows of analysisCSV: enough distinct
// ids to outgrow a 1 MiB analyzer budget.
const analysisRows = 60000

// analysisCSV returns a file with a unique id per row in scrambled order
// (row i has id i*7919 mod analysisRows, a permutation), the same ids in
// ascending order (seq), a side with two values (BUY three times out of
// four), and a price i/10 for row i.
func analysisCSV() []byte {
	var b strings.Builder
	b.WriteString("id,seq,side,price\n")
	for i := range analysisRows {
		side := "BUY"
		if i%4 == 3 {
			side = "SELL"
		}
		fmt.Fprintf(&b, "trade-%07d,trade-%07d,%s,%d.%d\n", i*7919%analysisRows, i, side, i/10, i%10)
	}
	return []byte(b.String())
}

// TestAnalysisOptionsEndToEnd uploads one file to four real processes whose
// analyzer has a 1 MiB memory budget, once over gRPC with percentiles and a
// column selection and once through the REST gateway asking for exact
// categorical statistics, and checks the reports: the selection and the
// percentiles are honoured, the scrambled id column is sketched past the
// budget with its error stated (and the estimate within it) while the
// ascending seq column stays exact, and id is exact when asked.
func TestAnalysisOptionsEndToEnd(t *testing.T) {
	m := startMesh4(t, "--memory-budget=1MiB")
	c := newClient(t, m.ingestAddr)
	data := analysisCSV()

	t.Run("percentiles and columns over gRPC, sketches past the budget", func(t *testing.T) {
		job := c.uploadWith(t, &ingestv1.UploadMetadata{
			FileName:        "ids.csv",
			AnalysisOptions: &ingestv1.AnalysisOptions{Percentiles: []float64{0.9, 0.1}, Columns: []string{"price", "seq", "id"}},
		}, data)
		done := c.finished(t, job.GetName())
		if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
			t.Fatalf("job ended %s (%q)", done.GetState(), done.GetFailureReason())
		}
		rep := done.GetReport()
		var names []string
		for _, col := range rep.GetColumns() {
			names = append(names, col.GetName())
		}
		if !slices.Equal(names, []string{"id", "seq", "price"}) || rep.GetRowCount() != analysisRows {
			t.Fatalf("report columns %q over %d rows, want [id seq price] (file order) over %d", names, rep.GetRowCount(), analysisRows)
		}
		// An ascending column stays exact past the budget in O(1) memory.
		seq := column(rep, "seq").GetCategorical()
		if d := seq.GetDistinct(); !d.GetExact() || d.GetValue() != analysisRows || seq.GetTop() != "trade-0000000" || seq.GetFreq() != 1 || !seq.GetTopValuesExact() {
			t.Errorf("seq distinct %v top %q freq %d exact %v, want exactly %d distinct, top trade-0000000 once",
				d, seq.GetTop(), seq.GetFreq(), seq.GetTopValuesExact(), analysisRows)
		}
		// price is i/10 for i in [0, 60000): numpy's linear quantile q is
		// q*59999/10.
		price := column(rep, "price").GetNumeric()
		var qs []float64
		for _, p := range price.GetPercentiles() {
			qs = append(qs, p.GetQuantile())
			if want := p.GetQuantile() * 59999 / 10; !near(p.GetValue(), want) || !p.GetExact() {
				t.Errorf("price percentile %g = %v (exact %v), want %v exactly", p.GetQuantile(), p.GetValue(), p.GetExact(), want)
			}
		}
		if !slices.Equal(qs, []float64{0.1, 0.5, 0.9}) {
			t.Errorf("price percentiles at %v, want 0.1, 0.5 (always added) and 0.9", qs)
		}
		id := column(rep, "id").GetCategorical()
		d := id.GetDistinct()
		if d.GetExact() || d.GetRelativeError() <= 0 || d.GetRelativeError() > 0.01 {
			t.Errorf("id distinct %v: want an estimate with its relative error (HyperLogLog), the column being over the budget", d)
		}
		if rel := math.Abs(float64(d.GetValue())-analysisRows) / analysisRows; rel > 3*d.GetRelativeError() {
			t.Errorf("id distinct estimate %d is %.4f off the true %d, more than 3 standard errors (%g)", d.GetValue(), rel, analysisRows, d.GetRelativeError())
		}
		if id.GetUnique() != d.GetValue() || id.GetTopValuesExact() || id.GetTopValuesMaxError() <= 0 {
			t.Errorf("id unique %d, top_values_exact %v, max error %d: want unique = the estimate and approximate top values with a bound",
				id.GetUnique(), id.GetTopValuesExact(), id.GetTopValuesMaxError())
		}
		if id.GetFreq()-id.GetTopValuesMaxError() > 1 {
			t.Errorf("id freq %d with max error %d: every id occurs once, so freq - error must be at most 1", id.GetFreq(), id.GetTopValuesMaxError())
		}
		// The downloadable report is the job's report.
		_, body, err := downloadAll(c, done.GetName()+"/artifacts/report")
		if err != nil {
			t.Fatal(err)
		}
		var fromFile typev1.Report
		if err := protojson.Unmarshal(body, &fromFile); err != nil {
			t.Fatalf("report artifact: %v", err)
		}
		if column(&fromFile, "id").GetCategorical().GetDistinct().GetValue() != d.GetValue() {
			t.Errorf("report artifact's id distinct %v, the job's %v", column(&fromFile, "id").GetCategorical().GetDistinct(), d)
		}
	})

	t.Run("exact categorical statistics over REST", func(t *testing.T) {
		name := restUpload(t, m.gatewayAddr, "ids.csv", [][2]string{{"exact_categorical", "true"}, {"columns", "id,side"}}, data)
		done := c.finished(t, name)
		if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
			t.Fatalf("job ended %s (%q)", done.GetState(), done.GetFailureReason())
		}
		if !done.GetAnalysisOptions().GetExactCategorical() {
			t.Errorf("job's analysis options %v lack exact_categorical", done.GetAnalysisOptions())
		}
		id := column(done.GetReport(), "id").GetCategorical()
		if d := id.GetDistinct(); !d.GetExact() || d.GetValue() != analysisRows || id.GetUnique() != analysisRows {
			t.Errorf("id distinct %v unique %d, want exactly %d", d, id.GetUnique(), analysisRows)
		}
		// pandas: every id once, so top is the first one with freq 1.
		if id.GetTop() != "trade-0000000" || id.GetFreq() != 1 || !id.GetTopValuesExact() {
			t.Errorf("id top %q freq %d exact %v, want trade-0000000, 1, exact", id.GetTop(), id.GetFreq(), id.GetTopValuesExact())
		}
		side := column(done.GetReport(), "side").GetCategorical()
		var counts []string
		for _, v := range side.GetTopValues() {
			counts = append(counts, fmt.Sprintf("%s=%d", v.GetValue(), v.GetCount()))
		}
		if want := []string{"BUY=45000", "SELL=15000"}; !slices.Equal(counts, want) || side.GetUnique() != 2 {
			t.Errorf("side top values %q unique %d, want %q and 2", counts, side.GetUnique(), want)
		}
		if column(done.GetReport(), "price") != nil {
			t.Errorf("price is in the report though the columns were id and side")
		}
	})
}
