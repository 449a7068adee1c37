package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// writeFile writes n pseudo-random bytes to a file in a temporary directory.
func writeFile(t *testing.T, name string, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range data {
		data[i] = byte('a' + r.IntN(26))
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func TestUpload(t *testing.T) {
	schemaPath := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schemaPath, []byte(sampleSchemaJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		size       int
		args       func(path string) []string
		wantChunks int
		wantMax    int
		wantSHA    bool
		wantSchema *structpb.Struct
		wantDelim  string
		wantKey    string
		wantStderr string
	}{
		{
			name:       "defaults with small chunks",
			size:       300 << 10,
			args:       func(p string) []string { return []string{"upload", "--chunk-size", "64KiB", p} },
			wantChunks: 5, wantMax: 64 << 10, wantSHA: true,
			wantStderr: "sha256: 300.0 KiB in 1s (300.0 KiB/s)\nupload: 300.0 KiB in 1s (300.0 KiB/s)\n",
		},
		{
			name: "schema delimiter key no-sha, flags after the file",
			size: 1000,
			args: func(p string) []string {
				return []string{"upload", p, "--no-sha", "--schema", schemaPath, "--delimiter", ";", "--idempotency-key", "k1"}
			},
			wantChunks: 1, wantMax: 1000, wantSchema: sampleTableSchema(), wantDelim: ";", wantKey: "k1",
			wantStderr: "upload: 1000 B in 1s (1000 B/s)\n",
		},
		{
			name:       "tab delimiter",
			size:       10,
			args:       func(p string) []string { return []string{"upload", "--delimiter", `\t`, p} },
			wantChunks: 1, wantMax: 10, wantSHA: true, wantDelim: "\t",
			wantStderr: "sha256: 10 B in 1s (10 B/s)\nupload: 10 B in 1s (10 B/s)\n",
		},
		{
			name:       "empty file",
			size:       0,
			args:       func(p string) []string { return []string{"upload", p} },
			wantChunks: 0, wantSHA: true,
			wantStderr: "sha256: 0 B in 1s (0 B/s)\nupload: 0 B in 1s (0 B/s)\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			path, data := writeFile(t, "trades.csv", tt.size)
			got := runFake(t, f, tt.args(path)...)
			if got.code != exitOK || got.stdout != "jobs/new\n" || got.stderr != tt.wantStderr {
				t.Fatalf("run = %d, stdout %q, stderr %q; want 0, %q, %q", got.code, got.stdout, got.stderr, "jobs/new\n", tt.wantStderr)
			}
			if len(f.uploads) != 1 {
				t.Fatalf("server saw %d uploads, want 1", len(f.uploads))
			}
			up := f.uploads[0]
			if up.err != nil {
				t.Fatalf("server ended the upload with %v", up.err)
			}
			m := up.meta
			if m.GetFileName() != "trades.csv" {
				t.Errorf("file_name = %q, want trades.csv", m.GetFileName())
			}
			if m.DeclaredSizeBytes == nil || *m.DeclaredSizeBytes != int64(tt.size) {
				t.Errorf("declared_size_bytes = %v, want %d", m.DeclaredSizeBytes, tt.size)
			}
			wantSHA := ""
			if tt.wantSHA {
				wantSHA = sha(data)
			}
			if m.GetSha256() != wantSHA {
				t.Errorf("sha256 = %q, want %q", m.GetSha256(), wantSHA)
			}
			if !proto.Equal(m.GetTableSchema(), tt.wantSchema) {
				t.Errorf("table_schema = %v, want %v", m.GetTableSchema(), tt.wantSchema)
			}
			if m.GetDialect().GetDelimiter() != tt.wantDelim {
				t.Errorf("delimiter = %q, want %q", m.GetDialect().GetDelimiter(), tt.wantDelim)
			}
			if m.GetIdempotencyKey() != tt.wantKey {
				t.Errorf("idempotency_key = %q, want %q", m.GetIdempotencyKey(), tt.wantKey)
			}
			if up.chunks != tt.wantChunks || up.maxChunk != tt.wantMax {
				t.Errorf("chunks = %d (largest %d), want %d (largest %d)", up.chunks, up.maxChunk, tt.wantChunks, tt.wantMax)
			}
			if !bytes.Equal(up.data, data) {
				t.Errorf("server received %d bytes that differ from the file's %d", len(up.data), len(data))
			}
		})
	}
}

func TestUploadErrors(t *testing.T) {
	quota, err := status.New(codes.ResourceExhausted, "file too large").WithDetails(&errdetails.QuotaFailure{
		Violations: []*errdetails.QuotaFailure_Violation{{Subject: "upload", Description: "at most 1 GiB"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	badSchema := filepath.Join(dir, "bad.json")
	os.WriteFile(badSchema, []byte(`[{"name": "x", "type": "money"}]`), 0o644)
	path, _ := writeFile(t, "a.csv", 100)
	schemaPath := filepath.Join(dir, "schema.json")
	os.WriteFile(schemaPath, []byte(sampleSchemaJSON), 0o644)
	tests := []struct {
		name       string
		uploadErr  error
		args       []string
		wantCode   int
		wantStderr string
		wantPrefix bool // wantStderr is a prefix
	}{
		{
			name:       "quota failure",
			uploadErr:  quota.Err(),
			args:       []string{"upload", path},
			wantCode:   exitError,
			wantStderr: "sha256: 100 B in 1s (100 B/s)\ncsvctl: upload " + path + ": RESOURCE_EXHAUSTED: file too large [quota upload: at most 1 GiB]\n",
		},
		{
			name:       "missing file",
			args:       []string{"upload", filepath.Join(dir, "nope.csv")},
			wantCode:   exitError,
			wantStderr: "csvctl: upload " + filepath.Join(dir, "nope.csv") + ": open " + filepath.Join(dir, "nope.csv") + ": no such file or directory\n",
		},
		{
			name:       "directory",
			args:       []string{"upload", dir},
			wantCode:   exitError,
			wantStderr: "csvctl: upload " + dir + ": is a directory\n",
		},
		{
			name:     "schema not a JSON object",
			args:     []string{"upload", "--schema", badSchema, path},
			wantCode: exitUsage,
			wantStderr: "csvctl upload: schema " + badSchema + ": is not a JSON object; " +
				"want a Frictionless Table Schema such as {\"fields\": [...]}\n",
		},
		{
			name:       "server rejects the schema",
			uploadErr:  badRequest("invalid table schema", "metadata.table_schema.fields[0].type", `"money" is not a Table Schema type`),
			args:       []string{"upload", "--no-sha", "--schema", schemaPath, path},
			wantCode:   exitError,
			wantStderr: "csvctl: upload " + path + `: INVALID_ARGUMENT: invalid table schema [field metadata.table_schema.fields[0].type: "money" is not a Table Schema type]` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.uploadErr = tt.uploadErr
			got := runFake(t, f, tt.args...)
			okStderr := got.stderr == tt.wantStderr || (tt.wantPrefix && strings.HasPrefix(got.stderr, tt.wantStderr))
			if got.code != tt.wantCode || got.stdout != "" || !okStderr {
				t.Errorf("run = %d, stdout %q, stderr %q; want %d, \"\", %q", got.code, got.stdout, got.stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

func TestUploadFollow(t *testing.T) {
	tests := []struct {
		job        *ingestv1.Job
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{jobOK(), exitOK, "jobs/ok\n" + okWatchOutput + "\n" + sampleReportTable, "upload: 1000 B in 1s (1000 B/s)\n"},
		{jobBad(), exitJobFailed,
			"jobs/bad\n2026-11-22T18:00:01.000Z  PENDING     state UNSPECIFIED -> PENDING: file stored\n" +
				"2026-11-22T18:00:02.000Z  FAILED      state PENDING -> FAILED: validation failed\n",
			"upload: 1000 B in 1s (1000 B/s)\ncsvctl: job jobs/bad failed: the file is not valid UTF-8 at line 3\n"},
		{jobGone(), exitJobCancelled,
			"jobs/gone\n2026-11-22T18:00:01.000Z  PENDING     state UNSPECIFIED -> PENDING: file stored\n" +
				"2026-11-22T18:00:02.000Z  CANCELLED   state PENDING -> CANCELLED: cancelled by a caller\n",
			"upload: 1000 B in 1s (1000 B/s)\ncsvctl: job jobs/gone was cancelled\n"},
	}
	for _, tt := range tests {
		t.Run(tt.job.GetName(), func(t *testing.T) {
			f := newFake()
			f.uploadJob = tt.job
			path, _ := writeFile(t, "a.csv", 1000)
			got := runFake(t, f, "upload", "--no-sha", "--follow", path)
			if got.code != tt.wantCode || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("run = %d\nstdout:\n%s\nstderr:\n%s\nwant %d\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

// TestUploadInterrupt cancels the context (as Ctrl-C does) while the server
// is receiving the file: the stream must end CANCELLED on both sides and
// csvctl exit 130.
func TestUploadInterrupt(t *testing.T) {
	f := newFake()
	started := make(chan struct{})
	f.uploadDone = make(chan struct{})
	f.onChunk = func(ctx context.Context) {
		select {
		case <-started:
		default:
			close(started)
		}
		<-ctx.Done()
	}
	path, _ := writeFile(t, "big.csv", 2<<20)
	a, stdout, stderr := newTestApp(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-started
		cancel()
	}()
	code := a.run(ctx, []string{"upload", "--no-sha", "--chunk-size", "64KiB", path})
	if code != exitInterrupted || stdout.String() != "" || stderr.String() != "csvctl: upload "+path+": interrupted\n" {
		t.Errorf("run = %d, stdout %q, stderr %q; want 130, \"\", interrupted", code, stdout, stderr)
	}
	<-f.uploadDone
	up := f.uploads[0]
	if status.Code(up.err) != codes.Canceled || up.contextErr == nil {
		t.Errorf("server's upload ended with %v (context %v), want CANCELLED", up.err, up.contextErr)
	}
}

// TestUploadTrace checks that the upload's trace starts in the client: the
// root span is "csvctl upload" and the server receives its trace id.
func TestUploadTrace(t *testing.T) {
	f := newFake()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	a, _, stderr := newTestApp(t, f)
	a.tracerProvider = tp
	path, _ := writeFile(t, "a.csv", 10)
	if code := a.run(context.Background(), []string{"upload", path}); code != exitOK {
		t.Fatalf("run = %d: %s", code, stderr)
	}
	var root sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "csvctl upload" {
			root = s
		}
	}
	if root == nil || root.Parent().IsValid() {
		t.Fatalf("no root span named %q among %d spans", "csvctl upload", len(rec.Ended()))
	}
	traceID := root.SpanContext().TraceID().String()
	if len(f.traceparent) != 1 || !strings.Contains(f.traceparent[0], traceID) {
		t.Errorf("server saw traceparent %q, want one with trace id %s", f.traceparent, traceID)
	}
	var client sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Parent().SpanID() == root.SpanContext().SpanID() && strings.Contains(s.Name(), "UploadFile") {
			client = s
		}
	}
	if client == nil {
		t.Errorf("no UploadFile client span under the root span")
	}
}

func TestWatch(t *testing.T) {
	tests := []struct {
		job        string
		breakAfter int // UNAVAILABLE after this many events on the first stream; 0: never
		wantCode   int
		wantStdout string
		wantStderr string
		wantAfter  []int64 // after_sequence of each WatchJob call
	}{
		{job: "ok", wantCode: exitOK, wantStdout: okWatchOutput, wantAfter: []int64{0}},
		{job: "jobs/ok", breakAfter: 2, wantCode: exitOK, wantStdout: okWatchOutput, wantAfter: []int64{0, 2},
			wantStderr: "csvctl: watch jobs/ok: UNAVAILABLE: server is restarting; resuming after event 2 (attempt 1 of 5)\n"},
		{job: "bad", wantCode: exitJobFailed,
			wantStdout: "2026-11-22T18:00:01.000Z  PENDING     state UNSPECIFIED -> PENDING: file stored\n" +
				"2026-11-22T18:00:02.000Z  FAILED      state PENDING -> FAILED: validation failed\n",
			wantStderr: "csvctl: job jobs/bad failed: the file is not valid UTF-8 at line 3\n", wantAfter: []int64{0}},
		{job: "gone", wantCode: exitJobCancelled,
			wantStdout: "2026-11-22T18:00:01.000Z  PENDING     state UNSPECIFIED -> PENDING: file stored\n" +
				"2026-11-22T18:00:02.000Z  CANCELLED   state PENDING -> CANCELLED: cancelled by a caller\n",
			wantStderr: "csvctl: job jobs/gone was cancelled\n", wantAfter: []int64{0}},
		{job: "nope", wantCode: exitError,
			wantStderr: "csvctl: watch jobs/nope: NOT_FOUND: job jobs/nope not found\n", wantAfter: []int64{0}},
		{job: "run", wantCode: exitError,
			wantStdout: "2026-11-22T18:00:01.000Z  PENDING     state UNSPECIFIED -> PENDING: file stored\n",
			wantStderr: "csvctl: watch jobs/run: event stream ended before the job finished; resuming after event 1 (attempt 1 of 5)\n" +
				"csvctl: watch jobs/run: event stream ended before the job finished; resuming after event 1 (attempt 2 of 5)\n" +
				"csvctl: watch jobs/run: event stream ended before the job finished; resuming after event 1 (attempt 3 of 5)\n" +
				"csvctl: watch jobs/run: event stream ended before the job finished; resuming after event 1 (attempt 4 of 5)\n" +
				"csvctl: watch jobs/run: event stream ended before the job finished; resuming after event 1 (attempt 5 of 5)\n" +
				"csvctl: watch jobs/run: event stream ended before the job finished\n",
			wantAfter: []int64{0, 1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.job, func(t *testing.T) {
			f := newFake()
			if tt.breakAfter > 0 {
				f.breakWatchAfter["jobs/ok"] = tt.breakAfter
			}
			got := runFake(t, f, "watch", tt.job)
			if got.code != tt.wantCode || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("run = %d\nstdout:\n%s\nstderr:\n%s\nwant %d\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
			var after []int64
			for _, r := range f.watchReqs {
				after = append(after, r.GetAfterSequence())
			}
			if !slicesEqual(after, tt.wantAfter) {
				t.Errorf("WatchJob after_sequence = %v, want %v", after, tt.wantAfter)
			}
		})
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGet(t *testing.T) {
	const okTable = `name:             jobs/ok
file:             trades.csv
state:            SUCCEEDED
created:          2026-11-22 18:00:00 UTC
updated:          2026-11-22 18:00:06 UTC
ended:            2026-11-22 18:00:06 UTC
size:             1.5 KiB (1536 bytes)
sha256:           9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
idempotency key:  k1
dialect given:    delimiter ";"
options:          max invalid ratio 0.5, error sample size 50
analysis:         percentiles 0.9, 0.1; columns price, qty
schema:           price number required, qty integer, symbol string
rows:             5: 3 valid, 2 rejected
dialect used:     delimiter ";", quote "\"", double quote, header rows 1, line terminator "\r\n", encoding utf-8
errors:           4
                  TYPE          FIELD      COUNT
                  type-error    1 "price"      2
                  extra-cell    -              1
                  missing-cell  2 "qty"        1
first errors:     row 3 (line 3, byte 41) field 1 "price" type-error: "abc" is not a number
                  row 5 (line 6, byte 97) field 2 "qty" missing-cell: the row has 1 cell, the header 3
                  row 6 (line 7, byte 120) extra-cell: the row has 4 cells, the header 3
                  row 7 (line 8, byte 312) field 1 "price" type-error: "12x" is not a number
warnings:         2 of 5 rows are invalid, under the limit of 50%
trace id:         4bf92f3577b34da6a3ce929d0e0e4736
artifacts:        source      text/csv                        1.5 KiB
                  normalized  text/csv                        1.2 KiB
                  parquet     application/vnd.apache.parquet  2.1 KiB
                  rejects     text/csv                          300 B
                  schema      application/json                  250 B
                  errors      application/json                1.1 KiB
                  report      application/json                  900 B
`
	const runTable = `name:      jobs/run
file:      a-very-long-file-name-for-the-list-table.csv
state:     VALIDATING
created:   2026-11-22 18:01:00 UTC
updated:   -
ended:     -
size:      3.0 GiB (3221225472 bytes)
sha256:    -
progress:  VALIDATING 1.0 GiB / 3.0 GiB (33.3%), 12345678 rows
trace id:  -
`
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"get", "ok"}, exitOK, okTable, ""},
		{[]string{"get", "-o", "table", "jobs/run"}, exitOK, runTable, ""},
		{[]string{"get", "bad"}, exitOK, `name:      jobs/bad
file:      broken.csv
state:     FAILED
created:   2026-11-22 18:00:00 UTC
updated:   -
ended:     -
size:      10 B (10 bytes)
sha256:    -
failure:   the file is not valid UTF-8 at line 3
trace id:  -
`, ""},
		{[]string{"get", "jobs/nope"}, exitError, "",
			"csvctl: get jobs/nope: NOT_FOUND: job jobs/nope not found [resource csvmesh.ingest.v1.Job jobs/nope]\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := runFake(t, newFake(), tt.args...)
			if got.code != tt.wantCode || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("run = %d\nstdout:\n%s\nstderr:\n%s\nwant %d\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		got := runFake(t, newFake(), "get", "ok", "-o", "json")
		if got.code != exitOK || got.stderr != "" {
			t.Fatalf("run = %d, stderr %q", got.code, got.stderr)
		}
		var job ingestv1.Job
		if err := protojson.Unmarshal([]byte(got.stdout), &job); err != nil {
			t.Fatalf("output is not a Job in JSON: %v\n%s", err, got.stdout)
		}
		if !proto.Equal(&job, jobOK()) {
			t.Errorf("JSON job = %v, want %v", &job, jobOK())
		}
		if !strings.HasPrefix(got.stdout, "{\n  \"name\": \"jobs/ok\",\n") {
			t.Errorf("JSON is not indented:\n%s", got.stdout)
		}
	})
}

func TestList(t *testing.T) {
	const header = "JOB   STATE       FILE                                          SIZE     ROWS      CREATED (UTC)\n"
	const run = "run   VALIDATING  a-very-long-file-name-for-the-list-table.csv  3.0 GiB  12345678  2026-11-22 18:01\n"
	const ok = "ok    SUCCEEDED   trades.csv                                    1.5 KiB  5         2026-11-22 18:00\n"
	const bad = "bad   FAILED      broken.csv                                    10 B     -         2026-11-22 18:00\n"
	const gone = "gone  CANCELLED   old.csv                                       20 B     -         2026-11-22 18:00\n"
	tests := []struct {
		args       []string
		wantStdout string
		wantStderr string
		wantReqs   []string // page_size/page_token of each call
	}{
		{[]string{"list"}, header + run + ok + bad + gone, "", []string{"0/"}},
		{[]string{"list", "--page-size", "2"},
			"JOB  STATE       FILE                                          SIZE     ROWS      CREATED (UTC)\n" +
				"run  VALIDATING  a-very-long-file-name-for-the-list-table.csv  3.0 GiB  12345678  2026-11-22 18:01\n" +
				"ok   SUCCEEDED   trades.csv                                    1.5 KiB  5         2026-11-22 18:00\n",
			"more jobs: csvctl list --page-token 2 (or --all)\n", []string{"2/"}},
		{[]string{"list", "--page-size", "2", "--page-token", "2"},
			"JOB   STATE      FILE        SIZE  ROWS  CREATED (UTC)\n" +
				"bad   FAILED     broken.csv  10 B  -     2026-11-22 18:00\n" +
				"gone  CANCELLED  old.csv     20 B  -     2026-11-22 18:00\n",
			"", []string{"2/2"}},
		{[]string{"list", "--page-size", "3", "--all"}, header + run + ok + bad + gone, "", []string{"3/", "3/3"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := newFake()
			got := runFake(t, f, tt.args...)
			if got.code != exitOK || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("run = %d\nstdout:\n%s\nstderr:\n%s\nwant 0\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr, tt.wantStdout, tt.wantStderr)
			}
			var reqs []string
			for _, r := range f.listReqs {
				reqs = append(reqs, strings.Join([]string{strconv.Itoa(int(r.GetPageSize())), r.GetPageToken()}, "/"))
			}
			if !slicesEqual(reqs, tt.wantReqs) {
				t.Errorf("ListJobs calls = %v, want %v", reqs, tt.wantReqs)
			}
		})
	}

	t.Run("json all", func(t *testing.T) {
		got := runFake(t, newFake(), "list", "-o", "json", "--all", "--page-size", "1")
		var resp ingestv1.ListJobsResponse
		if err := protojson.Unmarshal([]byte(got.stdout), &resp); err != nil || got.code != exitOK {
			t.Fatalf("run = %d, %v\n%s", got.code, err, got.stdout)
		}
		want := &ingestv1.ListJobsResponse{Jobs: []*ingestv1.Job{jobRunning(), jobOK(), jobBad(), jobGone()}}
		if !proto.Equal(&resp, want) {
			t.Errorf("JSON list = %v, want %v", &resp, want)
		}
	})
}

func TestCancel(t *testing.T) {
	tests := []struct {
		job        string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"run", exitOK, "jobs/run CANCELLED\n", ""},
		{"jobs/ok", exitError, "", "csvctl: cancel jobs/ok: FAILED_PRECONDITION: job jobs/ok has already finished [precondition STATE jobs/ok: job is SUCCEEDED]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.job, func(t *testing.T) {
			f := newFake()
			got := runFake(t, f, "cancel", tt.job)
			if got.code != tt.wantCode || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("run = %d, stdout %q, stderr %q; want %d, %q, %q", got.code, got.stdout, got.stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
			if len(f.cancelReqs) != 1 || !strings.HasPrefix(f.cancelReqs[0], "jobs/") {
				t.Errorf("CancelJob calls = %q, want one with a resource name", f.cancelReqs)
			}
		})
	}
}

func TestReportCommand(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"report", "ok"}, exitOK, sampleReportTable, ""},
		{[]string{"report", "run"}, exitError, "", "csvctl: report jobs/run: the job has no report (state VALIDATING)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := runFake(t, newFake(), tt.args...)
			if got.code != tt.wantCode || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("run = %d\nstdout:\n%s\nstderr:\n%s\nwant %d\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		got := runFake(t, newFake(), "report", "-o", "json", "ok")
		var r typev1.Report
		if err := protojson.Unmarshal([]byte(got.stdout), &r); err != nil || got.code != exitOK {
			t.Fatalf("run = %d, %v\n%s", got.code, err, got.stdout)
		}
		if !proto.Equal(&r, sampleReport()) {
			t.Errorf("JSON report = %v, want %v", &r, sampleReport())
		}
	})
}

func TestDownload(t *testing.T) {
	content := bytes.Repeat([]byte("date,price\n2026-01-02,1.5\n"), 10000) // several chunks
	newDownloadFake := func() *fakeIngest {
		f := newFake()
		f.artifacts["jobs/ok/artifacts/normalized"] = content
		f.artifacts["jobs/ok/artifacts/rejects"] = content
		f.artifactFailures = map[string]error{"jobs/ok/artifacts/rejects": status.Error(codes.DataLoss, "object is corrupt")}
		return f
	}

	t.Run("to file", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "out.csv")
		got := runFake(t, newDownloadFake(), "download", "-o", out, "ok", "normalized")
		if got.code != exitOK || got.stdout != "" || got.stderr != "jobs/ok/artifacts/normalized: 253.9 KiB written to "+out+"\n" {
			t.Fatalf("run = %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(data, content) {
			t.Errorf("file holds %d bytes (%v), want the artifact's %d", len(data), err, len(content))
		}
		assertOnlyFiles(t, dir, "out.csv")
	})

	for _, artifact := range []string{"parquet", "schema", "errors"} {
		t.Run("new artifact "+artifact, func(t *testing.T) {
			f := newFake()
			want := []byte("bytes of " + artifact)
			f.artifacts["jobs/ok/artifacts/"+artifact] = want
			got := runFake(t, f, "download", "ok", artifact)
			if got.code != exitOK || got.stdout != string(want) || got.stderr != "" {
				t.Errorf("run = %d, stdout %q, stderr %q; want 0, %q", got.code, got.stdout, got.stderr, want)
			}
		})
	}

	t.Run("to stdout", func(t *testing.T) {
		got := runFake(t, newDownloadFake(), "download", "jobs/ok", "normalized")
		if got.code != exitOK || got.stdout != string(content) || got.stderr != "" {
			t.Errorf("run = %d, %d bytes on stdout, stderr %q; want 0, %d bytes", got.code, len(got.stdout), got.stderr, len(content))
		}
	})

	failures := []struct {
		name, artifact, wantStderr string
	}{
		{"fails midway", "rejects", "csvctl: download jobs/ok/artifacts/rejects: DATA_LOSS: object is corrupt\n"},
		{"not found", "source", "csvctl: download jobs/ok/artifacts/source: NOT_FOUND: artifact jobs/ok/artifacts/source not found\n"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fresh, kept := filepath.Join(dir, "fresh.csv"), filepath.Join(dir, "kept.csv")
			os.WriteFile(kept, []byte("old"), 0o644)
			for _, out := range []string{fresh, kept} {
				got := runFake(t, newDownloadFake(), "download", "ok", tt.artifact, "-o", out)
				if got.code != exitError || got.stderr != tt.wantStderr {
					t.Errorf("run = %d, stderr %q; want 1, %q", got.code, got.stderr, tt.wantStderr)
				}
			}
			if data, err := os.ReadFile(kept); err != nil || string(data) != "old" {
				t.Errorf("existing file holds %q (%v) after a failed download, want it untouched", data, err)
			}
			assertOnlyFiles(t, dir, "kept.csv")
		})
	}
}

// assertOnlyFiles fails unless dir holds exactly the named files.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slicesEqual(got, names) {
		t.Errorf("directory holds %q, want %q", got, names)
	}
}

// TestRunOverTCP runs the real entry point, with its own connection and
// tracing setup, against the fake on a loopback listener.
func TestRunOverTCP(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	f := newFake()
	ingestv1.RegisterIngestServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--addr", lis.Addr().String(), "cancel", "run"}, &stdout, &stderr)
	if code != exitOK || stdout.String() != "jobs/run CANCELLED\n" || stderr.String() != "" {
		t.Errorf("run = %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
