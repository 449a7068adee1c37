package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

const (
	uploadPattern = "/v1/jobs:upload"
	uploadMethod  = "/csvmesh.ingest.v1.IngestService/UploadFile"

	// idempotencyHeader may carry the idempotency key instead of the query.
	idempotencyHeader = "Idempotency-Key"
	// filePart is the form name of the multipart part holding the file.
	filePart = "file"
)

// acceptedUploadTypes lists the Content-Types of an upload, for the 415 answer.
const acceptedUploadTypes = "text/csv, application/octet-stream or multipart/form-data"

// upload serves POST /v1/jobs:upload; see the package documentation.
func (g *gateway) upload(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	limit := g.cfg.maxUploadBytes
	if limit > 0 && r.ContentLength > limit {
		g.writeError(ctx, w, r, tooLarge(fmt.Sprintf("the request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)))
		return
	}
	if limit > 0 {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}

	up := &uploader{g: g, meta: &ingestv1.UploadMetadata{}, set: map[string]string{}}
	var read func(context.Context, *http.Request) error
	switch mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType {
	case "text/csv", "application/octet-stream":
		read = up.raw
	case "multipart/form-data":
		read = up.multipart
	default:
		g.writeError(ctx, w, r, &runtime.HTTPStatusError{
			HTTPStatus: http.StatusUnsupportedMediaType,
			Err: fieldViolation("Content-Type",
				fmt.Sprintf("unsupported upload Content-Type %q: send %s", r.Header.Get("Content-Type"), acceptedUploadTypes)),
		})
		return
	}
	err := up.fromQuery(r)
	if err == nil {
		err = read(ctx, r)
	}
	if err != nil {
		cancel() // abandon the gRPC stream, if open, before answering
		if status.Code(err) == codes.ResourceExhausted {
			// Ingest refused the file's size: that is 413 for an upload,
			// not the 429 (rate limit) of grpc-gateway's generic mapping.
			err = &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: err}
		}
		g.writeError(ctx, w, r, err)
		return
	}
	md := runtime.NewServerMetadataContext(up.ctx, up.md)
	_, out := runtime.MarshalerForRequest(g.mux, r)
	runtime.ForwardResponseMessage(md, g.mux, out, w, r, up.resp, g.mux.GetForwardResponseOptions()...)
}

// uploader carries one upload from the HTTP request into the gRPC stream.
type uploader struct {
	g    *gateway
	meta *ingestv1.UploadMetadata
	// set maps each metadata field given so far to where it came from.
	set map[string]string

	// Filled in by send.
	ctx  context.Context
	md   runtime.ServerMetadata
	resp *ingestv1.UploadFileResponse
}

// fromQuery takes metadata from the query and the Idempotency-Key header.
func (u *uploader) fromQuery(r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fieldViolation("query", fmt.Sprintf("the query string is malformed (%v); URL-encode reserved characters, e.g. a ';' delimiter as %%3B", err))
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		vs := q[k]
		if _, ok := lookupMetaField(k); !ok {
			return fieldViolation(k, fmt.Sprintf("unknown query parameter %q; upload metadata is %s", k, strings.Join(metaFieldNames, ", ")))
		}
		if len(vs) > 1 {
			return fieldViolation(k, fmt.Sprintf("query parameter %q given %d times", k, len(vs)))
		}
		if err := u.setField(k, vs[0], "query parameter"); err != nil {
			return err
		}
	}
	if v := r.Header.Get(idempotencyHeader); v != "" {
		if prev, ok := u.set["idempotency_key"]; ok && u.meta.IdempotencyKey != v {
			return fieldViolation("idempotency_key", fmt.Sprintf("the %s header and the %s disagree", idempotencyHeader, prev))
		}
		u.meta.IdempotencyKey = v
		u.set["idempotency_key"] = idempotencyHeader + " header"
	}
	return nil
}

// setField sets one metadata field given by source (for messages).
func (u *uploader) setField(name, value, source string) error {
	if prev, ok := u.set[name]; ok {
		return fieldViolation(name, fmt.Sprintf("%s given twice (as %s and %s)", name, prev, source))
	}
	f, ok := lookupMetaField(name)
	if !ok {
		return fieldViolation(name, fmt.Sprintf("unknown upload field %q", name))
	}
	if err := f.set(u.meta, value); err != nil {
		return fieldViolation(name, fmt.Sprintf("%s %s: %v", source, name, err))
	}
	u.set[name] = source
	return nil
}

// raw streams a body that is the file itself.
func (u *uploader) raw(ctx context.Context, r *http.Request) error {
	if u.meta.GetFileName() == "" {
		return fieldViolation("file_name", "file_name is required: pass it as a query parameter")
	}
	if r.ContentLength >= 0 {
		n := r.ContentLength
		u.meta.DeclaredSizeBytes = &n
	}
	return u.send(ctx, r, r.Body, nil)
}

// multipart reads the metadata fields of a multipart/form-data body, then
// streams its file part.
func (u *uploader) multipart(ctx context.Context, r *http.Request) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "reading multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return fieldViolation(filePart, fmt.Sprintf("the multipart body has no part named %q", filePart))
		}
		if err != nil {
			return bodyError(err)
		}
		name := part.FormName()
		if name == filePart {
			if u.meta.GetFileName() == "" {
				u.meta.FileName = part.FileName()
			}
			if u.meta.GetFileName() == "" {
				return fieldViolation("file_name", "file_name is required: give the file part a filename or send a file_name field")
			}
			return u.send(ctx, r, part, func() error {
				// Nothing may follow the file: its metadata would come too
				// late. Checked before the upload is completed, so the
				// error cancels the stream and ingest discards the file.
				switch _, err := mr.NextPart(); {
				case err == nil:
					return fieldViolation(filePart, fmt.Sprintf("the %q part must be the last part", filePart))
				case !errors.Is(err, io.EOF):
					return bodyError(err)
				}
				return nil
			})
		}
		if _, ok := lookupMetaField(name); !ok {
			return fieldViolation(name, fmt.Sprintf("unknown form field %q; fields are %s, then %q", name, strings.Join(metaFieldNames, ", "), filePart))
		}
		value, err := io.ReadAll(io.LimitReader(part, u.g.cfg.maxFormFieldBytes+1))
		if err != nil {
			return bodyError(err)
		}
		if int64(len(value)) > u.g.cfg.maxFormFieldBytes {
			return fieldViolation(name, fmt.Sprintf("form field %q exceeds %d bytes", name, u.g.cfg.maxFormFieldBytes))
		}
		if err := u.setField(name, string(value), "form field"); err != nil {
			return err
		}
	}
}

// send runs the UploadFile call: the metadata, then body in chunks of at
// most the configured chunk size. It reads body only as fast as ingest takes
// the chunks, and keeps only the chunk in hand. After the body, check (if
// not nil) may still fail the request, which abandons the call. On success
// u.resp and u.md hold ingest's answer.
func (u *uploader) send(ctx context.Context, r *http.Request, body io.Reader, check func() error) error {
	actx, err := runtime.AnnotateContext(ctx, u.g.mux, r, uploadMethod, runtime.WithHTTPPathPattern(uploadPattern))
	if err != nil {
		return err
	}
	u.ctx = actx
	stream, err := u.g.client.UploadFile(actx, grpc.Header(&u.md.HeaderMD), grpc.Trailer(&u.md.TrailerMD))
	if err != nil {
		return err
	}
	err = stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: u.meta}})
	if err == nil {
		err = u.pump(stream, body)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err == nil && check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	// io.EOF from Send: ingest ended the call early; CloseAndRecv has its status.
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	u.resp = resp
	return nil
}

// pump copies body into stream as chunks. It returns io.EOF when ingest ended
// the stream before the body did.
func (u *uploader) pump(stream grpc.ClientStreamingClient[ingestv1.UploadFileRequest, ingestv1.UploadFileResponse], body io.Reader) error {
	for {
		// A fresh buffer per chunk: a sent message must not be modified
		// (stats handlers may read it lazily), so the previous one is left
		// to the garbage collector.
		buf := make([]byte, u.g.cfg.chunkSize)
		n, rerr := fill(body, buf)
		if n > 0 {
			if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: buf[:n]}}); err != nil {
				return err
			}
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF):
			return nil
		default:
			return bodyError(rerr)
		}
	}
}

// fill reads from r until buf is full or r fails; it returns r's error as is,
// io.EOF included (unlike io.ReadFull, which would turn an io.ErrUnexpectedEOF
// from a truncated request body into a normal end).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// bodyError maps a failure reading the request body: 413 past the size
// limit, else 400 (a malformed or truncated body; a client that went away
// gets no answer anyway).
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(fmt.Sprintf("the request body exceeds the limit of %d bytes", mbe.Limit))
	}
	return status.Errorf(codes.InvalidArgument, "reading the request body: %v", err)
}

// tooLarge is a RESOURCE_EXHAUSTED status answered with 413.
func tooLarge(msg string) error {
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{
		Subject:     "upload",
		Description: msg,
	}}}); err == nil {
		st = d
	}
	return &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: st.Err()}
}

// fieldViolation is an INVALID_ARGUMENT status with a BadRequest detail
// naming field.
func fieldViolation(field, desc string) error {
	st := status.New(codes.InvalidArgument, desc)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
		Field:       field,
		Description: desc,
	}}}); err == nil {
		st = d
	}
	return st.Err()
}
