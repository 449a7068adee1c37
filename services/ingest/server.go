// Package ingest implements csvmesh's public API, ingestv1.IngestService, and
// the orchestrator behind it.
//
// UploadFile streams a file into the object store (jobs/{id}/source.csv) and
// records a PENDING job in the job store (package jobstore). A bounded pool
// of workers claims pending jobs, oldest first, and runs each one through the
// validator and then the analyzer, recording every state change, throttled
// progress and the first row errors (as many as the job's error sample size)
// as events in the job's log.
// WatchJob replays that log and follows it live; DownloadArtifact streams
// the objects a job produced.
//
// Jobs survive restarts: the database is the queue. Stop leaves running jobs
// as they are (and ends open WatchJob streams with UNAVAILABLE), and the next
// Start removes the temporary files of interrupted writes and puts every job
// that was not finished back in the queue, with an event saying so. A job the
// job store cannot keep track of while it runs goes back to the queue rather
// than staying claimed; a job that ends FAILED or CANCELLED keeps no output
// it does not list.
//
// Failure reasons and events are written for users; downstream errors as
// received (transport text included) go to the log, where every line about
// a job carries job=jobs/{id}.
//
// Typical wiring:
//
//	jobs, err := ingest.OpenJobStore(filepath.Join(dataDir, "jobs.db"))
//	srv := ingest.NewServer(store, jobs, validatorv1.NewValidatorServiceClient(vconn),
//		analyzerv1.NewAnalyzerServiceClient(aconn), ingest.WithLogger(log))
//	ingestv1.RegisterIngestServiceServer(grpcServer, srv)
//	err = srv.Start(ctx)
//	... serve ...
//	srv.Stop() // workers stop; running jobs resume on the next Start
//	... stop the gRPC server, close the downstream connections ...
//	jobs.Close()
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
	"github.com/csvmesh/csvmesh/services/internal/storage"
)

// Defaults for the options.
const (
	// DefaultMaxUploadBytes is the largest file UploadFile accepts: 10 GiB.
	DefaultMaxUploadBytes int64 = 10 << 30
	// DefaultWorkers is how many jobs run at once.
	DefaultWorkers = 2
	// DefaultStageTimeout bounds each stage (validation, analysis) of a job,
	// retries included.
	DefaultStageTimeout = time.Hour
	// DefaultRetryAttempts is how often a stage is tried when its service is
	// UNAVAILABLE.
	DefaultRetryAttempts = 5
	// DefaultRetryBackoff is the wait before the first retry; it doubles
	// after each attempt, with jitter.
	DefaultRetryBackoff = time.Second
	// DefaultMaxRetryBackoff caps the wait between two attempts.
	DefaultMaxRetryBackoff = 30 * time.Second
	// DefaultProgressInterval is the least time between two recorded progress
	// events of one job.
	DefaultProgressInterval = 500 * time.Millisecond
	// DefaultDownloadChunkBytes is the size of one DownloadArtifact message.
	DefaultDownloadChunkBytes = 256 << 10
	// DefaultErrorSampleSize is how many row errors a job keeps in its
	// validation summary and records as row_errors events when its
	// validation options' error_sample_size is 0; the rejects artifact has
	// them all.
	DefaultErrorSampleSize = 100
	// MaxErrorSampleSize is the largest error_sample_size an upload may ask
	// for.
	MaxErrorSampleSize = 10000
	// MaxTableSchemaBytes is the largest Table Schema an upload may carry,
	// measured as JSON.
	MaxTableSchemaBytes = 1 << 20
	// DefaultUploadIdleTimeout is how long an upload may go without a
	// message from the client before it is aborted.
	DefaultUploadIdleTimeout = 2 * time.Minute
	// DefaultMaxListResponseBytes bounds one ListJobs response (proto.Size):
	// a page ends early, with a next_page_token, before it would exceed this,
	// so that no page comes near the 8 MiB gRPC message limit.
	DefaultMaxListResponseBytes = 4 << 20
	// MaxIdempotencyKeyBytes is the longest idempotency key an upload may
	// carry.
	MaxIdempotencyKeyBytes = 128
)

// Option configures a Server.
type Option func(*options)

type options struct {
	maxUploadBytes   int64
	workers          int
	stageTimeout     time.Duration
	retryAttempts    int
	retryBackoff     time.Duration
	maxRetryBackoff  time.Duration
	progressInterval time.Duration
	chunkBytes       int
	uploadIdle       time.Duration
	maxListBytes     int
	log              *slog.Logger
	now              func() time.Time
}

// WithMaxUploadBytes sets the largest file UploadFile accepts; the default
// is DefaultMaxUploadBytes.
func WithMaxUploadBytes(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxUploadBytes = n
		}
	}
}

// WithWorkers sets how many jobs run at once; the default is DefaultWorkers.
func WithWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithStageTimeout bounds each stage of a job, retries included; a stage
// that takes longer fails the job. The default is DefaultStageTimeout.
func WithStageTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.stageTimeout = d
		}
	}
}

// WithRetry sets how many times a stage is attempted in all while its
// service answers UNAVAILABLE, and the wait before the first retry, which
// doubles after each attempt (with ±50% jitter). The same bounds apply to
// the job-store writes that record a running job's outcome. The defaults
// are DefaultRetryAttempts and DefaultRetryBackoff.
func WithRetry(maxAttempts int, initialBackoff time.Duration) Option {
	return func(o *options) {
		if maxAttempts > 0 {
			o.retryAttempts = maxAttempts
		}
		if initialBackoff > 0 {
			o.retryBackoff = initialBackoff
		}
	}
}

// WithMaxRetryBackoff caps the wait between two attempts; the default is
// DefaultMaxRetryBackoff.
func WithMaxRetryBackoff(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.maxRetryBackoff = d
		}
	}
}

// WithProgressInterval sets the least time between two recorded progress
// events of a job (the last progress of a stage is always recorded); the
// default is DefaultProgressInterval.
func WithProgressInterval(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.progressInterval = d
		}
	}
}

// WithDownloadChunkBytes sets the size of one DownloadArtifact message; the
// default is DefaultDownloadChunkBytes.
func WithDownloadChunkBytes(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.chunkBytes = n
		}
	}
}

// WithUploadIdleTimeout sets how long an upload may go without a message
// from the client; after that it is aborted (ABORTED), its partial object
// removed and no job created. The default is DefaultUploadIdleTimeout.
func WithUploadIdleTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.uploadIdle = d
		}
	}
}

// WithMaxListResponseBytes bounds the size of one ListJobs response; a page
// ends early, with a next_page_token, before it would exceed n bytes. A page
// always has at least one job. The default is DefaultMaxListResponseBytes.
func WithMaxListResponseBytes(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxListBytes = n
		}
	}
}

// WithLogger sets the logger; the default is slog.Default(). A logger from
// telemetry.NewLogger adds the trace ids and the job id to every line.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithClock sets the clock used for job and event times; the default is
// time.Now. The job store stamps update and event times with its own clock
// (jobstore.WithClock).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// Server implements ingestv1.IngestServiceServer and runs the jobs. Create
// it with NewServer, register it on a gRPC server, then call Start; call Stop
// when done.
type Server struct {
	ingestv1.UnimplementedIngestServiceServer

	store     storage.Store
	jobs      jobStore
	validator validatorv1.ValidatorServiceClient
	analyzer  analyzerv1.AnalyzerServiceClient
	opts      options
	log       *slog.Logger

	notify    notifier
	wake      chan struct{} // a job may be pending; size 1
	closing   chan struct{} // closed by Stop/Shutdown: watchers end
	closeOnce sync.Once

	mu       sync.Mutex
	running  map[string]context.CancelCauseFunc // id -> cancel of a running job
	uploads  map[string]struct{}                // ids of uploads in progress
	stranded map[string]ingestv1.Job_State      // id -> state of a claimed job to put back in the queue
	started  bool
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// jobStore is what the Server needs of *jobstore.Store (an interface so that
// tests can inject job-store failures).
type jobStore interface {
	Create(ctx context.Context, job *ingestv1.Job, traceparent string, first *ingestv1.JobEvent) (*ingestv1.Job, *ingestv1.JobEvent, error)
	Get(ctx context.Context, id string) (*jobstore.Record, error)
	GetByIdempotencyKey(ctx context.Context, key string) (*jobstore.Record, error)
	Exists(ctx context.Context, id string) (bool, error)
	Update(ctx context.Context, id string, fn jobstore.UpdateFunc) (*ingestv1.Job, []*ingestv1.JobEvent, error)
	Claim(ctx context.Context, fn jobstore.UpdateFunc) (*jobstore.Record, []*ingestv1.JobEvent, error)
	Events(ctx context.Context, id string, after int64, limit int) ([]*ingestv1.JobEvent, error)
	IDsInStates(ctx context.Context, states ...ingestv1.Job_State) ([]string, error)
	List(ctx context.Context, pageSize int, pageToken string) ([]*ingestv1.Job, string, error)
}

// OpenJobStore opens (creating if needed) the job database at path, usually
// <data-dir>/jobs.db. It is jobstore.Open; the caller closes the store after
// the Server has stopped.
func OpenJobStore(path string, opts ...jobstore.Option) (*jobstore.Store, error) {
	return jobstore.Open(path, opts...)
}

// NewServer returns a Server that keeps objects in store and jobs in jobs,
// and runs jobs with validator and analyzer. The caller owns jobs and closes
// it after Stop.
func NewServer(store storage.Store, jobs *jobstore.Store, validator validatorv1.ValidatorServiceClient, analyzer analyzerv1.AnalyzerServiceClient, opts ...Option) *Server {
	o := options{
		maxUploadBytes:   DefaultMaxUploadBytes,
		workers:          DefaultWorkers,
		stageTimeout:     DefaultStageTimeout,
		retryAttempts:    DefaultRetryAttempts,
		retryBackoff:     DefaultRetryBackoff,
		maxRetryBackoff:  DefaultMaxRetryBackoff,
		progressInterval: DefaultProgressInterval,
		chunkBytes:       DefaultDownloadChunkBytes,
		uploadIdle:       DefaultUploadIdleTimeout,
		maxListBytes:     DefaultMaxListResponseBytes,
		log:              slog.Default(),
		now:              time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return &Server{
		store:     store,
		jobs:      jobs,
		validator: validator,
		analyzer:  analyzer,
		opts:      o,
		log:       o.log,
		notify:    notifier{subs: map[string]map[chan struct{}]struct{}{}},
		wake:      make(chan struct{}, 1),
		closing:   make(chan struct{}),
		running:   map[string]context.CancelCauseFunc{},
		uploads:   map[string]struct{}{},
		stranded:  map[string]ingestv1.Job_State{},
	}
}

// Start removes orphaned upload objects and the temporary files of writes a
// crash interrupted, puts every job a previous run left unfinished back in
// the queue (recording an event on each), and starts the workers. ctx bounds this start-up work only; the workers run until Stop.
// Start may be called once.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("ingest: server already started")
	}
	s.started = true
	s.mu.Unlock()

	if err := s.sweepOrphans(ctx); err != nil {
		// Orphans only waste space; do not refuse to start.
		s.log.WarnContext(ctx, "sweeping orphaned uploads failed", "error", err.Error())
	}
	// No worker runs yet, so no write of this process is in progress under
	// a job directory but the uploads', which sweepIncomplete skips.
	if err := s.sweepIncomplete(ctx); err != nil {
		s.log.WarnContext(ctx, "sweeping temporary files failed", "error", err.Error())
	}
	if err := s.resume(ctx); err != nil {
		return fmt.Errorf("ingest: resume jobs: %w", err)
	}

	root, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.stop = cancel
	s.mu.Unlock()
	for i := 0; i < s.opts.workers; i++ {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.worker(root)
		}()
	}
	s.signalWork()
	return nil
}

// Stop stops the workers and waits for them to return. Running jobs are not
// cancelled: their downstream calls are abandoned and they stay in their
// state in the job store, to be resumed by the next Start. Open WatchJob
// streams end at once with UNAVAILABLE (the client reconnects with
// after_sequence), so that a graceful stop of the gRPC server does not wait
// for them. Stop the workers before the downstream connections close, so
// that no job sees its downstream go away first.
func (s *Server) Stop() {
	_ = s.Shutdown(context.Background())
}

// Shutdown is Stop with a bound: it returns ctx's error if the workers have
// not returned when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ingest: shutdown: %w", ctx.Err())
	}
}

// resume moves every job a previous run left VALIDATING, ANALYZING or
// PENDING back to PENDING with an event that says the server restarted.
func (s *Server) resume(ctx context.Context) error {
	ids, err := s.jobs.IDsInStates(ctx, ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_VALIDATING, ingestv1.Job_STATE_ANALYZING)
	if err != nil {
		return err
	}
	for _, id := range ids {
		_, _, err := s.jobs.Update(ctx, id, func(job *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
			from := job.GetState()
			var msg string
			switch from {
			case ingestv1.Job_STATE_PENDING:
				msg = "resumed after a server restart; queued again"
			case ingestv1.Job_STATE_VALIDATING:
				msg = "resumed after a server restart during validation; queued to validate again"
				job.Progress = nil
			case ingestv1.Job_STATE_ANALYZING:
				msg = "resumed after a server restart during analysis; queued to analyze again"
				job.Progress = nil
			default:
				return nil, errStateChanged // finished in the meantime
			}
			job.State = ingestv1.Job_STATE_PENDING
			return []*ingestv1.JobEvent{stateChange(from, ingestv1.Job_STATE_PENDING, msg)}, nil
		})
		if errors.Is(err, errStateChanged) {
			continue
		}
		if err != nil {
			return err
		}
		s.log.InfoContext(ctx, "job resumed after restart", "job", jobName(id))
		s.notify.publish(id)
	}
	return nil
}

func (s *Server) signalWork() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func stateChange(from, to ingestv1.Job_State, msg string) *ingestv1.JobEvent {
	return &ingestv1.JobEvent{Kind: &ingestv1.JobEvent_StateChange{StateChange: &ingestv1.StateChange{From: from, To: to, Message: msg}}}
}

func terminal(st ingestv1.Job_State) bool {
	switch st {
	case ingestv1.Job_STATE_SUCCEEDED, ingestv1.Job_STATE_FAILED, ingestv1.Job_STATE_CANCELLED:
		return true
	}
	return false
}

// notifier wakes the watchers of a job when events were appended to its
// log. Signals are level-triggered (channels of size 1, sent without
// blocking): a watcher re-reads the log after its last sequence on every
// signal, so it neither loses events nor holds up the writer.
type notifier struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func (n *notifier) subscribe(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.subs[id] == nil {
		n.subs[id] = map[chan struct{}]struct{}{}
	}
	n.subs[id][ch] = struct{}{}
	n.mu.Unlock()
	return ch, func() {
		n.mu.Lock()
		delete(n.subs[id], ch)
		if len(n.subs[id]) == 0 {
			delete(n.subs, id)
		}
		n.mu.Unlock()
	}
}

func (n *notifier) publish(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
