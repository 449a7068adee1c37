package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
)

// This file is the one place where ingest's domain errors become gRPC
// statuses (in the manner of etcd's v3rpc/util.go): handlers return the
// error types below (or errors from jobstore and storage), and toStatus maps
// them at the boundary. Anything unrecognised is logged and reported as
// codes.Internal with a fixed message, never with a raw error chain.

// fieldError is a problem with one field of a request: InvalidArgument with a
// BadRequest field violation.
type fieldError struct {
	field string
	desc  string
}

func (e *fieldError) Error() string { return e.field + ": " + e.desc }

func invalidField(field, format string, args ...any) error {
	return &fieldError{field: field, desc: fmt.Sprintf(format, args...)}
}

// notFoundError is a resource that does not exist: NotFound with ResourceInfo.
type notFoundError struct {
	resourceType string
	name         string
}

func (e *notFoundError) Error() string { return e.resourceType + " " + e.name + " not found" }

// preconditionError is a request the resource's state does not allow:
// FailedPrecondition with a PreconditionFailure violation.
type preconditionError struct {
	kind    string // the PreconditionFailure violation type, e.g. "STATE"
	subject string
	msg     string
}

func (e *preconditionError) Error() string { return e.msg }

// quotaError is a limit the request exceeds: ResourceExhausted with a
// QuotaFailure violation.
type quotaError struct {
	subject string
	msg     string
}

func (e *quotaError) Error() string { return e.msg }

// alreadyExistsError is a resource that exists already and differs from the
// one requested: AlreadyExists with ResourceInfo naming it.
type alreadyExistsError struct {
	resourceType string
	name         string
	msg          string
}

func (e *alreadyExistsError) Error() string { return e.msg }

// unavailableError is a request the server cannot serve now but may later
// (it is shutting down): Unavailable, which clients retry.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string { return e.msg }

// idleUploadError is an upload whose client sent nothing for longer than the
// idle timeout: Aborted.
type idleUploadError struct{ idle time.Duration }

func (e *idleUploadError) Error() string {
	return fmt.Sprintf("the upload was aborted: the client sent nothing for %s (the upload idle timeout); upload the file again", e.idle)
}

const (
	resourceTypeJob      = "csvmesh.ingest.v1.Job"
	resourceTypeArtifact = "csvmesh.ingest.v1.Artifact"
)

// errAbortedUpload is returned when the client went away during an upload.
var errAbortedUpload = errors.New("the client aborted the upload")

// toStatus maps err to a gRPC status error. err may already be a status
// error (such as the one a stream's Recv returns), which passes through.
func toStatus(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var (
		fe *fieldError
		nf *notFoundError
		pe *preconditionError
		qe *quotaError
		ae *alreadyExistsError
		ue *unavailableError
		ie *idleUploadError
	)
	switch {
	case errors.As(err, &fe):
		return withDetails(codes.InvalidArgument, fe.Error(), &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: fe.field, Description: fe.desc}},
		})
	case errors.As(err, &nf):
		return withDetails(codes.NotFound, nf.Error(), &errdetails.ResourceInfo{
			ResourceType: nf.resourceType, ResourceName: nf.name, Description: "no such resource",
		})
	case errors.As(err, &pe):
		return withDetails(codes.FailedPrecondition, pe.msg, &errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{{Type: pe.kind, Subject: pe.subject, Description: pe.msg}},
		})
	case errors.As(err, &qe):
		return withDetails(codes.ResourceExhausted, qe.msg, &errdetails.QuotaFailure{
			Violations: []*errdetails.QuotaFailure_Violation{{Subject: qe.subject, Description: qe.msg}},
		})
	case errors.As(err, &ae):
		return withDetails(codes.AlreadyExists, ae.msg, &errdetails.ResourceInfo{
			ResourceType: ae.resourceType, ResourceName: ae.name, Description: ae.msg,
		})
	case errors.As(err, &ue):
		return status.Error(codes.Unavailable, ue.msg)
	case errors.As(err, &ie):
		return status.Error(codes.Aborted, ie.Error())
	case errors.Is(err, jobstore.ErrInvalidPageToken):
		return withDetails(codes.InvalidArgument, "invalid page_token", &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page_token", Description: "not a token returned by ListJobs"}},
		})
	case errors.Is(err, errAbortedUpload):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request's deadline passed")
	}
	if s, ok := status.FromError(err); ok {
		return s.Err()
	}
	log.ErrorContext(ctx, "internal error", "error", err.Error())
	return status.Error(codes.Internal, "internal error; the server log has the details")
}

func withDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
	s := status.New(c, msg)
	if d, err := s.WithDetails(details...); err == nil {
		return d.Err()
	}
	return s.Err()
}
