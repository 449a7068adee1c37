package ingest

import (
	"fmt"
	"math"
	"slices"
	"strings"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

const (
	// MaxPercentiles is the most percentiles an upload's analysis options
	// may ask for.
	MaxPercentiles = 100
	// MaxAnalysisColumns is the most columns an upload's analysis options
	// may name.
	MaxAnalysisColumns = 4096
)

// median is the percentile always reported, as pandas' describe() does.
const median = 0.5

// checkAnalysisOptions checks the analysis options given at upload, apart
// from whether the columns exist (see checkColumnsInSchema): each
// percentile must be in [0, 1] and given once, each column non-empty and
// given once, and neither list longer than its limit.
func checkAnalysisOptions(o *ingestv1.AnalysisOptions) error {
	if o == nil {
		return nil
	}
	const prefix = "metadata.analysis_options."
	ps := o.GetPercentiles()
	if len(ps) > MaxPercentiles {
		return invalidField(prefix+"percentiles", "at most %d percentiles may be asked for; got %d", MaxPercentiles, len(ps))
	}
	seenP := make(map[float64]int, len(ps))
	for i, p := range ps {
		field := fmt.Sprintf("%spercentiles[%d]", prefix, i)
		if math.IsNaN(p) || p < 0 || p > 1 {
			return invalidField(field, "a percentile is a fraction in [0, 1], such as 0.9 for the 90th; got %v", p)
		}
		if j, ok := seenP[p]; ok {
			return invalidField(field, "the percentile %v is already given as percentiles[%d]", p, j)
		}
		seenP[p] = i
	}
	cs := o.GetColumns()
	if len(cs) > MaxAnalysisColumns {
		return invalidField(prefix+"columns", "at most %d columns may be named; got %d", MaxAnalysisColumns, len(cs))
	}
	seenC := make(map[string]int, len(cs))
	for i, c := range cs {
		field := fmt.Sprintf("%scolumns[%d]", prefix, i)
		if c == "" {
			return invalidField(field, "a column name cannot be empty")
		}
		if j, ok := seenC[c]; ok {
			return invalidField(field, "the column %q is already given as columns[%d]", c, j)
		}
		seenC[c] = i
	}
	return nil
}

// checkColumnsInSchema checks that every column of the analysis options is
// a field of the schema given at upload; a column that is not is a field
// violation naming it.
func checkColumnsInSchema(o *ingestv1.AnalysisOptions, schema *typev1.Schema) error {
	if schema == nil {
		return nil
	}
	i, name := missingColumn(o.GetColumns(), schema)
	if i < 0 {
		return nil
	}
	return invalidField(fmt.Sprintf("metadata.analysis_options.columns[%d]", i),
		"the column %q is not a field of the table schema; its fields are %s", name, fieldList(schema))
}

// missingColumn returns the index and name of the first of columns that is
// not a field of schema, or -1 when all are.
func missingColumn(columns []string, schema *typev1.Schema) (int, string) {
	if len(columns) == 0 {
		return -1, ""
	}
	names := make(map[string]struct{}, len(schema.GetFields()))
	for _, f := range schema.GetFields() {
		names[f.GetName()] = struct{}{}
	}
	for i, c := range columns {
		if _, ok := names[c]; !ok {
			return i, c
		}
	}
	return -1, ""
}

// maxListedFields is how many field names a message about a missing column
// quotes.
const maxListedFields = 20

// fieldList is the schema's field names for a message: quoted, separated by
// commas, the first maxListedFields of them.
func fieldList(schema *typev1.Schema) string {
	fields := schema.GetFields()
	var b strings.Builder
	for i, f := range fields[:min(len(fields), maxListedFields)] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", f.GetName())
	}
	if more := len(fields) - maxListedFields; more > 0 {
		fmt.Fprintf(&b, " and %d more", more)
	}
	if len(fields) == 0 {
		return "none"
	}
	return b.String()
}

// columnsFailure is the reason a job fails when a column of its analysis
// options is not a field of the schema its rows were validated against
// (inferred, or given), or "" when all are.
func columnsFailure(o *ingestv1.AnalysisOptions, schema *typev1.Schema) string {
	i, name := missingColumn(o.GetColumns(), schema)
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("the analysis options name the column %q (columns[%d]), which the file does not have; its columns are %s",
		name, i, fieldList(schema))
}

// analyzerQuantiles are the quantiles the analyzer is asked for: nil (its
// default, 0.25, 0.5 and 0.75) when the job's options give no percentiles,
// else the percentiles with the median added when missing, ascending, as
// pandas' describe(percentiles=...) reports them.
func analyzerQuantiles(o *ingestv1.AnalysisOptions) []float64 {
	ps := o.GetPercentiles()
	if len(ps) == 0 {
		return nil
	}
	qs := slices.Clone(ps)
	if !slices.Contains(qs, median) {
		qs = append(qs, median)
	}
	slices.Sort(qs)
	return qs
}
