package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// Report table layout.
const (
	// defaultReportWidth is the line width report tables are fitted to.
	defaultReportWidth = 100
	// maxReportCell bounds the width of one cell (column names, top
	// values); longer ones are cut with "…".
	maxReportCell = 24
	// reportGap is the space between two table columns.
	reportGap = 2
	// nan marks a statistic that does not apply or is unset, as in pandas.
	nan = "NaN"
)

// reportCommand is `csvctl report`.
func reportCommand() *command {
	return &command{
		name:    "report",
		args:    "JOB",
		nargs:   1,
		summary: "Print a job's statistical report like pandas describe().",
		details: `
The table has one column per CSV column and one row per statistic: type,
count, missing, null share, then unique, top and freq and the shortest,
longest and mean length in characters (non-numeric columns), mean, std, min,
percentiles and max (numeric columns, and date and datetime columns as UTC
times), then sum, variance, skewness, kurtosis and the numbers of negative,
zero and positive values (numeric columns). NaN marks a statistic that does
not apply to a column or is undefined (such as std of one value). A figure
marked ~ is approximate (the column outgrew the analyzer's memory budget):
percentiles from a KLL sketch, unique from HyperLogLog, freq from
SpaceSaving; a footnote under the table gives each bound. The Pearson correlation matrix of the numeric
columns follows the table. Columns that do not fit in --width are continued
in further blocks, like pandas does; numbers are printed with at most 6
decimals.`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			out := outputFlag(fs)
			width := defaultReportWidth
			fs.IntVar(&width, "width", width, "fit the table in `N` columns")
			return func(ctx context.Context, args []string) int {
				name, err := jobName(args[0])
				if err != nil {
					return a.usageError(lookupCommand("report"), err.Error())
				}
				client, closeConn, err := a.connect()
				if err != nil {
					return a.fail(ctx, "report "+name, err)
				}
				defer closeConn()
				job, err := a.getJob(ctx, client, name)
				if err != nil {
					return a.fail(ctx, "report "+name, err)
				}
				if job.GetReport() == nil {
					return a.fail(ctx, "report "+name, fmt.Errorf("the job has no report (state %s)", stateName(job.GetState())))
				}
				if *out == outputJSON {
					err = writeJSON(a.stdout, job.GetReport())
				} else {
					err = writeReport(a.stdout, job.GetReport(), width)
				}
				if err != nil {
					return a.fail(ctx, "print report", err)
				}
				return exitOK
			}
		},
	}
}

// reportRow is one statistic of the report table.
type reportRow struct {
	label string
	cells []string
	whole bool // cells are never cut (times, numbers)
}

// approxMark prefixes an approximate figure.
const approxMark = "~"

// writeReport writes r as a table in the layout of pandas
// describe(include="all"), preceded by the row count and fitted to width.
func writeReport(w io.Writer, r *typev1.Report, width int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "rows: %d\n", r.GetRowCount())
	cols := r.GetColumns()
	if len(cols) == 0 {
		b.WriteString("no columns\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteByte('\n')
	headers, rows := reportTable(cols)
	layoutTable(&b, headers, rows, width)
	// Footnotes for approximate figures, after one blank line.
	var notes []string
	if rankErr := maxRankError(cols); rankErr > 0 {
		notes = append(notes, fmt.Sprintf("%s approximate (KLL sketch): with 99%% confidence, the rank of each %s percentile is within ±%s%% of the count of the exact one's.",
			approxMark, approxMark, formatNumber(math.Round(rankErr*1e4)/1e2)))
	}
	if e := maxDistinctError(cols); e > 0 {
		notes = append(notes, fmt.Sprintf("%s unique (HyperLogLog): relative standard error %s%%; within 3 times that of the true count with 99.7%% confidence.",
			approxMark, formatNumber(math.Round(e*1e4)/1e2)))
	}
	if e := maxTopError(cols); e > 0 {
		notes = append(notes, fmt.Sprintf("%s freq (SpaceSaving): an upper bound, at most %d over the true count; a value more frequent than %d is never missed.",
			approxMark, e, e))
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	if m := r.GetCorrelation(); m != nil && len(m.GetColumns()) > 0 && len(m.GetValues()) == len(m.GetColumns())*len(m.GetColumns()) {
		b.WriteString("\ncorrelation (Pearson)\n\n")
		n := len(m.GetColumns())
		headers := make([]string, n)
		rows := make([]reportRow, n)
		for i, name := range m.GetColumns() {
			headers[i] = displayText(name)
			rows[i] = reportRow{label: truncate(displayText(name), maxReportCell), cells: make([]string, n)}
			for j := range n {
				rows[i].cells[j] = formatNumber(m.GetValues()[i*n+j])
			}
		}
		layoutTable(&b, headers, rows, width)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxRankError returns the largest rank error of an approximate percentile
// of cols, or 0 when every percentile is exact.
func maxRankError(cols []*typev1.ColumnStats) float64 {
	var e float64
	for _, c := range cols {
		for _, p := range slices.Concat(c.GetNumeric().GetPercentiles(), c.GetDatetime().GetPercentiles()) {
			if !p.GetExact() {
				e = max(e, p.GetRankError())
			}
		}
	}
	return e
}

// approxTop reports whether the most frequent values of s come from a
// sketch.
func approxTop(s *typev1.CategoricalStats) bool {
	return s != nil && !s.GetTopValuesExact() && s.GetTopValuesMaxError() > 0
}

// maxDistinctError returns the largest relative error of an estimated
// distinct count of cols, or 0 when every one is exact.
func maxDistinctError(cols []*typev1.ColumnStats) float64 {
	var e float64
	for _, c := range cols {
		if d := c.GetCategorical().GetDistinct(); d != nil && !d.GetExact() {
			e = max(e, d.GetRelativeError())
		}
	}
	return e
}

// maxTopError returns the largest error bound of sketched top values of
// cols, or 0 when every count is exact.
func maxTopError(cols []*typev1.ColumnStats) int64 {
	var e int64
	for _, c := range cols {
		if s := c.GetCategorical(); approxTop(s) {
			e = max(e, s.GetTopValuesMaxError())
		}
	}
	return e
}

// hasTimes reports whether c has time statistics to show.
func hasTimes(c *typev1.ColumnStats) bool { return c.GetDatetime() != nil && c.GetCount() > 0 }

// reportTable computes the headers and rows of the report table.
func reportTable(cols []*typev1.ColumnStats) ([]string, []reportRow) {
	hasNum, hasCat, hasShare, hasLen, hasMoments := false, false, false, false, false
	quantiles := map[string]float64{} // label -> quantile
	for _, c := range cols {
		hasShare = hasShare || c.NullShare != nil
		if n := c.GetNumeric(); n != nil {
			hasNum = true
			hasMoments = hasMoments || n.GetNegativeCount()+n.GetZeroCount()+n.GetPositiveCount() > 0
			for _, p := range n.GetPercentiles() {
				quantiles[percentLabel(p.GetQuantile())] = p.GetQuantile()
			}
		} else {
			hasCat = true
			hasLen = hasLen || c.GetCategorical().MeanLength != nil
		}
		if hasTimes(c) {
			hasNum = true
			for _, p := range c.GetDatetime().GetPercentiles() {
				quantiles[percentLabel(p.GetQuantile())] = p.GetQuantile()
			}
		}
	}
	labels := make([]string, 0, len(quantiles))
	for l := range quantiles {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool { return quantiles[labels[i]] < quantiles[labels[j]] })

	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = displayText(c.GetName())
	}
	row := func(label string, cell func(c *typev1.ColumnStats) string) reportRow {
		r := reportRow{label: label, cells: make([]string, len(cols))}
		for i, c := range cols {
			r.cells[i] = cell(c)
		}
		return r
	}
	num := func(get func(n *typev1.NumericStats) *float64) func(c *typev1.ColumnStats) string {
		return func(c *typev1.ColumnStats) string {
			if c.GetNumeric() == nil {
				return nan
			}
			return formatOptional(get(c.GetNumeric()))
		}
	}
	// numOrTime shows a numeric figure, or a time column's.
	numOrTime := func(get func(n *typev1.NumericStats) *float64, getTime func(d *typev1.DatetimeStats) *string) func(c *typev1.ColumnStats) string {
		return func(c *typev1.ColumnStats) string {
			if hasTimes(c) {
				if t := getTime(c.GetDatetime()); t != nil {
					return *t
				}
				return nan
			}
			return num(get)(c)
		}
	}
	count := func(get func(n *typev1.NumericStats) int64) func(c *typev1.ColumnStats) string {
		return func(c *typev1.ColumnStats) string {
			if c.GetNumeric() == nil {
				return nan
			}
			return strconv.FormatInt(get(c.GetNumeric()), 10)
		}
	}
	whole := func(r reportRow) reportRow {
		r.whole = true
		return r
	}
	cat := func(get func(c *typev1.ColumnStats) string) func(c *typev1.ColumnStats) string {
		return func(c *typev1.ColumnStats) string {
			if c.GetNumeric() != nil || c.GetCategorical() == nil {
				return nan
			}
			return get(c)
		}
	}

	rows := []reportRow{
		row("type", func(c *typev1.ColumnStats) string { return typeName(c.GetType()) }),
		row("count", func(c *typev1.ColumnStats) string { return strconv.FormatInt(c.GetCount(), 10) }),
		row("missing", func(c *typev1.ColumnStats) string { return strconv.FormatInt(c.GetNullCount(), 10) }),
	}
	if hasShare {
		rows = append(rows, row("null share", func(c *typev1.ColumnStats) string { return formatOptional(c.NullShare) }))
	}
	if hasCat {
		rows = append(rows,
			row("unique", cat(func(c *typev1.ColumnStats) string {
				if d := c.GetCategorical().GetDistinct(); d != nil && !d.GetExact() {
					return approxMark + strconv.FormatInt(d.GetValue(), 10)
				}
				return strconv.FormatInt(c.GetCategorical().GetUnique(), 10)
			})),
			row("top", cat(func(c *typev1.ColumnStats) string {
				if c.GetCount() == 0 {
					return nan
				}
				return displayText(c.GetCategorical().GetTop())
			})),
			row("freq", cat(func(c *typev1.ColumnStats) string {
				if c.GetCount() == 0 {
					return nan
				}
				if approxTop(c.GetCategorical()) {
					return approxMark + strconv.FormatInt(c.GetCategorical().GetFreq(), 10)
				}
				return strconv.FormatInt(c.GetCategorical().GetFreq(), 10)
			})),
		)
	}
	if hasLen {
		length := func(get func(cs *typev1.CategoricalStats) string) func(c *typev1.ColumnStats) string {
			return cat(func(c *typev1.ColumnStats) string {
				if c.GetCount() == 0 {
					return nan
				}
				return get(c.GetCategorical())
			})
		}
		rows = append(rows,
			row("min len", length(func(cs *typev1.CategoricalStats) string { return strconv.FormatInt(cs.GetMinLength(), 10) })),
			row("max len", length(func(cs *typev1.CategoricalStats) string { return strconv.FormatInt(cs.GetMaxLength(), 10) })),
			row("mean len", length(func(cs *typev1.CategoricalStats) string { return formatOptional(cs.MeanLength) })),
		)
	}
	if hasNum {
		rows = append(rows,
			whole(row("mean", numOrTime(func(n *typev1.NumericStats) *float64 { return n.Mean }, func(d *typev1.DatetimeStats) *string { return d.Mean }))),
			row("std", num(func(n *typev1.NumericStats) *float64 { return n.Std })),
			whole(row("min", numOrTime(func(n *typev1.NumericStats) *float64 { return n.Min }, func(d *typev1.DatetimeStats) *string { return d.Min }))),
		)
		for _, l := range labels {
			rows = append(rows, whole(row(l, func(c *typev1.ColumnStats) string {
				ps := c.GetNumeric().GetPercentiles()
				if hasTimes(c) {
					ps = c.GetDatetime().GetPercentiles()
				}
				for i, p := range ps {
					if percentLabel(p.GetQuantile()) != l || p.Value == nil {
						continue
					}
					v := formatNumber(p.GetValue())
					if hasTimes(c) {
						if i >= len(c.GetDatetime().GetPercentileTimes()) {
							return nan
						}
						v = c.GetDatetime().GetPercentileTimes()[i]
					}
					if !p.GetExact() && p.GetRankError() > 0 {
						v = approxMark + v
					}
					return v
				}
				return nan
			})))
		}
		rows = append(rows, whole(row("max", numOrTime(func(n *typev1.NumericStats) *float64 { return n.Max }, func(d *typev1.DatetimeStats) *string { return d.Max }))))
	}
	if hasMoments {
		rows = append(rows,
			row("sum", num(func(n *typev1.NumericStats) *float64 { return &n.Sum })),
			row("var", num(func(n *typev1.NumericStats) *float64 { return n.Variance })),
			row("skew", num(func(n *typev1.NumericStats) *float64 { return n.Skewness })),
			row("kurt", num(func(n *typev1.NumericStats) *float64 { return n.Kurtosis })),
			row("negative", count(func(n *typev1.NumericStats) int64 { return n.GetNegativeCount() })),
			row("zero", count(func(n *typev1.NumericStats) int64 { return n.GetZeroCount() })),
			row("positive", count(func(n *typev1.NumericStats) int64 { return n.GetPositiveCount() })),
		)
	}
	return headers, rows
}

// layoutTable writes the table with right-aligned cells, splitting the
// columns into blocks that fit width (each block repeats the row labels).
func layoutTable(b *strings.Builder, headers []string, rows []reportRow, width int) {
	labelW := 0
	for _, r := range rows {
		labelW = max(labelW, runeLen(r.label))
	}
	colW := make([]int, len(headers))
	for i, h := range headers {
		headers[i] = truncate(h, maxReportCell)
		colW[i] = runeLen(headers[i])
		for _, r := range rows {
			if !r.whole {
				r.cells[i] = truncate(r.cells[i], maxReportCell)
			}
			colW[i] = max(colW[i], runeLen(r.cells[i]))
		}
	}
	for start := 0; start < len(headers); {
		end, used := start, labelW
		for end < len(headers) && (end == start || used+reportGap+colW[end] <= width) {
			used += reportGap + colW[end]
			end++
		}
		if start > 0 {
			b.WriteByte('\n')
		}
		writeLine(b, labelW, "", headers[start:end], colW[start:end])
		for _, r := range rows {
			writeLine(b, labelW, r.label, r.cells[start:end], colW[start:end])
		}
		start = end
	}
}

// writeLine writes one table line: the label left-aligned in labelW, then
// each cell right-aligned in its width after a gap.
func writeLine(b *strings.Builder, labelW int, label string, cells []string, widths []int) {
	var line strings.Builder
	line.WriteString(label)
	line.WriteString(strings.Repeat(" ", labelW-runeLen(label)))
	for i, c := range cells {
		line.WriteString(strings.Repeat(" ", reportGap+widths[i]-runeLen(c)))
		line.WriteString(c)
	}
	b.WriteString(strings.TrimRight(line.String(), " "))
	b.WriteByte('\n')
}

// runeLen is the display width of s, counting one cell per character.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// percentLabel renders a quantile like pandas: 0.25 -> "25%", 0.999 -> "99.9%".
func percentLabel(q float64) string {
	return strconv.FormatFloat(math.Round(q*100*1e6)/1e6, 'f', -1, 64) + "%"
}

// formatOptional renders an optional statistic; NaN when unset.
func formatOptional(v *float64) string {
	if v == nil {
		return nan
	}
	return formatNumber(*v)
}

// formatNumber renders a statistic: whole numbers without decimals, others
// with at most 6 decimals (trailing zeros dropped), very small or very
// large magnitudes in exponent form with 6 significant digits.
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return nan
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case v == 0:
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e15 || a < 1e-4 {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	s := strconv.FormatFloat(v, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// displayText makes a CSV value safe to show in a table cell: values with
// control characters (line breaks, tabs) are quoted, the empty string shows
// as "".
func displayText(s string) string {
	if s == "" || strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}
