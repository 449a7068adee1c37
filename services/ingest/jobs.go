package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
	"github.com/csvmesh/csvmesh/services/internal/storage"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
)

// Page sizes of ListJobs.
const (
	// DefaultPageSize is the page size when the request gives none.
	DefaultPageSize = 50
	// MaxPageSize is the largest page; larger requests are clamped.
	MaxPageSize = 1000
)

// watchBatch is how many events WatchJob reads from the store at a time.
const watchBatch = 256

// GetJob implements ingestv1.IngestServiceServer.
func (s *Server) GetJob(ctx context.Context, req *ingestv1.GetJobRequest) (*ingestv1.GetJobResponse, error) {
	rec, err := s.getJob(ctx, "name", req.GetName())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &ingestv1.GetJobResponse{Job: rec.Job}, nil
}

// getJob parses a job name and loads the job.
func (s *Server) getJob(ctx context.Context, field, name string) (*jobstore.Record, error) {
	id, err := parseJobName(field, name)
	if err != nil {
		return nil, err
	}
	rec, err := s.jobs.Get(ctx, id)
	if errors.Is(err, jobstore.ErrNotFound) {
		return nil, &notFoundError{resourceType: resourceTypeJob, name: name}
	}
	return rec, err
}

// listTokenReserve is the room ListJobs keeps in its size budget for the
// next_page_token field (a token is about 80 bytes).
const listTokenReserve = 128

// ListJobs implements ingestv1.IngestServiceServer. With view unset or
// BASIC the jobs come without their reports and sample errors; with FULL,
// whole. A page ends early, with a next_page_token, before the response
// would exceed the configured size (WithMaxListResponseBytes); it always
// holds at least one job.
func (s *Server) ListJobs(ctx context.Context, req *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error) {
	resp, err := s.listJobs(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return resp, nil
}

func (s *Server) listJobs(ctx context.Context, req *ingestv1.ListJobsRequest) (*ingestv1.ListJobsResponse, error) {
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, invalidField("page_size", "the page size cannot be negative")
	case size == 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	view := req.GetView()
	switch view {
	case ingestv1.JobView_JOB_VIEW_UNSPECIFIED, ingestv1.JobView_JOB_VIEW_BASIC, ingestv1.JobView_JOB_VIEW_FULL:
	default:
		return nil, invalidField("view", "unknown view %d; use JOB_VIEW_BASIC or JOB_VIEW_FULL", view)
	}
	jobs, next, err := s.jobs.List(ctx, size, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	budget := s.opts.maxListBytes - listTokenReserve
	total := 0
	for i, job := range jobs {
		if view != ingestv1.JobView_JOB_VIEW_FULL {
			basicView(job)
		}
		n := protowire.SizeTag(1) + protowire.SizeBytes(proto.Size(job))
		if i > 0 && total+n > budget {
			jobs, next = jobs[:i], jobstore.PageToken(jobs[i-1])
			break
		}
		total += n
	}
	return &ingestv1.ListJobsResponse{Jobs: jobs, NextPageToken: next}, nil
}

// basicView strips job of what JOB_VIEW_BASIC leaves out: the report and
// the sample errors (counts and schema stay).
func basicView(job *ingestv1.Job) {
	job.Report = nil
	if v := job.GetValidation(); v != nil {
		v.SampleErrors = nil
	}
}

// CancelJob implements ingestv1.IngestServiceServer. It moves the job to
// CANCELLED in one transaction that checks the job has not finished, then
// cancels the job's downstream calls if it is running.
func (s *Server) CancelJob(ctx context.Context, req *ingestv1.CancelJobRequest) (*ingestv1.CancelJobResponse, error) {
	job, err := s.cancelJob(ctx, req.GetName())
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return &ingestv1.CancelJobResponse{Job: job}, nil
}

func (s *Server) cancelJob(ctx context.Context, name string) (*ingestv1.Job, error) {
	id, err := parseJobName("name", name)
	if err != nil {
		return nil, err
	}
	job, _, err := s.jobs.Update(ctx, id, func(job *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
		from := job.GetState()
		if terminal(from) {
			return nil, &preconditionError{kind: "STATE", subject: name,
				msg: fmt.Sprintf("job %s has already finished (%s); only unfinished jobs can be cancelled", name, stateWord(from))}
		}
		job.State = ingestv1.Job_STATE_CANCELLED
		job.EndTime = timestamppb.New(s.opts.now())
		return []*ingestv1.JobEvent{stateChange(from, ingestv1.Job_STATE_CANCELLED, "cancelled at a caller's request")}, nil
	})
	if errors.Is(err, jobstore.ErrNotFound) {
		return nil, &notFoundError{resourceType: resourceTypeJob, name: name}
	}
	if err != nil {
		return nil, err
	}
	s.notify.publish(id)
	s.mu.Lock()
	cancel := s.running[id]
	s.mu.Unlock()
	s.log.InfoContext(ctx, "job cancelled", "job", jobName(id))
	if cancel != nil {
		// The worker removes unlisted outputs once its calls have ended.
		cancel(errJobCancelled)
	} else {
		// Not running here: a run a crash interrupted may have left outputs.
		s.removeUnlisted(telemetry.WithAttrs(ctx, slog.String("job", jobName(id))), job)
	}
	return job, nil
}

func stateWord(st ingestv1.Job_State) string {
	return strings.ToLower(strings.TrimPrefix(st.String(), "STATE_"))
}

// WatchJob implements ingestv1.IngestServiceServer. It subscribes to the
// job's notifications first, then sends the stored events after
// after_sequence and, on every notification, the ones appended since: no
// event is lost or sent twice, and a slow watcher slows only itself. It ends
// after the event that makes the job terminal; when the job is terminal and
// no event remains after the cursor (a cursor at or past the end of a
// finished job); when the client leaves; or, with UNAVAILABLE, when the
// server stops.
func (s *Server) WatchJob(req *ingestv1.WatchJobRequest, stream ingestv1.IngestService_WatchJobServer) error {
	ctx := stream.Context()
	if err := s.watch(ctx, req, stream); err != nil {
		return toStatus(ctx, s.log, err)
	}
	return nil
}

func (s *Server) watch(ctx context.Context, req *ingestv1.WatchJobRequest, stream ingestv1.IngestService_WatchJobServer) error {
	id, err := parseJobName("name", req.GetName())
	if err != nil {
		return err
	}
	after := req.GetAfterSequence()
	if after < 0 {
		return invalidField("after_sequence", "the sequence cannot be negative")
	}
	signal, unsubscribe := s.notify.subscribe(id)
	defer unsubscribe()
	for {
		select {
		case <-s.closing:
			return shuttingDown(after)
		default:
		}
		events, err := s.jobs.Events(ctx, id, after, watchBatch)
		if err != nil {
			return err
		}
		for _, ev := range events {
			if err := stream.Send(&ingestv1.WatchJobResponse{Event: ev}); err != nil {
				return err
			}
			after = ev.GetSequence()
			if ev.GetStateChange() != nil && terminal(ev.GetState()) {
				return nil
			}
		}
		if len(events) == watchBatch {
			continue
		}
		// Caught up with the log. The job's state decides whether more can
		// come: nothing is appended after a terminal event, so a watcher
		// whose cursor is at or past the end of a finished job is done. A
		// cursor past the end of a running job is valid: wait for the job.
		rec, err := s.getJob(ctx, "name", req.GetName())
		if err != nil {
			return err
		}
		if terminal(rec.Job.GetState()) {
			if rec.LastSequence > after {
				continue // events appended since the read above
			}
			return nil
		}
		select {
		case <-signal:
		case <-s.closing:
			return shuttingDown(after)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func shuttingDown(after int64) error {
	return &unavailableError{msg: fmt.Sprintf("the server is shutting down; reconnect with after_sequence=%d to continue", after)}
}

// DownloadArtifact implements ingestv1.IngestServiceServer. It streams the
// artifact in chunks of the configured size, the content type on the first.
func (s *Server) DownloadArtifact(req *ingestv1.DownloadArtifactRequest, stream ingestv1.IngestService_DownloadArtifactServer) error {
	ctx := stream.Context()
	if err := s.download(ctx, req.GetName(), stream); err != nil {
		return toStatus(ctx, s.log, err)
	}
	return nil
}

func (s *Server) download(ctx context.Context, name string, stream ingestv1.IngestService_DownloadArtifactServer) error {
	id, kind, err := parseArtifactName("name", name)
	if err != nil {
		return err
	}
	rec, err := s.jobs.Get(ctx, id)
	if errors.Is(err, jobstore.ErrNotFound) {
		return &notFoundError{resourceType: resourceTypeJob, name: jobName(id)}
	}
	if err != nil {
		return err
	}
	listed := false
	for _, a := range rec.Job.GetArtifacts() {
		listed = listed || a.GetKind() == kind.kind
	}
	if !listed {
		return &preconditionError{kind: "STATE", subject: name,
			msg: fmt.Sprintf("job %s (%s) has not produced the %s artifact", jobName(id), stateWord(rec.Job.GetState()), kind.segment)}
	}
	obj, err := s.store.Open(ctx, objectKey(id, kind.kind))
	if errors.Is(err, storage.ErrNotFound) {
		return &notFoundError{resourceType: resourceTypeArtifact, name: name}
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer obj.Close()
	buf := make([]byte, s.opts.chunkBytes)
	first := true
	for {
		n, rerr := io.ReadFull(obj, buf)
		if n > 0 || first {
			msg := &ingestv1.DownloadArtifactResponse{Chunk: buf[:n]}
			if first {
				msg.ContentType = kind.contentType
				first = false
			}
			if err := stream.Send(msg); err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("read %s: %w", name, rerr)
		}
	}
}

// sweepOrphans removes the job directories under jobs/ that no job row
// claims and no upload in progress owns: what a crash between committing an
// upload and recording its job leaves behind. Only directories named like a
// job id are considered.
func (s *Server) sweepOrphans(ctx context.Context) error {
	ids, err := s.store.List(ctx, "jobs")
	if err != nil {
		return fmt.Errorf("list job directories: %w", err)
	}
	for _, id := range ids {
		if !validJobID(id) || s.uploading(id) {
			continue
		}
		exists, err := s.jobs.Exists(ctx, id)
		if err != nil {
			return err
		}
		if exists {
			continue
		}
		if err := s.store.DeletePrefix(ctx, "jobs/"+id); err != nil {
			return fmt.Errorf("remove orphaned job directory %s: %w", id, err)
		}
		s.log.WarnContext(ctx, "removed the objects of an upload that has no job", "job", jobName(id))
	}
	return nil
}

// sweepIncomplete removes, under every job directory, what writes a crash
// interrupted left behind. It must run before the workers start: then no
// write of this process is in progress but those of uploads, whose
// directories it skips.
func (s *Server) sweepIncomplete(ctx context.Context) error {
	ids, err := s.store.List(ctx, "jobs")
	if err != nil {
		return fmt.Errorf("list job directories: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if !validJobID(id) || s.uploading(id) {
			continue
		}
		keys, err := s.store.RemoveIncomplete(ctx, "jobs/"+id)
		for _, k := range keys {
			s.log.WarnContext(ctx, "removed what an interrupted write left", "job", jobName(id), "object", k)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("job directory %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// uploading reports whether an upload in progress owns job id's directory.
func (s *Server) uploading(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.uploads[id]
	return ok
}

// removeUnlisted removes, best effort, the outputs of a FAILED or CANCELLED
// job that it does not list as artifacts: what a stage committed before the
// job ended but was never recorded. Each removal or failure is logged; ctx
// carries the job's log attribute.
func (s *Server) removeUnlisted(ctx context.Context, job *ingestv1.Job) {
	if st := job.GetState(); st != ingestv1.Job_STATE_FAILED && st != ingestv1.Job_STATE_CANCELLED {
		return
	}
	ctx = context.WithoutCancel(ctx)
	id := jobstore.JobID(job)
	listed := map[ingestv1.Artifact_Kind]bool{}
	for _, a := range job.GetArtifacts() {
		listed[a.GetKind()] = true
	}
	for _, k := range outputKinds {
		if listed[k] {
			continue
		}
		key := objectKey(id, k)
		if _, err := s.store.Stat(ctx, key); errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err := s.store.Delete(ctx, key); err != nil {
			s.log.ErrorContext(ctx, "removing an output the job does not list", "object", key, "error", err.Error())
			continue
		}
		s.log.InfoContext(ctx, "removed an output the job does not list", "object", key, "state", stateWord(job.GetState()))
	}
}
