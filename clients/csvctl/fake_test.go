package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

// fakeIngest is an in-memory IngestService for the CLI's tests. It enforces
// the upload contract like the real service (metadata first and only first,
// declared size, SHA-256), records what the CLI sent, and serves canned
// jobs, events and artifacts.
type fakeIngest struct {
	ingestv1.UnimplementedIngestServiceServer

	// Canned data; set before the server starts.
	uploadJob        *ingestv1.Job                   // returned by UploadFile
	uploadErr        error                           // returned by UploadFile after reading the stream
	onChunk          func(ctx context.Context)       // called after each chunk is received
	jobs             []*ingestv1.Job                 // GetJob, ListJobs (in list order), CancelJob
	events           map[string][]*ingestv1.JobEvent // WatchJob
	breakWatchAfter  map[string]int                  // first WatchJob of a job fails UNAVAILABLE after this many events
	artifacts        map[string][]byte               // DownloadArtifact, by artifact name
	artifactFailures map[string]error                // DownloadArtifact fails with this after the first chunk
	chunkSize        int                             // DownloadArtifact chunk size

	mu          sync.Mutex
	uploads     []*recordedUpload
	uploadDone  chan struct{} // closed when an UploadFile handler returns, if set
	watchReqs   []*ingestv1.WatchJobRequest
	listReqs    []*ingestv1.ListJobsRequest
	cancelReqs  []string
	getReqs     []string
	traceparent []string // traceparent metadata of every call
}

// recordedUpload is what one UploadFile stream carried.
type recordedUpload struct {
	meta       *ingestv1.UploadMetadata
	chunks     int
	maxChunk   int
	data       []byte
	err        error // the status the handler ended with
	contextErr error // the stream context's error when the handler ended
}

func (f *fakeIngest) sawTraceparent(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.traceparent = append(f.traceparent, md.Get("traceparent")...)
}

func badRequest(msg, field, desc string) error {
	st, err := status.New(codes.InvalidArgument, msg).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}},
	})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// UploadFile implements ingestv1.IngestServiceServer. The upload is
// recorded before the answer is sent, so a test sees it once csvctl exits.
func (f *fakeIngest) UploadFile(stream ingestv1.IngestService_UploadFileServer) error {
	f.sawTraceparent(stream.Context())
	rec := &recordedUpload{}
	rec.err = f.receiveUpload(stream, rec)
	rec.contextErr = stream.Context().Err()
	f.mu.Lock()
	f.uploads = append(f.uploads, rec)
	done := f.uploadDone
	f.mu.Unlock()
	if done != nil {
		defer close(done)
	}
	if rec.err != nil {
		return rec.err
	}
	return stream.SendAndClose(&ingestv1.UploadFileResponse{Job: f.uploadJob})
}

// receiveUpload reads an upload stream into rec and checks it like the
// real service does.
func (f *fakeIngest) receiveUpload(stream ingestv1.IngestService_UploadFileServer, rec *recordedUpload) error {
	for i := 0; ; i++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch p := req.GetPayload().(type) {
		case *ingestv1.UploadFileRequest_Metadata:
			if i != 0 {
				return badRequest("metadata after the first message", "metadata", "must be sent only in the first message")
			}
			rec.meta = p.Metadata
		case *ingestv1.UploadFileRequest_Chunk:
			if i == 0 {
				return badRequest("the first message must carry metadata", "metadata", "missing")
			}
			rec.chunks++
			rec.maxChunk = max(rec.maxChunk, len(p.Chunk))
			rec.data = append(rec.data, p.Chunk...)
			if f.onChunk != nil {
				f.onChunk(stream.Context())
			}
		default:
			return badRequest("empty message", "payload", "missing")
		}
	}
	if rec.meta == nil {
		return badRequest("no metadata", "metadata", "missing")
	}
	if d := rec.meta.DeclaredSizeBytes; d != nil && *d != int64(len(rec.data)) {
		return badRequest("size mismatch", "metadata.declared_size_bytes",
			fmt.Sprintf("declared %d bytes, received %d", *d, len(rec.data)))
	}
	if s := rec.meta.GetSha256(); s != "" {
		sum := sha256.Sum256(rec.data)
		if hex.EncodeToString(sum[:]) != s {
			return badRequest("checksum mismatch", "metadata.sha256", "does not match the received bytes")
		}
	}
	return f.uploadErr
}

func (f *fakeIngest) job(name string) (*ingestv1.Job, error) {
	for _, j := range f.jobs {
		if j.GetName() == name {
			return proto.Clone(j).(*ingestv1.Job), nil
		}
	}
	st, _ := status.New(codes.NotFound, "job "+name+" not found").WithDetails(&errdetails.ResourceInfo{
		ResourceType: "csvmesh.ingest.v1.Job", ResourceName: name,
	})
	return nil, st.Err()
}

// GetJob implements ingestv1.IngestServiceServer.
func (f *fakeIngest) GetJob(ctx context.Context, req *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error) {
	f.sawTraceparent(ctx)
	f.mu.Lock()
	f.getReqs = append(f.getReqs, req.GetName())
	f.mu.Unlock()
	j, err := f.job(req.GetName())
	if err != nil {
		return nil, err
	}
	return &ingestv1.GetJobResponse{Job: j}, nil
}

// ListJobs implements ingestv1.IngestServiceServer: the page token is the
// index of the page's first job.
func (f *fakeIngest) ListJobs(ctx context.Context, req *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error) {
	f.mu.Lock()
	f.listReqs = append(f.listReqs, proto.Clone(req).(*ingestv1.ListJobsRequest))
	f.mu.Unlock()
	start := 0
	if t := req.GetPageToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(f.jobs) {
			return nil, badRequest("bad page token", "page_token", "not a token from this server")
		}
		start = n
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	end := min(start+size, len(f.jobs))
	resp := &ingestv1.ListJobsResponse{Jobs: f.jobs[start:end]}
	if end < len(f.jobs) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// CancelJob implements ingestv1.IngestServiceServer.
func (f *fakeIngest) CancelJob(ctx context.Context, req *ingestv1.CancelJobRequest) (*ingestv1.CancelJobResponse, error) {
	f.mu.Lock()
	f.cancelReqs = append(f.cancelReqs, req.GetName())
	f.mu.Unlock()
	j, err := f.job(req.GetName())
	if err != nil {
		return nil, err
	}
	if terminal(j.GetState()) {
		st, _ := status.New(codes.FailedPrecondition, "job "+j.GetName()+" has already finished").WithDetails(&errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{{Type: "STATE", Subject: j.GetName(), Description: "job is " + stateName(j.GetState())}},
		})
		return nil, st.Err()
	}
	j.State = ingestv1.Job_STATE_CANCELLED
	return &ingestv1.CancelJobResponse{Job: j}, nil
}

// WatchJob implements ingestv1.IngestServiceServer.
func (f *fakeIngest) WatchJob(req *ingestv1.WatchJobRequest, stream ingestv1.IngestService_WatchJobServer) error {
	f.mu.Lock()
	f.watchReqs = append(f.watchReqs, proto.Clone(req).(*ingestv1.WatchJobRequest))
	breakAfter, broken := f.breakWatchAfter[req.GetName()]
	delete(f.breakWatchAfter, req.GetName())
	f.mu.Unlock()
	evs, ok := f.events[req.GetName()]
	if !ok {
		return status.Error(codes.NotFound, "job "+req.GetName()+" not found")
	}
	sent := 0
	for _, ev := range evs {
		if ev.GetSequence() <= req.GetAfterSequence() {
			continue
		}
		if broken && sent == breakAfter {
			return status.Error(codes.Unavailable, "server is restarting")
		}
		if err := stream.Send(&ingestv1.WatchJobResponse{Event: ev}); err != nil {
			return err
		}
		sent++
	}
	return nil
}

// DownloadArtifact implements ingestv1.IngestServiceServer.
func (f *fakeIngest) DownloadArtifact(req *ingestv1.DownloadArtifactRequest, stream ingestv1.IngestService_DownloadArtifactServer) error {
	data, ok := f.artifacts[req.GetName()]
	if !ok {
		return status.Error(codes.NotFound, "artifact "+req.GetName()+" not found")
	}
	size := f.chunkSize
	if size == 0 {
		size = 64 << 10
	}
	for i := 0; i == 0 || i < len(data); i += size {
		resp := &ingestv1.DownloadArtifactResponse{Chunk: data[i:min(i+size, len(data))]}
		if i == 0 {
			resp.ContentType = "text/csv"
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		if err := f.artifactFailures[req.GetName()]; err != nil {
			return err
		}
	}
	return nil
}

// serve starts f on a bufconn listener and returns the dial option that
// reaches it; the server stops when the test ends.
func serve(t *testing.T, f *fakeIngest) grpc.DialOption {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	ingestv1.RegisterIngestServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	})
}

// testRun is one csvctl invocation against a fake server.
type testRun struct {
	code           int
	stdout, stderr string
}

// newTestApp returns an app that talks to f over bufconn, sees an empty
// environment (except CSVCTL_ADDR), writes to buffers, and reads a clock
// that advances one second per reading.
func newTestApp(t *testing.T, f *fakeIngest) (*app, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(&stdout, &stderr)
	a.dialOptions = []grpc.DialOption{serve(t, f)}
	a.getenv = func(k string) string {
		if k == "CSVCTL_ADDR" {
			return "passthrough:///bufnet"
		}
		return ""
	}
	a.now = steppingClock(time.Second)
	a.reconnectDelay = 0
	return a, &stdout, &stderr
}

// runFake runs csvctl with args against f.
func runFake(t *testing.T, f *fakeIngest, args ...string) testRun {
	t.Helper()
	a, stdout, stderr := newTestApp(t, f)
	code := a.run(context.Background(), args)
	return testRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// steppingClock returns a clock starting at a fixed time that advances by
// step each time it is read.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}
