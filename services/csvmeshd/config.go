package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// config holds csvmeshd's settings. Every field has a flag and a matching
// environment variable, CSVMESH_ + the flag name in upper snake case; a flag
// given on the command line wins over the environment.
type config struct {
	target string

	dataDir string

	ingestListen    string
	validatorListen string
	analyzerListen  string
	gatewayListen   string

	ingestAddr    string
	validatorAddr string
	analyzerAddr  string

	maxUploadBytes  byteSize
	maxMessageBytes byteSize
	maxFieldBytes   byteSize
	maxRecordBytes  byteSize
	maxFields       int
	memoryBudget    byteSize
	maxSpillBytes   byteSize
	uniqueBudget    byteSize
	validatorCores  int
	memoryLimit     byteSize
	analyses        int
	maxStreams      int
	workers         int
	stageTimeout    time.Duration
	uploadIdle      time.Duration
	retryAttempts   int
	retryBackoff    time.Duration
	drainTimeout    time.Duration
	logLevel        string
}

var targets = []string{"all", "ingest", "validator", "analyzer", "gateway"}

func parseConfig(args []string, getenv func(string) string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("csvmeshd", flag.ContinueOnError)
	fs.StringVar(&c.target, "target", "all", "what to run: all (every service in one process), ingest, validator, analyzer or gateway")
	fs.StringVar(&c.dataDir, "data-dir", "csvmesh-data", "directory for objects (uploads, outputs, reports) and the job database; shared by all services of one mesh")
	fs.StringVar(&c.ingestListen, "ingest-listen", "127.0.0.1:50051", "address the ingest gRPC server listens on (port 0 picks a free port)")
	fs.StringVar(&c.validatorListen, "validator-listen", "127.0.0.1:50052", "address the validator gRPC server listens on")
	fs.StringVar(&c.analyzerListen, "analyzer-listen", "127.0.0.1:50053", "address the analyzer gRPC server listens on")
	fs.StringVar(&c.gatewayListen, "gateway-listen", "127.0.0.1:8080", "address the REST gateway listens on")
	fs.StringVar(&c.ingestAddr, "ingest-addr", "", "gRPC target the gateway dials for ingest (default: --ingest-listen)")
	fs.StringVar(&c.validatorAddr, "validator-addr", "", "gRPC target ingest dials for the validator (default: --validator-listen)")
	fs.StringVar(&c.analyzerAddr, "analyzer-addr", "", "gRPC target ingest dials for the analyzer (default: --analyzer-listen)")
	c.maxUploadBytes = 10 << 30
	fs.Var(&c.maxUploadBytes, "max-upload-bytes", "largest file accepted, e.g. 10GiB or 500MB")
	c.maxMessageBytes = 8 << 20
	fs.Var(&c.maxMessageBytes, "max-message-bytes", "largest gRPC message sent or received by every server and client")
	c.maxFieldBytes = 1 << 20
	fs.Var(&c.maxFieldBytes, "max-field-bytes", "longest CSV field the validator accepts; longer fields reject their row")
	c.maxRecordBytes = 4 << 20
	fs.Var(&c.maxRecordBytes, "max-record-bytes", "longest CSV record (row) the validator accepts; longer rows are rejected")
	fs.IntVar(&c.maxFields, "max-fields", 4096, "most columns the validator accepts in a row")
	c.uniqueBudget = 64 << 20
	fs.Var(&c.uniqueBudget, "unique-memory-budget", "memory all unique and primary key checks of one validation share before they spill sorted keys to disk")
	fs.IntVar(&c.validatorCores, "validator-workers", 0, "goroutines the validator checks one file's blocks with; 0 means one per CPU")
	c.memoryBudget = 256 << 20
	fs.Var(&c.memoryBudget, "memory-budget", "memory the analyzer may hold per job; past it numeric quantiles and text distinct counts and top values come from sketches (or, for exact_categorical jobs, text spills to disk)")
	c.maxSpillBytes = 64 << 30
	fs.Var(&c.maxSpillBytes, "max-spill-bytes", "disk one analysis may fill with spilled distinct values (exact_categorical jobs); past it those columns are sketched too")
	fs.IntVar(&c.analyses, "max-analyses", 2, "analyses the analyzer runs at once; more wait for a slot (memory is bounded by this x memory-budget)")
	fs.Var(&c.memoryLimit, "memory-limit", "soft limit for the process's Go heap (the Go runtime's memory limit); 0 means max-analyses x memory-budget + 256MiB when the analyzer runs here, none otherwise; GOMEMLIMIT wins when set")
	fs.IntVar(&c.maxStreams, "max-concurrent-streams", 256, "concurrent calls each gRPC server accepts on one connection")
	fs.IntVar(&c.workers, "workers", 2, "jobs ingest runs at once")
	fs.DurationVar(&c.stageTimeout, "stage-timeout", time.Hour, "deadline for each stage (validation, analysis) of a job")
	fs.DurationVar(&c.uploadIdle, "upload-idle-timeout", 2*time.Minute, "an upload that sends nothing for this long is aborted (no job, nothing stored)")
	fs.IntVar(&c.retryAttempts, "retry-attempts", 5, "attempts per stage when the validator or analyzer is unavailable")
	fs.DurationVar(&c.retryBackoff, "retry-backoff", time.Second, "first wait between attempts; it doubles up to 30s")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 15*time.Second, "on SIGTERM, how long in-flight calls may take before they are cut")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")

	// Environment first, then the command line on top.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := "CSVMESH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(key); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", key, v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	valid := false
	for _, t := range targets {
		valid = valid || c.target == t
	}
	if !valid {
		return nil, fmt.Errorf("--target=%q: want one of %s", c.target, strings.Join(targets, ", "))
	}
	switch strings.ToLower(c.logLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		return nil, fmt.Errorf("--log-level=%q: want debug, info, warn or error", c.logLevel)
	}
	if c.retryAttempts < 1 || c.retryBackoff <= 0 {
		return nil, fmt.Errorf("--retry-attempts must be at least 1 and --retry-backoff positive")
	}
	if c.maxRecordBytes < c.maxFieldBytes {
		return nil, fmt.Errorf("--max-record-bytes (%d) must be at least --max-field-bytes (%d)", c.maxRecordBytes, c.maxFieldBytes)
	}
	if c.analyses < 1 || c.maxStreams < 1 {
		return nil, fmt.Errorf("--max-analyses and --max-concurrent-streams must be at least 1")
	}
	if c.workers < 1 {
		return nil, fmt.Errorf("--workers=%d: want at least 1", c.workers)
	}
	if c.maxUploadBytes <= 0 || c.maxMessageBytes < 64<<10 || c.maxFieldBytes <= 0 || c.maxFields < 1 || c.memoryBudget < 1<<20 || c.uniqueBudget < 1<<20 || c.validatorCores < 0 || c.maxSpillBytes <= 0 {
		return nil, fmt.Errorf("limits must be positive (max-message-bytes at least 64KiB, memory-budget and unique-memory-budget at least 1MiB, validator-workers not negative)")
	}
	if c.stageTimeout <= 0 || c.drainTimeout <= 0 || c.uploadIdle <= 0 {
		return nil, fmt.Errorf("timeouts must be positive")
	}
	return c, nil
}

func (c *config) runs(service string) bool { return c.target == "all" || c.target == service }

// byteSize is a flag value in bytes that accepts units: 512, 64KiB, 100MB, 10GiB.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

var units = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 1048576, 64KiB, 100MB, 10GiB)", s)
	}
	if mult > 1 && n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// normalizedRecordBytes is the record limit for the analyzer, which reads
// what the validator wrote: normalizing can double every quote of a record
// and quote every field, so a record the validator accepted may grow to
// twice its size plus two quotes per field.
func (c *config) normalizedRecordBytes() int {
	return int(2*c.maxRecordBytes) + 2*c.maxFields + 2
}

// goMemoryLimit is the Go runtime memory limit to set, or 0 for none. The
// GOMEMLIMIT variable, read by the runtime itself, wins.
func (c *config) goMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	if c.memoryLimit > 0 {
		return int64(c.memoryLimit)
	}
	if c.runs("analyzer") {
		return int64(c.analyses)*int64(c.memoryBudget) + 256<<20
	}
	return 0
}
