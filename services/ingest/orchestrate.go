package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
)

// errStateChanged is returned by a guarded update when the job is no longer
// in the state the caller expected (typically: it was cancelled).
var errStateChanged = errors.New("the job's state changed")

// errJobCancelled is the cause with which CancelJob cancels a running job.
var errJobCancelled = errors.New("the job was cancelled")

// stageFailure is a reason to fail a job, in words a user understands.
type stageFailure struct{ reason string }

func (e *stageFailure) Error() string { return e.reason }

// stage describes one stage of a job.
type stage struct {
	state   ingestv1.Job_State
	noun    string // "validation"
	service string // "validator"
}

var (
	stageValidate = stage{ingestv1.Job_STATE_VALIDATING, "validation", "validator"}
	stageAnalyze  = stage{ingestv1.Job_STATE_ANALYZING, "analysis", "analyzer"}
)

// worker claims pending jobs and runs them, one at a time, until ctx ends.
func (s *Server) worker(ctx context.Context) {
	for ctx.Err() == nil {
		stranded := s.requeueStranded(ctx)
		rec, err := s.claim(ctx)
		if err == nil {
			s.signalWork() // there may be more: wake another idle worker
			s.runJob(ctx, rec)
			continue
		}
		var retry <-chan time.Time
		if !errors.Is(err, jobstore.ErrNoPendingJob) {
			if ctx.Err() != nil {
				return
			}
			s.log.ErrorContext(ctx, "claiming a pending job", "error", err.Error())
			retry = time.After(s.opts.retryBackoff) // collected when unused (Go 1.23+)
		} else if stranded {
			retry = time.After(s.opts.retryBackoff)
		}
		select {
		case <-s.wake:
		case <-retry:
		case <-ctx.Done():
			return
		}
	}
}

// claim moves the oldest pending job to its next stage: ANALYZING when its
// validation finished before a restart, else VALIDATING.
func (s *Server) claim(ctx context.Context) (*jobstore.Record, error) {
	rec, _, err := s.jobs.Claim(ctx, func(job *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
		to, msg := ingestv1.Job_STATE_VALIDATING, "validation started"
		if job.GetValidation() != nil {
			to, msg = ingestv1.Job_STATE_ANALYZING, "analysis started"
		}
		job.State = to
		job.Progress = nil
		return []*ingestv1.JobEvent{stateChange(ingestv1.Job_STATE_PENDING, to, msg)}, nil
	})
	if err != nil {
		return nil, err
	}
	s.notify.publish(jobstore.JobID(rec.Job))
	return rec, nil
}

// runJob runs a claimed job to a terminal state, unless root ends first
// (the server stops; the job stays as it is and resumes on the next start)
// or the job is cancelled. A job it cannot keep track of, because the job
// store keeps failing, goes back to the queue (requeue): a claimed job is
// never left in a running state with no worker.
func (s *Server) runJob(root context.Context, rec *jobstore.Record) {
	id := jobstore.JobID(rec.Job)
	jobCtx, cancel := context.WithCancelCause(root)
	defer cancel(nil)
	s.mu.Lock()
	s.running[id] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
	}()
	logCtx := telemetry.WithAttrs(jobCtx, slog.String("job", jobName(id)))
	// A CancelJob that committed between the claim and the registration
	// above found nothing to cancel; it shows in the store.
	var cur *jobstore.Record
	err := s.retryStore(logCtx, func(ctx context.Context) error {
		var err error
		cur, err = s.jobs.Get(ctx, id)
		return err
	})
	switch {
	case err != nil && root.Err() != nil:
		return // stopping: the job resumes on the next start
	case err != nil:
		s.log.ErrorContext(logCtx, "reading a claimed job failed; putting it back in the queue", "error", err.Error())
		s.requeue(logCtx, id, rec.Job.GetState())
		return
	case cur.Job.GetState() != rec.Job.GetState():
		s.removeUnlisted(logCtx, cur.Job)
		return
	}

	ctx := telemetry.ContextWithTraceparent(jobCtx, rec.Traceparent)
	ctx, span := telemetry.StartSpan(ctx, "csvmesh.job", trace.WithAttributes(
		attribute.String("csvmesh.job", rec.Job.GetName()),
		attribute.String("csvmesh.file_name", rec.Job.GetFileName()),
		attribute.Int64("csvmesh.size_bytes", rec.Job.GetSizeBytes())))
	defer span.End()
	ctx = telemetry.WithAttrs(ctx, slog.String("job", jobName(id)))
	s.log.InfoContext(ctx, "job started", "state", rec.Job.GetState().String())

	from, err := s.execute(ctx, id, rec.Job)
	switch {
	case err == nil:
		s.log.InfoContext(ctx, "job finished")
		s.removeUnlistedOf(ctx, id) // a job can end FAILED without an error: all rows rejected
		return
	case root.Err() != nil:
		s.log.InfoContext(ctx, "server stopping; the job will resume on the next start")
		return
	case errors.Is(context.Cause(jobCtx), errJobCancelled) || errors.Is(err, errStateChanged):
		s.log.InfoContext(ctx, "job cancelled")
		span.SetStatus(codes.Error, "cancelled")
		s.removeUnlistedOf(ctx, id)
		return
	}
	reason := s.failureReason(ctx, err)
	span.SetStatus(codes.Error, reason)
	// Recorded even while the server stops: the failure is known.
	failed, ferr := s.update(context.WithoutCancel(ctx), id, from, func(job *ingestv1.Job) []*ingestv1.JobEvent {
		job.State = ingestv1.Job_STATE_FAILED
		job.FailureReason = reason
		job.EndTime = timestamppb.New(s.opts.now())
		return []*ingestv1.JobEvent{stateChange(from, ingestv1.Job_STATE_FAILED, reason)}
	})
	switch {
	case ferr == nil:
		s.log.InfoContext(ctx, "job failed", "reason", reason)
		s.removeUnlisted(ctx, failed)
	case errors.Is(ferr, errStateChanged):
		s.log.InfoContext(ctx, "job cancelled")
		s.removeUnlistedOf(ctx, id)
	default:
		s.log.ErrorContext(ctx, "recording a job failure failed; putting the job back in the queue", "reason", reason, "error", ferr.Error())
		s.requeue(ctx, id, from)
	}
}

// removeUnlistedOf loads the job and removes the outputs a failed or
// cancelled job does not list (removeUnlisted).
func (s *Server) removeUnlistedOf(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	rec, err := s.jobs.Get(ctx, id)
	if err != nil {
		s.log.ErrorContext(ctx, "reading a finished job to remove its unlisted outputs", "error", err.Error())
		return
	}
	s.removeUnlisted(ctx, rec.Job)
}

// retryStore runs fn, a job-store operation, up to the configured number of
// attempts with the configured backoff while it fails for a reason other
// than a changed state, a missing job or the end of ctx. Each failure is
// logged with its error.
func (s *Server) retryStore(ctx context.Context, fn func(context.Context) error) error {
	backoff := s.opts.retryBackoff
	for n := 1; ; n++ {
		err := fn(ctx)
		if err == nil || errors.Is(err, errStateChanged) || errors.Is(err, jobstore.ErrNotFound) || ctx.Err() != nil {
			return err
		}
		var (
			pe *preconditionError
			sf *stageFailure
		)
		if errors.As(err, &pe) || errors.As(err, &sf) {
			return err
		}
		if n >= s.opts.retryAttempts {
			return fmt.Errorf("after %d attempts: %w", n, err)
		}
		wait := jitter(backoff)
		backoff = min(2*backoff, s.opts.maxRetryBackoff)
		s.log.WarnContext(ctx, "job store operation failed; retrying", "attempt", n, "of", s.opts.retryAttempts, "retry_in", wait.String(), "error", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// requeue puts a claimed job the worker cannot go on with back to PENDING,
// provided it is still in state from, so that a worker claims it again. When
// even that cannot be recorded the job is remembered as stranded, and the
// workers keep trying (requeueStranded). ctx carries the job's log
// attribute.
func (s *Server) requeue(ctx context.Context, id string, from ingestv1.Job_State) {
	ctx = context.WithoutCancel(ctx)
	err := s.putBack(ctx, id, from)
	switch {
	case err == nil:
		s.log.WarnContext(ctx, "job put back in the queue")
		s.signalWork()
	case errors.Is(err, errStateChanged) || errors.Is(err, jobstore.ErrNotFound):
	default:
		s.log.ErrorContext(ctx, "putting a job back in the queue failed; the workers will keep trying", "state", from.String(), "error", err.Error())
		s.mu.Lock()
		s.stranded[id] = from
		s.mu.Unlock()
	}
}

func (s *Server) putBack(ctx context.Context, id string, from ingestv1.Job_State) error {
	return s.retryStore(ctx, func(ctx context.Context) error { return s.putBackOnce(ctx, id, from) })
}

func (s *Server) putBackOnce(ctx context.Context, id string, from ingestv1.Job_State) error {
	_, err := s.updateOnce(ctx, id, from, func(job *ingestv1.Job) []*ingestv1.JobEvent {
		job.State = ingestv1.Job_STATE_PENDING
		job.Progress = nil
		return []*ingestv1.JobEvent{stateChange(from, ingestv1.Job_STATE_PENDING,
			"queued again: the ingest service could not record the job's progress; the server log has the details")}
	})
	return err
}

// requeueStranded tries once more to put back in the queue the jobs requeue
// could not. It reports whether some are still stranded.
func (s *Server) requeueStranded(ctx context.Context) bool {
	s.mu.Lock()
	todo := make(map[string]ingestv1.Job_State, len(s.stranded))
	for id, st := range s.stranded {
		todo[id] = st
	}
	s.mu.Unlock()
	left := false
	for id, from := range todo {
		err := s.putBackOnce(ctx, id, from)
		if err != nil && !errors.Is(err, errStateChanged) && !errors.Is(err, jobstore.ErrNotFound) {
			s.log.WarnContext(ctx, "putting a stranded job back in the queue failed", "job", jobName(id), "error", err.Error())
			left = true
			continue
		}
		s.mu.Lock()
		delete(s.stranded, id)
		s.mu.Unlock()
		if err == nil {
			s.log.WarnContext(ctx, "stranded job put back in the queue", "job", jobName(id))
		}
	}
	return left
}

func (s *Server) failureReason(ctx context.Context, err error) string {
	var sf *stageFailure
	if errors.As(err, &sf) {
		return sf.reason
	}
	s.log.ErrorContext(ctx, "job failed with an internal error", "error", err.Error())
	return "internal error in the ingest service; the server log has the details"
}

// execute runs the job's stages from its current state. It returns the state
// the job was in when it stopped, and why it stopped early.
func (s *Server) execute(ctx context.Context, id string, job *ingestv1.Job) (ingestv1.Job_State, error) {
	if job.GetState() == ingestv1.Job_STATE_VALIDATING {
		res, rec, err := s.validate(ctx, id, job)
		if err != nil {
			return ingestv1.Job_STATE_VALIDATING, err
		}
		job, err = s.validated(ctx, id, job.GetAnalysisOptions(), res, rec)
		if err != nil || terminal(job.GetState()) {
			return ingestv1.Job_STATE_VALIDATING, err
		}
	}
	res, rec, err := s.analyze(ctx, id, job)
	if err != nil {
		return ingestv1.Job_STATE_ANALYZING, err
	}
	return ingestv1.Job_STATE_ANALYZING, s.analyzed(ctx, id, res, rec)
}

// validate runs the validation stage and returns its result.
func (s *Server) validate(ctx context.Context, id string, job *ingestv1.Job) (*validatorv1.ValidationResult, *recorder, error) {
	req := &validatorv1.ValidateRequest{
		Job:               job.GetName(),
		Source:            &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_SOURCE)},
		Range:             &typev1.ByteRange{},
		RangeHasHeader:    true,
		FirstLine:         1,
		Dialect:           job.GetDialect(),
		Schema:            job.GetSchema(),
		Options:           job.GetValidationOptions(),
		NormalizedOutput:  &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_NORMALIZED)},
		RejectsOutput:     &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_REJECTS)},
		ParquetOutput:     &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_PARQUET)},
		SchemaOutput:      &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_SCHEMA)},
		ErrorReportOutput: &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_ERROR_REPORT)},
	}
	rec := s.newRecorder(id, ingestv1.Job_STATE_VALIDATING)
	rec.sampleSize = errorSampleSize(job.GetValidationOptions())
	if err := s.retryStore(ctx, rec.load); err != nil {
		return nil, nil, fmt.Errorf("read the job's recorded row errors: %w", err)
	}
	var result *validatorv1.ValidationResult
	err := s.runStage(ctx, id, stageValidate, rec, func(ctx context.Context) error {
		result = nil
		err := consume(ctx, func(ctx context.Context) (grpc.ServerStreamingClient[validatorv1.ValidateResponse], error) {
			return s.validator.Validate(ctx, req)
		}, func(msg *validatorv1.ValidateResponse) error {
			switch ev := msg.GetEvent().(type) {
			case *validatorv1.ValidateResponse_Progress:
				p := ev.Progress
				return rec.progress(ctx, &ingestv1.Progress{Stage: ingestv1.Job_STATE_VALIDATING,
					BytesProcessed: p.GetBytesRead(), BytesTotal: p.GetBytesTotal(), RowsProcessed: p.GetRowsRead()})
			case *validatorv1.ValidateResponse_RowErrors:
				return rec.rowErrors(ctx, ev.RowErrors.GetErrors())
			case *validatorv1.ValidateResponse_Result:
				result = ev.Result
			}
			return nil
		})
		if err == nil && result == nil {
			err = &stageFailure{reason: "validation failed: the validator ended without a result"}
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return result, rec, nil
}

// errorSampleSize is how many row errors a job with options o keeps.
func errorSampleSize(o *typev1.ValidationOptions) int {
	if n := int(o.GetErrorSampleSize()); n > 0 {
		return n
	}
	return DefaultErrorSampleSize
}

// validated records the end of validation: the job moves on to ANALYZING,
// or fails when the invalid rows exceed a threshold of the job's options, no
// row is valid, or its analysis options ao name a column the validated
// schema (given or inferred) lacks. A failed job lists the rejects, the
// schema and the error report, so that its user can see why; the normalized
// outputs it does not list are removed once it has ended.
func (s *Server) validated(ctx context.Context, id string, ao *ingestv1.AnalysisOptions, res *validatorv1.ValidationResult, rec *recorder) (*ingestv1.Job, error) {
	var failure string
	switch {
	case res.GetThresholdExceeded() != "":
		failure = res.GetThresholdExceeded()
	case res.GetRowsTotal() == 0:
		failure = "the file has no data rows"
	case res.GetRowsValid() == 0:
		failure = fmt.Sprintf("all %d rows were rejected; download the rejects artifact for the reasons", res.GetRowsTotal())
	default:
		failure = columnsFailure(ao, res.GetSchema())
	}
	// The outputs the job lists: the rejects always, the normalized rows
	// only when the job goes on; the schema and error report when written.
	type output struct {
		kind     ingestv1.Artifact_Kind
		what     string
		required bool
	}
	var outputs []output
	if failure == "" {
		outputs = append(outputs,
			output{ingestv1.Artifact_KIND_NORMALIZED, "the normalized rows", true},
			// The validator leaves the Parquet file out, with a warning,
			// when a valid value does not fit it.
			output{ingestv1.Artifact_KIND_PARQUET, "the Parquet file", false})
	}
	outputs = append(outputs,
		output{ingestv1.Artifact_KIND_REJECTS, "the rejected rows", true},
		output{ingestv1.Artifact_KIND_SCHEMA, "the schema", failure == ""},
		output{ingestv1.Artifact_KIND_ERROR_REPORT, "the error report", failure == ""})
	var listed []*ingestv1.Artifact
	for _, o := range outputs {
		size, err := s.store.Stat(ctx, objectKey(id, o.kind))
		switch {
		case err == nil:
			listed = append(listed, artifact(id, o.kind, size))
		case o.required:
			return nil, s.missingOutput(ctx, "validation failed: the validator did not write "+o.what, err)
		default:
			s.log.WarnContext(ctx, "the validator did not write "+o.what, "error", err.Error())
		}
	}
	return s.update(ctx, id, ingestv1.Job_STATE_VALIDATING, func(job *ingestv1.Job) []*ingestv1.JobEvent {
		job.Validation = &ingestv1.ValidationSummary{
			RowsTotal:      res.GetRowsTotal(),
			RowsValid:      res.GetRowsValid(),
			RowsRejected:   res.GetRowsRejected(),
			Schema:         res.GetSchema(),
			SampleErrors:   rec.samples,
			Dialect:        res.GetDialect(),
			SchemaInferred: res.GetSchemaInferred(),
			ErrorCounts:    res.GetErrorCounts(),
			ErrorTotal:     res.GetErrorTotal(),
			Warnings:       res.GetWarnings(),
		}
		events := rec.flush(job)
		for _, a := range listed {
			setArtifact(job, a)
		}
		if failure != "" {
			job.State = ingestv1.Job_STATE_FAILED
			job.FailureReason = failure
			job.EndTime = timestamppb.New(s.opts.now())
			return append(events, stateChange(ingestv1.Job_STATE_VALIDATING, job.State, failure))
		}
		job.State = ingestv1.Job_STATE_ANALYZING
		job.Progress = nil
		return append(events, stateChange(ingestv1.Job_STATE_VALIDATING, job.State,
			fmt.Sprintf("validated %d rows: %d valid, %d rejected; analysis started", res.GetRowsTotal(), res.GetRowsValid(), res.GetRowsRejected())))
	})
}

func (s *Server) missingOutput(ctx context.Context, reason string, err error) error {
	s.log.ErrorContext(ctx, reason, "error", err.Error())
	return &stageFailure{reason: reason}
}

// analyze runs the analysis stage and returns its result.
func (s *Server) analyze(ctx context.Context, id string, job *ingestv1.Job) (*analyzerv1.AnalysisResult, *recorder, error) {
	req := &analyzerv1.AnalyzeRequest{
		Job:              job.GetName(),
		Source:           &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_NORMALIZED)},
		Range:            &typev1.ByteRange{},
		RangeHasHeader:   true,
		Schema:           job.GetValidation().GetSchema(),
		Quantiles:        analyzerQuantiles(job.GetAnalysisOptions()),
		Columns:          job.GetAnalysisOptions().GetColumns(),
		ExactCategorical: job.GetAnalysisOptions().GetExactCategorical(),
		ReportOutput:     &typev1.ObjectRef{Key: objectKey(id, ingestv1.Artifact_KIND_REPORT)},
	}
	rec := s.newRecorder(id, ingestv1.Job_STATE_ANALYZING)
	var result *analyzerv1.AnalysisResult
	err := s.runStage(ctx, id, stageAnalyze, rec, func(ctx context.Context) error {
		result = nil
		err := consume(ctx, func(ctx context.Context) (grpc.ServerStreamingClient[analyzerv1.AnalyzeResponse], error) {
			return s.analyzer.Analyze(ctx, req)
		}, func(msg *analyzerv1.AnalyzeResponse) error {
			switch ev := msg.GetEvent().(type) {
			case *analyzerv1.AnalyzeResponse_Progress:
				p := ev.Progress
				return rec.progress(ctx, &ingestv1.Progress{Stage: ingestv1.Job_STATE_ANALYZING,
					BytesProcessed: p.GetBytesRead(), BytesTotal: p.GetBytesTotal(), RowsProcessed: p.GetRowsRead()})
			case *analyzerv1.AnalyzeResponse_Result:
				result = ev.Result
			}
			return nil
		})
		if err == nil && result == nil {
			err = &stageFailure{reason: "analysis failed: the analyzer ended without a result"}
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return result, rec, nil
}

// consume opens a server stream with open and hands each message to handle
// until the stream ends. The stream's context is cancelled on every path,
// so a stream is never left neither drained nor cancelled (which would leak
// it and its span).
func consume[T any](ctx context.Context, open func(context.Context) (grpc.ServerStreamingClient[T], error), handle func(*T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := open(ctx)
	if err != nil {
		return err
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := handle(msg); err != nil {
			return err
		}
	}
}

// analyzed records the end of analysis: the job SUCCEEDED.
func (s *Server) analyzed(ctx context.Context, id string, res *analyzerv1.AnalysisResult, rec *recorder) error {
	size, err := s.store.Stat(ctx, objectKey(id, ingestv1.Artifact_KIND_REPORT))
	if err != nil {
		return s.missingOutput(ctx, "analysis failed: the analyzer did not write the report", err)
	}
	_, err = s.update(ctx, id, ingestv1.Job_STATE_ANALYZING, func(job *ingestv1.Job) []*ingestv1.JobEvent {
		events := rec.flush(job)
		job.Report = res.GetReport()
		setArtifact(job, artifact(id, ingestv1.Artifact_KIND_REPORT, size))
		job.State = ingestv1.Job_STATE_SUCCEEDED
		job.EndTime = timestamppb.New(s.opts.now())
		msg := fmt.Sprintf("analyzed %d rows in %d columns", res.GetReport().GetRowCount(), len(res.GetReport().GetColumns()))
		return append(events, stateChange(ingestv1.Job_STATE_ANALYZING, job.State, msg+warningsText(job.GetValidation().GetWarnings())))
	})
	return err
}

// maxMessageWarnings is how many warnings a state change message quotes;
// the validation summary has them all.
const maxMessageWarnings = 5

// warningsText is the validation's warnings as the tail of a state change
// message: empty when there are none, else `; warnings: w1; w2`.
func warningsText(warnings []string) string {
	if len(warnings) == 0 {
		return ""
	}
	word := "warnings"
	if len(warnings) == 1 {
		word = "warning"
	}
	shown := warnings[:min(len(warnings), maxMessageWarnings)]
	text := "; " + word + ": " + strings.Join(shown, "; ")
	if more := len(warnings) - len(shown); more > 0 {
		text += fmt.Sprintf("; and %d more in the validation summary", more)
	}
	return text
}

// runStage runs attempt until it succeeds, retrying with exponential backoff
// and jitter while the stage's service is UNAVAILABLE, all within the stage
// timeout. Errors it returns are stageFailures, errors of the job's context,
// or internal errors.
func (s *Server) runStage(ctx context.Context, id string, st stage, rec *recorder, attempt func(context.Context) error) error {
	stageCtx, cancel := context.WithTimeout(ctx, s.opts.stageTimeout)
	defer cancel()
	backoff := s.opts.retryBackoff
	start := time.Now()
	for n := 1; ; n++ {
		rec.reset()
		err := attempt(stageCtx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if stageDeadlinePassed(stageCtx, err) {
			return &stageFailure{reason: fmt.Sprintf("%s did not finish within %s", st.noun, s.opts.stageTimeout)}
		}
		var sf *stageFailure
		if errors.As(err, &sf) {
			return err
		}
		stat, ok := status.FromError(err)
		if !ok {
			return err // our own (store) error
		}
		// Reasons and events are for users: the downstream's raw error
		// (transport text included) goes to the log only.
		switch stat.Code() {
		case grpccodes.Unavailable:
			s.log.WarnContext(ctx, st.service+" unavailable", "attempt", n, "of", s.opts.retryAttempts, "code", stat.Code().String(), "error", stat.Message())
			if n >= s.opts.retryAttempts {
				return &stageFailure{reason: fmt.Sprintf("the %s could not be reached after %d attempts over %s; check that it is running at its configured address",
					st.service, n, roundDuration(time.Since(start)))}
			}
		case grpccodes.FailedPrecondition, grpccodes.InvalidArgument, grpccodes.OutOfRange:
			s.log.InfoContext(ctx, st.service+" refused the job", "code", stat.Code().String(), "error", stat.Message())
			return &stageFailure{reason: explain(stat)}
		default:
			s.log.ErrorContext(ctx, st.service+" failed", "code", stat.Code().String(), "error", stat.Message())
			reason := fmt.Sprintf("%s failed: the %s answered %s", st.noun, st.service, stat.Code())
			if msg, ok := userMessage(stat); ok {
				reason += ": " + msg
			} else {
				reason += "; the " + st.service + "'s log has the details"
			}
			return &stageFailure{reason: reason}
		}
		wait := jitter(backoff)
		backoff = min(2*backoff, s.opts.maxRetryBackoff)
		msg := fmt.Sprintf("the %s could not be reached (attempt %d of %d); retrying in %s", st.service, n, s.opts.retryAttempts, roundDuration(wait))
		if _, err := s.update(ctx, id, st.state, func(*ingestv1.Job) []*ingestv1.JobEvent {
			return []*ingestv1.JobEvent{stateChange(st.state, st.state, msg)}
		}); err != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-stageCtx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &stageFailure{reason: fmt.Sprintf("%s did not finish within %s", st.noun, s.opts.stageTimeout)}
		}
	}
}

// roundDuration rounds d for a message: to the second from a second up, to
// the millisecond below.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// explain is the reason for a job a downstream refused (FAILED_PRECONDITION,
// INVALID_ARGUMENT, OUT_OF_RANGE): its message, followed by the descriptions
// of its PreconditionFailure and BadRequest details that the message does
// not already say.
func explain(stat *status.Status) string {
	msg := stat.Message()
	var descs []string
	add := func(field, desc string) {
		if desc == "" || strings.Contains(msg, desc) {
			return
		}
		if field != "" {
			desc = field + ": " + desc
		}
		descs = append(descs, desc)
	}
	for _, d := range stat.Details() {
		switch d := d.(type) {
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				add("", v.GetDescription())
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				add(v.GetField(), v.GetDescription())
			}
		}
	}
	if len(descs) == 0 {
		return msg
	}
	if msg == "" {
		return strings.Join(descs, "; ")
	}
	return msg + ": " + strings.Join(descs, "; ")
}

// userMessage returns a downstream status's message when it is one written
// for users: not for codes whose messages are internal or come from the
// transport (UNKNOWN is what a handler's bare Go error becomes).
func userMessage(stat *status.Status) (string, bool) {
	switch stat.Code() {
	case grpccodes.Unknown, grpccodes.Internal, grpccodes.DataLoss, grpccodes.Unavailable, grpccodes.Canceled:
		return "", false
	}
	msg := stat.Message()
	for _, raw := range []string{"transport", "connection error", "rpc error", "dial tcp"} {
		if strings.Contains(msg, raw) {
			return "", false
		}
	}
	return msg, msg != ""
}

// deadlineSlack is how close to the stage deadline a DEADLINE_EXCEEDED from
// downstream counts as the stage's own deadline: the server side of a call
// sees the propagated deadline expire a little before the client does.
const deadlineSlack = time.Second

func stageDeadlinePassed(stageCtx context.Context, err error) bool {
	if errors.Is(stageCtx.Err(), context.DeadlineExceeded) {
		return true
	}
	deadline, ok := stageCtx.Deadline()
	return ok && status.Code(err) == grpccodes.DeadlineExceeded && time.Until(deadline) < deadlineSlack
}

// jitter returns a duration uniformly distributed in [d/2, 3d/2).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d)
}

// update applies fn to the job in one transaction, provided the job is still
// in state from; otherwise it returns errStateChanged and writes nothing. It
// wakes the job's watchers. A failed write is retried (retryStore), so fn
// may run more than once; it must only change the job it is given.
func (s *Server) update(ctx context.Context, id string, from ingestv1.Job_State, fn func(*ingestv1.Job) []*ingestv1.JobEvent) (*ingestv1.Job, error) {
	var job *ingestv1.Job
	err := s.retryStore(ctx, func(ctx context.Context) error {
		var err error
		job, err = s.updateOnce(ctx, id, from, fn)
		return err
	})
	return job, err
}

// updateOnce is update without retries.
func (s *Server) updateOnce(ctx context.Context, id string, from ingestv1.Job_State, fn func(*ingestv1.Job) []*ingestv1.JobEvent) (*ingestv1.Job, error) {
	job, _, err := s.jobs.Update(ctx, id, func(job *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
		if job.GetState() != from {
			return nil, errStateChanged
		}
		return fn(job), nil
	})
	if err != nil {
		return nil, err
	}
	s.notify.publish(id)
	return job, nil
}

func setArtifact(job *ingestv1.Job, a *ingestv1.Artifact) {
	for i, old := range job.Artifacts {
		if old.GetKind() == a.GetKind() {
			job.Artifacts[i] = a
			return
		}
	}
	job.Artifacts = append(job.Artifacts, a)
}

// recorder records one stage's progress (throttled) and its first row
// errors: as many as the job's error sample size go into the job's log as
// row_errors events and into the validation summary's samples; the rest
// only into the rejects and error report artifacts the validator writes.
//
// Row errors are recorded as they stream in, so a retried attempt or a job
// resumed after a restart would record the errors of the earlier attempts
// again. The recorder therefore knows the errors recorded for the job (read
// from the event log before the first attempt, see load; at most the sample
// size) and skips them.
type recorder struct {
	s          *Server
	id         string
	state      ingestv1.Job_State
	sampleSize int                // how many row errors to record; 0 means DefaultErrorSampleSize
	last       time.Time          // when progress was last recorded
	pending    *ingestv1.Progress // progress received but not recorded yet
	samples    []*typev1.RowError
	recorded   map[rowErrorKey]bool // the samples' keys
}

func (s *Server) newRecorder(id string, state ingestv1.Job_State) *recorder {
	return &recorder{s: s, id: id, state: state, recorded: map[rowErrorKey]bool{}}
}

// room is how many more row errors the recorder records.
func (r *recorder) room() int {
	return cmp.Or(r.sampleSize, DefaultErrorSampleSize) - len(r.samples)
}

// load reads the row errors an earlier run recorded for the job. Memory
// stays bounded: the log is read in batches and at most the sample size of
// errors is kept.
func (r *recorder) load(ctx context.Context) error {
	for after := int64(0); ; {
		events, err := r.s.jobs.Events(ctx, r.id, after, watchBatch)
		if err != nil {
			return err
		}
		for _, ev := range events {
			after = ev.GetSequence()
			for _, e := range ev.GetRowErrors().GetErrors() {
				if k := keyOf(e); r.room() > 0 && !r.recorded[k] {
					r.recorded[k] = true
					r.samples = append(r.samples, e)
				}
			}
		}
		if len(events) < watchBatch {
			return nil
		}
	}
}

// rowErrorKey identifies a row error.
type rowErrorKey struct {
	row, line, offset int64
	field             int32
	typ, name, msg    string
}

func keyOf(e *typev1.RowError) rowErrorKey {
	return rowErrorKey{e.GetRowNumber(), e.GetLineNumber(), e.GetByteOffset(), e.GetFieldNumber(), e.GetType(), e.GetFieldName(), e.GetMessage()}
}

// reset starts a new attempt of the stage. The samples are the job's, and
// stay.
func (r *recorder) reset() {
	r.last = time.Time{}
	r.pending = nil
}

func (r *recorder) progress(ctx context.Context, p *ingestv1.Progress) error {
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < r.s.opts.progressInterval {
		r.pending = p
		return nil
	}
	r.pending = nil
	r.last = now
	_, err := r.s.update(ctx, r.id, r.state, func(job *ingestv1.Job) []*ingestv1.JobEvent {
		job.Progress = p
		return []*ingestv1.JobEvent{{State: r.state, Kind: &ingestv1.JobEvent_Progress{Progress: p}}}
	})
	return err
}

// rowErrors records the errors of errs that are not recorded yet, while
// the sample has room.
func (r *recorder) rowErrors(ctx context.Context, errs []*typev1.RowError) error {
	room := r.room()
	if room <= 0 {
		return nil
	}
	fresh := make([]*typev1.RowError, 0, min(room, len(errs)))
	seen := map[rowErrorKey]bool{}
	for _, e := range errs {
		if len(fresh) == room {
			break
		}
		if k := keyOf(e); !r.recorded[k] && !seen[k] {
			seen[k] = true
			fresh = append(fresh, e)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	_, err := r.s.update(ctx, r.id, r.state, func(*ingestv1.Job) []*ingestv1.JobEvent {
		return []*ingestv1.JobEvent{{Kind: &ingestv1.JobEvent_RowErrors{RowErrors: &ingestv1.RowErrors{Errors: fresh}}}}
	})
	if err != nil {
		return err
	}
	for k := range seen {
		r.recorded[k] = true
	}
	r.samples = append(r.samples, fresh...)
	return nil
}

// flush returns the event of the progress not recorded yet, if any, and
// sets it on job; it is written with the stage's closing state change. It
// may run more than once (update retries).
func (r *recorder) flush(job *ingestv1.Job) []*ingestv1.JobEvent {
	if r.pending == nil {
		return nil
	}
	job.Progress = r.pending
	return []*ingestv1.JobEvent{{State: r.state, Kind: &ingestv1.JobEvent_Progress{Progress: r.pending}}}
}
