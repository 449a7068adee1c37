// Command csvbench measures csvmesh end to end on a generated trades file.
//
//	go run ./services/csvbench --size 100MB [--keep] [--dir DIR] [--csvmeshd PATH] [--json]
//	go run ./services/csvbench --core --size 100MB [--repeat N] [--dir DIR] [--json]
//
// It generates a deterministic trades CSV of the requested size (or reuses
// one already in --dir), times a plain encoding/csv read of it as the
// baseline, builds csvmeshd and starts it as four processes on loopback
// (validator, analyzer, ingest, gateway) over one fresh data directory,
// uploads the file through ingest's gRPC UploadFile, follows the job with
// WatchJob, and prints upload, validation, analysis and end-to-end
// throughput next to the baseline, the rows valid and rejected, and the peak
// RSS of every process. It exits non-zero if the job does not succeed.
//
// With --core it measures the validator core instead: each of a schema run
// and an inferring run, on one worker and on every CPU, the Parquet
// conversion of the normalized output, and the analyzer over it (with
// sketches past its default 256 MiB budget, and keeping text statistics
// exact), each in a child process of its own (for its peak RSS), with the validator writing normalized and rejects CSV to
// disk; the encoding/csv baseline is read before and after, and their mean
// is the yardstick.
//
// MB/s figures are 10^6 bytes per second of the uploaded file's size, for
// every stage; validation and analysis are timed between the job's state
// change events (VALIDATING to ANALYZING, ANALYZING to SUCCEEDED), end to end
// from the start of the upload to SUCCEEDED.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"google.golang.org/grpc"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	"github.com/csvmesh/csvmesh/services/internal/grpcx"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are csvbench's flags.
type options struct {
	size         int64
	seed         uint64
	dir          string
	keep         bool
	csvmeshd     string
	json         bool
	logLevel     string
	chunkSize    int64
	readyTimeout time.Duration
	jobTimeout   time.Duration
	stopGrace    time.Duration

	// core measures the validator core in-process instead of the mesh.
	core bool
	// repeat is how many rounds --core times; figures are medians.
	repeat int
	// The flags of a --core child process (one measurement).
	coreRun     bool
	coreFile    string
	coreOut     string
	coreWorkers int
	coreInfer   bool
	coreParquet bool
	coreAnalyze bool
	coreExact   bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("csvbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.String("size", "100MB", "size of the trades file, e.g. 20MB, 100MB, 1GB or 512MiB")
	chunk := fs.String("chunk-size", "1MiB", "bytes per UploadFile chunk message")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated trades file")
	fs.StringVar(&o.dir, "dir", "bench-out", "directory for the trades file (reused across runs) and the mesh's data directory")
	fs.BoolVar(&o.keep, "keep", false, "keep the mesh's data directory (uploads, artifacts, job database, logs)")
	fs.StringVar(&o.csvmeshd, "csvmeshd", "", "csvmeshd binary to run (default: go build "+csvmeshdPkg+")")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON")
	fs.StringVar(&o.logLevel, "log-level", "info", "csvmeshd's --log-level")
	fs.DurationVar(&o.readyTimeout, "ready-timeout", time.Minute, "how long the services may take to become healthy")
	fs.DurationVar(&o.jobTimeout, "timeout", time.Hour, "how long the upload and job may take")
	fs.DurationVar(&o.stopGrace, "stop-grace", 30*time.Second, "how long each process may take to exit after SIGTERM before it is killed")
	fs.BoolVar(&o.core, "core", false, "measure the validator core (parse, type-check, normalize, write CSV) in-process on 1 and all cores, the Parquet conversion and the analyzer, instead of the mesh")
	fs.IntVar(&o.repeat, "repeat", 1, "with --core: rounds of measurements; each figure is the median over the rounds")
	fs.BoolVar(&o.coreRun, "core-run", false, "internal: one --core measurement")
	fs.StringVar(&o.coreFile, "core-file", "", "internal: --core-run's input file")
	fs.StringVar(&o.coreOut, "core-out", "", "internal: --core-run's output directory")
	fs.IntVar(&o.coreWorkers, "core-workers", 1, "internal: --core-run's validator workers")
	fs.BoolVar(&o.coreInfer, "core-infer", false, "internal: --core-run infers the schema")
	fs.BoolVar(&o.coreParquet, "core-parquet", false, "internal: --core-run converts the normalized output to Parquet")
	fs.BoolVar(&o.coreAnalyze, "core-analyze", false, "internal: --core-run analyzes the normalized output")
	fs.BoolVar(&o.coreExact, "core-exact-categorical", false, "internal: --core-run's analysis keeps text statistics exact")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if o.size, err = parseSize(*size); err != nil {
		return nil, fmt.Errorf("--size: %w", err)
	}
	if o.chunkSize, err = parseSize(*chunk); err != nil {
		return nil, fmt.Errorf("--chunk-size: %w", err)
	}
	if o.chunkSize > 4<<20 {
		return nil, fmt.Errorf("--chunk-size: %d bytes is above the 4 MiB a chunk may hold", o.chunkSize)
	}
	if o.repeat < 1 {
		return nil, errors.New("--repeat must be at least 1")
	}
	if o.readyTimeout <= 0 || o.jobTimeout <= 0 || o.stopGrace <= 0 {
		return nil, errors.New("timeouts must be positive")
	}
	return o, nil
}

// run is the whole benchmark; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "csvbench: %v\n", err)
		return 2
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "csvbench: "+format+"\n", a...) }
	switch {
	case o.coreRun:
		m := coreMode{Workers: o.coreWorkers, Infer: o.coreInfer, Parquet: o.coreParquet, Analyze: o.coreAnalyze, ExactCategorical: o.coreExact}
		if err := coreRun(ctx, o.coreFile, o.coreOut, m, stdout); err != nil {
			fmt.Fprintf(stderr, "csvbench: core run: %v\n", err)
			return 1
		}
		return 0
	case o.core:
		res, err := benchCore(ctx, o, logf)
		return report(stdout, stderr, o.json, res, err, func(w io.Writer) error { return writeCoreTable(w, res) })
	}
	res, err := bench(ctx, o, logf)
	return report(stdout, stderr, o.json, res, err, func(w io.Writer) error { return writeTable(w, res) })
}

// report prints a benchmark's result, as JSON or with table, and returns the
// exit code: 1 when the benchmark (err) or the printing failed.
func report(stdout, stderr io.Writer, asJSON bool, res any, err error, table func(io.Writer) error) int {
	if err != nil {
		fmt.Fprintf(stderr, "csvbench: FAILED: %v\n", err)
		return 1
	}
	if asJSON {
		err = writeJSON(stdout, res)
	} else {
		err = table(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "csvbench: %v\n", err)
		return 1
	}
	return 0
}

// benchFile returns the absolute benchmark directory and the trades file of
// o's size and seed in it (generated when missing) with its size.
func benchFile(o *options, logf func(string, ...any)) (dir, path string, size int64, err error) {
	if dir, err = filepath.Abs(o.dir); err != nil {
		return "", "", 0, err
	}
	if path, err = tradesFile(dir, o.size, o.seed, logf); err != nil {
		return "", "", 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", 0, err
	}
	return dir, path, fi.Size(), nil
}

func bench(ctx context.Context, o *options, logf func(string, ...any)) (res *result, err error) {
	res = &result{Seed: o.seed, LoadBefore: loadAvg(), CPUs: runtime.NumCPU()}
	dir, path, size, err := benchFile(o, logf)
	if err != nil {
		return nil, err
	}
	res.File, res.FileBytes = path, size
	baseDur, rows, err := baseline(path)
	if err != nil {
		return nil, err
	}
	res.FileRows = rows
	logf("baseline encoding/csv: %d rows in %.2fs (%.1f MB/s)", rows, baseDur.Seconds(), mbps(res.FileBytes, baseDur))
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}

	bin := o.csvmeshd
	if bin == "" {
		binDir, err := os.MkdirTemp("", "csvbench-bin-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(binDir)
		logf("building %s", csvmeshdPkg)
		if bin, err = buildCsvmeshd(ctx, binDir); err != nil {
			return nil, err
		}
	}

	dataDir, err := os.MkdirTemp(dir, "mesh-data-")
	if err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	m, err := startMesh(bin, dataDir, o.logLevel)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			m.stop(o.stopGrace)
		}
		if err != nil || o.keep {
			logf("kept the mesh's data directory %s (logs in %s)", dataDir, filepath.Join(dataDir, "logs"))
			return
		}
		if rerr := os.RemoveAll(dataDir); rerr != nil {
			logf("remove %s: %v", dataDir, rerr)
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, o.readyTimeout)
	err = m.waitReady(rctx)
	cancel()
	if err != nil {
		return nil, err
	}
	logf("mesh ready: ingest %s, gateway %s, data dir %s", m.ingest, m.gateway, dataDir)

	jctx, cancel := context.WithTimeout(ctx, o.jobTimeout)
	defer cancel()
	tl, err := runJob(jctx, m.ingest, path, res.FileBytes, sum, o.chunkSize, logf)
	if tl != nil {
		res.Job = tl.job.GetName()
		res.RowsValid = tl.job.GetValidation().GetRowsValid()
		res.RowsRejected = tl.job.GetValidation().GetRowsRejected()
	}
	if err != nil {
		return nil, err
	}

	rss, stopErr := m.stop(o.stopGrace)
	stopped = true
	self, serr := peakRSS(0)
	if err = errors.Join(stopErr, serr); err != nil {
		return nil, err
	}
	res.PeakRSS = append(rss, procRSS{Name: "csvbench", Bytes: self})
	res.Stages = newStages(res.FileBytes,
		[]string{"baseline encoding/csv", "upload", "validation", "analysis", "end-to-end"},
		[]time.Duration{baseDur, tl.upload, tl.validation, tl.analysis, tl.endToEnd})
	res.LoadAfter = loadAvg()
	return res, nil
}

// timeline is what runJob measured.
type timeline struct {
	job                                    *ingestv1.Job
	upload, validation, analysis, endToEnd time.Duration
}

// runJob uploads the file at path to ingest at addr, follows the job until
// it ends, and returns the job and its stage timings. It fails unless the job
// succeeds; the returned timeline then still holds the job when known.
func runJob(ctx context.Context, addr, path string, size int64, sum string, chunkSize int64, logf func(string, ...any)) (*timeline, error) {
	conn, err := grpcx.Dial(addr, grpcx.ClientConfig{})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	client := ingestv1.NewIngestServiceClient(conn)

	start := time.Now()
	job, err := upload(ctx, client, path, size, sum, chunkSize)
	if err != nil {
		return nil, err
	}
	tl := &timeline{job: job, upload: time.Since(start)}
	logf("uploaded %s as %s in %.2fs (%.1f MB/s)", humanBytes(size), job.GetName(), tl.upload.Seconds(), mbps(size, tl.upload))

	changes, err := watch(ctx, client, job.GetName())
	if err != nil {
		return tl, err
	}
	got, err := client.GetJob(ctx, &ingestv1.GetJobRequest{Name: job.GetName()})
	if err != nil {
		return tl, fmt.Errorf("GetJob %s: %w", job.GetName(), err)
	}
	tl.job = got.GetJob()
	if s := tl.job.GetState(); s != ingestv1.Job_STATE_SUCCEEDED {
		return tl, fmt.Errorf("job %s ended %s: %s", job.GetName(), s, tl.job.GetFailureReason())
	}
	validating, ok1 := changes[ingestv1.Job_STATE_VALIDATING]
	analyzing, ok2 := changes[ingestv1.Job_STATE_ANALYZING]
	succeeded, ok3 := changes[ingestv1.Job_STATE_SUCCEEDED]
	if !ok1 || !ok2 || !ok3 {
		return tl, fmt.Errorf("job %s succeeded but its events lack a state change to VALIDATING, ANALYZING or SUCCEEDED (got %v)", job.GetName(), changes)
	}
	tl.validation = analyzing.Sub(validating)
	tl.analysis = succeeded.Sub(analyzing)
	tl.endToEnd = succeeded.Sub(start)
	return tl, nil
}

// upload streams the file: metadata with its size and SHA-256 first, then
// chunks of chunkSize bytes.
func upload(ctx context.Context, client ingestv1.IngestServiceClient, path string, size int64, sum string, chunkSize int64) (*ingestv1.Job, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // aborts the stream on an early return
	stream, err := client.UploadFile(ctx)
	if err != nil {
		return nil, fmt.Errorf("UploadFile: %w", err)
	}
	meta := &ingestv1.UploadMetadata{FileName: filepath.Base(path), DeclaredSizeBytes: &size, Sha256: sum}
	if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: meta}}); err != nil {
		return nil, closeAndRecv(stream, fmt.Errorf("UploadFile: send metadata: %w", err))
	}
	buf := make([]byte, chunkSize)
	for {
		n, rerr := io.ReadFull(f, buf)
		if n > 0 {
			// Send does not keep the slice after it returns, so buf is reused.
			req := &ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: buf[:n]}}
			if err := stream.Send(req); err != nil {
				return nil, closeAndRecv(stream, fmt.Errorf("UploadFile: send chunk: %w", err))
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("upload: read %s: %w", path, rerr)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fmt.Errorf("UploadFile: %w", err)
	}
	return resp.GetJob(), nil
}

// closeAndRecv returns the server's status when a Send failed with io.EOF
// (the server ended the stream early, and its reason is in the status).
func closeAndRecv(stream grpc.ClientStreamingClient[ingestv1.UploadFileRequest, ingestv1.UploadFileResponse], sendErr error) error {
	if !errors.Is(sendErr, io.EOF) {
		return sendErr
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return fmt.Errorf("UploadFile: %w", err)
	}
	return sendErr
}

// watch follows the job's events until the stream ends and returns when the
// job first entered each state.
func watch(ctx context.Context, client ingestv1.IngestServiceClient, name string) (map[ingestv1.Job_State]time.Time, error) {
	stream, err := client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: name})
	if err != nil {
		return nil, fmt.Errorf("WatchJob %s: %w", name, err)
	}
	changes := map[ingestv1.Job_State]time.Time{}
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return changes, nil
		}
		if err != nil {
			return changes, fmt.Errorf("WatchJob %s: %w", name, err)
		}
		ev := resp.GetEvent()
		if sc := ev.GetStateChange(); sc != nil {
			if _, seen := changes[sc.GetTo()]; !seen {
				changes[sc.GetTo()] = ev.GetEventTime().AsTime()
			}
		}
		switch ev.GetState() {
		case ingestv1.Job_STATE_SUCCEEDED, ingestv1.Job_STATE_FAILED, ingestv1.Job_STATE_CANCELLED:
			return changes, nil
		}
	}
}
