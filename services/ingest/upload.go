package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
	"github.com/csvmesh/csvmesh/services/internal/dialect"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
)

// maxFileNameBytes is the longest file name an upload may carry.
const maxFileNameBytes = 255

// UploadFile implements ingestv1.IngestServiceServer. It reads the metadata
// message and checks it, its Table Schema, dialect, validation and analysis
// options included, before it stores any byte: a problem fails the upload at
// once with INVALID_ARGUMENT and a field violation such as
// `metadata.table_schema.fields[2].constraints.minimum` or
// `metadata.analysis_options.columns[1]` (a column the given schema lacks). It then streams the
// chunks into jobs/{id}/source.csv while hashing them, and once the client
// closes its side commits the object, records the job (PENDING, with the
// typed schema, the dialect and both options) and answers with it. On any
// failure, a client that sends nothing for longer than the idle timeout
// included, it leaves neither an object nor a job behind.
//
// An idempotency key already used for the same file (same SHA-256) answers
// with the first upload's job; when the metadata declares that SHA-256, at
// once, without reading the rest of the stream. A key already used for a
// different file fails with ALREADY_EXISTS naming the job that holds it.
func (s *Server) UploadFile(stream ingestv1.IngestService_UploadFileServer) error {
	ctx := stream.Context()
	job, err := s.upload(ctx, stream)
	if err != nil {
		return toStatus(ctx, s.log, err)
	}
	return stream.SendAndClose(&ingestv1.UploadFileResponse{Job: job})
}

func (s *Server) upload(ctx context.Context, stream ingestv1.IngestService_UploadFileServer) (*ingestv1.Job, error) {
	recv := newIdleReceiver(stream, s.opts.uploadIdle)
	defer recv.close()
	first, err := recv.Recv()
	if errors.Is(err, io.EOF) {
		return nil, invalidField("metadata", "the upload has no messages; the first must carry metadata")
	}
	if err != nil {
		return nil, s.recvFailed(ctx, "", err)
	}
	md := first.GetMetadata()
	if md == nil {
		return nil, invalidField("metadata", "the first message of an upload must carry metadata")
	}
	schema, err := s.checkMetadata(md)
	if err != nil {
		return nil, err
	}
	if key, want := md.GetIdempotencyKey(), md.GetSha256(); key != "" && want != "" {
		rec, err := s.jobs.GetByIdempotencyKey(ctx, key)
		switch {
		case err == nil && strings.EqualFold(rec.Job.GetSha256(), want):
			s.log.InfoContext(ctx, "upload of the same file with a used idempotency key; answering with the existing job without reading the file",
				"job", rec.Job.GetName())
			return rec.Job, nil
		case err != nil && !errors.Is(err, jobstore.ErrNotFound):
			return nil, fmt.Errorf("look up idempotency key: %w", err)
		}
	}

	id := newJobID()
	s.mu.Lock()
	s.uploads[id] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.uploads, id)
		s.mu.Unlock()
	}()

	size, sum, err := s.receiveFile(ctx, recv, id, md)
	if err != nil {
		s.removeJobObjects(ctx, id)
		return nil, err
	}

	now := s.opts.now()
	job := &ingestv1.Job{
		Name:              jobName(id),
		FileName:          md.GetFileName(),
		State:             ingestv1.Job_STATE_PENDING,
		CreateTime:        timestamppb.New(now),
		SizeBytes:         size,
		Sha256:            sum,
		Schema:            schema,
		Dialect:           md.GetDialect(),
		ValidationOptions: md.GetValidationOptions(),
		AnalysisOptions:   md.GetAnalysisOptions(),
		IdempotencyKey:    md.GetIdempotencyKey(),
		Artifacts:         []*ingestv1.Artifact{artifact(id, ingestv1.Artifact_KIND_SOURCE, size)},
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		job.TraceId = sc.TraceID().String()
	}
	firstEvent := stateChange(ingestv1.Job_STATE_UNSPECIFIED, ingestv1.Job_STATE_PENDING,
		fmt.Sprintf("received %s (%d bytes); waiting for a worker", md.GetFileName(), size))
	// The object is committed: from here on the job must be recorded even
	// if the client goes away, or the object removed.
	dbctx := context.WithoutCancel(ctx)
	created, _, err := s.jobs.Create(dbctx, job, telemetry.Traceparent(ctx), firstEvent)
	if err != nil {
		s.removeJobObjects(dbctx, id)
		var dup *jobstore.DuplicateKeyError
		if errors.As(err, &dup) {
			existing := dup.Existing
			if existing.GetSha256() == sum {
				s.log.InfoContext(ctx, "upload of the same file with a used idempotency key; answering with the existing job",
					"job", existing.GetName())
				return existing, nil
			}
			s.log.InfoContext(ctx, "upload of a different file with a used idempotency key refused", "job", existing.GetName(), "sha256", sum)
			return nil, &alreadyExistsError{resourceType: resourceTypeJob, name: existing.GetName(),
				msg: fmt.Sprintf("the idempotency key %q is already used by %s for a different file (sha256 %s; this file has sha256 %s); use a new key for a different file",
					dup.Key, existing.GetName(), existing.GetSha256(), sum)}
		}
		return nil, fmt.Errorf("record job %s: %w", id, err)
	}
	s.log.InfoContext(ctx, "job created", "job", jobName(id), "size_bytes", size, "file_name", md.GetFileName())
	s.signalWork()
	return created, nil
}

// receiveFile streams the chunks into the job's source object, checks size
// and checksum, and commits the object. It returns the size and SHA-256.
func (s *Server) receiveFile(ctx context.Context, stream *idleReceiver, id string, md *ingestv1.UploadMetadata) (int64, string, error) {
	w, err := s.store.Create(ctx, objectKey(id, ingestv1.Artifact_KIND_SOURCE))
	if err != nil {
		return 0, "", fmt.Errorf("create source object: %w", err)
	}
	defer w.Abort()
	var (
		h     hash.Hash = sha256.New()
		total int64
		limit = s.opts.maxUploadBytes
	)
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, "", s.recvFailed(ctx, id, err)
		}
		chunk, ok := req.GetPayload().(*ingestv1.UploadFileRequest_Chunk)
		if !ok {
			return 0, "", invalidField("metadata", "only the first message of an upload may carry metadata")
		}
		n := int64(len(chunk.Chunk))
		if total+n > limit {
			return 0, "", &quotaError{subject: "upload size", msg: fmt.Sprintf("the file is larger than the limit of %d bytes", limit)}
		}
		total += n
		if md.DeclaredSizeBytes != nil && total > md.GetDeclaredSizeBytes() {
			return 0, "", invalidField("metadata.declared_size_bytes", "declared size %d bytes, but at least %d bytes arrived", md.GetDeclaredSizeBytes(), total)
		}
		h.Write(chunk.Chunk)
		if _, err := w.Write(chunk.Chunk); err != nil {
			return 0, "", fmt.Errorf("write source object: %w", err)
		}
	}
	if total == 0 {
		return 0, "", invalidField("chunk", "the file is empty")
	}
	if md.DeclaredSizeBytes != nil && total != md.GetDeclaredSizeBytes() {
		return 0, "", invalidField("metadata.declared_size_bytes", "declared size %d bytes, but %d bytes arrived", md.GetDeclaredSizeBytes(), total)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if want := md.GetSha256(); want != "" && !strings.EqualFold(want, sum) {
		return 0, "", invalidField("metadata.sha256", "declared sha256 %s, but the received bytes have sha256 %s", strings.ToLower(want), sum)
	}
	if err := ctx.Err(); err != nil {
		return 0, "", errAbortedUpload
	}
	if err := w.Commit(); err != nil {
		return 0, "", fmt.Errorf("commit source object: %w", err)
	}
	return total, sum, nil
}

// recvFailed turns an error from Recv into the one to return: the client
// went quiet for too long, went away, or the transport failed.
func (s *Server) recvFailed(ctx context.Context, id string, err error) error {
	var idle *idleUploadError
	switch {
	case errors.As(err, &idle):
		attrs := []any{"idle_timeout", idle.idle.String()}
		if id != "" {
			attrs = append(attrs, "job", jobName(id))
		}
		s.log.WarnContext(ctx, "upload aborted: the client sent nothing for longer than the idle timeout", attrs...)
		return err
	case ctx.Err() != nil || status.Code(err) == codes.Canceled:
		return errAbortedUpload
	}
	return err
}

// idleReceiver receives an upload's messages and fails with an
// *idleUploadError when the client sends nothing for longer than idle.
//
// A server stream's Recv cannot be interrupted: it returns only when a
// message arrives or the call ends, and the call ends only when the handler
// returns. So a goroutine receives (pump) and hands each message over, while
// the handler waits on the hand-over and a timer reset at each message; on
// timeout the handler returns, the call ends, and the pump's Recv returns
// and the pump exits (the receive loop of etcd's Watch works the same way).
// At most one message waits in the pump: memory stays bounded.
type idleReceiver struct {
	stream  ingestv1.IngestService_UploadFileServer
	idle    time.Duration
	timer   *time.Timer
	results chan recvResult
	done    chan struct{}
	started bool
}

type recvResult struct {
	req *ingestv1.UploadFileRequest
	err error
}

func newIdleReceiver(stream ingestv1.IngestService_UploadFileServer, idle time.Duration) *idleReceiver {
	return &idleReceiver{stream: stream, idle: idle, results: make(chan recvResult), done: make(chan struct{})}
}

// Recv returns the next message, Recv's error (io.EOF at the end), or an
// *idleUploadError.
func (r *idleReceiver) Recv() (*ingestv1.UploadFileRequest, error) {
	if !r.started {
		r.started = true
		r.timer = time.NewTimer(r.idle)
		go r.pump()
	} else {
		r.timer.Reset(r.idle) // no drain needed since Go 1.23
	}
	select {
	case res := <-r.results:
		return res.req, res.err
	case <-r.timer.C:
		return nil, &idleUploadError{idle: r.idle}
	}
}

func (r *idleReceiver) pump() {
	for {
		req, err := r.stream.Recv()
		select {
		case r.results <- recvResult{req, err}:
		case <-r.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// close releases the pump (which exits once its Recv returns, at the latest
// when the call ends) and the timer.
func (r *idleReceiver) close() {
	close(r.done)
	if r.timer != nil {
		r.timer.Stop()
	}
}

// removeJobObjects removes everything stored under jobs/{id}/ (for a job id
// that has no row: it was never recorded).
func (s *Server) removeJobObjects(ctx context.Context, id string) {
	if err := s.store.DeletePrefix(context.WithoutCancel(ctx), "jobs/"+id); err != nil {
		s.log.ErrorContext(ctx, "removing the objects of a failed upload", "job", jobName(id), "error", err.Error())
	}
}

// checkMetadata checks an upload's metadata before any byte of the file is
// stored, and returns the typed form of its Table Schema (nil when none was
// given).
func (s *Server) checkMetadata(md *ingestv1.UploadMetadata) (*typev1.Schema, error) {
	switch name := md.GetFileName(); {
	case name == "":
		return nil, invalidField("metadata.file_name", "the file name is required")
	case len(name) > maxFileNameBytes:
		return nil, invalidField("metadata.file_name", "the file name is %d bytes long; the limit is %d", len(name), maxFileNameBytes)
	case !utf8.ValidString(name):
		return nil, invalidField("metadata.file_name", "the file name is not valid UTF-8")
	}
	if sum := md.GetSha256(); sum != "" {
		if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 {
			return nil, invalidField("metadata.sha256", "a SHA-256 is 64 hexadecimal digits; got %q", sum)
		}
	}
	if key := md.GetIdempotencyKey(); len(key) > MaxIdempotencyKeyBytes {
		return nil, invalidField("metadata.idempotency_key", "the idempotency key is %d bytes long; the limit is %d", len(key), MaxIdempotencyKeyBytes)
	}
	if md.DeclaredSizeBytes != nil {
		switch n := md.GetDeclaredSizeBytes(); {
		case n < 0:
			return nil, invalidField("metadata.declared_size_bytes", "the declared size cannot be negative")
		case n == 0:
			return nil, invalidField("metadata.declared_size_bytes", "the file is empty")
		case n > s.opts.maxUploadBytes:
			return nil, &quotaError{subject: "upload size", msg: fmt.Sprintf("the declared size of %d bytes exceeds the limit of %d bytes", n, s.opts.maxUploadBytes)}
		}
	}
	if err := checkDialect(md.GetDialect()); err != nil {
		return nil, err
	}
	if err := checkOptions(md.GetValidationOptions()); err != nil {
		return nil, err
	}
	if err := checkAnalysisOptions(md.GetAnalysisOptions()); err != nil {
		return nil, err
	}
	schema, err := parseTableSchema(md.GetTableSchema())
	if err != nil {
		return nil, err
	}
	if err := checkColumnsInSchema(md.GetAnalysisOptions(), schema); err != nil {
		return nil, err
	}
	return schema, nil
}

// checkDialect checks the dialect given at upload (dialect.Check); a
// problem is a field violation under metadata.dialect.
func checkDialect(d *typev1.Dialect) error {
	if d == nil {
		return nil
	}
	err := dialect.Check(d)
	if err == nil {
		return nil
	}
	var fe *dialect.FieldError
	if errors.As(err, &fe) {
		return invalidField(metadataField(fe.Field, "dialect"), "%s", fe.Description)
	}
	return invalidField("metadata.dialect", "%s", err.Error())
}

// checkOptions checks the validation options given at upload.
func checkOptions(o *typev1.ValidationOptions) error {
	if o == nil {
		return nil
	}
	if o.MaxInvalidRows != nil && o.GetMaxInvalidRows() < 0 {
		return invalidField("metadata.validation_options.max_invalid_rows", "the largest number of invalid rows cannot be negative; got %d", o.GetMaxInvalidRows())
	}
	if r := o.GetMaxInvalidRatio(); o.MaxInvalidRatio != nil && !(r >= 0 && r <= 1) {
		return invalidField("metadata.validation_options.max_invalid_ratio", "the largest share of invalid rows must be in [0, 1]; got %v", r)
	}
	if n := o.GetErrorSampleSize(); n < 0 || n > MaxErrorSampleSize {
		return invalidField("metadata.validation_options.error_sample_size", "the error sample size must be in [0, %d] (0 means %d); got %d", MaxErrorSampleSize, DefaultErrorSampleSize, n)
	}
	return nil
}

// parseTableSchema turns the Table Schema JSON of an upload into its typed
// form and checks it. A problem is a field violation naming the schema's
// part under metadata.table_schema, with the problem in words.
func parseTableSchema(st *structpb.Struct) (*typev1.Schema, error) {
	if st == nil {
		return nil, nil
	}
	// The gRPC message limit bounds the Struct, and so its JSON.
	data, err := protojson.Marshal(st)
	if err != nil {
		return nil, invalidField("metadata.table_schema", "the table schema cannot be written as JSON: %v", err)
	}
	if len(data) > MaxTableSchemaBytes {
		return nil, invalidField("metadata.table_schema", "the table schema is %d bytes of JSON; the limit is %d", len(data), MaxTableSchemaBytes)
	}
	schema, err := tableschema.ParseJSON(data)
	if err == nil {
		err = tableschema.Check(schema)
	}
	if err != nil {
		var se *tableschema.SchemaError
		if errors.As(err, &se) {
			return nil, invalidField(metadataField(se.Path, "table_schema"), "%s", se.Msg)
		}
		return nil, invalidField("metadata.table_schema", "%s", err.Error())
	}
	return schema, nil
}

// metadataField is the name of a field violation about path inside the
// metadata's field top: path may already start with top (as dialect's
// field errors do) or be relative to it, or empty for top itself.
func metadataField(path, top string) string {
	switch {
	case path == "" || path == top:
		return "metadata." + top
	case strings.HasPrefix(path, top+".") || strings.HasPrefix(path, top+"["):
		return "metadata." + path
	case strings.HasPrefix(path, "["):
		return "metadata." + top + path
	}
	return "metadata." + top + "." + path
}

func artifact(id string, k ingestv1.Artifact_Kind, size int64) *ingestv1.Artifact {
	return &ingestv1.Artifact{Name: artifactName(id, k), Kind: k, SizeBytes: size, ContentType: artifactOf(k).contentType}
}
