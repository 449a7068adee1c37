package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	"github.com/csvmesh/csvmesh/services/gateway"
	"github.com/csvmesh/csvmesh/services/internal/grpctest"
)

func TestNewRejectsBadOptions(t *testing.T) {
	conn := grpctest.Dial(t, bufconn.Listen(1024))
	tests := []struct {
		name string
		conn grpc.ClientConnInterface
		opts []gateway.Option
	}{
		{"nil conn", nil, nil},
		{"zero chunk size", conn, []gateway.Option{gateway.WithChunkSize(0)}},
		{"chunk size over the API limit", conn, []gateway.Option{gateway.WithChunkSize(gateway.MaxChunkSize + 1)}},
		{"negative upload limit", conn, []gateway.Option{gateway.WithMaxUploadBytes(-1)}},
		{"zero form field limit", conn, []gateway.Option{gateway.WithMaxFormFieldBytes(0)}},
		{"zero health timeout", conn, []gateway.Option{gateway.WithHealthCheck("", 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if h, err := gateway.New(t.Context(), tc.conn, tc.opts...); err == nil {
				t.Errorf("New = %v, nil; want an error", h)
			}
		})
	}
}

func badRequest(t *testing.T, field, desc string) error {
	t.Helper()
	st, err := status.New(codes.InvalidArgument, desc).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

// TestUnaryRoutes checks the generated routes: the request mapping, the JSON
// shape of answers (proto names, unset fields left out) and the HTTP status
// of ingest's errors with their details.
func TestUnaryRoutes(t *testing.T) {
	job := &ingestv1.Job{Name: "jobs/abc", FileName: "t.csv", State: ingestv1.Job_STATE_SUCCEEDED, SizeBytes: 42, TraceId: "0af7"}
	jobJSON := map[string]any{"name": "jobs/abc", "file_name": "t.csv", "state": "STATE_SUCCEEDED", "size_bytes": "42", "trace_id": "0af7"}

	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		fake     func(t *testing.T, f *fakeIngest)
		wantHTTP int
		wantCode codes.Code     // for errors
		field    string         // a BadRequest violation the error must keep
		wantJSON map[string]any // for successes
	}{{
		name: "get", method: http.MethodGet, path: "/v1/jobs/abc",
		fake: func(t *testing.T, f *fakeIngest) {
			f.getJob = func(_ context.Context, r *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error) {
				if r.GetName() != "jobs/abc" {
					return nil, status.Errorf(codes.NotFound, "got %q", r.GetName())
				}
				return &ingestv1.GetJobResponse{Job: job}, nil
			}
		},
		wantHTTP: http.StatusOK, wantJSON: map[string]any{"job": jobJSON},
	}, {
		name: "get not found", method: http.MethodGet, path: "/v1/jobs/nope",
		fake: func(t *testing.T, f *fakeIngest) {
			f.getJob = func(context.Context, *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error) {
				return nil, status.Error(codes.NotFound, "job jobs/nope not found")
			}
		},
		wantHTTP: http.StatusNotFound, wantCode: codes.NotFound,
	}, {
		name: "get invalid name keeps the details", method: http.MethodGet, path: "/v1/jobs/B%20AD",
		fake: func(t *testing.T, f *fakeIngest) {
			f.getJob = func(context.Context, *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error) {
				return nil, badRequest(t, "name", "malformed job id")
			}
		},
		wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "name",
	}, {
		name: "list with paging", method: http.MethodGet, path: "/v1/jobs?page_size=2&page_token=tok",
		fake: func(t *testing.T, f *fakeIngest) {
			f.listJobs = func(_ context.Context, r *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error) {
				if r.GetPageSize() != 2 || r.GetPageToken() != "tok" {
					return nil, status.Errorf(codes.InvalidArgument, "got %v", r)
				}
				return &ingestv1.ListJobsResponse{Jobs: []*ingestv1.Job{job}, NextPageToken: "next"}, nil
			}
		},
		wantHTTP: http.StatusOK, wantJSON: map[string]any{"jobs": []any{jobJSON}, "next_page_token": "next"},
	}, {
		name: "list resource exhausted", method: http.MethodGet, path: "/v1/jobs",
		fake: func(t *testing.T, f *fakeIngest) {
			f.listJobs = func(context.Context, *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error) {
				return nil, status.Error(codes.ResourceExhausted, "too many requests")
			}
		},
		wantHTTP: http.StatusTooManyRequests, wantCode: codes.ResourceExhausted,
	}, {
		name: "cancel", method: http.MethodPost, path: "/v1/jobs/abc:cancel", body: "{}",
		fake: func(t *testing.T, f *fakeIngest) {
			f.cancelJob = func(_ context.Context, r *ingestv1.CancelJobRequest) (*ingestv1.CancelJobResponse, error) {
				if r.GetName() != "jobs/abc" {
					return nil, status.Errorf(codes.NotFound, "got %q", r.GetName())
				}
				return &ingestv1.CancelJobResponse{Job: &ingestv1.Job{Name: "jobs/abc", State: ingestv1.Job_STATE_CANCELLED}}, nil
			}
		},
		wantHTTP: http.StatusOK, wantJSON: map[string]any{"job": map[string]any{"name": "jobs/abc", "state": "STATE_CANCELLED"}},
	}, {
		name: "cancel finished job", method: http.MethodPost, path: "/v1/jobs/abc:cancel",
		fake: func(t *testing.T, f *fakeIngest) {
			f.cancelJob = func(context.Context, *ingestv1.CancelJobRequest) (*ingestv1.CancelJobResponse, error) {
				return nil, status.Error(codes.FailedPrecondition, "job jobs/abc already SUCCEEDED")
			}
		},
		wantHTTP: http.StatusBadRequest, wantCode: codes.FailedPrecondition,
	}, {
		name: "unknown route", method: http.MethodGet, path: "/v2/things",
		fake:     func(*testing.T, *fakeIngest) {},
		wantHTTP: http.StatusNotFound, wantCode: codes.NotFound,
	}, {
		name: "wrong method on upload", method: http.MethodGet, path: "/v1/jobs:upload",
		fake:     func(*testing.T, *fakeIngest) {},
		wantHTTP: http.StatusMethodNotAllowed, wantCode: codes.Unimplemented,
	}, {
		name: "wrong method on a job", method: http.MethodDelete, path: "/v1/jobs/abc",
		fake:     func(*testing.T, *fakeIngest) {},
		wantHTTP: http.StatusMethodNotAllowed, wantCode: codes.Unimplemented,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			tc.fake(t, fake)
			e := newEnv(t, fake)
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := e.newRequest(t, tc.method, tc.path, body)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, got := e.do(t, req)
			if tc.wantJSON == nil {
				checkError(t, resp, got, tc.wantHTTP, tc.wantCode, tc.field)
				return
			}
			if resp.StatusCode != tc.wantHTTP {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.wantHTTP, got)
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatalf("body %s: %v", got, err)
			}
			if !reflect.DeepEqual(m, tc.wantJSON) {
				t.Errorf("body %s, want %v", got, tc.wantJSON)
			}
		})
	}
}

// TestWatchStreamsNDJSON checks that each event is written and flushed as it
// arrives: the fake sends the second event only after the client has read the
// first, so a gateway that buffered would never deliver it.
func TestWatchStreamsNDJSON(t *testing.T) {
	fake := newFake()
	readFirst := newSignal()
	fake.watchJob = func(r *ingestv1.WatchJobRequest, s grpc.ServerStreamingServer[ingestv1.WatchJobResponse]) error {
		if r.GetName() != "jobs/abc" || r.GetAfterSequence() != 3 {
			return status.Errorf(codes.InvalidArgument, "got %v", r)
		}
		if err := s.Send(&ingestv1.WatchJobResponse{Event: &ingestv1.JobEvent{
			Sequence: 4, State: ingestv1.Job_STATE_ANALYZING,
			Kind: &ingestv1.JobEvent_Progress{Progress: &ingestv1.Progress{Stage: ingestv1.Job_STATE_ANALYZING, BytesProcessed: 10, BytesTotal: 20}},
		}}); err != nil {
			return err
		}
		select {
		case <-readFirst.C:
		case <-s.Context().Done():
			return s.Context().Err()
		}
		return s.Send(&ingestv1.WatchJobResponse{Event: &ingestv1.JobEvent{
			Sequence: 5, State: ingestv1.Job_STATE_SUCCEEDED,
			Kind: &ingestv1.JobEvent_StateChange{StateChange: &ingestv1.StateChange{
				From: ingestv1.Job_STATE_ANALYZING, To: ingestv1.Job_STATE_SUCCEEDED, Message: "done"}},
		}})
	}
	e := newEnv(t, fake)
	resp, err := e.client.Do(e.newRequest(t, http.MethodGet, "/v1/jobs/abc:watch?after_sequence=3", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status = %d, body %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type = %q, want application/x-ndjson", ct)
	}
	lines := bufio.NewReader(resp.Body)
	readLine := func() map[string]any {
		t.Helper()
		line, err := lines.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading a line: %v (got %q)", err, line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		return m
	}
	first := readLine()
	readFirst.fire()
	second := readLine()
	want1 := map[string]any{"result": map[string]any{"event": map[string]any{
		"sequence": "4", "state": "STATE_ANALYZING",
		"progress": map[string]any{"stage": "STATE_ANALYZING", "bytes_processed": "10", "bytes_total": "20"},
	}}}
	want2 := map[string]any{"result": map[string]any{"event": map[string]any{
		"sequence": "5", "state": "STATE_SUCCEEDED",
		"state_change": map[string]any{"from": "STATE_ANALYZING", "to": "STATE_SUCCEEDED", "message": "done"},
	}}}
	if !reflect.DeepEqual(first, want1) {
		t.Errorf("first line %v, want %v", first, want1)
	}
	if !reflect.DeepEqual(second, want2) {
		t.Errorf("second line %v, want %v", second, want2)
	}
	if rest, err := io.ReadAll(lines); err != nil || len(rest) != 0 {
		t.Errorf("after the last event: %q, %v; want a clean end", rest, err)
	}
}

func TestWatchErrors(t *testing.T) {
	tests := []struct {
		name       string
		events     int // sent before the error
		err        error
		wantHTTP   int
		wantLines  int // lines before the error line
		wantStatus codes.Code
	}{
		{name: "not found before any event", err: status.Error(codes.NotFound, "job jobs/x not found"),
			wantHTTP: http.StatusNotFound, wantStatus: codes.NotFound},
		{name: "failure after an event", events: 1, err: status.Error(codes.Unavailable, "ingest is stopping"),
			wantHTTP: http.StatusOK, wantLines: 1, wantStatus: codes.Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.watchJob = func(_ *ingestv1.WatchJobRequest, s grpc.ServerStreamingServer[ingestv1.WatchJobResponse]) error {
				for i := range tc.events {
					if err := s.Send(&ingestv1.WatchJobResponse{Event: &ingestv1.JobEvent{Sequence: int64(i + 1)}}); err != nil {
						return err
					}
				}
				return tc.err
			}
			e := newEnv(t, fake)
			resp, body := e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/x:watch", nil))
			if resp.StatusCode != tc.wantHTTP {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.wantHTTP, body)
			}
			lines := bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
			if len(lines) != tc.wantLines+1 {
				t.Fatalf("got %d lines, want %d events and an error: %s", len(lines), tc.wantLines, body)
			}
			var last struct {
				Error errorBody `json:"error"`
			}
			if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
				t.Fatalf("last line %s: %v", lines[len(lines)-1], err)
			}
			if codes.Code(last.Error.Code) != tc.wantStatus || last.Error.Message != status.Convert(tc.err).Message() {
				t.Errorf("error line %s, want code %v", lines[len(lines)-1], tc.wantStatus)
			}
		})
	}
}

func TestDownload(t *testing.T) {
	chunks := [][]byte{[]byte("id,price\n"), []byte("1,2.5\n"), []byte("2,3.75\n")}
	all := bytes.Join(chunks, nil)
	sendAll := func(ct string, failAfter int) func(*ingestv1.DownloadArtifactRequest, grpc.ServerStreamingServer[ingestv1.DownloadArtifactResponse]) error {
		return func(r *ingestv1.DownloadArtifactRequest, s grpc.ServerStreamingServer[ingestv1.DownloadArtifactResponse]) error {
			if !strings.HasPrefix(r.GetName(), "jobs/abc/artifacts/") || strings.HasSuffix(r.GetName(), "/nope") {
				return status.Errorf(codes.NotFound, "artifact %s not found", r.GetName())
			}
			for i, c := range chunks {
				if i == failAfter {
					return status.Error(codes.DataLoss, "object truncated")
				}
				m := &ingestv1.DownloadArtifactResponse{Chunk: c}
				if i == 0 {
					m.ContentType = ct
				}
				if err := s.Send(m); err != nil {
					return err
				}
			}
			return nil
		}
	}

	t.Run("raw bytes with headers", func(t *testing.T) {
		tests := []struct {
			artifact, contentType, wantCT, wantDisposition string
		}{
			{"normalized", "text/csv; charset=utf-8", "text/csv; charset=utf-8", `attachment; filename=abc-normalized.csv`},
			{"report", "application/json", "application/json", `attachment; filename=abc-report.json`},
			{"source", "text/csv", "text/csv", `attachment; filename=abc-source.csv`},
			{"rejects", "text/csv", "text/csv", `attachment; filename=abc-rejects.csv`},
			{"parquet", "application/vnd.apache.parquet", "application/vnd.apache.parquet", `attachment; filename=abc-normalized.parquet`},
			{"schema", "application/json", "application/json", `attachment; filename=abc-schema.json`},
			{"errors", "application/json", "application/json", `attachment; filename=abc-errors.json`},
			// Without a Content-Type from ingest, a known artifact gets its own.
			{"normalized", "", "text/csv", `attachment; filename=abc-normalized.csv`},
			{"parquet", "", "application/vnd.apache.parquet", `attachment; filename=abc-normalized.parquet`},
			{"schema", "", "application/json", `attachment; filename=abc-schema.json`},
			{"errors", "", "application/json", `attachment; filename=abc-errors.json`},
			// An artifact this gateway does not know is named by its type.
			{"extra", "application/json", "application/json", `attachment; filename=abc-extra.json`},
			{"extra", "text/csv", "text/csv", `attachment; filename=abc-extra.csv`},
			{"extra", "", "application/octet-stream", `attachment; filename=abc-extra`},
		}
		for _, tc := range tests {
			t.Run(tc.artifact+" "+tc.wantCT, func(t *testing.T) {
				fake := newFake()
				fake.download = sendAll(tc.contentType, -1)
				e := newEnv(t, fake)
				resp, body := e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/abc/artifacts/"+tc.artifact+":download", nil))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, body %s", resp.StatusCode, body)
				}
				if !bytes.Equal(body, all) {
					t.Errorf("body %q, want %q", body, all)
				}
				if got := resp.Header.Get("Content-Type"); got != tc.wantCT {
					t.Errorf("Content-Type = %q, want %q", got, tc.wantCT)
				}
				if got := resp.Header.Get("Content-Disposition"); got != tc.wantDisposition {
					t.Errorf("Content-Disposition = %q, want %q", got, tc.wantDisposition)
				}
			})
		}
	})

	t.Run("not found", func(t *testing.T) {
		fake := newFake()
		fake.download = sendAll("text/csv", -1)
		e := newEnv(t, fake)
		resp, body := e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/abc/artifacts/nope:download", nil))
		checkError(t, resp, body, http.StatusNotFound, codes.NotFound, "")
	})

	t.Run("failure mid-stream aborts the response", func(t *testing.T) {
		fake := newFake()
		fake.download = sendAll("text/csv", 2)
		e := newEnv(t, fake)
		resp, err := e.client.Do(e.newRequest(t, http.MethodGet, "/v1/jobs/abc/artifacts/normalized:download", nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d", resp.StatusCode)
		}
		body, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("read the whole body %q without an error; want a broken transfer", body)
		}
		if !bytes.HasPrefix(all, body) {
			t.Errorf("body %q is not a prefix of the artifact", body)
		}
	})

	t.Run("generated NDJSON stream route", func(t *testing.T) {
		fake := newFake()
		fake.download = sendAll("text/csv", -1)
		e := newEnv(t, fake)
		resp, body := e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/abc/artifacts/normalized:stream", nil))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, body %s", resp.StatusCode, body)
		}
		var got []byte
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			var m struct {
				Result struct {
					Chunk []byte `json:"chunk"` // base64 in protojson, as in encoding/json
				} `json:"result"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("line %s: %v", line, err)
			}
			got = append(got, m.Result.Chunk...)
		}
		if !bytes.Equal(got, all) {
			t.Errorf("chunks %q, want %q", got, all)
		}
	})
}

// TestTraceparentPropagation checks that a REST caller's W3C trace context
// continues through the gateway (an otelhttp server span, child of the
// caller's) into ingest (the traceparent in the gRPC metadata and the span of
// the server handling the call).
func TestTraceparentPropagation(t *testing.T) {
	const callerSpanID = "00f067aa0ba902b7"
	type seen struct {
		traceparent string
		span        trace.SpanContext
	}
	tests := []struct {
		name    string
		traceID string // distinct per case: the span recorder is shared
		request func(t *testing.T, e *env) *http.Request
	}{{
		name: "get", traceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		request: func(t *testing.T, e *env) *http.Request {
			return e.newRequest(t, http.MethodGet, "/v1/jobs/abc", nil)
		},
	}, {
		name: "streamed upload", traceID: "5cf92f3577b34da6a3ce929d0e0e4737",
		request: func(t *testing.T, e *env) *http.Request {
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?file_name=a.csv", strings.NewReader("a,b\n1,2\n"))
			req.Header.Set("Content-Type", "text/csv")
			return req
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			got := make(chan seen, 1)
			fake.getJob = func(ctx context.Context, _ *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error) {
				s := seen{span: trace.SpanContextFromContext(ctx)}
				if v := metadata.ValueFromIncomingContext(ctx, "traceparent"); len(v) > 0 {
					s.traceparent = v[0]
				}
				got <- s
				return &ingestv1.GetJobResponse{Job: &ingestv1.Job{Name: "jobs/abc"}}, nil
			}
			e := newEnv(t, fake)
			req := tc.request(t, e)
			traceID := tc.traceID
			req.Header.Set("traceparent", "00-"+traceID+"-"+callerSpanID+"-01")
			resp, body := e.do(t, req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, body %s", resp.StatusCode, body)
			}
			var s seen
			if tc.name == "get" {
				s = <-got
			} else {
				u := <-fake.uploads
				s = seen{traceparent: u.traceparent, span: u.span}
			}
			if s.span.TraceID().String() != traceID {
				t.Errorf("ingest's span is in trace %s, want the caller's %s", s.span.TraceID(), traceID)
			}
			parts := strings.Split(s.traceparent, "-")
			if len(parts) != 4 || parts[1] != traceID {
				t.Fatalf("ingest got traceparent %q, want one in trace %s", s.traceparent, traceID)
			}
			if parts[2] == callerSpanID {
				t.Errorf("ingest's parent span is the caller's: the gateway made no spans")
			}
			// The gateway's HTTP server span is a child of the caller's span.
			var found bool
			// (Started, not Ended: it starts before ingest is called, but may
			// end after the client has its answer.)
			for _, sp := range spans.Started() {
				if sp.Parent().SpanID().String() == callerSpanID && sp.SpanKind() == trace.SpanKindServer &&
					sp.SpanContext().TraceID().String() == traceID {
					found = true
				}
			}
			if !found {
				t.Errorf("no gateway server span with the caller's span as parent")
			}
		})
	}
}

func TestOpenAPI(t *testing.T) {
	generated, err := os.ReadFile("openapiv2/csvmesh.swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := gateway.OpenAPIDocument(generated)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, newFake())
	for _, path := range []string{"/openapi.json", "/v1/openapi.json"} {
		t.Run(path, func(t *testing.T) {
			resp, body := e.do(t, e.newRequest(t, http.MethodGet, path, nil))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("body is not the OpenAPI document (%d bytes, want %d)", len(body), len(want))
			}
			var doc struct {
				Swagger string                    `json:"swagger"`
				Paths   map[string]map[string]any `json:"paths"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Swagger != "2.0" || doc.Paths["/v1/jobs"]["get"] == nil {
				t.Errorf("document is not the OpenAPI v2 of ingest: swagger %q, paths %d", doc.Swagger, len(doc.Paths))
			}
			// The hand-written streaming routes are described too.
			if doc.Paths["/v1/jobs:upload"]["post"] == nil || doc.Paths["/v1/{name}:download"]["get"] == nil {
				t.Errorf("document lacks the upload or raw download route (%d paths)", len(doc.Paths))
			}
			checkUploadParameters(t, doc.Paths["/v1/jobs:upload"]["post"])
			// Every $ref points at a definition the document has.
			for _, ref := range regexp.MustCompile(`"#/definitions/([A-Za-z0-9]+)"`).FindAllStringSubmatch(string(body), -1) {
				if !bytes.Contains(body, []byte(`"`+ref[1]+`": {`)) {
					t.Errorf("dangling $ref to %s", ref[1])
				}
			}
		})
	}
}

// checkUploadParameters checks that the upload operation lists every
// metadata parameter with its type, and the body.
func checkUploadParameters(t *testing.T, op any) {
	t.Helper()
	raw, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Parameters []struct {
			Name, In, Type, Format string
			Description            string
			Items                  struct{ Type string }
			CollectionFormat       string
		}
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range o.Parameters {
		if p.In == "query" && p.Description == "" {
			t.Errorf("parameter %s has no description", p.Name)
		}
		got = append(got, strings.Join(strings.Fields(p.Name+" "+p.In+" "+p.Type+" "+p.Format+" "+p.Items.Type+" "+p.CollectionFormat), " "))
	}
	want := []string{
		"file_name query string", "sha256 query string", "idempotency_key query string", "schema query string",
		"delimiter query string", "quote_char query string", "double_quote query boolean", "escape_char query string",
		"header_rows query integer int32", "skip_initial_space query boolean", "comment_prefix query string", "encoding query string",
		"max_invalid_rows query integer int64", "max_invalid_ratio query number double", "error_sample_size query integer int32",
		"neutralize_formulas query boolean", "percentiles query array number csv", "columns query array string csv",
		"exact_categorical query boolean", "body body",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("upload parameters:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, e *env) // nil: leave the health server as it is
		opts     []gateway.Option
		wantHTTP int
	}{
		{name: "serving", wantHTTP: http.StatusOK},
		{name: "not serving", setup: func(t *testing.T, e *env) {
			e.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		}, wantHTTP: http.StatusServiceUnavailable},
		{name: "named service serving", setup: func(t *testing.T, e *env) {
			e.health.SetServingStatus("csvmesh.ingest.v1.IngestService", healthpb.HealthCheckResponse_SERVING)
		}, opts: []gateway.Option{gateway.WithHealthCheck("csvmesh.ingest.v1.IngestService", gateway.DefaultHealthTimeout)},
			wantHTTP: http.StatusOK},
		{name: "named service unknown", opts: []gateway.Option{gateway.WithHealthCheck("csvmesh.ingest.v1.IngestService", gateway.DefaultHealthTimeout)},
			wantHTTP: http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, newFake(), tc.opts...)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			resp, body := e.do(t, e.newRequest(t, http.MethodGet, "/healthz", nil))
			if tc.wantHTTP == http.StatusOK {
				if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"SERVING"}` {
					t.Errorf("got %d %s, want 200 SERVING", resp.StatusCode, body)
				}
				return
			}
			checkError(t, resp, body, tc.wantHTTP, codes.Unavailable, "")
		})
	}

	t.Run("ingest unreachable", func(t *testing.T) {
		lis := bufconn.Listen(1024)
		lis.Close()
		conn := grpctest.Dial(t, lis)
		h, err := gateway.New(t.Context(), conn, gateway.WithLogger(discard))
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/healthz", nil))
		checkError(t, rec.Result(), rec.Body.Bytes(), http.StatusServiceUnavailable, codes.Unavailable, "")
	})
}
