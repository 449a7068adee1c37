package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers (a logger's).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLines parses the JSON lines of a log.
func logLines(t *testing.T, b *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// objectExists reports whether the job's object is on disk.
func (h *harness) objectExists(name string, k ingestv1.Artifact_Kind) bool {
	h.t.Helper()
	_, err := os.Stat(filepath.Join(h.root, filepath.FromSlash(objectKey(strings.TrimPrefix(name, "jobs/"), k))))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		h.t.Fatal(err)
	}
	return err == nil
}

func TestStartRemovesTempFiles(t *testing.T) {
	h := newFakeHarness(t, nil, nil)
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	h.waitDone(job.GetName())
	jobDir := filepath.Join(h.root, "jobs", strings.TrimPrefix(job.GetName(), "jobs/"))
	tests := []struct {
		path    string // under the store's root
		removed bool
	}{
		{filepath.Join(jobDir, ".tmp-normalized.csv-123456"), true},
		{filepath.Join(jobDir, ".tmp-source.csv-1"), true},
		{filepath.Join(jobDir, "nested", ".tmp-report.json-42"), true},
		{filepath.Join(jobDir, ".tmp-notes"), false},
		{filepath.Join(jobDir, ".tmp-x-abc"), false},
		{filepath.Join(jobDir, ".tmp-normalized.csv-12a"), false},
		{filepath.Join(jobDir, "tmp-normalized.csv-1"), false},
		{filepath.Join(jobDir, "x.tmp-normalized.csv-1"), false},
		{filepath.Join(jobDir, "normalized.csv"), false}, // the job's own artifact
		{filepath.Join(h.root, "jobs", "scratch", ".tmp-a.csv-1"), false},
		{filepath.Join(h.root, ".tmp-a.csv-1"), false},
	}
	for _, tc := range tests {
		if err := os.MkdirAll(filepath.Dir(tc.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(tc.path); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(tc.path, []byte("partial"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.restart()
	for _, tc := range tests {
		rel, _ := filepath.Rel(h.root, tc.path)
		t.Run(rel, func(t *testing.T) {
			_, err := os.Stat(tc.path)
			if gone := errors.Is(err, os.ErrNotExist); gone != tc.removed {
				t.Errorf("removed %v, want %v (%v)", gone, tc.removed, err)
			}
		})
	}
	if _, body, err := h.download(job.GetName() + "/artifacts/normalized"); err != nil || len(body) == 0 {
		t.Errorf("the job's normalized artifact after the sweep: %q, %v", body, err)
	}
}

// errInjected is the failure faultyJobs injects.
var errInjected = errors.New("injected job-store failure")

// workerKey marks the context the workers run under (see startFaulty), so
// that faultyJobs fails only their reads.
type workerKey struct{}

// faultyJobs is a job store that fails some operations.
type faultyJobs struct {
	jobStore
	mu sync.Mutex
	// workerGets is how many reads by the workers fail.
	workerGets int
	// updatesTo is how many updates that would leave a job in a state fail.
	updatesTo map[ingestv1.Job_State]int
}

func (f *faultyJobs) Get(ctx context.Context, id string) (*jobstore.Record, error) {
	if ctx.Value(workerKey{}) != nil {
		f.mu.Lock()
		fail := f.workerGets > 0
		if fail {
			f.workerGets--
		}
		f.mu.Unlock()
		if fail {
			return nil, errInjected
		}
	}
	return f.jobStore.Get(ctx, id)
}

func (f *faultyJobs) Update(ctx context.Context, id string, fn jobstore.UpdateFunc) (*ingestv1.Job, []*ingestv1.JobEvent, error) {
	return f.jobStore.Update(ctx, id, func(job *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
		events, err := fn(job)
		if err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.updatesTo[job.GetState()] > 0 {
			f.updatesTo[job.GetState()]--
			return nil, errInjected // rolls the transaction back
		}
		return events, nil
	})
}

// startFaulty serves a new ingest server whose job store is f wrapped
// around the harness's database.
func (h *harness) startFaulty(f *faultyJobs, opts ...Option) {
	h.t.Helper()
	h.stop()
	h.startIngest(false, opts...)
	f.jobStore = h.srv.jobs
	h.srv.jobs = f
	if err := h.srv.Start(context.WithValue(context.Background(), workerKey{}, true)); err != nil {
		h.t.Fatal(err)
	}
}

func TestClaimedJobNeverAbandoned(t *testing.T) {
	refuse := func(val *fakeValidator) {
		val.fn = func(int, *validatorv1.ValidateRequest, validatorv1.ValidatorService_ValidateServer) error {
			return status.Error(codes.FailedPrecondition, "the header does not match the schema")
		}
	}
	const attempts = 3 // the harness's WithRetry
	tests := []struct {
		name      string
		refuse    bool // the validator refuses the file: the job fails
		gets      int
		updatesTo map[ingestv1.Job_State]int
		want      ingestv1.Job_State
		requeued  bool // an event says the job was queued again
		valCalls  int
	}{
		{name: "reading the claimed job fails, then works", gets: attempts - 1,
			want: ingestv1.Job_STATE_SUCCEEDED, valCalls: 1},
		{name: "reading the claimed job keeps failing", gets: attempts,
			want: ingestv1.Job_STATE_SUCCEEDED, requeued: true, valCalls: 1},
		{name: "recording the failure fails, then works", refuse: true,
			updatesTo: map[ingestv1.Job_State]int{ingestv1.Job_STATE_FAILED: attempts - 1},
			want:      ingestv1.Job_STATE_FAILED, valCalls: 1},
		{name: "recording the failure keeps failing", refuse: true,
			updatesTo: map[ingestv1.Job_State]int{ingestv1.Job_STATE_FAILED: attempts},
			want:      ingestv1.Job_STATE_FAILED, requeued: true, valCalls: 2},
		{name: "putting the job back fails too", refuse: true,
			updatesTo: map[ingestv1.Job_State]int{ingestv1.Job_STATE_FAILED: attempts, ingestv1.Job_STATE_PENDING: attempts + 1},
			want:      ingestv1.Job_STATE_FAILED, requeued: true, valCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			val := &fakeValidator{}
			if tc.refuse {
				refuse(val)
			}
			h := newFakeHarness(t, val, nil)
			h.startFaulty(&faultyJobs{workerGets: tc.gets, updatesTo: tc.updatesTo})
			job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
			done := h.waitDone(job.GetName())
			if done.GetState() != tc.want {
				t.Fatalf("job ended %s (%q), want %s", done.GetState(), done.GetFailureReason(), tc.want)
			}
			events := h.watchAll(job.GetName(), 0)
			checkSequences(t, events, 1)
			requeued := false
			for _, ev := range events {
				sc := ev.GetStateChange()
				if sc.GetTo() == ingestv1.Job_STATE_PENDING && strings.Contains(sc.GetMessage(), "queued again") {
					requeued = true
				}
			}
			if requeued != tc.requeued {
				t.Errorf("queued again: %v, want %v; states %v", requeued, tc.requeued, states(events))
			}
			if val.callCount() != tc.valCalls {
				t.Errorf("validator called %d times, want %d", val.callCount(), tc.valCalls)
			}
		})
	}
}

func withStatusDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st, err := status.New(c, msg).WithDetails(details...)
	if err != nil {
		panic(err)
	}
	return st.Err()
}

func TestFailureReasonsAreForUsers(t *testing.T) {
	const transport = `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`
	validatorFails := func(err error) func(*fakeValidator, *fakeAnalyzer) {
		return func(val *fakeValidator, _ *fakeAnalyzer) {
			val.fn = func(int, *validatorv1.ValidateRequest, validatorv1.ValidatorService_ValidateServer) error { return err }
		}
	}
	tests := []struct {
		name   string
		setup  func(*fakeValidator, *fakeAnalyzer)
		reason string // a regular expression
		logged string // raw text the log must have
	}{
		{
			name:   "validator unreachable",
			setup:  validatorFails(status.Error(codes.Unavailable, transport)),
			reason: `^the validator could not be reached after 3 attempts over [0-9.]+m?s; check that it is running at its configured address$`,
			logged: transport,
		},
		{
			name: "analyzer unreachable",
			setup: func(_ *fakeValidator, an *fakeAnalyzer) {
				an.fn = func(int, *analyzerv1.AnalyzeRequest, analyzerv1.AnalyzerService_AnalyzeServer) error {
					return status.Error(codes.Unavailable, transport)
				}
			},
			reason: `^the analyzer could not be reached after 3 attempts over [0-9.]+m?s; check that it is running at its configured address$`,
			logged: transport,
		},
		{
			name: "precondition failure with details",
			setup: validatorFails(withStatusDetails(codes.FailedPrecondition, "the header does not match the schema",
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
					Type: "HEADER_MISMATCH", Subject: "source", Description: `column 2 is "b"; the schema names "symbol"`}}})),
			reason: `^` + regexp.QuoteMeta(`the header does not match the schema: column 2 is "b"; the schema names "symbol"`) + `$`,
		},
		{
			name: "precondition failure that says it all",
			setup: validatorFails(withStatusDetails(codes.FailedPrecondition, "the file is not UTF-8",
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "ENCODING", Description: "the file is not UTF-8"}}})),
			reason: `^the file is not UTF-8$`,
		},
		{
			name: "bad request with details",
			setup: func(_ *fakeValidator, an *fakeAnalyzer) {
				an.fn = func(int, *analyzerv1.AnalyzeRequest, analyzerv1.AnalyzerService_AnalyzeServer) error {
					return withStatusDetails(codes.InvalidArgument, "invalid analyze request", &errdetails.BadRequest{
						FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "schema.fields[0].type", Description: "unknown type 9"}}})
				}
			},
			reason: `^` + regexp.QuoteMeta("invalid analyze request: schema.fields[0].type: unknown type 9") + `$`,
		},
		{
			name:   "internal error with transport text",
			setup:  validatorFails(status.Error(codes.Internal, "rpc error: stream terminated by RST_STREAM; transport is closing")),
			reason: `^validation failed: the validator answered Internal; the validator's log has the details$`,
			logged: "RST_STREAM",
		},
		{
			name:   "not found, a message for users",
			setup:  validatorFails(status.Error(codes.NotFound, "the source object is missing")),
			reason: `^validation failed: the validator answered NotFound: the source object is missing$`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			val, an := &fakeValidator{}, &fakeAnalyzer{}
			tc.setup(val, an)
			var logs syncBuffer
			h := newFakeHarness(t, val, an, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
			done := h.waitDone(job.GetName())
			if done.GetState() != ingestv1.Job_STATE_FAILED || !regexp.MustCompile(tc.reason).MatchString(done.GetFailureReason()) {
				t.Fatalf("job ended %s with reason %q, want FAILED with %s", done.GetState(), done.GetFailureReason(), tc.reason)
			}
			// Nothing a user sees carries transport text: not the reason,
			// not the retry events.
			for _, ev := range h.watchAll(job.GetName(), 0) {
				for _, raw := range []string{"transport", "dial tcp", "desc =", "RST_STREAM"} {
					if msg := ev.GetStateChange().GetMessage(); strings.Contains(msg, raw) {
						t.Errorf("event message %q has %q", msg, raw)
					}
				}
			}
			quoted, _ := json.Marshal(tc.logged)
			if tc.logged != "" && !strings.Contains(logs.String(), strings.Trim(string(quoted), `"`)) {
				t.Errorf("the log does not have the raw error %q", tc.logged)
			}
		})
	}
}

func TestRowErrorsRecordedOnce(t *testing.T) {
	rowErrors := func(lines ...int64) *validatorv1.ValidateResponse {
		var errs []*typev1.RowError
		for i, l := range lines {
			errs = append(errs, &typev1.RowError{Type: "type-error", RowNumber: l, LineNumber: l, FieldNumber: int32(i + 1), FieldName: fmt.Sprintf("f%d", i), Message: "bad"})
		}
		return &validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_RowErrors{RowErrors: &validatorv1.RowErrorBatch{Errors: errs}}}
	}
	const clean = "a\nx\ny\n" // the fake's own pass rejects nothing
	tests := []struct {
		name string
		// firstAttempt ends the first attempt after its row errors.
		firstAttempt func(s validatorv1.ValidatorService_ValidateServer) error
		restart      bool // restart the server during the first attempt
	}{
		{name: "retried attempt", firstAttempt: func(validatorv1.ValidatorService_ValidateServer) error {
			return status.Error(codes.Unavailable, "connection refused")
		}},
		{name: "resumed after a restart", restart: true, firstAttempt: func(s validatorv1.ValidatorService_ValidateServer) error {
			<-s.Context().Done()
			return s.Context().Err()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			val := &fakeValidator{}
			val.fn = func(n int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
				if err := s.Send(rowErrors(2, 3)); err != nil {
					return err
				}
				if err := s.Send(rowErrors(4)); err != nil {
					return err
				}
				if n == 1 {
					return tc.firstAttempt(s)
				}
				// Two errors on one row count, within one attempt.
				if err := s.Send(rowErrors(5, 5, 6)); err != nil {
					return err
				}
				return fakeValidate(val.store, req, s)
			}
			h := newFakeHarness(t, val, nil)
			job := h.mustUpload(md("f.csv"), []byte(clean))
			if tc.restart {
				eventually(t, "the first attempt's row errors to be recorded", func() bool {
					events, err := h.jobs.Events(context.Background(), strings.TrimPrefix(job.GetName(), "jobs/"), 0, 100)
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					for _, ev := range events {
						n += len(ev.GetRowErrors().GetErrors())
					}
					return n == 3
				})
				h.restart()
			}
			done := h.waitDone(job.GetName())
			if done.GetState() != ingestv1.Job_STATE_SUCCEEDED || val.callCount() != 2 {
				t.Fatalf("job ended %s (%q) after %d validations", done.GetState(), done.GetFailureReason(), val.callCount())
			}
			want := "[2 3 4 5 5 6]"
			var recorded []int64
			for _, ev := range h.watchAll(job.GetName(), 0) {
				for _, e := range ev.GetRowErrors().GetErrors() {
					recorded = append(recorded, e.GetLineNumber())
				}
			}
			if got := fmt.Sprint(recorded); got != want {
				t.Errorf("row error events have lines %s, want %s", got, want)
			}
			var samples []int64
			for _, e := range done.GetValidation().GetSampleErrors() {
				samples = append(samples, e.GetLineNumber())
			}
			if got := fmt.Sprint(samples); got != want {
				t.Errorf("sample errors have lines %s, want %s", got, want)
			}
		})
	}
}

func TestUnlistedOutputsRemoved(t *testing.T) {
	var (
		norm = ingestv1.Artifact_KIND_NORMALIZED
		rej  = ingestv1.Artifact_KIND_REJECTS
		rep  = ingestv1.Artifact_KIND_REPORT
	)
	writeOutputs := func(ctx context.Context, h *harness, keys ...string) error {
		for _, key := range keys {
			w, err := h.store.Create(ctx, key)
			if err != nil {
				return err
			}
			io.WriteString(w, "a\n1\n")
			if err := w.Commit(); err != nil {
				return err
			}
		}
		return nil
	}
	tests := []struct {
		name    string
		setup   func(h **harness, val *fakeValidator, an *fakeAnalyzer, committed chan<- struct{})
		cancel  bool // cancel the job once its outputs are committed
		pending bool // run no workers: the outputs are a crashed run's
		want    ingestv1.Job_State
		kept    []ingestv1.Artifact_Kind
		removed []ingestv1.Artifact_Kind
	}{
		{
			name: "cancelled after the validator committed",
			setup: func(h **harness, val *fakeValidator, _ *fakeAnalyzer, committed chan<- struct{}) {
				val.fn = func(_ int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
					if err := writeOutputs(s.Context(), *h, req.GetNormalizedOutput().GetKey(), req.GetRejectsOutput().GetKey()); err != nil {
						return err
					}
					close(committed)
					<-s.Context().Done()
					return s.Context().Err()
				}
			},
			cancel: true, want: ingestv1.Job_STATE_CANCELLED, removed: []ingestv1.Artifact_Kind{norm, rej, rep},
		},
		{
			name:    "cancelled while pending, after a crash",
			pending: true, cancel: true, want: ingestv1.Job_STATE_CANCELLED, removed: []ingestv1.Artifact_Kind{norm, rej},
		},
		{
			name: "all rows rejected",
			setup: func(h **harness, val *fakeValidator, _ *fakeAnalyzer, _ chan<- struct{}) {
				val.fn = func(_ int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
					if err := writeOutputs(s.Context(), *h, req.GetNormalizedOutput().GetKey(), req.GetRejectsOutput().GetKey()); err != nil {
						return err
					}
					return s.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Result{Result: &validatorv1.ValidationResult{RowsTotal: 1, RowsRejected: 1}}})
				}
			},
			want: ingestv1.Job_STATE_FAILED, kept: []ingestv1.Artifact_Kind{rej}, removed: []ingestv1.Artifact_Kind{norm},
		},
		{
			name: "analysis failed after writing its report",
			setup: func(h **harness, _ *fakeValidator, an *fakeAnalyzer, _ chan<- struct{}) {
				an.fn = func(_ int, req *analyzerv1.AnalyzeRequest, s analyzerv1.AnalyzerService_AnalyzeServer) error {
					if err := writeOutputs(s.Context(), *h, req.GetReportOutput().GetKey()); err != nil {
						return err
					}
					return status.Error(codes.InvalidArgument, "column a: cannot parse")
				}
			},
			want: ingestv1.Job_STATE_FAILED, kept: []ingestv1.Artifact_Kind{norm, rej}, removed: []ingestv1.Artifact_Kind{rep},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			val, an := &fakeValidator{}, &fakeAnalyzer{}
			committed := make(chan struct{})
			var h *harness
			if tc.setup != nil {
				tc.setup(&h, val, an, committed)
			}
			h = newFakeHarness(t, val, an)
			if tc.pending {
				h.stop()
				h.startIngest(false)
			}
			job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
			id := strings.TrimPrefix(job.GetName(), "jobs/")
			if tc.pending {
				if err := writeOutputs(context.Background(), h, objectKey(id, norm), objectKey(id, rej)); err != nil {
					t.Fatal(err)
				}
			} else if tc.cancel {
				<-committed
			}
			if tc.cancel {
				if _, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: job.GetName()}); err != nil {
					t.Fatal(err)
				}
			}
			done := h.waitDone(job.GetName())
			if done.GetState() != tc.want {
				t.Fatalf("job ended %s (%q), want %s", done.GetState(), done.GetFailureReason(), tc.want)
			}
			eventually(t, "the worker to let go of the job", func() bool { return h.running() == 0 })
			if !h.objectExists(job.GetName(), ingestv1.Artifact_KIND_SOURCE) {
				t.Error("the source was removed")
			}
			for _, k := range tc.kept {
				if !h.objectExists(job.GetName(), k) {
					t.Errorf("the listed %s output was removed", k)
				}
			}
			for _, k := range tc.removed {
				if h.objectExists(job.GetName(), k) {
					t.Errorf("the unlisted %s output is still there", k)
				}
			}
		})
	}
}

func TestLogsNameJobsByResourceName(t *testing.T) {
	var logs syncBuffer
	log := telemetry.NewLogger(&logs, "ingest", slog.LevelDebug)
	h := newFakeHarness(t, nil, nil, WithLogger(log))
	done := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	h.waitDone(done.GetName())
	// A job cancelled while pending, and one resumed after a restart.
	h.stop()
	h.startIngest(false, WithLogger(log))
	cancelled := h.mustUpload(md("c.csv"), []byte(sampleCSV))
	if _, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: cancelled.GetName()}); err != nil {
		t.Fatal(err)
	}
	resumed := h.mustUpload(md("r.csv"), []byte(sampleCSV))
	h.restart(WithLogger(log))
	h.waitDone(resumed.GetName())
	h.stop() // the worker logs after the job's last event

	jobName := regexp.MustCompile(`^jobs/[0-9a-f]{32}$`)
	for _, line := range strings.Split(logs.String(), "\n") {
		if n := strings.Count(line, `"job":`); n > 1 {
			t.Errorf("log line names the job %d times: %s", n, line)
		}
	}
	perJob := map[string]int{}
	for _, line := range logLines(t, &logs) {
		j, ok := line["job"]
		if !ok {
			continue
		}
		s, _ := j.(string)
		if !jobName.MatchString(s) {
			t.Errorf("log line names job %v, want jobs/{id}: %v", j, line)
		}
		perJob[s]++
	}
	for _, tc := range []struct {
		name string
		min  int // created, started, finished at least
	}{{done.GetName(), 3}, {cancelled.GetName(), 2}, {resumed.GetName(), 4}} {
		if perJob[tc.name] < tc.min {
			t.Errorf("%d log lines with job=%s, want at least %d", perJob[tc.name], tc.name, tc.min)
		}
	}
}
