package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// Display limits of job tables.
const (
	// maxSampleErrorsShown is how many of a job's sample row errors get
	// prints.
	maxSampleErrorsShown = 5
	// maxErrorCountsShown is how many rows of a job's error count table get
	// prints.
	maxErrorCountsShown = 10
	// listWidth is the line width list tables are fitted to.
	listWidth = 100
	// minListFileName is the least room list leaves for file names.
	minListFileName = 10
	// listGap is the space between two columns of list.
	listGap = 2
	// maxListPages bounds list --all, against a server whose page tokens
	// never end.
	maxListPages = 10000
)

// tableTimeLayout is the layout of times in tables, always UTC.
const tableTimeLayout = "2006-01-02 15:04:05"

// getCommand is `csvctl get`.
func getCommand() *command {
	return &command{
		name:    "get",
		args:    "JOB",
		nargs:   1,
		summary: "Print one job.",
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			out := outputFlag(fs)
			return func(ctx context.Context, args []string) int {
				name, err := jobName(args[0])
				if err != nil {
					return a.usageError(lookupCommand("get"), err.Error())
				}
				client, closeConn, err := a.connect()
				if err != nil {
					return a.fail(ctx, "get "+name, err)
				}
				defer closeConn()
				job, err := a.getJob(ctx, client, name)
				if err != nil {
					return a.fail(ctx, "get "+name, err)
				}
				if *out == outputJSON {
					err = writeJSON(a.stdout, job)
				} else {
					err = writeJob(a.stdout, job)
				}
				if err != nil {
					return a.fail(ctx, "print job", err)
				}
				return exitOK
			}
		},
	}
}

// listCommand is `csvctl list`.
func listCommand() *command {
	return &command{
		name:    "list",
		args:    "",
		nargs:   0,
		summary: "List jobs, newest first.",
		details: `
Without --all, one page is printed; when more jobs exist, the token of the
next page is printed on stderr for --page-token.`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			out := outputFlag(fs)
			var pageSize int
			var pageToken string
			var allPages bool
			fs.IntVar(&pageSize, "page-size", 0, "jobs per page (`N`; 0: the server's default, 50)")
			fs.StringVar(&pageToken, "page-token", "", "start at this page (`token` printed by a previous list)")
			fs.BoolVar(&allPages, "all", false, "follow page tokens and list every job")
			return func(ctx context.Context, _ []string) int {
				if pageSize < 0 || pageSize > 1<<31-1 {
					return a.usageError(lookupCommand("list"), "--page-size must be between 0 and 2147483647")
				}
				client, closeConn, err := a.connect()
				if err != nil {
					return a.fail(ctx, "list jobs", err)
				}
				defer closeConn()
				all := &ingestv1.ListJobsResponse{}
				req := &ingestv1.ListJobsRequest{PageSize: int32(pageSize), PageToken: pageToken}
				for page := 0; ; page++ {
					resp, err := a.listPage(ctx, client, req)
					if err != nil {
						return a.fail(ctx, "list jobs", err)
					}
					all.Jobs = append(all.Jobs, resp.GetJobs()...)
					all.NextPageToken = resp.GetNextPageToken()
					if !allPages || all.NextPageToken == "" || page+1 >= maxListPages {
						break
					}
					req.PageToken = all.NextPageToken
				}
				if *out == outputJSON {
					err = writeJSON(a.stdout, all)
				} else {
					err = writeJobList(a.stdout, all.GetJobs(), listWidth)
					if err == nil && all.NextPageToken != "" {
						fmt.Fprintf(a.stderr, "more jobs: csvctl list --page-token %s (or --all)\n", all.NextPageToken)
					}
				}
				if err != nil {
					return a.fail(ctx, "print jobs", err)
				}
				return exitOK
			}
		},
	}
}

// listPage fetches one page of jobs with the unary deadline.
func (a *app) listPage(ctx context.Context, client ingestv1.IngestServiceClient, req *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error) {
	ctx, cancel := a.unary(ctx)
	defer cancel()
	return client.ListJobs(ctx, req)
}

// cancelCommand is `csvctl cancel`.
func cancelCommand() *command {
	return &command{
		name:    "cancel",
		args:    "JOB",
		nargs:   1,
		summary: "Cancel a job that has not finished.",
		details: `
Prints the job's name and new state. Cancelling a finished job fails with
FAILED_PRECONDITION.`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			return func(ctx context.Context, args []string) int {
				name, err := jobName(args[0])
				if err != nil {
					return a.usageError(lookupCommand("cancel"), err.Error())
				}
				client, closeConn, err := a.connect()
				if err != nil {
					return a.fail(ctx, "cancel "+name, err)
				}
				defer closeConn()
				uctx, cancel := a.unary(ctx)
				defer cancel()
				resp, err := client.CancelJob(uctx, &ingestv1.CancelJobRequest{Name: name})
				if err != nil {
					return a.fail(ctx, "cancel "+name, err)
				}
				fmt.Fprintf(a.stdout, "%s %s\n", resp.GetJob().GetName(), stateName(resp.GetJob().GetState()))
				return exitOK
			}
		},
	}
}

// writeJSON writes m as indented protojson followed by a newline. The
// output is re-indented with encoding/json because protojson deliberately
// varies its whitespace.
func writeJSON(w io.Writer, m proto.Message) error {
	raw, err := protojson.MarshalOptions{UseProtoNames: false}.Marshal(m)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = buf.WriteTo(w)
	return err
}

// formatTime renders a timestamp in UTC for tables; "-" when unset.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(tableTimeLayout) + " UTC"
}

// writeJob writes one job as "key: value" lines.
func writeJob(w io.Writer, j *ingestv1.Job) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	kv := func(k, v string) {
		if k != "" {
			k += ":"
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	// lines writes a value of several lines under one key.
	lines := func(k string, vs []string) {
		for i, v := range vs {
			if i > 0 {
				k = ""
			}
			kv(k, v)
		}
	}
	kv("name", j.GetName())
	kv("file", j.GetFileName())
	kv("state", stateName(j.GetState()))
	kv("created", formatTime(j.GetCreateTime()))
	kv("updated", formatTime(j.GetUpdateTime()))
	kv("ended", formatTime(j.GetEndTime()))
	kv("size", fmt.Sprintf("%s (%d bytes)", formatBytes(j.GetSizeBytes()), j.GetSizeBytes()))
	kv("sha256", orDash(j.GetSha256()))
	if k := j.GetIdempotencyKey(); k != "" {
		kv("idempotency key", k)
	}
	if d := formatDialect(j.GetDialect()); d != "" {
		kv("dialect given", d)
	}
	if o := formatOptions(j.GetValidationOptions()); o != "" {
		kv("options", o)
	}
	if o := formatAnalysisOptions(j.GetAnalysisOptions()); o != "" {
		kv("analysis", o)
	}
	v := j.GetValidation()
	switch {
	case v.GetSchemaInferred() && len(v.GetSchema().GetFields()) > 0:
		kv("inferred schema", formatSchema(v.GetSchema()))
	case len(j.GetSchema().GetFields()) > 0:
		kv("schema", formatSchema(j.GetSchema()))
	case len(v.GetSchema().GetFields()) > 0:
		kv("schema", formatSchema(v.GetSchema()))
	}
	if p := j.GetProgress(); p != nil && !terminal(j.GetState()) {
		kv("progress", stateName(p.GetStage())+" "+formatJobProgress(p))
	}
	if v != nil {
		kv("rows", fmt.Sprintf("%d: %d valid, %d rejected", v.GetRowsTotal(), v.GetRowsValid(), v.GetRowsRejected()))
		if d := formatDialect(v.GetDialect()); d != "" {
			kv("dialect used", d)
		}
		kv("errors", strconv.FormatInt(v.GetErrorTotal(), 10))
		if t := formatErrorCounts(v.GetErrorCounts(), maxErrorCountsShown); len(t) > 0 {
			lines("", t)
		}
		var sample []string
		for i, e := range v.GetSampleErrors() {
			if i == maxSampleErrorsShown {
				more := max(v.GetErrorTotal(), int64(len(v.GetSampleErrors()))) - int64(i)
				sample = append(sample, fmt.Sprintf("... %d more in the errors and rejects artifacts", more))
				break
			}
			sample = append(sample, formatRowError(e))
		}
		lines("first errors", sample)
		warnings := make([]string, len(v.GetWarnings()))
		for i, w := range v.GetWarnings() {
			warnings[i] = oneLine(w)
		}
		lines("warnings", warnings)
	}
	if r := j.GetFailureReason(); r != "" {
		kv("failure", oneLine(r))
	}
	kv("trace id", orDash(j.GetTraceId()))
	lines("artifacts", formatArtifacts(j.GetArtifacts()))
	return tw.Flush()
}

// artifactID is the last segment of an artifact's resource name.
func artifactID(a *ingestv1.Artifact) string {
	n := a.GetName()
	return n[strings.LastIndex(n, "/")+1:]
}

// formatArtifacts renders artifacts as the lines of a table: id, media
// type, size.
func formatArtifacts(arts []*ingestv1.Artifact) []string {
	rows := make([][]string, len(arts))
	for i, art := range arts {
		rows[i] = []string{artifactID(art), orDash(art.GetContentType()), formatBytes(art.GetSizeBytes())}
	}
	return formatTable(rows, 1)
}

// formatTable lays rows out as aligned columns separated by two spaces;
// the last rightAligned columns are aligned to the right.
func formatTable(rows [][]string, rightAligned int) []string {
	var widths []int
	for _, r := range rows {
		for c, cell := range r {
			if c == len(widths) {
				widths = append(widths, 0)
			}
			widths[c] = max(widths[c], runeLen(cell))
		}
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		var b strings.Builder
		for c, cell := range r {
			pad := strings.Repeat(" ", widths[c]-runeLen(cell))
			switch {
			case c >= len(r)-rightAligned:
				b.WriteString(pad + cell)
			case c == len(r)-1:
				b.WriteString(cell)
			default:
				b.WriteString(cell + pad)
			}
			if c < len(r)-1 {
				b.WriteString("  ")
			}
		}
		out[i] = b.String()
	}
	return out
}

// formatSchema renders a schema on one line: "price number required, ...",
// then the primary key.
func formatSchema(s *typev1.Schema) string {
	parts := make([]string, 0, len(s.GetFields()))
	for _, f := range s.GetFields() {
		p := f.GetName() + " " + typeName(f.GetType())
		if ft := f.GetFormat(); ft != "" && ft != "default" {
			p += " (" + ft + ")"
		}
		if f.GetConstraints().GetRequired() {
			p += " required"
		}
		if f.GetConstraints().GetUnique() {
			p += " unique"
		}
		parts = append(parts, p)
	}
	out := strings.Join(parts, ", ")
	if pk := s.GetPrimaryKey(); len(pk) > 0 {
		out += "; primary key " + strings.Join(pk, ", ")
	}
	return out
}

// typeName is a field type's Table Schema name: number, integer, string, ...
func typeName(t typev1.FieldType) string {
	return strings.ToLower(strings.TrimPrefix(t.String(), "FIELD_TYPE_"))
}

// formatDialect renders the fields of d that are set on one line; "" when
// none is.
func formatDialect(d *typev1.Dialect) string {
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+strconv.Quote(v))
		}
	}
	add("delimiter", d.GetDelimiter())
	add("quote", d.GetQuoteChar())
	if d != nil && d.DoubleQuote != nil {
		if d.GetDoubleQuote() {
			parts = append(parts, "double quote")
		} else {
			parts = append(parts, "no double quote")
		}
	}
	add("escape", d.GetEscapeChar())
	if d != nil && d.HeaderRows != nil {
		parts = append(parts, fmt.Sprintf("header rows %d", d.GetHeaderRows()))
	}
	if d.GetSkipInitialSpace() {
		parts = append(parts, "skip initial space")
	}
	add("comment prefix", d.GetCommentPrefix())
	add("line terminator", d.GetLineTerminator())
	if e := d.GetEncoding(); e != "" {
		parts = append(parts, "encoding "+e)
	}
	return strings.Join(parts, ", ")
}

// formatOptions renders the validation options that are set on one line;
// "" when none is.
func formatOptions(o *typev1.ValidationOptions) string {
	var parts []string
	if o != nil && o.MaxInvalidRows != nil {
		parts = append(parts, fmt.Sprintf("max invalid rows %d", o.GetMaxInvalidRows()))
	}
	if o != nil && o.MaxInvalidRatio != nil {
		parts = append(parts, "max invalid ratio "+strconv.FormatFloat(o.GetMaxInvalidRatio(), 'g', -1, 64))
	}
	if n := o.GetErrorSampleSize(); n != 0 {
		parts = append(parts, fmt.Sprintf("error sample size %d", n))
	}
	if o.GetNeutralizeFormulas() {
		parts = append(parts, "neutralize formulas")
	}
	return strings.Join(parts, ", ")
}

// formatAnalysisOptions renders the analysis options that are set on one
// line, such as `percentiles 0.1, 0.9; columns price, qty`; "" when none
// is.
func formatAnalysisOptions(o *ingestv1.AnalysisOptions) string {
	var parts []string
	if ps := o.GetPercentiles(); len(ps) > 0 {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = strconv.FormatFloat(p, 'g', -1, 64)
		}
		parts = append(parts, "percentiles "+strings.Join(s, ", "))
	}
	if cs := o.GetColumns(); len(cs) > 0 {
		parts = append(parts, "columns "+strings.Join(cs, ", "))
	}
	if o.GetExactCategorical() {
		parts = append(parts, "exact categorical statistics")
	}
	return strings.Join(parts, "; ")
}

// formatErrorCounts renders error counts as the lines of a table by type
// and field, the most frequent first, at most limit rows and then a line
// saying how many were left out. It returns nil for no counts.
func formatErrorCounts(counts []*typev1.ErrorCount, limit int) []string {
	if len(counts) == 0 {
		return nil
	}
	sorted := slices.Clone(counts)
	slices.SortStableFunc(sorted, func(a, b *typev1.ErrorCount) int {
		return cmp.Or(
			cmp.Compare(b.GetCount(), a.GetCount()),
			cmp.Compare(a.GetType(), b.GetType()),
			cmp.Compare(a.GetFieldNumber(), b.GetFieldNumber()),
			cmp.Compare(a.GetFieldName(), b.GetFieldName()),
		)
	})
	rows := [][]string{{"TYPE", "FIELD", "COUNT"}}
	for i, c := range sorted {
		if i == limit {
			break
		}
		rows = append(rows, []string{c.GetType(), formatErrorField(c.GetFieldNumber(), c.GetFieldName()), strconv.FormatInt(c.GetCount(), 10)})
	}
	out := formatTable(rows, 1)
	if n := len(sorted) - limit; n > 0 {
		out = append(out, fmt.Sprintf("... %d more in the errors artifact", n))
	}
	return out
}

// formatErrorField renders the field an error is about: `4 "price"`, `4`
// without a name, `"price"` without a number, "-" for the row.
func formatErrorField(number int32, name string) string {
	switch {
	case number > 0 && name != "":
		return fmt.Sprintf("%d %q", number, name)
	case number > 0:
		return strconv.Itoa(int(number))
	case name != "":
		return strconv.Quote(name)
	}
	return "-"
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeJobList writes jobs as a table, one per line, fitted to width by
// shortening the file names (to no less than minListFileName). Jobs are
// shown by id, which every command accepts as JOB.
func writeJobList(w io.Writer, jobs []*ingestv1.Job, width int) error {
	header := []string{"JOB", "STATE", "FILE", "SIZE", "ROWS", "CREATED (UTC)"}
	const fileCol = 2
	rows := [][]string{header}
	for _, j := range jobs {
		nrows := "-"
		switch {
		case j.GetValidation() != nil:
			nrows = fmt.Sprint(j.GetValidation().GetRowsTotal())
		case j.GetProgress().GetRowsProcessed() > 0:
			nrows = fmt.Sprint(j.GetProgress().GetRowsProcessed())
		}
		created := "-"
		if ts := j.GetCreateTime(); ts != nil {
			created = ts.AsTime().UTC().Format("2006-01-02 15:04")
		}
		rows = append(rows, []string{strings.TrimPrefix(j.GetName(), "jobs/"), stateName(j.GetState()),
			oneLine(j.GetFileName()), formatBytes(j.GetSizeBytes()), nrows, created})
	}
	// Every column but the file name keeps its width; the file name gets
	// what is left of the line.
	others := listGap * (len(header) - 1)
	for c := range header {
		if c == fileCol {
			continue
		}
		cw := 0
		for _, r := range rows {
			cw = max(cw, runeLen(r[c]))
		}
		others += cw
	}
	fileMax := max(minListFileName, width-others)
	tw := tabwriter.NewWriter(w, 0, 0, listGap, ' ', 0)
	for _, r := range rows {
		r[fileCol] = truncate(r[fileCol], fileMax)
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
