package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

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

--schema names a Frictionless Table Schema JSON file (at most 1 MiB), e.g.
  {"fields": [{"name": "id", "type": "integer", "constraints": {"required": true}},
              {"name": "price", "type": "number"}],
   "primaryKey": ["id"]}
Without it the schema is inferred from the whole file; 'csvctl schema JOB'
prints a job's schema for editing and sending back. A file that is not a JSON
object is refused before the upload (exit code 2); the server checks the
schema itself and names the field and the problem.

The dialect flags say how the file is written; what they leave unset is
detected from the file. The validation flags set how many invalid rows fail
the job and what the outputs look like.

--percentiles and --columns say what the report holds, as pandas'
describe(percentiles=...) does: the percentiles are fractions from 0 to 1
(the median is always added); the columns are names exactly as in the header
(a name with a comma cannot be given here). A column the given schema lacks
fails the upload; one the inferred schema lacks fails the job after
validation. Past the analyzer's memory budget, the distinct count and the
most frequent values of text columns come from sketches whose error the
report states ("~" in 'csvctl report'); --exact-categorical keeps them
exact at any size, as pandas computes them, at the cost of spilling to disk.

With --follow, upload then prints the job's events like 'csvctl watch', then
the report table if the job succeeded, and exits like watch (0 SUCCEEDED,
3 FAILED, 4 CANCELLED).`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			var o uploadOptions
			o.chunkSize = defaultChunkSize
			fs.StringVar(&o.schemaPath, "schema", "", "Frictionless Table Schema JSON `file` to check the rows against (default: inferred)")
			fs.StringVar(&o.idempotencyKey, "idempotency-key", "", "`key` making a retried upload return the first upload's job")
			fs.BoolVar(&o.noSHA, "no-sha", false, "do not compute and send the file's SHA-256")
			fs.BoolVar(&o.follow, "follow", false, "watch the job after the upload and print its report")
			fs.Var(&o.chunkSize, "chunk-size", "file bytes per upload message, at most 4MiB (`SIZE`)")
			// Dialect.
			fs.StringVar(&o.delimiter, "delimiter", "", "field delimiter, one `character` or \\t (default: detected)")
			fs.StringVar(&o.quoteChar, "quote-char", "", "quote `character` (default \")")
			fs.StringVar(&o.escapeChar, "escape-char", "", "`character` escaping a quote inside quotes, such as \\ (default: none)")
			fs.BoolVar(&o.noDoubleQuote, "no-double-quote", false, "a quote inside quotes is not written twice (use with --escape-char)")
			o.headerRows = optionalInt{min: 0, max: math.MaxInt32}
			fs.Var(&o.headerRows, "header-rows", "header rows at the top, `N`; 0: no header (default 1)")
			fs.BoolVar(&o.skipInitialSpace, "skip-initial-space", false, "ignore spaces right after a delimiter")
			fs.StringVar(&o.commentPrefix, "comment-prefix", "", "skip lines starting with this `text`")
			fs.StringVar(&o.encoding, "encoding", "", "text `encoding`: utf-8, utf-8-sig, utf-16le, utf-16be, windows-1252, iso-8859-1 (default: detected)")
			// Validation options.
			o.maxInvalidRows = optionalInt{min: 0, max: math.MaxInt64}
			fs.Var(&o.maxInvalidRows, "max-invalid-rows", "fail the job when more than `N` rows are invalid (default: no limit)")
			fs.Var(&o.maxInvalidRatio, "max-invalid-ratio", "fail the job when a larger share of rows than `R`, 0 to 1, is invalid (default: no limit)")
			o.errorSampleSize = optionalInt{min: 0, max: maxErrorSampleSize}
			fs.Var(&o.errorSampleSize, "error-sample-size", "row errors kept as a sample and streamed to watchers, `N` up to 10000 (default 100)")
			fs.BoolVar(&o.neutralizeFormulas, "neutralize-formulas", false, "prefix text cells starting with = + - @ with ' in the outputs")
			// Analysis options.
			fs.Var(&o.percentiles, "percentiles", "percentiles the report gives, fractions such as `0.1,0.5,0.9`; the median is always added (default 0.25,0.5,0.75)")
			fs.Var(&o.columns, "columns", "analyze only these columns, names as in the header such as `price,qty` (default: all)")
			fs.BoolVar(&o.exactCategorical, "exact-categorical", false, "keep unique/top/freq and the top values of text columns exact at any size (spills to disk) instead of sketching them past the memory budget")
			return func(ctx context.Context, args []string) int { return a.upload(ctx, args[0], o) }
		},
	}
}

// maxErrorSampleSize is the largest ValidationOptions.error_sample_size.
const maxErrorSampleSize = 10000

// uploadOptions are the flags of upload.
type uploadOptions struct {
	schemaPath     string
	idempotencyKey string
	noSHA          bool
	follow         bool
	chunkSize      byteSize

	// Dialect.
	delimiter        string
	quoteChar        string
	escapeChar       string
	noDoubleQuote    bool
	headerRows       optionalInt
	skipInitialSpace bool
	commentPrefix    string
	encoding         string

	// Validation options.
	maxInvalidRows     optionalInt
	maxInvalidRatio    optionalRatio
	errorSampleSize    optionalInt
	neutralizeFormulas bool

	// Analysis options.
	percentiles      percentileList
	columns          columnList
	exactCategorical bool
}

// dialect returns the dialect the flags give, nil when they give none.
func (o *uploadOptions) dialect() (*typev1.Dialect, error) {
	d := &typev1.Dialect{
		SkipInitialSpace: o.skipInitialSpace,
		CommentPrefix:    o.commentPrefix,
		Encoding:         o.encoding,
	}
	var err error
	if d.Delimiter, err = parseDelimiter(o.delimiter); err != nil {
		return nil, err
	}
	if d.QuoteChar, err = parseChar("quote-char", o.quoteChar); err != nil {
		return nil, err
	}
	if d.EscapeChar, err = parseChar("escape-char", o.escapeChar); err != nil {
		return nil, err
	}
	if o.noDoubleQuote {
		d.DoubleQuote = proto.Bool(false)
	}
	if o.headerRows.set {
		d.HeaderRows = proto.Int32(int32(o.headerRows.value))
	}
	if proto.Equal(d, &typev1.Dialect{}) {
		return nil, nil
	}
	return d, nil
}

// validationOptions returns the options the flags give, nil when they give
// none.
func (o *uploadOptions) validationOptions() *typev1.ValidationOptions {
	v := &typev1.ValidationOptions{
		ErrorSampleSize:    int32(o.errorSampleSize.value),
		NeutralizeFormulas: o.neutralizeFormulas,
	}
	if o.maxInvalidRows.set {
		v.MaxInvalidRows = proto.Int64(o.maxInvalidRows.value)
	}
	if o.maxInvalidRatio.set {
		v.MaxInvalidRatio = proto.Float64(o.maxInvalidRatio.value)
	}
	if proto.Equal(v, &typev1.ValidationOptions{}) {
		return nil
	}
	return v
}

// analysisOptions returns the analysis options the flags give, nil when
// they give none.
func (o *uploadOptions) analysisOptions() *ingestv1.AnalysisOptions {
	if len(o.percentiles) == 0 && len(o.columns) == 0 && !o.exactCategorical {
		return nil
	}
	return &ingestv1.AnalysisOptions{Percentiles: o.percentiles, Columns: o.columns, ExactCategorical: o.exactCategorical}
}

// metadata returns the upload metadata the flags give for the file at
// path (without its size and SHA-256). A bad flag value is a usage error; a
// schema file that cannot be sent is a *schemaFileError.
func (o *uploadOptions) metadata(path string) (*ingestv1.UploadMetadata, error) {
	d, err := o.dialect()
	if err != nil {
		return nil, err
	}
	meta := &ingestv1.UploadMetadata{
		FileName:          fileNameOf(path),
		IdempotencyKey:    o.idempotencyKey,
		Dialect:           d,
		ValidationOptions: o.validationOptions(),
		AnalysisOptions:   o.analysisOptions(),
	}
	if o.schemaPath != "" {
		if meta.TableSchema, err = readTableSchema(o.schemaPath); err != nil {
			return nil, err
		}
	}
	return meta, nil
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
	meta, err := o.metadata(path)
	if err != nil {
		var se *schemaFileError
		if errors.As(err, &se) {
			// Refused before anything is sent: the command line named a
			// file that cannot be a schema.
			fmt.Fprintf(a.stderr, "csvctl upload: %v\n", err)
			return exitUsage
		}
		return a.usageError(c, err.Error())
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
