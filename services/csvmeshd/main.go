// Command csvmeshd runs csvmesh's services: by default all of them in one
// process (--target=all), or one of them (--target=ingest, validator,
// analyzer or gateway) for a deployment that scales each part on its own.
//
//	go run ./services/csvmeshd
//
// starts the whole mesh on loopback with its data under ./csvmesh-data and
// prints (as JSON log lines on stderr) where each service listens. Every
// flag has an environment variable: CSVMESH_ + the flag in upper snake case,
// e.g. CSVMESH_DATA_DIR. Traces go where the standard OTEL_* variables say.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/analyzer"
	"github.com/csvmesh/csvmesh/services/gateway"
	"github.com/csvmesh/csvmesh/services/ingest"
	"github.com/csvmesh/csvmesh/services/internal/grpcx"
	"github.com/csvmesh/csvmesh/services/internal/storage"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
	"github.com/csvmesh/csvmesh/services/validator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful shutdown, a second one
		// gets the default behaviour: the process ends at once.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr))
}

// run starts the configured services and blocks until ctx is done or one of
// them fails. It returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "csvmeshd: %v\n", err)
		return 2
	}
	level := telemetry.ParseLevel(cfg.logLevel)
	log := telemetry.NewLogger(stderr, "csvmeshd", level)
	// Everything that logs through the log package, slog's default, gRPC's
	// logger or OpenTelemetry's error handler comes out as JSON too.
	slog.SetDefault(log)
	grpcx.SetLogger(log)
	if limit := cfg.goMemoryLimit(getenv); limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Info("memory limit", "bytes", limit)
	}

	shutdownTracing, err := telemetry.SetupTracing(ctx, "csvmesh-"+cfg.target)
	if err != nil {
		log.Error("tracing setup failed", "error", err.Error())
		return 1
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(sctx); err != nil {
			log.Warn("trace flush failed", "error", err.Error())
		}
	}()

	m := &mesh{cfg: cfg, stderr: stderr, level: level, log: log}
	if err := m.start(ctx); err != nil {
		log.Error("start failed", "error", err.Error())
		m.stop()
		return 1
	}
	log.Info("csvmesh ready", "target", cfg.target, "data_dir", cfg.dataDir)
	err = m.wait(ctx)
	m.stop()
	if err != nil {
		log.Error("stopped with error", "error", err.Error())
		return 1
	}
	log.Info("stopped")
	return 0
}

// mesh is the set of services one csvmeshd process runs.
type mesh struct {
	cfg    *config
	stderr io.Writer
	level  slog.Level
	log    *slog.Logger

	serveCtx    context.Context
	cancelServe context.CancelFunc
	wg          sync.WaitGroup
	errc        chan error
	stoppers    []func() // run first on stop: stop taking and running work
	closers     []func() // run last on stop, in reverse: release clients and stores
}

func (m *mesh) logger(service string) *slog.Logger {
	return telemetry.NewLogger(m.stderr, service, m.level)
}

func (m *mesh) listen(service, addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", service, addr, err)
	}
	proto := "grpc"
	if service == "gateway" {
		proto = "http"
	}
	m.log.Info("listening", "listener", service, "addr", lis.Addr().String(), "protocol", proto)
	return lis, nil
}

// serveGRPC serves srv on lis until the mesh stops, draining in-flight calls
// for at most the drain timeout.
func (m *mesh) serveGRPC(srv *grpc.Server, lis net.Listener, services ...string) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := grpcx.Serve(m.serveCtx, srv, lis, m.cfg.drainTimeout, services...); err != nil {
			m.errc <- err
		}
	}()
}

func (m *mesh) start(ctx context.Context) error {
	cfg := m.cfg
	m.serveCtx, m.cancelServe = context.WithCancel(context.Background())
	m.errc = make(chan error, 8)
	limits := grpcx.ServerConfig{MaxRecvBytes: int(cfg.maxMessageBytes), MaxSendBytes: int(cfg.maxMessageBytes),
		MaxConcurrentStreams: uint32(cfg.maxStreams)}
	clientLimits := grpcx.ClientConfig{MaxRecvBytes: int(cfg.maxMessageBytes), MaxSendBytes: int(cfg.maxMessageBytes)}

	var store storage.Store
	if cfg.target != "gateway" {
		dir, err := storage.NewDir(filepath.Join(cfg.dataDir, "objects"))
		if err != nil {
			return err
		}
		store = dir
	}

	validatorAddr, analyzerAddr, ingestAddr := cfg.validatorAddr, cfg.analyzerAddr, cfg.ingestAddr
	if cfg.runs("validator") {
		lis, err := m.listen("validator", cfg.validatorListen)
		if err != nil {
			return err
		}
		log := m.logger("validator")
		tmp := filepath.Join(cfg.dataDir, "tmp")
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return fmt.Errorf("validator: spill directory: %w", err)
		}
		l := limits
		l.Logger = log
		srv := grpcx.NewServer(l)
		validatorv1.RegisterValidatorServiceServer(srv, validator.NewServer(store,
			validator.WithLogger(log),
			validator.WithMaxFieldBytes(int(cfg.maxFieldBytes)),
			validator.WithMaxRecordBytes(int(cfg.maxRecordBytes)),
			validator.WithMaxFields(cfg.maxFields),
			validator.WithWorkers(cfg.validatorCores),
			validator.WithSpillDir(tmp),
			validator.WithUniqueMemoryBudget(int64(cfg.uniqueBudget)),
		))
		m.serveGRPC(srv, lis, validatorv1.ValidatorService_ServiceDesc.ServiceName)
		validatorAddr = or(validatorAddr, lis.Addr().String())
	}
	if cfg.runs("analyzer") {
		lis, err := m.listen("analyzer", cfg.analyzerListen)
		if err != nil {
			return err
		}
		log := m.logger("analyzer")
		tmp := filepath.Join(cfg.dataDir, "tmp")
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return fmt.Errorf("analyzer: spill directory: %w", err)
		}
		l := limits
		l.Logger = log
		srv := grpcx.NewServer(l)
		analyzerv1.RegisterAnalyzerServiceServer(srv, analyzer.NewServer(store,
			analyzer.WithLogger(log),
			analyzer.WithMemoryBudget(int64(cfg.memoryBudget)),
			analyzer.WithMaxSpillBytes(int64(cfg.maxSpillBytes)),
			analyzer.WithTempDir(tmp),
			analyzer.WithMaxRecordBytes(cfg.normalizedRecordBytes()),
			analyzer.WithMaxConcurrent(cfg.analyses),
		))
		m.serveGRPC(srv, lis, analyzerv1.AnalyzerService_ServiceDesc.ServiceName)
		analyzerAddr = or(analyzerAddr, lis.Addr().String())
	}
	if cfg.runs("ingest") {
		lis, err := m.listen("ingest", cfg.ingestListen)
		if err != nil {
			return err
		}
		vconn, err := grpcx.Dial(or(validatorAddr, cfg.validatorListen), clientLimits)
		if err != nil {
			return err
		}
		aconn, err := grpcx.Dial(or(analyzerAddr, cfg.analyzerListen), clientLimits)
		if err != nil {
			return err
		}
		m.closers = append(m.closers, func() { vconn.Close(); aconn.Close() })
		log := m.logger("ingest")
		jobs, err := ingest.OpenJobStore(filepath.Join(cfg.dataDir, "jobs.db"))
		if err != nil {
			return err
		}
		m.closers = append(m.closers, func() { jobs.Close() })
		svc := ingest.NewServer(store, jobs,
			validatorv1.NewValidatorServiceClient(vconn),
			analyzerv1.NewAnalyzerServiceClient(aconn),
			ingest.WithLogger(log),
			ingest.WithMaxUploadBytes(int64(cfg.maxUploadBytes)),
			ingest.WithWorkers(cfg.workers),
			ingest.WithStageTimeout(cfg.stageTimeout),
			ingest.WithRetry(cfg.retryAttempts, cfg.retryBackoff),
			ingest.WithUploadIdleTimeout(cfg.uploadIdle),
		)
		if err := svc.Start(ctx); err != nil {
			return err
		}
		// Stop the job workers before the servers drain, so that no running
		// job sees its downstream go away and fails: it stays in its state
		// and resumes on the next start.
		m.stoppers = append(m.stoppers, func() { svc.Stop() })
		l := limits
		l.Logger = log
		srv := grpcx.NewServer(l)
		ingestv1.RegisterIngestServiceServer(srv, svc)
		m.serveGRPC(srv, lis, ingestv1.IngestService_ServiceDesc.ServiceName)
		ingestAddr = or(ingestAddr, lis.Addr().String())
	}
	if cfg.runs("gateway") {
		lis, err := m.listen("gateway", cfg.gatewayListen)
		if err != nil {
			return err
		}
		conn, err := grpcx.Dial(or(ingestAddr, cfg.ingestListen), clientLimits)
		if err != nil {
			return err
		}
		m.closers = append(m.closers, func() { conn.Close() })
		log := m.logger("gateway")
		h, err := gateway.New(ctx, conn,
			gateway.WithLogger(log),
			// Headroom for multipart framing around a file at the limit;
			// ingest enforces the limit on the file itself.
			gateway.WithMaxUploadBytes(int64(cfg.maxUploadBytes)+8<<20),
		)
		if err != nil {
			return err
		}
		// No read or write timeout: uploads and watches run long.
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			if err := gateway.Serve(m.serveCtx, hs, lis, m.cfg.drainTimeout); err != nil {
				m.errc <- fmt.Errorf("gateway: %w", err)
			}
		}()
	}
	return nil
}

// wait blocks until ctx is done (a signal) or a server fails.
func (m *mesh) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		m.log.Info("shutting down", "drain_timeout", m.cfg.drainTimeout.String())
		return nil
	case err := <-m.errc:
		return err
	}
}

// stop drains and stops every server, then releases clients and stores.
func (m *mesh) stop() {
	for _, f := range m.stoppers {
		f()
	}
	if m.cancelServe != nil {
		m.cancelServe()
	}
	m.wg.Wait()
	for i := len(m.closers) - 1; i >= 0; i-- {
		m.closers[i]()
	}
}
