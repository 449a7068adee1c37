package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// e2eCSV has a ragged row, a quoted newline, doubled quotes, a missing price
// and CRLF endings; its statistics are easy to check by hand.
const e2eCSV = "symbol,price,quantity,note\r\n" +
	"AAPL,10,1,plain\r\n" +
	"MSFT,20,2,\"two\nlines\"\r\n" +
	"AAPL,30,3,\"say \"\"hi\"\"\"\r\n" +
	"TSLA,,4,missing price\r\n" +
	"AAPL,40,5,x,extra\r\n" +
	"MSFT,40,6,last\r\n"

// client is a gRPC client of ingest whose spans are recorded in memory, so
// the test can compare the client's trace id with the services'.
type client struct {
	ingestv1.IngestServiceClient
	rec *tracetest.SpanRecorder
	tp  *sdktrace.TracerProvider
}

func newClient(t *testing.T, addr string) *client {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tp),
			otelgrpc.WithPropagators(propagation.TraceContext{}))),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{IngestServiceClient: ingestv1.NewIngestServiceClient(conn), rec: rec, tp: tp}
}

// upload streams data in chunks of chunk bytes inside a client root span and
// returns the job and the root span's trace id.
func (c *client) upload(t *testing.T, name string, data io.Reader, size int64, sum string, chunk int) (*ingestv1.Job, string) {
	t.Helper()
	ctx, span := c.tp.Tracer("e2e").Start(context.Background(), "e2e upload")
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	stream, err := c.UploadFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	md := &ingestv1.UploadMetadata{FileName: name, Sha256: sum}
	if size >= 0 {
		md.DeclaredSizeBytes = &size
	}
	if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: md}}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, chunk)
	for {
		n, err := io.ReadFull(data, buf)
		if n > 0 {
			if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: buf[:n]}}); err != nil {
				t.Fatal(err)
			}
		}
		if err != nil {
			break
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return resp.GetJob(), span.SpanContext().TraceID().String()
}

// watch follows a job to its end and returns its events.
func (c *client) watch(t *testing.T, name string, after int64, each func(*ingestv1.JobEvent) bool) []*ingestv1.JobEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stream, err := c.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: name, AfterSequence: after})
	if err != nil {
		t.Fatal(err)
	}
	var events []*ingestv1.JobEvent
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return events
		}
		if err != nil {
			t.Fatalf("watch %s: %v", name, err)
		}
		events = append(events, resp.GetEvent())
		if each != nil && !each(resp.GetEvent()) {
			return events
		}
	}
}

func terminal(s ingestv1.Job_State) bool {
	return s == ingestv1.Job_STATE_SUCCEEDED || s == ingestv1.Job_STATE_FAILED || s == ingestv1.Job_STATE_CANCELLED
}

func checkEventLog(t *testing.T, events []*ingestv1.JobEvent, after int64) {
	t.Helper()
	if len(events) == 0 {
		t.Fatal("no events")
	}
	for i, e := range events {
		if want := after + int64(i) + 1; e.GetSequence() != want {
			t.Fatalf("event %d has sequence %d, want %d (no gaps, no duplicates)", i, e.GetSequence(), want)
		}
	}
	last := events[len(events)-1]
	if !terminal(last.GetState()) {
		t.Fatalf("watch ended in %v, want a terminal state", last.GetState())
	}
}

func column(r *typev1.Report, name string) *typev1.ColumnStats {
	for _, c := range r.GetColumns() {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestEndToEndFourProcesses(t *testing.T) {
	m := startMesh4(t)
	c := newClient(t, m.ingestAddr)

	sum := sha256.Sum256([]byte(e2eCSV))
	job, traceID := c.upload(t, "e2e.csv", strings.NewReader(e2eCSV), int64(len(e2eCSV)), hex.EncodeToString(sum[:]), 16)
	if !strings.HasPrefix(job.GetName(), "jobs/") || job.GetSizeBytes() != int64(len(e2eCSV)) {
		t.Fatalf("upload answered %v", job)
	}
	if job.GetTraceId() != traceID {
		t.Errorf("job trace_id %q, want the client's %q", job.GetTraceId(), traceID)
	}
	events := c.watch(t, job.GetName(), 0, nil)
	checkEventLog(t, events, 0)

	got, err := c.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: job.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	j := got.GetJob()
	if j.GetState() != ingestv1.Job_STATE_SUCCEEDED {
		t.Fatalf("job ended %v: %s", j.GetState(), j.GetFailureReason())
	}
	v := j.GetValidation()
	if v.GetRowsTotal() != 6 || v.GetRowsValid() != 5 || v.GetRowsRejected() != 1 {
		t.Errorf("validation rows total/valid/rejected = %d/%d/%d, want 6/5/1", v.GetRowsTotal(), v.GetRowsValid(), v.GetRowsRejected())
	}
	if se := v.GetSampleErrors(); len(se) != 1 || se[0].GetLineNumber() != 7 || se[0].GetRowNumber() != 6 || se[0].GetType() != "extra-cell" {
		t.Errorf("sample errors %v, want one extra-cell in row 6 on line 7", se)
	}
	price := column(j.GetReport(), "price")
	if price == nil || price.GetNumeric() == nil {
		t.Fatalf("report has no numeric price column: %v", j.GetReport())
	}
	// pandas: pd.Series([10, 20, 30, 40]).describe()
	n := price.GetNumeric()
	if price.GetCount() != 4 || price.GetNullCount() != 1 || !near(n.GetMean(), 25) ||
		!near(n.GetStd(), 12.909944487358056) || n.GetMin() != 10 || n.GetMax() != 40 {
		t.Errorf("price stats = %v", price)
	}
	wantQ := map[float64]float64{0.25: 17.5, 0.5: 25, 0.75: 32.5}
	for _, p := range n.GetPercentiles() {
		if w, ok := wantQ[p.GetQuantile()]; !ok || !near(p.GetValue(), w) {
			t.Errorf("price quantile %v = %v, want %v", p.GetQuantile(), p.GetValue(), w)
		}
	}
	sym := column(j.GetReport(), "symbol")
	if cs := sym.GetCategorical(); sym.GetCount() != 5 || cs.GetUnique() != 3 || cs.GetTop() != "AAPL" || cs.GetFreq() != 2 {
		t.Errorf("symbol stats = %v", sym)
	}

	// The normalized artifact: LF endings, the ragged row gone, quoting kept.
	norm := download(t, c, j.GetName()+"/artifacts/normalized")
	wantNorm := "symbol,price,quantity,note\nAAPL,10,1,plain\nMSFT,20,2,\"two\nlines\"\nAAPL,30,3,\"say \"\"hi\"\"\"\nTSLA,,4,missing price\nMSFT,40,6,last\n"
	if norm != wantNorm {
		t.Errorf("normalized artifact:\n%q\nwant\n%q", norm, wantNorm)
	}
	if rej := download(t, c, j.GetName()+"/artifacts/rejects"); !strings.Contains(rej, "extra-cell") || !strings.Contains(rej, "6,7,") {
		t.Errorf("rejects artifact lacks the ragged row on line 7:\n%s", rej)
	}

	// REST: an upload with a traceparent continues the caller's trace.
	restTrace := "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.gatewayAddr+"/v1/jobs:upload?file_name=rest.csv", strings.NewReader(e2eCSV))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("traceparent", "00-"+restTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		Job struct {
			Name    string `json:"name"`
			TraceID string `json:"trace_id"`
		} `json:"job"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("REST upload: %s\n%s", resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&up); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if up.Job.TraceID != restTrace {
		t.Errorf("REST job trace_id %q, want the caller's %q", up.Job.TraceID, restTrace)
	}
	// Watch over REST as newline-delimited JSON, to the end.
	wresp, err := http.Get("http://" + m.gatewayAddr + "/v1/" + up.Job.Name + ":watch")
	if err != nil {
		t.Fatal(err)
	}
	var lastState string
	sc := bufio.NewScanner(wresp.Body)
	lines := 0
	for sc.Scan() {
		var line struct {
			Result struct {
				Event struct {
					State string `json:"state"`
				} `json:"event"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("watch line %q: %v", sc.Text(), err)
		}
		lines++
		lastState = line.Result.Event.State
	}
	wresp.Body.Close()
	if lines < 3 || lastState != "STATE_SUCCEEDED" {
		t.Errorf("REST watch: %d lines, last state %q", lines, lastState)
	}

	// One trace per job: the client's (or REST caller's) trace id covers
	// spans of every service that took part.
	check := func(trace string, services ...string) {
		t.Helper()
		spans := m.col.waitSpans(t, 20*time.Second, func(s []span) bool {
			seen := map[string]bool{}
			for _, sp := range s {
				if sp.TraceID == trace {
					seen[sp.Service] = true
				}
			}
			for _, svc := range services {
				if !seen[svc] {
					return false
				}
			}
			return true
		})
		seen := map[string][]string{}
		for _, sp := range spans {
			if sp.TraceID == trace {
				seen[sp.Service] = append(seen[sp.Service], sp.Name)
			}
		}
		t.Logf("trace %s: %v", trace, seen)
		for _, svc := range services {
			if len(seen[svc]) == 0 {
				t.Errorf("trace %s has no span from %s; it has %v", trace, svc, seen)
			}
		}
	}
	check(traceID, "csvmesh-ingest", "csvmesh-validator", "csvmesh-analyzer")

	// The CLI starts the trace of its upload too.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cli.csv"), []byte(e2eCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runCmd(t, dir, append(m.col.env("csvctl"), "CSVCTL_ADDR="+m.ingestAddr),
		binary(t, "clients/csvctl"), "upload", "--follow", "cli.csv")
	cliJob := strings.Fields(out)[0]
	gj, err := c.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: cliJob})
	if err != nil {
		t.Fatalf("csvctl printed %q: %v", out, err)
	}
	cliTrace := gj.GetJob().GetTraceId()
	check(cliTrace, "csvctl", "csvmesh-ingest", "csvmesh-validator", "csvmesh-analyzer")

	// No split traces: every internal call of the three jobs is in one of
	// their three traces, one Validate and one Analyze per job on each side.
	jobTraces := map[string]bool{traceID: true, restTrace: true, cliTrace: true}
	internal := func(s []span) map[string]int {
		n := map[string]int{}
		for _, sp := range s {
			if strings.HasSuffix(sp.Name, "ValidatorService/Validate") || strings.HasSuffix(sp.Name, "AnalyzerService/Analyze") {
				n[sp.TraceID]++
			}
		}
		return n
	}
	spans := m.col.waitSpans(t, 20*time.Second, func(s []span) bool {
		n := internal(s)
		for tr := range jobTraces {
			if n[tr] < 4 {
				return false
			}
		}
		return true
	})
	for tr, n := range internal(spans) {
		if !jobTraces[tr] {
			t.Errorf("%d internal spans are on trace %s, which is none of the jobs' traces %v", n, tr, jobTraces)
		} else if n != 4 {
			t.Errorf("trace %s has %d Validate/Analyze spans, want 4 (client and server side of each)", tr, n)
		}
	}
	check(restTrace, "csvmesh-gateway", "csvmesh-ingest", "csvmesh-validator", "csvmesh-analyzer")
	if len(c.rec.Ended()) == 0 {
		t.Error("the client recorded no spans")
	}

	// Logs: JSON everywhere; lines about the job carry its trace id.
	jobID := strings.TrimPrefix(job.GetName(), "jobs/")
	for _, p := range []*proc{m.validator, m.analyzer, m.ingest, m.gateway} {
		withJob := 0
		for _, rec := range jsonLines(t, p.name, p.logLines()) {
			if j, _ := rec["job"].(string); j == jobID || j == job.GetName() {
				withJob++
				if rec["trace_id"] != traceID {
					t.Errorf("%s log line about %s has trace_id %v, want %s: %v", p.name, jobID, rec["trace_id"], traceID, rec)
				}
			}
		}
		if p != m.gateway && withJob == 0 {
			t.Errorf("%s logged nothing about job %s", p.name, jobID)
		}
	}
}

func download(t *testing.T, c *client, name string) string {
	t.Helper()
	stream, err := c.DownloadArtifact(context.Background(), &ingestv1.DownloadArtifactRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return b.String()
		}
		if err != nil {
			t.Fatalf("download %s: %v", name, err)
		}
		b.Write(resp.GetChunk())
	}
}

// bigCSV writes about size bytes of a trades-like file.
func bigCSV(t *testing.T, dir string, size int) string {
	t.Helper()
	p := filepath.Join(dir, "big.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "timestamp,symbol,side,price,quantity,note")
	syms := []string{"AAPL", "MSFT", "TSLA", "NVDA", "AMZN"}
	written := 0
	for i := 0; written < size; i++ {
		n, _ := fmt.Fprintf(w, "2026-03-02T14:%02d:%02dZ,%s,%s,%d.%02d,%d,\"note %d, with \"\"quotes\"\"\"\n",
			(i/60)%60, i%60, syms[i%len(syms)], []string{"BUY", "SELL"}[i%2], 100+i%97, i%100, 1+i%1000, i)
		written += n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRestartResumesJob kills ingest (SIGKILL, as a crash) while a job is
// running, starts it again on the same data directory, and checks the job
// is picked up and finishes, with its event log intact.
func TestRestartResumesJob(t *testing.T) {
	m := startMesh4(t)
	c := newClient(t, m.ingestAddr)
	path := bigCSV(t, t.TempDir(), 60<<20)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	job, _ := c.upload(t, "big.csv", f, -1, "", 1<<20)

	// Crash ingest as soon as the job is being worked on.
	c.watch(t, job.GetName(), 0, func(e *ingestv1.JobEvent) bool {
		return e.GetState() != ingestv1.Job_STATE_VALIDATING
	})
	m.ingest.stop(t, syscall.SIGKILL)

	// Start ingest again on the same data directory and port.
	m.ingest = m.startIngest(t, m.ingestAddr)
	waitHealthy(t, m.ingestAddr)
	c2 := newClient(t, m.ingestAddr)
	events := c2.watch(t, job.GetName(), 0, nil)
	checkEventLog(t, events, 0)
	last := events[len(events)-1]
	if last.GetState() != ingestv1.Job_STATE_SUCCEEDED {
		t.Fatalf("resumed job ended %v: %v", last.GetState(), last)
	}
	resumed := false
	for _, e := range events {
		if strings.Contains(strings.ToLower(e.GetStateChange().GetMessage()), "resum") {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("no event says the job was resumed after the restart: %v", events)
	}
	got, err := c2.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: job.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetJob().GetReport().GetRowCount() == 0 || got.GetJob().GetValidation().GetRowsRejected() != 0 {
		t.Errorf("resumed job report/validation: %v / %v", got.GetJob().GetReport().GetRowCount(), got.GetJob().GetValidation())
	}

	// A finished job survives a clean restart too: SIGTERM, start, Get.
	if err := m.ingest.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("ingest exited with %v after SIGTERM, want a clean exit", err)
	}
	m.ingest = m.startIngest(t, m.ingestAddr)
	waitHealthy(t, m.ingestAddr)
	c3 := newClient(t, m.ingestAddr)
	again, err := c3.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: job.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if again.GetJob().GetState() != ingestv1.Job_STATE_SUCCEEDED || again.GetJob().GetReport().GetRowCount() != got.GetJob().GetReport().GetRowCount() {
		t.Errorf("after a restart the job is %v", again.GetJob())
	}
	replay := c3.watch(t, job.GetName(), 0, nil)
	if len(replay) != len(events) {
		t.Errorf("replay after restart has %d events, want %d", len(replay), len(events))
	}
}

// TestBadInputEndToEnd sends bad input through the real processes and
// checks the status each gets, and that nothing is left half-done.
func TestBadInputEndToEnd(t *testing.T) {
	m := startMesh4(t, "--max-upload-bytes=1MiB")
	c := newClient(t, m.ingestAddr)
	ctx := context.Background()

	uploadErr := func(meta *ingestv1.UploadMetadata, chunks ...string) error {
		stream, err := c.UploadFile(ctx)
		if err != nil {
			return err
		}
		stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: meta}})
		for _, ch := range chunks {
			if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: []byte(ch)}}); err != nil {
				break
			}
		}
		_, err = stream.CloseAndRecv()
		return err
	}
	big := strings.Repeat("a,b\n", 300<<10)
	tests := []struct {
		name string
		meta *ingestv1.UploadMetadata
		data []string
		want codes.Code
	}{
		{"empty file", &ingestv1.UploadMetadata{FileName: "e.csv"}, nil, codes.InvalidArgument},
		{"over the limit", &ingestv1.UploadMetadata{FileName: "big.csv"}, []string{big}, codes.ResourceExhausted},
		{"sha mismatch", &ingestv1.UploadMetadata{FileName: "s.csv", Sha256: strings.Repeat("0", 64)}, []string{"a\n1\n"}, codes.InvalidArgument},
		{"no file name", &ingestv1.UploadMetadata{}, []string{"a\n1\n"}, codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := uploadErr(tc.meta, tc.data...)
			if status.Code(err) != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if status.Convert(err).Message() == "" {
				t.Error("the status has no message")
			}
		})
	}
	for _, name := range []string{"jobs/0123456789abcdef0123456789abcdef"} {
		if _, err := c.GetJob(ctx, &ingestv1.GetJobRequest{Name: name}); status.Code(err) != codes.NotFound {
			t.Errorf("GetJob(%s) = %v, want NotFound", name, err)
		}
	}
	// None of the refused uploads left a job or an object.
	list, err := c.ListJobs(ctx, &ingestv1.ListJobsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetJobs()) != 0 {
		t.Errorf("refused uploads left jobs: %v", list.GetJobs())
	}
	entries, _ := os.ReadDir(filepath.Join(m.dataDir, "objects", "jobs"))
	if len(entries) != 0 {
		t.Errorf("refused uploads left objects: %v", entries)
	}

	// Header only: the job fails with a reason a user understands.
	job, _ := c.upload(t, "h.csv", strings.NewReader("a,b\n"), -1, "", 1024)
	c.watch(t, job.GetName(), 0, nil)
	got, err := c.GetJob(ctx, &ingestv1.GetJobRequest{Name: job.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetJob().GetState() != ingestv1.Job_STATE_FAILED || !strings.Contains(got.GetJob().GetFailureReason(), "no data rows") {
		t.Errorf("header-only job: %v %q", got.GetJob().GetState(), got.GetJob().GetFailureReason())
	}

	// REST maps the same errors to HTTP statuses.
	resp, err := http.Post("http://"+m.gatewayAddr+"/v1/jobs:upload?file_name=e.csv", "text/csv", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("REST empty upload: %s, want 400", resp.Status)
	}
	// Over the limit through REST: ingest refuses it, the gateway says 413.
	resp, err = http.Post("http://"+m.gatewayAddr+"/v1/jobs:upload?file_name=big.csv", "text/csv", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("REST upload over the limit: %s, want 413", resp.Status)
	}
	resp, err = http.Get("http://" + m.gatewayAddr + "/v1/jobs/0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("REST unknown job: %s, want 404", resp.Status)
	}
}

// TestLogsStayJSONWhenExportFails points the trace exporter at a closed
// port: the export errors must come out as JSON log lines too.
func TestLogsStayJSONWhenExportFails(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close()
	p := startProc(t, "all", []string{
		"OTEL_TRACES_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + closed,
		"OTEL_EXPORTER_OTLP_TIMEOUT=300",
		"OTEL_BSP_SCHEDULE_DELAY=50",
	}, "--data-dir", t.TempDir(), "--ingest-listen=127.0.0.1:0", "--validator-listen=127.0.0.1:0",
		"--analyzer-listen=127.0.0.1:0", "--gateway-listen=127.0.0.1:0")
	c := newClient(t, p.addr(t, "ingest"))
	job, _ := c.upload(t, "x.csv", strings.NewReader("a,b\n1,2\n"), -1, "", 1024)
	c.watch(t, job.GetName(), 0, nil)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(strings.Join(p.logLines(), "\n"), "opentelemetry error") {
		if time.Now().After(deadline) {
			t.Fatalf("no export error was logged:\n%s", strings.Join(p.logLines(), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	jsonLines(t, "all", p.logLines())
}

// TestCancelDuringWork cancels a job through REST while the validator works
// on it: the job ends CANCELLED, the validator's stream stops, and no output
// is left behind.
func TestCancelDuringWork(t *testing.T) {
	m := startMesh4(t)
	c := newClient(t, m.ingestAddr)
	path := bigCSV(t, t.TempDir(), 60<<20)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	job, _ := c.upload(t, "big.csv", f, -1, "", 1<<20)

	cancelled := false
	events := c.watch(t, job.GetName(), 0, func(e *ingestv1.JobEvent) bool {
		if e.GetState() == ingestv1.Job_STATE_VALIDATING && !cancelled {
			cancelled = true
			resp, err := http.Post("http://"+m.gatewayAddr+"/v1/"+job.GetName()+":cancel", "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Error(err)
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("REST cancel: %s", resp.Status)
			}
		}
		return true
	})
	checkEventLog(t, events, 0)
	if last := events[len(events)-1]; last.GetState() != ingestv1.Job_STATE_CANCELLED {
		t.Fatalf("job ended %v, want CANCELLED", last.GetState())
	}
	// Cancelling again is refused: the job is finished.
	if _, err := c.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: job.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("second cancel = %v, want FailedPrecondition", err)
	}
	// Nothing but the source is left once the validator has stopped, and if
	// the validator's call had started (the cancel can land before it does),
	// it ended cancelled rather than running to completion.
	jobDir := filepath.Join(m.dataDir, "objects", "jobs", strings.TrimPrefix(job.GetName(), "jobs/"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, _ := os.ReadDir(jobDir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		var calls []string
		for _, rec := range jsonLines(t, "validator", m.validator.logLines()) {
			if rec["method"] == "/csvmesh.validator.v1.ValidatorService/Validate" {
				calls = append(calls, fmt.Sprint(rec["code"]))
			}
		}
		if len(names) == 1 && names[0] == "source.csv" {
			for _, code := range calls {
				if code != "Canceled" {
					t.Errorf("the validator's call ended %s, want Canceled", code)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after cancel the job directory holds %v, want only source.csv (validator calls: %v)", names, calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
