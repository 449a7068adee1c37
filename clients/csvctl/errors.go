package main

import (
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// codeNames are the canonical names of gRPC codes, as written in the gRPC
// and google.rpc documentation.
var codeNames = map[codes.Code]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

// codeName returns the canonical name of c, such as INVALID_ARGUMENT.
func codeName(c codes.Code) string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("CODE(%d)", uint32(c))
}

// describeError renders err on one line. A gRPC status becomes
// "CODE: message [detail; detail]" with the field violations, quota
// violations, precondition failures, error info, resource info, retry delay
// and help links found in its details.
func describeError(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return oneLine(err.Error())
	}
	var b strings.Builder
	b.WriteString(codeName(st.Code()))
	if msg := oneLine(st.Message()); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	var parts []string
	for _, d := range st.Details() {
		parts = append(parts, describeDetail(d)...)
	}
	if len(parts) > 0 {
		b.WriteString(" [")
		b.WriteString(strings.Join(parts, "; "))
		b.WriteString("]")
	}
	return b.String()
}

// describeDetail renders the parts of one status detail that help a user.
func describeDetail(d any) []string {
	var out []string
	switch d := d.(type) {
	case *errdetails.BadRequest:
		for _, v := range d.GetFieldViolations() {
			out = append(out, fmt.Sprintf("field %s: %s", v.GetField(), oneLine(v.GetDescription())))
		}
	case *errdetails.QuotaFailure:
		for _, v := range d.GetViolations() {
			out = append(out, fmt.Sprintf("quota %s: %s", v.GetSubject(), oneLine(v.GetDescription())))
		}
	case *errdetails.PreconditionFailure:
		for _, v := range d.GetViolations() {
			out = append(out, fmt.Sprintf("precondition %s %s: %s", v.GetType(), v.GetSubject(), oneLine(v.GetDescription())))
		}
	case *errdetails.ErrorInfo:
		s := "reason " + d.GetReason()
		if d.GetDomain() != "" {
			s += " (" + d.GetDomain() + ")"
		}
		out = append(out, s)
	case *errdetails.ResourceInfo:
		s := fmt.Sprintf("resource %s %s", d.GetResourceType(), d.GetResourceName())
		if d.GetDescription() != "" {
			s += ": " + oneLine(d.GetDescription())
		}
		out = append(out, s)
	case *errdetails.RetryInfo:
		out = append(out, "retry after "+d.GetRetryDelay().AsDuration().String())
	case *errdetails.Help:
		for _, l := range d.GetLinks() {
			out = append(out, "see "+l.GetUrl())
		}
	}
	return out
}

// oneLine collapses line breaks and runs of spaces so a message fits on one
// line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
