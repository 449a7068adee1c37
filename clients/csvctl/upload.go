package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// Upload limits.
const (
	// defaultChunkSize is the default number of file bytes per upload
	// message.
	defaultChunkSize = 1 << 20
	// maxChunkSize is the most bytes one upload message may carry
	// (UploadFileRequest.chunk).
	maxChunkSize = 4 << 20
	// maxFileNameBytes is the longest file name UploadMetadata accepts.
	maxFileNameBytes = 255
)

// uploadCommand is `csvctl upload`.
func uploadCommand() *command {
	return &command{
		name:    "upload",
		args:    "FILE",
		nargs:   1,
		summary: "Upload a CSV file and print the new job's name.",
		details: `
The file is read twice, in chunks and never whole: first to compute its
SHA-256 (skip with --no-sha), then to send it with its declared size, so the
server rejects a transfer that arrives damaged or incomplete. A progress bar
is drawn on stderr when it is a terminal; otherwise one line per pass is
printed when it ends. Ctrl-C cancels the upload; no job is created.

The schema file is the JSON form of csvmesh.type.v1.Schema, e.g.
  {"fields": [{"name": "price", "type": "FIELD_TYPE_NUMBER", "required": true}]}
A type may also be written short, in any case: string (text), integer (int),
number (float, double, decimal), boolean (bool), date, datetime (timestamp).

With --follow, upload then prints the job's events like 'csvctl watch', then
the report table if the job succeeded, and exits like watch (0 SUCCEEDED,
3 FAILED, 4 CANCELLED).`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			var o uploadOptions
			o.chunkSize = defaultChunkSize
			fs.StringVar(&o.schemaPath, "schema", "", "JSON schema `file` to check the rows against (default: inferred)")
			fs.StringVar(&o.delimiter, "delimiter", "", "field delimiter, one `character` or \\t (default ,)")
			fs.StringVar(&o.idempotencyKey, "idempotency-key", "", "`key` making a retried upload return the first upload's job")
			fs.BoolVar(&o.noSHA, "no-sha", false, "do not compute and send the file's SHA-256")
			fs.BoolVar(&o.follow, "follow", false, "watch the job after the upload and print its report")
			fs.Var(&o.chunkSize, "chunk-size", "file bytes per upload message, at most 4MiB (`SIZE`)")
			return func(ctx context.Context, args []string) int { return a.upload(ctx, args[0], o) }
		},
	}
}

// uploadOptions are the flags of upload.
type uploadOptions struct {
	schemaPath     string
	delimiter      string
	idempotencyKey string
	noSHA          bool
	follow         bool
	chunkSize      byteSize
}

// upload uploads the file at path and prints the job's name; with
// o.follow it then watches the job.
func (a *app) upload(ctx context.Context, path string, o uploadOptions) int {
	c := lookupCommand("upload")
	if o.chunkSize > maxChunkSize {
		return a.usageError(c, fmt.Sprintf("--chunk-size %s is larger than %s", o.chunkSize.String(), formatBytes(maxChunkSize)))
	}
	if int64(o.chunkSize)+1024 > int64(a.maxMessage) {
		return a.usageError(c, fmt.Sprintf("--chunk-size %s does not fit in --max-message-size %s", o.chunkSize.String(), a.maxMessage.String()))
	}
	delim, err := parseDelimiter(o.delimiter)
	if err != nil {
		return a.usageError(c, err.Error())
	}
	meta := &ingestv1.UploadMetadata{
		FileName:       fileNameOf(path),
		IdempotencyKey: o.idempotencyKey,
	}
	if delim != "" {
		meta.Dialect = &typev1.Dialect{Delimiter: delim}
	}
	if o.schemaPath != "" {
		s, err := readSchemaFile(o.schemaPath)
		if err != nil {
			fmt.Fprintf(a.stderr, "csvctl: %v\n", err)
			return exitError
		}
		meta.Schema = s
	}

	what := "upload " + path
	f, err := os.Open(path)
	if err != nil {
		return a.fail(ctx, what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return a.fail(ctx, what, err)
	}
	if fi.IsDir() {
		return a.fail(ctx, what, errors.New("is a directory"))
	}
	// Only a regular file has a size known in advance and can be read twice.
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
		meta.DeclaredSizeBytes = &size
		if !o.noSHA {
			sum, err := a.hashFile(ctx, f, size, int(o.chunkSize))
			if err != nil {
				return a.fail(ctx, what, err)
			}
			meta.Sha256 = sum
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return a.fail(ctx, what, err)
			}
		}
	}
	trace.SpanFromContext(ctx).SetAttributes(
		attribute.String("csvmesh.file_name", meta.FileName),
		attribute.Int64("csvmesh.size_bytes", size),
	)

	client, closeConn, err := a.connect()
	if err != nil {
		return a.fail(ctx, what, err)
	}
	defer closeConn()
	job, err := a.sendFile(ctx, client, f, size, meta, int(o.chunkSize))
	if err != nil {
		return a.fail(ctx, what, err)
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("csvmesh.job", job.GetName()))
	fmt.Fprintln(a.stdout, job.GetName())
	if !o.follow {
		return exitOK
	}
	return a.watchAndReport(ctx, client, job.GetName())
}

// fileNameOf returns the base name of path, cut to at most
// maxFileNameBytes on a character boundary.
func fileNameOf(path string) string {
	name := filepath.Base(path)
	if len(name) <= maxFileNameBytes {
		return name
	}
	cut := maxFileNameBytes
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut]
}

// hashFile returns the hex SHA-256 of the next size bytes of r, read in
// chunks of bufSize, reporting progress.
func (a *app) hashFile(ctx context.Context, r io.Reader, size int64, bufSize int) (string, error) {
	p := a.newProgress("sha256", size)
	h := sha256.New()
	buf := make([]byte, bufSize)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			p.Abort()
			return "", err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		done += int64(n)
		p.Set(done)
		if err == io.EOF {
			break
		}
		if err != nil {
			p.Abort()
			return "", fmt.Errorf("read: %w", err)
		}
	}
	if done != size {
		p.Abort()
		return "", fmt.Errorf("file changed while hashing: read %d of %d bytes", done, size)
	}
	p.Finish()
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sendFile streams meta, then r in chunks of chunkSize, and returns the job
// the server created. size is the number of bytes to send, negative when
// unknown (then r is read to its end). A local failure cancels the stream,
// so the server creates no job.
func (a *app) sendFile(ctx context.Context, client ingestv1.IngestServiceClient, r io.Reader, size int64, meta *ingestv1.UploadMetadata, chunkSize int) (*ingestv1.Job, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.UploadFile(ctx)
	if err != nil {
		return nil, err
	}
	// send sends one message; when the server has already ended the stream
	// (io.EOF), the real status comes from CloseAndRecv.
	send := func(req *ingestv1.UploadFileRequest) error {
		if err := stream.Send(req); err != nil {
			if errors.Is(err, io.EOF) {
				_, err = stream.CloseAndRecv()
				if err == nil {
					err = errors.New("server ended the upload early without an error")
				}
			}
			return err
		}
		return nil
	}
	if err := send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: meta}}); err != nil {
		return nil, err
	}
	if size >= 0 {
		// Never send more than declared, even if the file grows meanwhile.
		r = io.LimitReader(r, size)
	}
	p := a.newProgress("upload", size)
	var sent int64
	for {
		// A fresh buffer per message: gRPC does not allow modifying a
		// message once it is passed to Send.
		buf := make([]byte, chunkSize)
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if err := send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: buf[:n]}}); err != nil {
				p.Abort()
				return nil, err
			}
			sent += int64(n)
			p.Set(sent)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			p.Abort()
			return nil, fmt.Errorf("read: %w", rerr)
		}
	}
	if size >= 0 && sent != size {
		p.Abort()
		return nil, fmt.Errorf("file changed while uploading: read %d of %d bytes", sent, size)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		p.Abort()
		return nil, err
	}
	p.Finish()
	return resp.GetJob(), nil
}
