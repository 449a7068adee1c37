package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
)

const sampleCSV = "a\nx\nbad 1\ny\nz\n"

func md(name string) *ingestv1.UploadMetadata { return &ingestv1.UploadMetadata{FileName: name} }

func sha(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

func states(events []*ingestv1.JobEvent) []ingestv1.Job_State {
	var out []ingestv1.Job_State
	for _, ev := range events {
		if sc := ev.GetStateChange(); sc != nil && sc.GetFrom() != sc.GetTo() {
			out = append(out, sc.GetTo())
		}
	}
	return out
}

func checkSequences(t *testing.T, events []*ingestv1.JobEvent, first int64) {
	t.Helper()
	for i, ev := range events {
		if ev.GetSequence() != first+int64(i) {
			t.Fatalf("event %d has sequence %d, want %d", i, ev.GetSequence(), first+int64(i))
		}
	}
}

func TestUploadRunsJobToSuccess(t *testing.T) {
	val, an := &fakeValidator{}, &fakeAnalyzer{}
	h := newFakeHarness(t, val, an, WithDownloadChunkBytes(3))
	meta := md("trades.csv")
	meta.Sha256 = strings.ToUpper(sha(sampleCSV))
	size := int64(len(sampleCSV))
	meta.DeclaredSizeBytes = &size
	job := h.mustUpload(meta, []byte(sampleCSV))

	if !strings.HasPrefix(job.GetName(), "jobs/") || !validJobID(strings.TrimPrefix(job.GetName(), "jobs/")) {
		t.Fatalf("job name %q", job.GetName())
	}
	if job.GetState() != ingestv1.Job_STATE_PENDING || job.GetSizeBytes() != size || job.GetSha256() != sha(sampleCSV) || job.GetFileName() != "trades.csv" {
		t.Fatalf("uploaded job = %v", job)
	}
	if job.GetTraceId() == "" {
		t.Fatal("job has no trace id")
	}

	done := h.waitDone(job.GetName())
	if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
		t.Fatalf("state %s, reason %q", done.GetState(), done.GetFailureReason())
	}
	v := done.GetValidation()
	wantSummary := &ingestv1.ValidationSummary{
		RowsTotal: 4, RowsValid: 3, RowsRejected: 1,
		Schema:         &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: typev1.FieldType_FIELD_TYPE_STRING}}},
		SampleErrors:   []*typev1.RowError{fakeRowError(3, 4, "bad 1")},
		Dialect:        &typev1.Dialect{Delimiter: ",", Encoding: "utf-8"},
		SchemaInferred: true,
		ErrorCounts:    []*typev1.ErrorCount{{Type: "type-error", FieldName: "a", FieldNumber: 1, Count: 1}},
		ErrorTotal:     1,
	}
	if !proto.Equal(v, wantSummary) {
		t.Fatalf("validation = %v\nwant %v", v, wantSummary)
	}
	if done.GetReport().GetRowCount() != 3 || done.GetEndTime() == nil {
		t.Fatalf("report %v, end %v", done.GetReport(), done.GetEndTime())
	}
	if !proto.Equal(an.schemas[0], v.GetSchema()) {
		t.Errorf("analyzer got schema %v, want the validation's %v", an.schemas[0], v.GetSchema())
	}

	// Every downstream call and the job's own span belong to the upload's trace.
	for _, id := range append(append([]string{}, val.traceIDs...), an.traceIDs...) {
		if id != job.GetTraceId() {
			t.Errorf("downstream saw trace %s, want %s", id, job.GetTraceId())
		}
	}
	// The job's span ends just after the job's last state is written.
	eventually(t, "an ended csvmesh.job span in the upload's trace", func() bool {
		for _, sp := range spans.Ended() {
			if sp.Name() == "csvmesh.job" && sp.SpanContext().TraceID().String() == job.GetTraceId() {
				return true
			}
		}
		return false
	})

	events := h.watchAll(job.GetName(), 0)
	checkSequences(t, events, 1)
	want := []ingestv1.Job_State{ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_VALIDATING, ingestv1.Job_STATE_ANALYZING, ingestv1.Job_STATE_SUCCEEDED}
	if got := states(events); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("state changes %v, want %v", got, want)
	}
	var progress, rowErrors int
	for _, ev := range events {
		if ev.GetProgress() != nil {
			progress++
		}
		if ev.GetRowErrors() != nil {
			rowErrors++
		}
	}
	if progress == 0 || rowErrors != 1 {
		t.Errorf("%d progress and %d row-error events", progress, rowErrors)
	}

	// Every artifact is listed, in this order, and downloads with its kind's
	// content type.
	wantArtifacts := []struct {
		seg, body, contentType string
		kind                   ingestv1.Artifact_Kind
	}{
		{"source", sampleCSV, "text/csv", ingestv1.Artifact_KIND_SOURCE},
		{"normalized", "a\nx\ny\nz\n", "text/csv", ingestv1.Artifact_KIND_NORMALIZED},
		{"parquet", fakeParquet, "application/vnd.apache.parquet", ingestv1.Artifact_KIND_PARQUET},
		{"rejects", "line,reason\n3,bad\n", "text/csv", ingestv1.Artifact_KIND_REJECTS},
		{"schema", fakeSchemaJSON, "application/json", ingestv1.Artifact_KIND_SCHEMA},
		{"errors", `{"errorTotal":1}`, "application/json", ingestv1.Artifact_KIND_ERROR_REPORT},
		{"report", `{"rowCount":3}`, "application/json", ingestv1.Artifact_KIND_REPORT},
	}
	if len(done.GetArtifacts()) != len(wantArtifacts) {
		t.Fatalf("artifacts %v", done.GetArtifacts())
	}
	for i, a := range done.GetArtifacts() {
		w := wantArtifacts[i]
		if a.GetName() != job.GetName()+"/artifacts/"+w.seg || a.GetKind() != w.kind || a.GetContentType() != w.contentType || a.GetSizeBytes() != int64(len(w.body)) {
			t.Errorf("artifact %d is %v, want %s (%s, %s, %d bytes)", i, a, w.seg, w.kind, w.contentType, len(w.body))
		}
		ct, body, err := h.download(a.GetName())
		if err != nil {
			t.Fatalf("download %s: %v", a.GetName(), err)
		}
		if string(body) != w.body || ct != w.contentType {
			t.Errorf("%s: %q (%s), want %q (%s)", a.GetName(), body, ct, w.body, w.contentType)
		}
	}
}

func TestUploadRejected(t *testing.T) {
	neg, zero, big, short := int64(-1), int64(0), int64(1<<20), int64(3)
	long := strings.Repeat("n", 256)
	tests := []struct {
		name     string
		md       *ingestv1.UploadMetadata
		data     string
		code     codes.Code
		field    string // BadRequest field, if any
		contains []string
	}{
		{"no metadata", nil, "a\n1\n", codes.InvalidArgument, "metadata", nil},
		{"no messages", nil, "", codes.InvalidArgument, "metadata", nil},
		{"empty file name", md(""), "a\n", codes.InvalidArgument, "metadata.file_name", nil},
		{"long file name", md(long), "a\n", codes.InvalidArgument, "metadata.file_name", nil},
		{"bad sha", &ingestv1.UploadMetadata{FileName: "f", Sha256: "xyz"}, "a\n", codes.InvalidArgument, "metadata.sha256", nil},
		{"long delimiter", &ingestv1.UploadMetadata{FileName: "f", Dialect: &typev1.Dialect{Delimiter: ";;"}}, "a\n", codes.InvalidArgument, "metadata.dialect.delimiter", nil},
		{"quote delimiter", &ingestv1.UploadMetadata{FileName: "f", Dialect: &typev1.Dialect{Delimiter: `"`}}, "a\n", codes.InvalidArgument, "metadata.dialect.delimiter", nil},
		{"newline delimiter", &ingestv1.UploadMetadata{FileName: "f", Dialect: &typev1.Dialect{Delimiter: "\n"}}, "a\n", codes.InvalidArgument, "metadata.dialect.delimiter", nil},
		{"CR delimiter", &ingestv1.UploadMetadata{FileName: "f", Dialect: &typev1.Dialect{Delimiter: "\r"}}, "a\n", codes.InvalidArgument, "metadata.dialect.delimiter", nil},
		{"non-ASCII delimiter", &ingestv1.UploadMetadata{FileName: "f", Dialect: &typev1.Dialect{Delimiter: "§"}}, "a\n", codes.InvalidArgument, "metadata.dialect.delimiter", []string{"one ASCII character", "§"}},
		{"non-ASCII letter delimiter", &ingestv1.UploadMetadata{FileName: "f", Dialect: &typev1.Dialect{Delimiter: "é"}}, "a\n", codes.InvalidArgument, "metadata.dialect.delimiter", nil},
		{"long idempotency key", &ingestv1.UploadMetadata{FileName: "f", IdempotencyKey: strings.Repeat("k", MaxIdempotencyKeyBytes+1)}, "a\n", codes.InvalidArgument, "metadata.idempotency_key", []string{"129", "128"}},
		{"negative size", &ingestv1.UploadMetadata{FileName: "f", DeclaredSizeBytes: &neg}, "a\n", codes.InvalidArgument, "metadata.declared_size_bytes", nil},
		{"declared empty", &ingestv1.UploadMetadata{FileName: "f", DeclaredSizeBytes: &zero}, "", codes.InvalidArgument, "metadata.declared_size_bytes", []string{"empty"}},
		{"declared over limit", &ingestv1.UploadMetadata{FileName: "f", DeclaredSizeBytes: &big}, "a\n", codes.ResourceExhausted, "", []string{"1048576", "64"}},
		{"over limit", md("f"), strings.Repeat("x", 65), codes.ResourceExhausted, "", []string{"64"}},
		{"empty file", md("f"), "", codes.InvalidArgument, "chunk", []string{"the file is empty"}},
		{"size mismatch short", &ingestv1.UploadMetadata{FileName: "f", DeclaredSizeBytes: &short}, "ab", codes.InvalidArgument, "metadata.declared_size_bytes", []string{"3", "2"}},
		{"size mismatch long", &ingestv1.UploadMetadata{FileName: "f", DeclaredSizeBytes: &short}, "abcdefgh", codes.InvalidArgument, "metadata.declared_size_bytes", []string{"3", "at least 4"}},
		{"sha mismatch", &ingestv1.UploadMetadata{FileName: "f", Sha256: sha("other")}, "a\n", codes.InvalidArgument, "metadata.sha256", []string{sha("other"), sha("a\n")}},
		{"metadata twice", md("f"), "", codes.InvalidArgument, "metadata", nil},
	}
	h := newFakeHarness(t, nil, nil, WithMaxUploadBytes(64))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			switch tc.name {
			case "no messages":
				var stream ingestv1.IngestService_UploadFileClient
				stream, err = h.client.UploadFile(context.Background())
				if err == nil {
					_, err = stream.CloseAndRecv()
				}
			case "metadata twice":
				var stream ingestv1.IngestService_UploadFileClient
				stream, err = h.client.UploadFile(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range []*ingestv1.UploadFileRequest{
					{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: tc.md}},
					{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: []byte("a\n")}},
					{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: tc.md}},
				} {
					if stream.Send(m) != nil {
						break
					}
				}
				_, err = stream.CloseAndRecv()
			default:
				_, err = upload(context.Background(), h.client, tc.md, []byte(tc.data), 4)
			}
			st := wantCode(t, err, tc.code)
			if tc.field != "" {
				if got := badRequestFields(st); len(got) != 1 || got[0] != tc.field {
					t.Errorf("BadRequest fields %v, want [%s]", got, tc.field)
				}
			}
			if tc.code == codes.ResourceExhausted && !hasDetail[*errdetails.QuotaFailure](st) {
				t.Errorf("no QuotaFailure in %v", st.Details())
			}
			for _, s := range tc.contains {
				if !strings.Contains(st.Message(), s) {
					t.Errorf("message %q does not contain %q", st.Message(), s)
				}
			}
			eventually(t, "the upload handler to finish", func() bool { return h.uploadsInFlight() == 0 })
			if dirs := h.jobDirs(); len(dirs) != 0 {
				t.Errorf("objects left behind: %v", dirs)
			}
			list, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{})
			if err != nil || len(list.GetJobs()) != 0 {
				t.Errorf("jobs after a failed upload: %v, %v", list.GetJobs(), err)
			}
		})
	}
}

func TestUploadAbortedByClientLeavesNothing(t *testing.T) {
	h := newFakeHarness(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := h.client.UploadFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: md("f.csv")}}); err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: []byte("a,b\n1,2\n")}}); err != nil {
		t.Fatal(err)
	}
	// The upload is under way once its directory exists.
	eventually(t, "the upload to start writing", func() bool { return len(h.jobDirs()) == 1 })
	cancel()
	eventually(t, "the upload handler to finish", func() bool { return h.uploadsInFlight() == 0 })
	if dirs := h.jobDirs(); len(dirs) != 0 {
		t.Errorf("objects left behind: %v", dirs)
	}
	list, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{})
	if err != nil || len(list.GetJobs()) != 0 {
		t.Errorf("jobs after an aborted upload: %v, %v", list.GetJobs(), err)
	}
}

func TestNotFoundAndMalformedNames(t *testing.T) {
	h := newFakeHarness(t, nil, nil)
	ctx := context.Background()
	unknown := "jobs/" + strings.Repeat("ab", 16)
	callErr := map[string]func(name string) error{
		"get": func(n string) error {
			_, err := h.client.GetJob(ctx, &ingestv1.GetJobRequest{Name: n})
			return err
		},
		"cancel": func(n string) error {
			_, err := h.client.CancelJob(ctx, &ingestv1.CancelJobRequest{Name: n})
			return err
		},
		"watch": func(n string) error {
			s, err := h.client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: n})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
		"download": func(n string) error {
			_, _, err := h.download(n + "/artifacts/source")
			return err
		},
	}
	for method, call := range callErr {
		t.Run(method+"/unknown", func(t *testing.T) {
			st := wantCode(t, call(unknown), codes.NotFound)
			if !hasDetail[*errdetails.ResourceInfo](st) {
				t.Errorf("no ResourceInfo in %v", st.Details())
			}
		})
		for _, bad := range []string{"", "jobs/", "jobs/xyz", "job/" + strings.Repeat("ab", 16), "jobs/" + strings.Repeat("AB", 16), unknown + "/x"} {
			t.Run(method+"/malformed "+bad, func(t *testing.T) {
				st := wantCode(t, call(bad), codes.InvalidArgument)
				if got := badRequestFields(st); len(got) != 1 || got[0] != "name" {
					t.Errorf("BadRequest fields %v", got)
				}
			})
		}
	}

	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	h.waitDone(job.GetName())
	t.Run("download/unknown kind", func(t *testing.T) {
		_, _, err := h.download(job.GetName() + "/artifacts/secret")
		st := wantCode(t, err, codes.NotFound)
		if !hasDetail[*errdetails.ResourceInfo](st) {
			t.Errorf("no ResourceInfo in %v", st.Details())
		}
	})
}

func TestCancelFinishedJob(t *testing.T) {
	h := newFakeHarness(t, nil, nil)
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	done := h.waitDone(job.GetName())
	_, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: job.GetName()})
	st := wantCode(t, err, codes.FailedPrecondition)
	if !hasDetail[*errdetails.PreconditionFailure](st) {
		t.Errorf("no PreconditionFailure in %v", st.Details())
	}
	after, err := h.client.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: job.GetName()})
	if err != nil || after.GetJob().GetState() != ingestv1.Job_STATE_SUCCEEDED || !proto.Equal(after.GetJob(), done) {
		t.Errorf("job changed by a refused cancel: %v, %v", after.GetJob(), err)
	}
}

func TestCancelRunningJobStopsDownstream(t *testing.T) {
	started, sawCancel := make(chan struct{}), make(chan struct{})
	val := &fakeValidator{fn: func(_ int, _ *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
		close(started)
		// The cancel may come first and fail this Send; the wait below
		// still sees it.
		if err := s.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Progress{Progress: &validatorv1.ValidationProgress{BytesRead: 1, BytesTotal: 10}}}); err != nil && s.Context().Err() == nil {
			return err
		}
		<-s.Context().Done()
		close(sawCancel)
		return s.Context().Err()
	}}
	h := newFakeHarness(t, val, nil)
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	select {
	case <-started:
	case <-time.After(waitLimit):
		t.Fatal("the validator was never called")
	}

	resp, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: job.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetJob().GetState() != ingestv1.Job_STATE_CANCELLED || resp.GetJob().GetEndTime() == nil {
		t.Fatalf("cancelled job = %v", resp.GetJob())
	}
	select {
	case <-sawCancel:
	case <-time.After(waitLimit):
		t.Fatal("the validator's context was never cancelled")
	}
	eventually(t, "the worker to let go of the job", func() bool { return h.running() == 0 })
	events := h.watchAll(job.GetName(), 0)
	checkSequences(t, events, 1)
	last := events[len(events)-1]
	if last.GetState() != ingestv1.Job_STATE_CANCELLED || last.GetStateChange().GetFrom() != ingestv1.Job_STATE_VALIDATING {
		t.Errorf("last event %v", last)
	}
	final, err := h.client.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: job.GetName()})
	if err != nil || final.GetJob().GetState() != ingestv1.Job_STATE_CANCELLED || final.GetJob().GetFailureReason() != "" {
		t.Errorf("final job %v, %v", final.GetJob(), err)
	}
	if _, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: job.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("second cancel: %v", err)
	}
}

func TestCancelPendingJob(t *testing.T) {
	h := newFakeHarness(t, nil, nil)
	h.stop()
	h.startIngest(false) // no workers: the job stays PENDING
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	resp, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: job.GetName()})
	if err != nil || resp.GetJob().GetState() != ingestv1.Job_STATE_CANCELLED {
		t.Fatalf("cancel: %v, %v", resp.GetJob(), err)
	}
	h.restart()
	events := h.watchAll(job.GetName(), 0)
	if got := states(events); fmt.Sprint(got) != fmt.Sprint([]ingestv1.Job_State{ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_CANCELLED}) {
		t.Errorf("states %v: a cancelled job ran after a restart", got)
	}
}

func TestStageFailures(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "connection refused")
	// Shorthands for the artifact lists a job ends with.
	var (
		src       = ingestv1.Artifact_KIND_SOURCE
		rej       = ingestv1.Artifact_KIND_REJECTS
		norm      = ingestv1.Artifact_KIND_NORMALIZED
		rep       = ingestv1.Artifact_KIND_REPORT
		parq      = ingestv1.Artifact_KIND_PARQUET
		sch       = ingestv1.Artifact_KIND_SCHEMA
		errs      = ingestv1.Artifact_KIND_ERROR_REPORT
		validated = []ingestv1.Artifact_Kind{src, norm, parq, rej, sch, errs}
		succeeded = append(validated[:len(validated):len(validated)], rep)
	)
	blockUntilCancelled := func(_ int, _ *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
		<-s.Context().Done()
		return s.Context().Err()
	}
	tests := []struct {
		name       string
		setup      func(val *fakeValidator, an *fakeAnalyzer)
		opts       []Option
		want       ingestv1.Job_State
		reason     string
		reasonRE   string // instead of reason, when the reason varies
		valCalls   int
		anCalls    int
		artifacts  []ingestv1.Artifact_Kind
		retryEvent bool
	}{
		{
			name: "validator unavailable then available",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) {
				val.fn = func(n int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
					if n < 3 {
						return unavailable
					}
					return fakeValidate(val.store, req, s)
				}
			},
			want: ingestv1.Job_STATE_SUCCEEDED, valCalls: 3, anCalls: 1, retryEvent: true, artifacts: succeeded,
		},
		{
			name: "validator unavailable mid-stream then available",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) {
				val.fn = func(n int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
					if n == 1 {
						if err := s.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Progress{Progress: &validatorv1.ValidationProgress{BytesRead: 1}}}); err != nil {
							return err
						}
						return unavailable
					}
					return fakeValidate(val.store, req, s)
				}
			},
			want: ingestv1.Job_STATE_SUCCEEDED, valCalls: 2, anCalls: 1, retryEvent: true, artifacts: succeeded,
		},
		{
			name: "validator unavailable throughout",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) {
				val.fn = func(int, *validatorv1.ValidateRequest, validatorv1.ValidatorService_ValidateServer) error {
					return unavailable
				}
			},
			want: ingestv1.Job_STATE_FAILED, valCalls: 3, retryEvent: true,
			reasonRE:  `^the validator could not be reached after 3 attempts over [0-9.]+m?s; check that it is running at its configured address$`,
			artifacts: []ingestv1.Artifact_Kind{src},
		},
		{
			name:  "validation deadline",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) { val.fn = blockUntilCancelled },
			opts:  []Option{WithStageTimeout(100 * time.Millisecond)},
			want:  ingestv1.Job_STATE_FAILED, reason: "validation did not finish within 100ms", valCalls: 1,
			artifacts: []ingestv1.Artifact_Kind{src},
		},
		{
			name: "header only",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) {
				val.fn = func(int, *validatorv1.ValidateRequest, validatorv1.ValidatorService_ValidateServer) error {
					return status.Error(codes.FailedPrecondition, "the file has a header row but no data rows")
				}
			},
			want: ingestv1.Job_STATE_FAILED, reason: "the file has a header row but no data rows", valCalls: 1,
			artifacts: []ingestv1.Artifact_Kind{src},
		},
		{
			name: "validator internal error",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) {
				val.fn = func(int, *validatorv1.ValidateRequest, validatorv1.ValidatorService_ValidateServer) error {
					return errors.New("boom")
				}
			},
			want: ingestv1.Job_STATE_FAILED, reason: "validation failed: the validator answered Unknown; the validator's log has the details", valCalls: 1,
			artifacts: []ingestv1.Artifact_Kind{src},
		},
		{
			name: "validator without result",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) {
				val.fn = func(int, *validatorv1.ValidateRequest, validatorv1.ValidatorService_ValidateServer) error { return nil }
			},
			want: ingestv1.Job_STATE_FAILED, reason: "validation failed: the validator ended without a result", valCalls: 1,
			artifacts: []ingestv1.Artifact_Kind{src},
		},
		{
			name: "all rows rejected",
			setup: func(val *fakeValidator, _ *fakeAnalyzer) {
				val.fn = func(_ int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
					for _, key := range []string{req.GetNormalizedOutput().GetKey(), req.GetRejectsOutput().GetKey()} {
						w, err := val.store.Create(s.Context(), key)
						if err != nil {
							return err
						}
						io.WriteString(w, "a\n")
						if err := w.Commit(); err != nil {
							return err
						}
					}
					return s.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Result{Result: &validatorv1.ValidationResult{RowsTotal: 4, RowsRejected: 4}}})
				}
			},
			want: ingestv1.Job_STATE_FAILED, reason: "all 4 rows were rejected; download the rejects artifact for the reasons", valCalls: 1,
			artifacts: []ingestv1.Artifact_Kind{src, rej},
		},
		{
			name: "analyzer unavailable then available",
			setup: func(_ *fakeValidator, an *fakeAnalyzer) {
				an.fn = func(n int, req *analyzerv1.AnalyzeRequest, s analyzerv1.AnalyzerService_AnalyzeServer) error {
					if n < 2 {
						return unavailable
					}
					return (&fakeAnalyzer{store: an.store}).Analyze(req, s)
				}
			},
			want: ingestv1.Job_STATE_SUCCEEDED, valCalls: 1, anCalls: 2, retryEvent: true, artifacts: succeeded,
		},
		{
			name: "analyzer invalid argument",
			setup: func(_ *fakeValidator, an *fakeAnalyzer) {
				an.fn = func(int, *analyzerv1.AnalyzeRequest, analyzerv1.AnalyzerService_AnalyzeServer) error {
					return status.Error(codes.InvalidArgument, "column a: cannot parse")
				}
			},
			want: ingestv1.Job_STATE_FAILED, reason: "column a: cannot parse", valCalls: 1, anCalls: 1,
			artifacts: validated,
		},
		{
			name: "analysis deadline",
			setup: func(_ *fakeValidator, an *fakeAnalyzer) {
				an.fn = func(_ int, _ *analyzerv1.AnalyzeRequest, s analyzerv1.AnalyzerService_AnalyzeServer) error {
					<-s.Context().Done()
					return s.Context().Err()
				}
			},
			// Long enough for the (fast, fake) validation to finish on a
			// loaded machine under -race; the analysis never does.
			opts: []Option{WithStageTimeout(2 * time.Second)},
			want: ingestv1.Job_STATE_FAILED, reason: "analysis did not finish within 2s", valCalls: 1, anCalls: 1,
			artifacts: validated,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			val, an := &fakeValidator{}, &fakeAnalyzer{}
			tc.setup(val, an)
			h := newFakeHarness(t, val, an, tc.opts...)
			job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
			done := h.waitDone(job.GetName())
			want := "^" + regexp.QuoteMeta(tc.reason) + "$"
			if tc.reasonRE != "" {
				want = tc.reasonRE
			}
			if done.GetState() != tc.want || !regexp.MustCompile(want).MatchString(done.GetFailureReason()) {
				t.Fatalf("job ended %s with reason %q, want %s %s", done.GetState(), done.GetFailureReason(), tc.want, want)
			}
			if val.callCount() != tc.valCalls || an.callCount() != tc.anCalls {
				t.Errorf("validator called %d times, analyzer %d; want %d and %d", val.callCount(), an.callCount(), tc.valCalls, tc.anCalls)
			}
			var kinds []ingestv1.Artifact_Kind
			for _, a := range done.GetArtifacts() {
				kinds = append(kinds, a.GetKind())
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tc.artifacts) {
				t.Errorf("artifacts %v, want %v", kinds, tc.artifacts)
			}
			events := h.watchAll(job.GetName(), 0)
			checkSequences(t, events, 1)
			retries, terminals := 0, 0
			for _, ev := range events {
				sc := ev.GetStateChange()
				if sc != nil && sc.GetFrom() == sc.GetTo() && strings.Contains(sc.GetMessage(), "retrying") {
					retries++
				}
				if sc != nil && terminal(sc.GetTo()) {
					terminals++
				}
			}
			if (retries > 0) != tc.retryEvent || retries > tc.valCalls+tc.anCalls {
				t.Errorf("%d retry events", retries)
			}
			if terminals != 1 || !terminal(events[len(events)-1].GetState()) {
				t.Errorf("%d terminal events; the last event is %v", terminals, events[len(events)-1])
			}
			if tc.want == ingestv1.Job_STATE_FAILED {
				if _, _, err := h.download(job.GetName() + "/artifacts/report"); status.Code(err) != codes.FailedPrecondition {
					t.Errorf("report of a failed job: %v", err)
				}
			}
			for _, kind := range tc.artifacts {
				if _, _, err := h.download(artifactName(strings.TrimPrefix(job.GetName(), "jobs/"), kind)); err != nil {
					t.Errorf("download listed %s: %v", kind, err)
				}
			}
		})
	}
}

func TestProgressThrottledAndSamplesCapped(t *testing.T) {
	const batches, perBatch = 30, 7 // 210 errors, more than DefaultErrorSampleSize
	tests := []struct {
		name       string
		sampleSize int32
		want       int // sample errors and errors in row_errors events
		events     int // row_errors events
	}{
		{name: "default sample size", sampleSize: 0, want: DefaultErrorSampleSize, events: 15}, // 14 batches of 7 and 2 errors
		{name: "small sample", sampleSize: 10, want: 10, events: 2},
		{name: "sample larger than the errors", sampleSize: MaxErrorSampleSize, want: batches*perBatch + 1, events: batches + 1}, // the fake's own pass adds one
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			val := &fakeValidator{}
			val.fn = func(_ int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
				for i := range batches {
					var errs []*typev1.RowError
					for j := range perBatch {
						line := int64(i*perBatch + j + 2)
						errs = append(errs, &typev1.RowError{Type: "type-error", RowNumber: line, LineNumber: line, Message: "bad"})
					}
					for _, ev := range []*validatorv1.ValidateResponse{
						{Event: &validatorv1.ValidateResponse_Progress{Progress: &validatorv1.ValidationProgress{BytesRead: int64(i + 1), BytesTotal: batches, RowsRead: int64((i + 1) * perBatch)}}},
						{Event: &validatorv1.ValidateResponse_RowErrors{RowErrors: &validatorv1.RowErrorBatch{Errors: errs}}},
					} {
						if err := s.Send(ev); err != nil {
							return err
						}
					}
				}
				return fakeValidate(val.store, req, s)
			}
			h := newFakeHarness(t, val, nil, WithProgressInterval(time.Hour))
			meta := md("f.csv")
			meta.ValidationOptions = &typev1.ValidationOptions{ErrorSampleSize: tc.sampleSize}
			job := h.mustUpload(meta, []byte(sampleCSV))
			done := h.waitDone(job.GetName())
			if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
				t.Fatalf("state %s: %s", done.GetState(), done.GetFailureReason())
			}
			samples := done.GetValidation().GetSampleErrors()
			if len(samples) != tc.want || samples[0].GetLineNumber() != 2 || samples[min(tc.want, batches*perBatch)-1].GetLineNumber() != int64(min(tc.want, batches*perBatch)+1) {
				t.Errorf("%d sample errors, first %v, want %d from line 2", len(samples), samples[0], tc.want)
			}
			var (
				validating []*ingestv1.Progress
				streamed   []*typev1.RowError
			)
			rowErrorEvents := 0
			for _, ev := range h.watchAll(job.GetName(), 0) {
				if p := ev.GetProgress(); p != nil && p.GetStage() == ingestv1.Job_STATE_VALIDATING {
					validating = append(validating, p)
					if ev.GetState() != ingestv1.Job_STATE_VALIDATING {
						t.Errorf("validation progress event in state %s", ev.GetState())
					}
				}
				if ev.GetRowErrors() != nil {
					rowErrorEvents++
					streamed = append(streamed, ev.GetRowErrors().GetErrors()...)
				}
			}
			// With an hour between recorded progress: the first and the final one.
			if len(validating) != 2 || validating[0].GetBytesProcessed() != 1 || validating[1].GetBytesTotal() != int64(len(sampleCSV)) {
				t.Errorf("validation progress events %v", validating)
			}
			// The watch stream carries the sample's errors, no more.
			if rowErrorEvents != tc.events {
				t.Errorf("%d row error events, want %d", rowErrorEvents, tc.events)
			}
			if len(streamed) != len(samples) {
				t.Fatalf("%d errors in row_errors events, %d sample errors", len(streamed), len(samples))
			}
			for i := range streamed {
				if !proto.Equal(streamed[i], samples[i]) {
					t.Fatalf("streamed error %d %v, sample error %v", i, streamed[i], samples[i])
				}
			}
		})
	}
}

func TestCancelRacingCompletionEndsOnce(t *testing.T) {
	h := newFakeHarness(t, nil, nil, WithWorkers(4))
	var names []string
	for i := range 12 {
		names = append(names, h.mustUpload(md(fmt.Sprintf("f%d.csv", i)), []byte(sampleCSV)).GetName())
	}
	for _, name := range names {
		_, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: name})
		if err != nil && status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("cancel %s: %v", name, err)
		}
	}
	for _, name := range names {
		done := h.waitDone(name)
		events := h.watchAll(name, 0)
		checkSequences(t, events, 1)
		terminals := 0
		for _, ev := range events {
			if sc := ev.GetStateChange(); sc != nil && terminal(sc.GetTo()) {
				terminals++
			}
		}
		last := events[len(events)-1]
		if terminals != 1 || last.GetState() != done.GetState() {
			t.Errorf("%s: %d terminal events, last %v, job %s", name, terminals, last, done.GetState())
		}
	}
	eventually(t, "the workers to finish", func() bool { return h.running() == 0 })
	for _, name := range names {
		resp, err := h.client.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		st := resp.GetJob().GetState()
		if st != ingestv1.Job_STATE_CANCELLED && st != ingestv1.Job_STATE_SUCCEEDED {
			t.Errorf("%s ended %s", name, st)
		}
	}
}

func TestWatchReplayLiveAndAfterSequence(t *testing.T) {
	release := make(chan struct{})
	val := &fakeValidator{}
	val.fn = func(_ int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
		for i := range 3 {
			if err := s.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Progress{Progress: &validatorv1.ValidationProgress{BytesRead: int64(i), BytesTotal: 10}}}); err != nil {
				return err
			}
		}
		select {
		case <-release:
		case <-s.Context().Done():
			return s.Context().Err()
		}
		return fakeValidate(val.store, req, s)
	}
	h := newFakeHarness(t, val, nil)
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))

	// A watcher that joins while validation is held: it gets the replay,
	// then the live events, and ends with the terminal one.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	stream, err := h.client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: job.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	var events []*ingestv1.JobEvent
	for {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, resp.GetEvent())
		if resp.GetEvent().GetProgress().GetBytesProcessed() == 2 {
			break // all three held-back progress events seen: validation is waiting
		}
	}
	close(release)
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, resp.GetEvent())
	}
	checkSequences(t, events, 1)
	if last := events[len(events)-1]; last.GetState() != ingestv1.Job_STATE_SUCCEEDED {
		t.Fatalf("watch ended with %v", last)
	}

	// A later watch replays the same log.
	replay := h.watchAll(job.GetName(), 0)
	if len(replay) != len(events) {
		t.Fatalf("replay has %d events, live watch had %d", len(replay), len(events))
	}
	for i := range replay {
		if !proto.Equal(replay[i], events[i]) {
			t.Fatalf("event %d differs: %v vs %v", i, replay[i], events[i])
		}
	}
	// after_sequence skips what the client has seen.
	for _, after := range []int64{1, int64(len(events) - 1), int64(len(events)), int64(len(events) + 5)} {
		got := h.watchAll(job.GetName(), after)
		wantN := max(0, len(events)-int(after))
		if len(got) != wantN {
			t.Errorf("after %d: %d events, want %d", after, len(got), wantN)
		}
		if wantN > 0 {
			checkSequences(t, got, after+1)
		}
	}
	neg, err := h.client.WatchJob(context.Background(), &ingestv1.WatchJobRequest{Name: job.GetName(), AfterSequence: -1})
	if err == nil {
		_, err = neg.Recv()
	}
	wantCode(t, err, codes.InvalidArgument)
}

func TestListJobsPagination(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	h := newFakeHarness(t, nil, nil, WithClock(clock))
	var names []string
	for i := range 7 {
		names = append(names, h.mustUpload(md(fmt.Sprintf("f%d.csv", i)), []byte(sampleCSV)).GetName())
	}
	var got []string
	token := ""
	pages := 0
	for {
		resp, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(resp.GetJobs()) > 3 {
			t.Fatalf("page of %d jobs", len(resp.GetJobs()))
		}
		for _, j := range resp.GetJobs() {
			got = append(got, j.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	var want []string
	for i := len(names) - 1; i >= 0; i-- {
		want = append(want, names[i])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listed %v, want newest first %v", got, want)
	}
	all, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{})
	if err != nil || len(all.GetJobs()) != 7 || all.GetNextPageToken() != "" {
		t.Errorf("default page: %d jobs, token %q, %v", len(all.GetJobs()), all.GetNextPageToken(), err)
	}
	for _, tok := range []string{"garbage", "djE6eHl6", "!!"} {
		_, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{PageToken: tok})
		st := wantCode(t, err, codes.InvalidArgument)
		if got := badRequestFields(st); len(got) != 1 || got[0] != "page_token" {
			t.Errorf("token %q: fields %v", tok, got)
		}
	}
	_, err = h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{PageSize: -1})
	wantCode(t, err, codes.InvalidArgument)
	for _, n := range names {
		h.waitDone(n) // let the workers finish before the cleanup
	}
}

func TestRestartResumesJobs(t *testing.T) {
	var blocking sync.Mutex
	blocking.Lock()
	block := true
	blocking.Unlock()
	val := &fakeValidator{}
	val.fn = func(_ int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
		blocking.Lock()
		b := block
		blocking.Unlock()
		if b {
			<-s.Context().Done()
			return s.Context().Err()
		}
		return fakeValidate(val.store, req, s)
	}
	h := newFakeHarness(t, val, nil)
	validating := h.mustUpload(md("v.csv"), []byte(sampleCSV))
	h.waitState(validating.GetName(), ingestv1.Job_STATE_VALIDATING)

	// A job recorded while no workers run stays PENDING.
	h.stop()
	h.startIngest(false)
	pending := h.mustUpload(md("p.csv"), []byte(sampleCSV))

	for name, want := range map[string]ingestv1.Job_State{validating.GetName(): ingestv1.Job_STATE_VALIDATING, pending.GetName(): ingestv1.Job_STATE_PENDING} {
		got, err := h.client.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: name})
		if err != nil || got.GetJob().GetState() != want {
			t.Fatalf("before restart %s is %v (%v), want %s", name, got.GetJob().GetState(), err, want)
		}
	}

	blocking.Lock()
	block = false
	blocking.Unlock()
	h.restart()
	for _, name := range []string{validating.GetName(), pending.GetName()} {
		done := h.waitDone(name)
		if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
			t.Fatalf("%s ended %s: %s", name, done.GetState(), done.GetFailureReason())
		}
		events := h.watchAll(name, 0)
		checkSequences(t, events, 1)
		restarted := false
		for _, ev := range events {
			if strings.Contains(ev.GetStateChange().GetMessage(), "resumed after a server restart") {
				restarted = true
			}
		}
		if !restarted {
			t.Errorf("%s: no event says the server restarted", name)
		}
	}
}

func TestRestartDuringAnalysisSkipsValidation(t *testing.T) {
	var mu sync.Mutex
	block := true
	started := make(chan struct{})
	an := &fakeAnalyzer{}
	an.fn = func(_ int, req *analyzerv1.AnalyzeRequest, s analyzerv1.AnalyzerService_AnalyzeServer) error {
		mu.Lock()
		b := block
		mu.Unlock()
		if b {
			close(started)
			<-s.Context().Done()
			return s.Context().Err()
		}
		return (&fakeAnalyzer{store: an.store}).Analyze(req, s)
	}
	val := &fakeValidator{}
	h := newFakeHarness(t, val, an)
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	select {
	case <-started: // the analyzer holds the job in ANALYZING
	case <-time.After(waitLimit):
		t.Fatal("the analyzer was never called")
	}
	mu.Lock()
	block = false
	mu.Unlock()
	h.restart()
	done := h.waitDone(job.GetName())
	if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
		t.Fatalf("ended %s: %s", done.GetState(), done.GetFailureReason())
	}
	if val.callCount() != 1 {
		t.Errorf("validator called %d times; resuming analysis should not validate again", val.callCount())
	}
	want := []ingestv1.Job_State{ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_VALIDATING, ingestv1.Job_STATE_ANALYZING,
		ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_ANALYZING, ingestv1.Job_STATE_SUCCEEDED}
	if got := states(h.watchAll(job.GetName(), 0)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", got, want)
	}
}

func TestStartSweepsOrphans(t *testing.T) {
	h := newFakeHarness(t, nil, nil)
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	h.waitDone(job.GetName())
	keep := strings.TrimPrefix(job.GetName(), "jobs/")
	orphan := strings.Repeat("0f", 16)
	notAnID := "scratch"
	for _, d := range []string{orphan, notAnID} {
		if err := os.MkdirAll(filepath.Join(h.root, "jobs", d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.root, "jobs", d, "source.csv"), []byte("a\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h.restart()
	if got, want := fmt.Sprint(h.jobDirs()), fmt.Sprint([]string{keep, notAnID}); got != want {
		t.Errorf("job directories after the sweep %s, want %s", got, want)
	}
	if _, _, err := h.download(job.GetName() + "/artifacts/source"); err != nil {
		t.Errorf("the kept job's source: %v", err)
	}
}
