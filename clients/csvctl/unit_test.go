package main

import (
	"errors"
	"flag"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

func TestArgs(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring; "" means stderr must be empty
	}{
		{"no command", nil, exitUsage, "", "Commands:"},
		{"help", []string{"help"}, exitOK, "Exit codes:", ""},
		{"-h", []string{"-h"}, exitOK, "Commands:", ""},
		{"help command", []string{"help", "upload"}, exitOK, "Usage: csvctl upload [flags] FILE", ""},
		{"help unknown", []string{"help", "nope"}, exitUsage, "", `csvctl: unknown command "nope"`},
		{"command -h", []string{"download", "-h"}, exitOK, "Usage: csvctl download [flags] JOB ARTIFACT", ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `csvctl: unknown command "frobnicate"`},
		{"unknown global flag", []string{"--bogus", "get", "x"}, exitUsage, "", "flag provided but not defined: -bogus"},
		{"unknown command flag", []string{"get", "--bogus", "x"}, exitUsage, "", "csvctl get: flag provided but not defined: -bogus"},
		{"missing argument", []string{"get"}, exitUsage, "", "csvctl get: want 1 argument(s) (JOB), got 0"},
		{"extra argument", []string{"watch", "a", "b"}, exitUsage, "", "csvctl watch: want 1 argument(s) (JOB), got 2"},
		{"list takes none", []string{"list", "x"}, exitUsage, "", "csvctl list: want 0 argument(s) (), got 1"},
		{"bad output", []string{"get", "-o", "yaml", "x"}, exitUsage, "", `unknown output format "yaml"`},
		{"bad job", []string{"get", "jobs/"}, exitUsage, "", `csvctl get: invalid job "jobs/"`},
		{"bad job with slash", []string{"cancel", "jobs/a/b"}, exitUsage, "", `invalid job "jobs/a/b"`},
		{"bad artifact", []string{"download", "x", "everything"}, exitUsage, "", `unknown artifact "everything"`},
		{"chunk too large", []string{"upload", "--chunk-size", "5MiB", "f"}, exitUsage, "", "--chunk-size 5MiB is larger than 4.0 MiB"},
		{"chunk beyond message size", []string{"--max-message-size", "1MiB", "upload", "--chunk-size", "1MiB", "f"}, exitUsage, "", "does not fit in --max-message-size 1MiB"},
		{"chunk zero", []string{"upload", "--chunk-size", "0", "f"}, exitUsage, "", "must be positive"},
		{"chunk garbage", []string{"upload", "--chunk-size", "lots", "f"}, exitUsage, "", `invalid size "lots"`},
		{"bad delimiter", []string{"upload", "--delimiter", "ab", "f"}, exitUsage, "", `invalid delimiter "ab"`},
		{"negative page size", []string{"list", "--page-size", "-1"}, exitUsage, "", "--page-size must be"},
		{"bad timeout", []string{"--timeout", "soon", "list"}, exitUsage, "", `invalid value "soon" for flag -timeout`},
		{"global flag after command", []string{"cancel", "run", "--timeout", "5s"}, exitOK, "jobs/run CANCELLED", ""},
		{"flags after arguments", []string{"get", "ok", "-o", "json"}, exitOK, `"name": "jobs/ok"`, ""},
		{"double dash", []string{"get", "--", "ok"}, exitOK, "name:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runFake(t, newFake(), tt.args...)
			if got.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", got.code, tt.wantCode, got.stderr)
			}
			if !strings.Contains(got.stdout, tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", got.stdout, tt.wantStdout)
			}
			if tt.wantStderr == "" && got.stderr != "" || !strings.Contains(got.stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want %q", got.stderr, tt.wantStderr)
			}
		})
	}
}

func TestAddrFromEnvironment(t *testing.T) {
	tests := []struct {
		env, args []string
		want      string
	}{
		{nil, nil, defaultAddr},
		{[]string{"CSVCTL_ADDR", "ingest:9000"}, nil, "ingest:9000"},
		{[]string{"CSVCTL_ADDR", "ingest:9000"}, []string{"--addr", "other:1"}, "other:1"},
	}
	for _, tt := range tests {
		a := newApp(io.Discard, io.Discard)
		a.getenv = func(k string) string {
			if len(tt.env) == 2 && k == tt.env[0] {
				return tt.env[1]
			}
			return ""
		}
		// "list x" is a usage error, which stops before any call is made.
		a.run(t.Context(), append(tt.args, "list", "x"))
		if a.addr != tt.want {
			t.Errorf("env %v args %v: addr = %q, want %q", tt.env, tt.args, a.addr, tt.want)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantV   bool
		wantS   string
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, false, ""},
		{[]string{"-v", "a"}, []string{"a"}, true, ""},
		{[]string{"a", "-v", "b", "-s", "x"}, []string{"a", "b"}, true, "x"},
		{[]string{"a", "--", "-v"}, []string{"a", "-v"}, false, ""},
		{[]string{"-", "-s=y"}, []string{"-"}, false, "y"},
		{nil, nil, false, ""},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		v := fs.Bool("v", false, "")
		s := fs.String("s", "", "")
		pos, err := parseInterleaved(fs, tt.args)
		if err != nil || !slicesEqual(pos, tt.wantPos) || *v != tt.wantV || *s != tt.wantS {
			t.Errorf("parseInterleaved(%q) = %q, v=%v s=%q, %v; want %q, v=%v s=%q", tt.args, pos, *v, *s, err, tt.wantPos, tt.wantV, tt.wantS)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"4096", 4096, false},
		{"1MiB", 1 << 20, false},
		{"1 MiB", 1 << 20, false},
		{"512k", 512 << 10, false},
		{"1.5KiB", 1536, false},
		{"2MB", 2e6, false},
		{"1G", 1 << 30, false},
		{"10b", 10, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"1.5", 0, true},
		{"1 parsec", 0, true},
		{"1..2K", 0, true},
	}
	for _, tt := range tests {
		got, err := parseByteSize(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	for in, want := range map[int64]string{1 << 20: "1MiB", 3 << 30: "3GiB", 1536: "1536", 2048: "2KiB", 7: "7"} {
		b := byteSize(in)
		if got := b.String(); got != want {
			t.Errorf("byteSize(%d).String() = %q, want %q", in, got, want)
		}
	}
}

func TestJobName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "jobs/abc"},
		{"jobs/abc", "jobs/abc"},
		{" jobs/01J9 ", "jobs/01J9"},
		{"", ""},
		{"jobs/", ""},
		{"jobs/a/b", ""},
		{"a b", ""},
	}
	for _, tt := range tests {
		got, err := jobName(tt.in)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("jobName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestArtifactName(t *testing.T) {
	for _, a := range []string{"source", "normalized", "parquet", "rejects", "schema", "errors", "report"} {
		if got, err := artifactName("jobs/x", a); err != nil || got != "jobs/x/artifacts/"+a {
			t.Errorf("artifactName(jobs/x, %s) = %q, %v", a, got, err)
		}
	}
	for _, a := range []string{"Report", "normalized.parquet", "error_report", ""} {
		if _, err := artifactName("jobs/x", a); err == nil {
			t.Errorf("artifactName accepted %q", a)
		}
	}
}

func TestParseDelimiter(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "", false},
		{",", ",", false},
		{";", ";", false},
		{"|", "|", false},
		{`\t`, "\t", false},
		{"tab", "\t", false},
		{"\t", "\t", false},
		{"§", "§", false},
		{"ab", "", true},
		{`"`, "", true},
		{"\n", "", true},
		{"\xff", "", true},
	}
	for _, tt := range tests {
		got, err := parseDelimiter(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseDelimiter(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDescribeError(t *testing.T) {
	withDetails := func(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
		st, err := status.New(c, msg).WithDetails(details...)
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain error", errors.New("open x: no such file\nor directory"), "open x: no such file or directory"},
		{"status", status.Error(codes.Unavailable, "connection refused"), "UNAVAILABLE: connection refused"},
		{"cancelled spelling", status.Error(codes.Canceled, "context canceled"), "CANCELLED: context canceled"},
		{"field violations", withDetails(codes.InvalidArgument, "bad upload",
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "metadata.sha256", Description: "not 64 hex digits"},
				{Field: "metadata.dialect.delimiter", Description: "must be one character"},
			}}),
			"INVALID_ARGUMENT: bad upload [field metadata.sha256: not 64 hex digits; field metadata.dialect.delimiter: must be one character]"},
		{"quota and retry", withDetails(codes.ResourceExhausted, "too many uploads",
			&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "uploads", Description: "at most 4 at once"}}},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(2 * time.Second)}),
			"RESOURCE_EXHAUSTED: too many uploads [quota uploads: at most 4 at once; retry after 2s]"},
		{"error info and help", withDetails(codes.FailedPrecondition, "",
			&errdetails.ErrorInfo{Reason: "JOB_FINISHED", Domain: "csvmesh.dev"},
			&errdetails.Help{Links: []*errdetails.Help_Link{{Url: "https://example.invalid/help"}}}),
			"FAILED_PRECONDITION [reason JOB_FINISHED (csvmesh.dev); see https://example.invalid/help]"},
		{"unknown code", status.Error(codes.Code(99), "odd"), "CODE(99): odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeError(tt.err); got != tt.want {
				t.Errorf("describeError = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{300 << 10, "300.0 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}, {1 << 40, "1.0 TiB"}, {1 << 62, "4096.0 PiB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.in); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatRateAndETA(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		wantRate    string
		wantETA     string
	}{
		{0, 100 << 20, 0, "-- B/s", "--"},
		{0, 100 << 20, time.Second, "0 B/s", "--"},
		{10 << 20, 100 << 20, time.Second, "10.0 MiB/s", "9s"},
		{25 << 20, 100 << 20, 2 * time.Second, "12.5 MiB/s", "6s"},
		{1 << 20, 100 << 20, 2 * time.Second, "512.0 KiB/s", "3m18s"},
		{1 << 20, 4 << 30, time.Second, "1.0 MiB/s", "1h08m15s"},
		{100 << 20, 100 << 20, 4 * time.Second, "25.0 MiB/s", "0s"},
		{3 << 20, 10 << 20, 1500 * time.Millisecond, "2.0 MiB/s", "4s"}, // 3.5s rounds to 4s
		{90 << 20, 100 << 20, time.Second, "90.0 MiB/s", "<1s"},
	}
	for _, tt := range tests {
		if got := formatRate(tt.done, tt.elapsed); got != tt.wantRate {
			t.Errorf("formatRate(%d, %v) = %q, want %q", tt.done, tt.elapsed, got, tt.wantRate)
		}
		if got := formatETA(tt.done, tt.total, tt.elapsed); got != tt.wantETA {
			t.Errorf("formatETA(%d, %d, %v) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.wantETA)
		}
	}
}

func TestFormatProgress(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 100 << 20, 0, "upload  0 B / 100.0 MiB    0.0%  [>                   ]  -- B/s  ETA --"},
		{45 << 20, 100 << 20, 3 * time.Second, "upload  45.0 MiB / 100.0 MiB   45.0%  [=========>          ]  15.0 MiB/s  ETA 4s"},
		{100 << 20, 100 << 20, 8 * time.Second, "upload  100.0 MiB / 100.0 MiB  100.0%  [====================]  12.5 MiB/s  ETA 0s"},
		{0, 0, time.Second, "upload  0 B / 0 B  100.0%  [====================]  0 B/s  ETA 0s"},
		{5 << 20, -1, 2 * time.Second, "upload  5.0 MiB  2.5 MiB/s"},
	}
	for _, tt := range tests {
		got := formatProgress("upload", tt.done, tt.total, tt.elapsed)
		if got != tt.want {
			t.Errorf("formatProgress(%d, %d, %v) =\n%q, want\n%q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
		if len(got) > 100 {
			t.Errorf("progress line is %d columns wide, over 100", len(got))
		}
	}
	summaries := []struct {
		done    int64
		elapsed time.Duration
		want    string
	}{
		{300 << 20, 12340 * time.Millisecond, "upload: 300.0 MiB in 12.3s (24.3 MiB/s)"},
		{374, 1234567 * time.Nanosecond, "upload: 374 B in 1ms (295.8 KiB/s)"},
		{374, 12345 * time.Nanosecond, "upload: 374 B in 12µs (28.9 MiB/s)"},
	}
	for _, tt := range summaries {
		if got := formatSummary("upload", tt.done, tt.elapsed); got != tt.want {
			t.Errorf("formatSummary(%d, %v) = %q, want %q", tt.done, tt.elapsed, got, tt.want)
		}
	}
}

// TestProgressRedraws checks that a terminal bar is redrawn at most once
// per interval and ends with a newline, and that off a terminal only the
// summary is printed.
func TestProgressRedraws(t *testing.T) {
	tests := []struct {
		name      string
		tty       bool
		step      time.Duration // clock advance per reading
		updates   int
		wantDraws int
	}{
		// Readings every 30ms: updates 1, 5, 9, 13 and 17 are drawn, then Finish.
		{"fast updates on a terminal", true, 30 * time.Millisecond, 20, 6},
		{"slow updates on a terminal", true, 200 * time.Millisecond, 5, 6},
		{"not a terminal", false, 30 * time.Millisecond, 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			a := newApp(io.Discard, &out)
			a.stderrTTY = tt.tty
			a.now = steppingClock(tt.step)
			p := a.newProgress("upload", int64(tt.updates))
			for i := 1; i <= tt.updates; i++ {
				p.Set(int64(i))
			}
			p.Finish()
			s := out.String()
			if got := strings.Count(s, "\r"); got != tt.wantDraws {
				t.Errorf("%d redraws, want %d:\n%q", got, tt.wantDraws, s)
			}
			if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
				t.Errorf("output does not end with exactly one line break: %q", s)
			}
			if !tt.tty && !strings.HasPrefix(s, "upload: 20 B in ") {
				t.Errorf("summary = %q", s)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {5, "5"}, {-42, "-42"}, {1e14, "100000000000000"},
		{101.25, "101.25"}, {0.1 + 0.2, "0.3"}, {2.0 / 3, "0.666667"}, {-1234567.891, "-1234567.891"},
		{0.0001234, "0.000123"}, {0.00001234, "1.234e-05"}, {1e20, "1e+20"}, {1.2345678e15, "1.23457e+15"},
		{math.NaN(), "NaN"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.in); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPercentLabel(t *testing.T) {
	for q, want := range map[float64]string{0.25: "25%", 0.5: "50%", 0.1: "10%", 0.999: "99.9%", 0.07: "7%", 1: "100%", 0: "0%"} {
		if got := percentLabel(q); got != want {
			t.Errorf("percentLabel(%v) = %q, want %q", q, got, want)
		}
	}
}

func TestWriteReport(t *testing.T) {
	num := func(name string, v float64) *typev1.ColumnStats {
		return &typev1.ColumnStats{Name: name, Type: typev1.FieldType_FIELD_TYPE_NUMBER, Count: 1, Numeric: &typev1.NumericStats{
			Mean: f64(v), Min: f64(v), Max: f64(v),
			Percentiles: []*typev1.Percentile{{Quantile: 0.5, Value: f64(v)}, {Quantile: 0.1, Value: f64(v)}},
		}}
	}
	tests := []struct {
		name   string
		report *typev1.Report
		width  int
		want   string
	}{
		{"describe layout", sampleReport(), 100, sampleReportTable},
		{"no columns", &typev1.Report{RowCount: 0}, 100, "rows: 0\nno columns\n"},
		{"numeric only, percentiles sorted", &typev1.Report{RowCount: 1, Columns: []*typev1.ColumnStats{num("bid", 1.5), num("ask", 1.75)}}, 100,
			`rows: 1

            bid     ask
type     number  number
count         1       1
missing       0       0
mean        1.5    1.75
std         NaN     NaN
min         1.5    1.75
10%         1.5    1.75
50%         1.5    1.75
max         1.5    1.75
`},
		{"categorical only, awkward values", &typev1.Report{RowCount: 3, Columns: []*typev1.ColumnStats{
			{Name: "comment", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: 3, Categorical: &typev1.CategoricalStats{Unique: 2, Top: "two\nlines", Freq: 2}},
			{Name: "a column with a really long name", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: 3, Categorical: &typev1.CategoricalStats{Unique: 1, Top: "", Freq: 3}},
		}}, 100,
			`rows: 3

              comment  a column with a really …
type           string                    string
count               3                         3
missing             0                         0
unique              2                         1
top      "two\nlines"                        ""
freq                2                         3
`},
		{"wide table split into blocks", &typev1.Report{RowCount: 1, Columns: []*typev1.ColumnStats{
			num("alpha", 1), num("beta", 2), num("gamma", 3), num("delta", 4), num("epsilon", 5),
		}}, 40,
			`rows: 1

          alpha    beta   gamma   delta
type     number  number  number  number
count         1       1       1       1
missing       0       0       0       0
mean          1       2       3       4
std         NaN     NaN     NaN     NaN
min           1       2       3       4
10%           1       2       3       4
50%           1       2       3       4
max           1       2       3       4

         epsilon
type      number
count          1
missing        0
mean           5
std          NaN
min            5
10%            5
50%            5
max            5
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeReport(&b, tt.report, tt.width); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("writeReport =\n%s\nwant\n%s", b.String(), tt.want)
			}
			for _, line := range strings.Split(b.String(), "\n") {
				if n := len([]rune(line)); n > tt.width {
					t.Errorf("line %q is %d columns wide, over %d", line, n, tt.width)
				}
			}
		})
	}
}

func TestFileNameOf(t *testing.T) {
	long := strings.Repeat("a", 254) + "é.csv" // é is 2 bytes at 254..255
	tests := []struct{ in, want string }{
		{"/data/in/trades.csv", "trades.csv"},
		{"trades.csv", "trades.csv"},
		{long, strings.Repeat("a", 254)},
	}
	for _, tt := range tests {
		if got := fileNameOf(tt.in); got != tt.want {
			t.Errorf("fileNameOf(%.20q...) = %.20q... (%d bytes), want %d bytes", tt.in, got, len(got), len(tt.want))
		}
	}
}

func TestWriteJobList(t *testing.T) {
	long := &ingestv1.Job{Name: "jobs/67ba49118781e6e1a1a149dc3db99027", FileName: "2026-03-02-consolidated-trades-all-venues.csv",
		State: ingestv1.Job_STATE_VALIDATING, SizeBytes: 5 << 30, CreateTime: ts(0),
		Progress: &ingestv1.Progress{RowsProcessed: 123456789}}
	tests := []struct {
		name  string
		width int
		want  string
	}{
		{"file name shortened to fit", 100, "" +
			"JOB                               STATE       FILE              SIZE     ROWS       CREATED (UTC)\n" +
			"67ba49118781e6e1a1a149dc3db99027  VALIDATING  2026-03-02-cons…  5.0 GiB  123456789  2026-11-22 18:00\n"},
		{"never below the minimum", 40, "" +
			"JOB                               STATE       FILE        SIZE     ROWS       CREATED (UTC)\n" +
			"67ba49118781e6e1a1a149dc3db99027  VALIDATING  2026-03-0…  5.0 GiB  123456789  2026-11-22 18:00\n"},
		{"room to spare", 200, "" +
			"JOB                               STATE       FILE                                           SIZE     ROWS       CREATED (UTC)\n" +
			"67ba49118781e6e1a1a149dc3db99027  VALIDATING  2026-03-02-consolidated-trades-all-venues.csv  5.0 GiB  123456789  2026-11-22 18:00\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeJobList(&b, []*ingestv1.Job{long}, tt.width); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("writeJobList =\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}
