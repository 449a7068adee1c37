package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	"github.com/csvmesh/csvmesh/services/gateway"
	"github.com/csvmesh/csvmesh/services/internal/grpctest"
	"github.com/csvmesh/csvmesh/services/internal/grpcx"
)

// spans records every span the package's tests end; TestMain installs it
// with the W3C propagator, as telemetry.SetupTracing does in the binaries.
var spans = tracetest.NewSpanRecorder()

func TestMain(m *testing.M) {
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	os.Exit(m.Run())
}

var discard = slog.New(slog.DiscardHandler)

// upload is what the fake ingest saw of one UploadFile call.
type upload struct {
	meta   *ingestv1.UploadMetadata
	chunks []int // the size of each chunk, in order
	data   []byte
	total  int64
	sha256 string
	err    error // the error that ended the call, nil if it succeeded

	traceparent string            // from the incoming metadata
	span        trace.SpanContext // the server span of the call
}

// fakeIngest is an IngestServiceServer that records what it receives and
// answers what the test tells it to.
type fakeIngest struct {
	ingestv1.UnimplementedIngestServiceServer

	// keepData makes UploadFile keep the bytes it receives.
	keepData bool
	// onChunk, when set, runs for every chunk received; an error ends the call.
	onChunk func(u *upload) error
	// uploadErr, when set, is the answer to a complete upload.
	uploadErr error

	getJob    func(context.Context, *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error)
	listJobs  func(context.Context, *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error)
	cancelJob func(context.Context, *ingestv1.CancelJobRequest) (*ingestv1.CancelJobResponse, error)
	watchJob  func(*ingestv1.WatchJobRequest, grpc.ServerStreamingServer[ingestv1.WatchJobResponse]) error
	download  func(*ingestv1.DownloadArtifactRequest, grpc.ServerStreamingServer[ingestv1.DownloadArtifactResponse]) error

	uploadCalls atomic.Int32
	uploads     chan *upload // every finished UploadFile call
}

func newFake() *fakeIngest {
	return &fakeIngest{uploads: make(chan *upload, 16)}
}

func (f *fakeIngest) UploadFile(stream grpc.ClientStreamingServer[ingestv1.UploadFileRequest, ingestv1.UploadFileResponse]) (err error) {
	f.uploadCalls.Add(1)
	ctx := stream.Context()
	u := &upload{span: trace.SpanContextFromContext(ctx)}
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("traceparent")) > 0 {
		u.traceparent = md.Get("traceparent")[0]
	}
	defer func() {
		u.err = err
		f.uploads <- u
	}()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	u.meta = first.GetMetadata()
	if u.meta == nil {
		return status.Error(codes.InvalidArgument, "the first message must carry metadata")
	}
	h := sha256.New()
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		c := msg.GetChunk()
		if c == nil {
			return status.Error(codes.InvalidArgument, "a message after the first must carry a chunk")
		}
		u.chunks = append(u.chunks, len(c))
		u.total += int64(len(c))
		h.Write(c)
		if f.keepData {
			u.data = append(u.data, c...)
		}
		if f.onChunk != nil {
			if err := f.onChunk(u); err != nil {
				return err
			}
		}
	}
	u.sha256 = hex.EncodeToString(h.Sum(nil))
	if f.uploadErr != nil {
		return f.uploadErr
	}
	return stream.SendAndClose(&ingestv1.UploadFileResponse{Job: &ingestv1.Job{
		Name:      "jobs/j1",
		FileName:  u.meta.GetFileName(),
		State:     ingestv1.Job_STATE_PENDING,
		SizeBytes: u.total,
		Sha256:    u.sha256,
	}})
}

func (f *fakeIngest) GetJob(ctx context.Context, req *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error) {
	if f.getJob == nil {
		return nil, status.Error(codes.Unimplemented, "GetJob")
	}
	return f.getJob(ctx, req)
}

func (f *fakeIngest) ListJobs(ctx context.Context, req *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error) {
	if f.listJobs == nil {
		return nil, status.Error(codes.Unimplemented, "ListJobs")
	}
	return f.listJobs(ctx, req)
}

func (f *fakeIngest) CancelJob(ctx context.Context, req *ingestv1.CancelJobRequest) (*ingestv1.CancelJobResponse, error) {
	if f.cancelJob == nil {
		return nil, status.Error(codes.Unimplemented, "CancelJob")
	}
	return f.cancelJob(ctx, req)
}

func (f *fakeIngest) WatchJob(req *ingestv1.WatchJobRequest, stream grpc.ServerStreamingServer[ingestv1.WatchJobResponse]) error {
	if f.watchJob == nil {
		return status.Error(codes.Unimplemented, "WatchJob")
	}
	return f.watchJob(req, stream)
}

func (f *fakeIngest) DownloadArtifact(req *ingestv1.DownloadArtifactRequest, stream grpc.ServerStreamingServer[ingestv1.DownloadArtifactResponse]) error {
	if f.download == nil {
		return status.Error(codes.Unimplemented, "DownloadArtifact")
	}
	return f.download(req, stream)
}

// env is a gateway on a real HTTP server in front of a fake ingest on a real
// gRPC server over bufconn.
type env struct {
	fake   *fakeIngest
	health *health.Server
	url    string
	client *http.Client
}

// socketBuffer is the kernel buffer size of the test's HTTP sockets, kept
// small so that the bytes in flight between client and gateway are bounded
// by the gateway's own behaviour rather than by TCP autotuning.
const socketBuffer = 128 << 10

// grpcWindow is the fake ingest's flow-control window: ingest takes a chunk
// only when it has room, which is what throttles a streaming upload.
const grpcWindow = 1 << 20

func newEnv(t *testing.T, fake *fakeIngest, opts ...gateway.Option) *env {
	t.Helper()
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: discard},
		grpc.InitialWindowSize(grpcWindow), grpc.InitialConnWindowSize(grpcWindow))
	ingestv1.RegisterIngestServiceServer(srv, fake)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	conn := grpctest.Dial(t, grpctest.ListenBuffer(t, srv, 256<<10))

	h, err := gateway.New(t.Context(), conn, append([]gateway.Option{gateway.WithLogger(discard)}, opts...)...)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener = smallBufferListener{ts.Listener}
	ts.Start()
	t.Cleanup(ts.Close)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(socketBuffer)
				_ = tc.SetReadBuffer(socketBuffer)
			}
			return c, err
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{fake: fake, health: hs, url: ts.URL, client: &http.Client{Transport: tr}}
}

type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(socketBuffer)
		_ = tc.SetWriteBuffer(socketBuffer)
	}
	return c, err
}

// do sends req and returns the response with its body read.
func (e *env) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

func (e *env) newRequest(t *testing.T, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// errorBody is grpc-gateway's JSON status.
type errorBody struct {
	Code    int32            `json:"code"`
	Message string           `json:"message"`
	Details []map[string]any `json:"details"`
}

// checkError checks an error answer: its HTTP status, its gRPC code and, if
// field is not empty, a BadRequest detail naming field.
func checkError(t *testing.T, resp *http.Response, body []byte, wantHTTP int, wantCode codes.Code, field string) {
	t.Helper()
	if resp.StatusCode != wantHTTP {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, wantHTTP, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if codes.Code(eb.Code) != wantCode {
		t.Errorf("code = %v, want %v; body %s", codes.Code(eb.Code), wantCode, body)
	}
	if eb.Message == "" {
		t.Errorf("error body has no message: %s", body)
	}
	if field != "" && !hasFieldViolation(eb, field) {
		t.Errorf("error body has no BadRequest violation of %q: %s", field, body)
	}
}

func hasFieldViolation(eb errorBody, field string) bool {
	for _, d := range eb.Details {
		if d["@type"] != "type.googleapis.com/google.rpc.BadRequest" {
			continue
		}
		vs, _ := d["field_violations"].([]any)
		for _, v := range vs {
			if m, _ := v.(map[string]any); m["field"] == field {
				return true
			}
		}
	}
	return false
}

// onceSignal is a channel closed the first time fire is called.
type onceSignal struct {
	once sync.Once
	C    chan struct{}
}

func newSignal() *onceSignal { return &onceSignal{C: make(chan struct{})} }

func (s *onceSignal) fire() { s.once.Do(func() { close(s.C) }) }
