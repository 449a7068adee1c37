package main

import (
	"math"
	"strings"
	"testing"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// fullReport has every kind of figure: a numeric column with approximate
// percentiles, an exact integer column, a text column with lengths, a
// datetime column, an all-missing number, and the correlation matrix.
func fullReport() *typev1.Report {
	share := func(v float64) *float64 { return &v }
	pcts := func(exact bool, rankErr float64, vs ...float64) []*typev1.Percentile {
		qs := []float64{0.25, 0.5, 0.75}
		out := make([]*typev1.Percentile, len(qs))
		for i, q := range qs {
			out[i] = &typev1.Percentile{Quantile: q, Exact: exact, RankError: rankErr}
			if vs != nil {
				out[i].Value = f64(vs[i])
			}
		}
		return out
	}
	return &typev1.Report{RowCount: 1000000, Columns: []*typev1.ColumnStats{
		{Name: "price", Type: typev1.FieldType_FIELD_TYPE_NUMBER, Count: 999000, NullCount: 1000, NullShare: share(0.001), Numeric: &typev1.NumericStats{
			Mean: f64(101.25), Std: f64(2.5), Min: f64(-3), Max: f64(1e9), Percentiles: pcts(false, 0.013294757464848584, 99.75, 101, 102.5),
			Sum: 101148750, Variance: f64(6.25), Skewness: f64(0.125), Kurtosis: f64(-1.2), NegativeCount: 2, ZeroCount: 0, PositiveCount: 998998,
		}},
		{Name: "qty", Type: typev1.FieldType_FIELD_TYPE_INTEGER, Count: 1000000, NullShare: share(0), Numeric: &typev1.NumericStats{
			Mean: f64(250), Std: f64(10), Min: f64(0), Max: f64(400), Percentiles: pcts(true, 0, 175, 250, 325),
			Sum: 250000000, Variance: f64(100), Skewness: f64(0), Kurtosis: f64(0.5), ZeroCount: 10, PositiveCount: 999990,
		}},
		{Name: "city", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: 1000000, NullShare: share(0), Categorical: &typev1.CategoricalStats{
			Unique: 3, Top: "Zürich", Freq: 500000, MinLength: 2, MaxLength: 6, MeanLength: f64(4.25),
			Distinct: &typev1.DistinctCount{Value: 3, Exact: true},
		}},
		{Name: "ts", Type: typev1.FieldType_FIELD_TYPE_DATETIME, Count: 1000000, NullShare: share(0),
			Categorical: &typev1.CategoricalStats{Unique: 1000000, Top: "2026-03-02T14:00:00Z", Freq: 1, MinLength: 20, MaxLength: 27, MeanLength: f64(26.5),
				Distinct: &typev1.DistinctCount{Value: 1000000, Exact: true}},
			Datetime: &typev1.DatetimeStats{
				Mean: strPtr("2026-03-02 14:30:00.5"), Min: strPtr("2026-03-02 14:00:00"), Max: strPtr("2026-03-02 15:00:00.123456789"),
				Percentiles:     pcts(true, 0, 1, 2, 3),
				PercentileTimes: []string{"2026-03-02 14:15:00", "2026-03-02 14:30:00", "2026-03-02 14:45:00.250000"},
			}},
		{Name: "empty", Type: typev1.FieldType_FIELD_TYPE_NUMBER, NullCount: 1000000, NullShare: share(1), Numeric: &typev1.NumericStats{Percentiles: pcts(true, 0)}},
	}, Correlation: &typev1.CorrelationMatrix{
		Columns: []string{"price", "qty", "empty"},
		Values:  []float64{1, -0.0123456789, math.NaN(), -0.0123456789, 1, math.NaN(), math.NaN(), math.NaN(), math.NaN()},
	}}
}

func strPtr(s string) *string { return &s }

const fullReportTable = `rows: 1000000

                 price        qty     city                             ts    empty
type            number    integer   string                       datetime   number
count           999000    1000000  1000000                        1000000        0
missing           1000          0        0                              0  1000000
null share       0.001          0        0                              0        1
unique             NaN        NaN        3                        1000000      NaN
top                NaN        NaN   Zürich           2026-03-02T14:00:00Z      NaN
freq               NaN        NaN   500000                              1      NaN
min len            NaN        NaN        2                             20      NaN
max len            NaN        NaN        6                             27      NaN
mean len           NaN        NaN     4.25                           26.5      NaN
mean            101.25        250      NaN          2026-03-02 14:30:00.5      NaN
std                2.5         10      NaN                            NaN      NaN
min                 -3          0      NaN            2026-03-02 14:00:00      NaN
25%             ~99.75        175      NaN            2026-03-02 14:15:00      NaN
50%               ~101        250      NaN            2026-03-02 14:30:00      NaN
75%             ~102.5        325      NaN     2026-03-02 14:45:00.250000      NaN
max         1000000000        400      NaN  2026-03-02 15:00:00.123456789      NaN
sum          101148750  250000000      NaN                            NaN        0
var               6.25        100      NaN                            NaN      NaN
skew             0.125          0      NaN                            NaN      NaN
kurt              -1.2        0.5      NaN                            NaN      NaN
negative             2          0      NaN                            NaN        0
zero                 0         10      NaN                            NaN        0
positive        998998     999990      NaN                            NaN        0

~ approximate (KLL sketch): with 99% confidence, the rank of each ~ percentile is within ±1.33% of the count of the exact one's.

correlation (Pearson)

           price        qty  empty
price          1  -0.012346    NaN
qty    -0.012346          1    NaN
empty        NaN        NaN    NaN
`

func TestWriteFullReport(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report *typev1.Report
		want   string
	}{
		{"every figure", fullReport(), fullReportTable},
		{"approximate distinct count", &typev1.Report{RowCount: 2, Columns: []*typev1.ColumnStats{
			{Name: "id", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: 2, Categorical: &typev1.CategoricalStats{
				Unique: 2, Top: "a", Freq: 1, Distinct: &typev1.DistinctCount{Value: 2, RelativeError: 0.0081},
			}},
		}}, approxDistinctTable},
		{"approximate top values", &typev1.Report{RowCount: 9000, Columns: []*typev1.ColumnStats{
			{Name: "id", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: 9000, Categorical: &typev1.CategoricalStats{
				Unique: 8950, Top: "a", Freq: 12, Distinct: &typev1.DistinctCount{Value: 8950, RelativeError: 0.0081},
				TopValuesMaxError: 8, TopValues: []*typev1.ValueCount{{Value: "a", Count: 12}},
			}},
			{Name: "side", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: 9000, Categorical: &typev1.CategoricalStats{
				Unique: 2, Top: "BUY", Freq: 6000, Distinct: &typev1.DistinctCount{Value: 2, Exact: true}, TopValuesExact: true,
			}},
		}}, approxTopTable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeReport(&b, tc.report, 100); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

const approxTopTable = `rows: 9000

             id    side
type     string  string
count      9000    9000
missing       0       0
unique    ~8950       2
top           a     BUY
freq        ~12    6000

~ unique (HyperLogLog): relative standard error 0.81%; within 3 times that of the true count with 99.7% confidence.
~ freq (SpaceSaving): an upper bound, at most 8 over the true count; a value more frequent than 8 is never missed.
`

const approxDistinctTable = `rows: 2

             id
type     string
count         2
missing       0
unique       ~2
top           a
freq          1

~ unique (HyperLogLog): relative standard error 0.81%; within 3 times that of the true count with 99.7% confidence.
`
