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
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
)

// maxFileNameBytes is the longest file name an upload may carry.
const maxFileNameBytes = 255

// UploadFile implements ingestv1.IngestServiceServer. It reads the metadata
// message, streams the chunks into jobs/{id}/source.csv while hashing them,
// and once the client closes its side commits the object, records the job
// (PENDING) and answers with it. On any failure it leaves neither an object
// nor a job behind.
func (s *Server) UploadFile(stream ingestv1.IngestService_UploadFileServer) error {
	ctx := stream.Context()
	job, err := s.upload(ctx, stream)
	if err != nil {
		return toStatus(ctx, s.log, err)
	}
	return stream.SendAndClose(&ingestv1.UploadFileResponse{Job: job})
}

func (s *Server) upload(ctx context.Context, stream ingestv1.IngestService_UploadFileServer) (*ingestv1.Job, error) {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return nil, invalidField("metadata", "the upload has no messages; the first must carry metadata")
	}
	if err != nil {
		return nil, recvError(ctx, err)
	}
	md := first.GetMetadata()
	if md == nil {
		return nil, invalidField("metadata", "the first message of an upload must carry metadata")
	}
	if err := s.checkMetadata(md); err != nil {
		return nil, err
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

	size, sum, err := s.receiveFile(ctx, stream, id, md)
	if err != nil {
		s.removeJobObjects(ctx, id)
		return nil, err
	}

	now := s.opts.now()
	job := &ingestv1.Job{
		Name:           jobName(id),
		FileName:       md.GetFileName(),
		State:          ingestv1.Job_STATE_PENDING,
		CreateTime:     timestamppb.New(now),
		SizeBytes:      size,
		Sha256:         sum,
		Schema:         md.GetSchema(),
		Dialect:        md.GetDialect(),
		IdempotencyKey: md.GetIdempotencyKey(),
		Artifacts:      []*ingestv1.Artifact{artifact(id, ingestv1.Artifact_KIND_SOURCE, size)},
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
			s.log.InfoContext(ctx, "upload matched an existing idempotency key", "job", jobstore.JobID(dup.Existing))
			return dup.Existing, nil
		}
		return nil, fmt.Errorf("record job %s: %w", id, err)
	}
	s.log.InfoContext(ctx, "job created", "job", id, "size_bytes", size, "file_name", md.GetFileName())
	s.signalWork()
	return created, nil
}

// receiveFile streams the chunks into the job's source object, checks size
// and checksum, and commits the object. It returns the size and SHA-256.
func (s *Server) receiveFile(ctx context.Context, stream ingestv1.IngestService_UploadFileServer, id string, md *ingestv1.UploadMetadata) (int64, string, error) {
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
			return 0, "", recvError(ctx, err)
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

// recvError turns an error from Recv into the one to return: the client went
// away, or the transport failed.
func recvError(ctx context.Context, err error) error {
	if ctx.Err() != nil || status.Code(err) == codes.Canceled {
		return errAbortedUpload
	}
	return err
}

// removeJobObjects removes everything stored under jobs/{id}/ (for a job id
// that has no row: it was never recorded).
func (s *Server) removeJobObjects(ctx context.Context, id string) {
	if err := s.store.DeletePrefix(context.WithoutCancel(ctx), "jobs/"+id); err != nil {
		s.log.ErrorContext(ctx, "removing the objects of a failed upload", "job", id, "error", err.Error())
	}
}

func (s *Server) checkMetadata(md *ingestv1.UploadMetadata) error {
	switch name := md.GetFileName(); {
	case name == "":
		return invalidField("metadata.file_name", "the file name is required")
	case len(name) > maxFileNameBytes:
		return invalidField("metadata.file_name", "the file name is %d bytes long; the limit is %d", len(name), maxFileNameBytes)
	case !utf8.ValidString(name):
		return invalidField("metadata.file_name", "the file name is not valid UTF-8")
	}
	if sum := md.GetSha256(); sum != "" {
		if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 {
			return invalidField("metadata.sha256", "a SHA-256 is 64 hexadecimal digits; got %q", sum)
		}
	}
	if err := checkSchema(md.GetSchema()); err != nil {
		return err
	}
	if d := md.GetDialect().GetDelimiter(); d != "" {
		r, n := utf8.DecodeRuneInString(d)
		switch {
		case r == utf8.RuneError || n != len(d):
			return invalidField("metadata.dialect.delimiter", "the delimiter must be one character; got %q", d)
		case r == '"' || r == '\r' || r == '\n':
			return invalidField("metadata.dialect.delimiter", "the delimiter cannot be a double quote, CR or LF")
		}
	}
	if md.DeclaredSizeBytes != nil {
		switch n := md.GetDeclaredSizeBytes(); {
		case n < 0:
			return invalidField("metadata.declared_size_bytes", "the declared size cannot be negative")
		case n == 0:
			return invalidField("metadata.declared_size_bytes", "the file is empty")
		case n > s.opts.maxUploadBytes:
			return &quotaError{subject: "upload size", msg: fmt.Sprintf("the declared size of %d bytes exceeds the limit of %d bytes", n, s.opts.maxUploadBytes)}
		}
	}
	return nil
}

func checkSchema(schema *typev1.Schema) error {
	if schema == nil {
		return nil
	}
	if len(schema.GetFields()) == 0 {
		return invalidField("metadata.schema.fields", "a schema needs at least one field; leave the schema unset to infer one")
	}
	seen := make(map[string]int, len(schema.GetFields()))
	for i, f := range schema.GetFields() {
		field := fmt.Sprintf("metadata.schema.fields[%d]", i)
		if f.GetName() == "" {
			return invalidField(field+".name", "the field name is required")
		}
		if j, dup := seen[f.GetName()]; dup {
			return invalidField(field+".name", "the name %q is also used by field %d", f.GetName(), j)
		}
		seen[f.GetName()] = i
		if f.GetType() == typev1.FieldType_FIELD_TYPE_UNSPECIFIED {
			return invalidField(field+".type", "the type of field %q is required", f.GetName())
		} else if _, ok := typev1.FieldType_name[int32(f.GetType())]; !ok {
			return invalidField(field+".type", "field %q has an unknown type %d", f.GetName(), f.GetType())
		}
	}
	return nil
}

func artifact(id string, k ingestv1.Artifact_Kind, size int64) *ingestv1.Artifact {
	return &ingestv1.Artifact{Name: artifactName(id, k), Kind: k, SizeBytes: size, ContentType: artifactOf(k).contentType}
}
