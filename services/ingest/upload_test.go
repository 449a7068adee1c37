package ingest

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
)

// blockingValidator never finishes a validation, which keeps jobs where
// they are.
func blockingValidator() *fakeValidator {
	return &fakeValidator{fn: func(_ int, _ *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
		<-s.Context().Done()
		return s.Context().Err()
	}}
}

func TestIdempotencyKey(t *testing.T) {
	h := newFakeHarness(t, blockingValidator(), nil)
	longKey := strings.Repeat("k", MaxIdempotencyKeyBytes)
	first := h.mustUpload(&ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: "k-1"}, []byte(sampleCSV))
	firstLong := h.mustUpload(&ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: longKey}, []byte(sampleCSV))
	other := "a\nother\n"
	tests := []struct {
		name string
		md   *ingestv1.UploadMetadata
		data string
		// metadataOnly sends the metadata and waits for the answer without
		// sending any chunk or closing the stream: only an upload answered
		// from the metadata alone can pass.
		metadataOnly bool
		want         string // the job returned, or "" for ALREADY_EXISTS
	}{
		{name: "same file", md: &ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: "k-1"}, data: sampleCSV, want: first.GetName()},
		{name: "same file, other name", md: &ingestv1.UploadMetadata{FileName: "g.csv", IdempotencyKey: "k-1"}, data: sampleCSV, want: first.GetName()},
		{name: "same file, longest key", md: &ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: longKey}, data: sampleCSV, want: firstLong.GetName()},
		{name: "declared checksum of the first file", md: &ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: "k-1", Sha256: sha(sampleCSV)},
			metadataOnly: true, want: first.GetName()},
		{name: "declared checksum, upper case", md: &ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: "k-1", Sha256: strings.ToUpper(sha(sampleCSV))},
			metadataOnly: true, want: first.GetName()},
		{name: "different file", md: &ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: "k-1"}, data: other},
		{name: "different file with its declared checksum", md: &ingestv1.UploadMetadata{FileName: "f.csv", IdempotencyKey: "k-1", Sha256: sha(other)}, data: other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				job *ingestv1.Job
				err error
			)
			if tc.metadataOnly {
				ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
				defer cancel()
				stream, serr := h.client.UploadFile(ctx)
				if serr != nil {
					t.Fatal(serr)
				}
				if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: tc.md}}); err != nil {
					t.Fatal(err)
				}
				resp := &ingestv1.UploadFileResponse{}
				err = stream.RecvMsg(resp)
				job = resp.GetJob()
			} else {
				job, err = upload(context.Background(), h.client, tc.md, []byte(tc.data), 3)
			}
			if tc.want == "" {
				st := wantCode(t, err, codes.AlreadyExists)
				named := false
				for _, d := range st.Details() {
					if ri, ok := d.(*errdetails.ResourceInfo); ok && ri.GetResourceName() == first.GetName() && ri.GetResourceType() == resourceTypeJob {
						named = true
					}
				}
				if !named {
					t.Errorf("no ResourceInfo naming %s in %v", first.GetName(), st.Details())
				}
			} else if err != nil || job.GetName() != tc.want || job.GetSha256() != sha(sampleCSV) {
				t.Fatalf("upload returned %v, %v; want %s", job, err, tc.want)
			}
			eventually(t, "the upload handler to finish", func() bool { return h.uploadsInFlight() == 0 })
			if dirs := h.jobDirs(); len(dirs) != 2 {
				t.Errorf("job directories %v, want only the first two jobs'", dirs)
			}
		})
	}

	// Concurrent uploads with one new key: exactly one job, one directory.
	const n = 6
	names := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job, err := upload(context.Background(), h.client, &ingestv1.UploadMetadata{FileName: "g.csv", IdempotencyKey: "k-2"}, []byte(sampleCSV), 3)
			if err != nil {
				errs <- err
				return
			}
			names[i] = job.GetName()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, name := range names[1:] {
		if name != names[0] {
			t.Fatalf("concurrent uploads with one key made jobs %v", names)
		}
	}
	eventually(t, "uploads to finish", func() bool { return h.uploadsInFlight() == 0 })
	list, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetJobs()) != 3 {
		t.Errorf("%d jobs, want 3", len(list.GetJobs()))
	}
	if dirs := h.jobDirs(); len(dirs) != 3 {
		t.Errorf("job directories %v, want 3", dirs)
	}
}

func TestUploadIdleTimeout(t *testing.T) {
	tests := []struct {
		name string
		// send is what the client sends before it goes quiet.
		send []*ingestv1.UploadFileRequest
	}{
		{name: "quiet from the start"},
		{name: "quiet after the metadata", send: []*ingestv1.UploadFileRequest{
			{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: md("f.csv")}},
		}},
		{name: "quiet after a chunk", send: []*ingestv1.UploadFileRequest{
			{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: md("f.csv")}},
			{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: []byte("a,b\n1,2\n")}},
		}},
	}
	h := newFakeHarness(t, nil, nil, WithUploadIdleTimeout(300*time.Millisecond))
	// A first call connects, so that the baseline counts the connection's
	// goroutines.
	if _, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{}); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			stream, err := h.client.UploadFile(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.send {
				if err := stream.Send(m); err != nil {
					t.Fatal(err)
				}
			}
			// The client neither sends nor closes: only the server's idle
			// timeout ends the call (the client's deadline gives another
			// message).
			err = stream.RecvMsg(&ingestv1.UploadFileResponse{})
			st := wantCode(t, err, codes.Aborted)
			if !strings.Contains(st.Message(), "sent nothing for 300ms") {
				t.Errorf("message %q", st.Message())
			}
			eventually(t, "the upload handler to finish", func() bool { return h.uploadsInFlight() == 0 })
			if dirs := h.jobDirs(); len(dirs) != 0 {
				t.Errorf("objects left behind: %v", dirs)
			}
			list, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{})
			if err != nil || len(list.GetJobs()) != 0 {
				t.Errorf("jobs after an idle upload: %v, %v", list.GetJobs(), err)
			}
		})
	}
	// The receiving goroutines end with their calls.
	eventually(t, "the upload goroutines to end", func() bool { return runtime.NumGoroutine() <= baseline })

	// An upload that keeps sending goes through.
	job := h.mustUpload(md("f.csv"), []byte(strings.Repeat("a,b\n", 50)))
	if job.GetState() != ingestv1.Job_STATE_PENDING {
		t.Errorf("upload after idle ones: %v", job)
	}
}
