package main

// This file holds the end-to-end harness: it builds the real csvmeshd (and
// csvctl) binaries, runs an OTLP trace receiver on loopback, and starts and
// stops csvmeshd processes, collecting their JSON logs.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

var (
	binDir   string
	buildMu  sync.Mutex
	binaries = map[string]string{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "csvmesh-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot returns the repository's top directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// binary builds the Go command at pkg (relative to the repository root) once
// per test run and returns the path of the executable.
func binary(t *testing.T, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := binaries[pkg]; ok {
		return p
	}
	out := filepath.Join(binDir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	binaries[pkg] = out
	return out
}

// span is what the test keeps of an exported span.
type span struct {
	Service string
	Name    string
	TraceID string
	SpanID  string
	Parent  string
}

// collector is an OTLP/gRPC trace receiver: csvmeshd processes export their
// spans to it through the standard OTEL_* environment variables.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	addr string

	mu    sync.Mutex
	spans []span
}

func startCollector(t *testing.T) *collector {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{addr: lis.Addr().String()}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, c)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return c
}

// Export implements the OTLP trace service.
func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, span{
					Service: service,
					Name:    s.GetName(),
					TraceID: hex.EncodeToString(s.GetTraceId()),
					SpanID:  hex.EncodeToString(s.GetSpanId()),
					Parent:  hex.EncodeToString(s.GetParentSpanId()),
				})
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *collector) snapshot() []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]span(nil), c.spans...)
}

// env returns the OTEL_* variables that make a process export to c.
func (c *collector) env(service string) []string {
	return []string{
		"OTEL_TRACES_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + c.addr,
		"OTEL_EXPORTER_OTLP_INSECURE=true",
		"OTEL_BSP_SCHEDULE_DELAY=100",
		"OTEL_METRICS_EXPORTER=none",
		"OTEL_LOGS_EXPORTER=none",
		"OTEL_SERVICE_NAME=" + service,
	}
}

// waitSpans waits until ok holds for the spans received so far.
func (c *collector) waitSpans(t *testing.T, timeout time.Duration, ok func([]span) bool) []span {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := c.snapshot()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proc is one running csvmeshd process.
type proc struct {
	name  string
	cmd   *exec.Cmd
	addrs map[string]string // listener name -> address
	done  chan struct{}
	err   error

	mu    sync.Mutex
	lines []string
}

// logLines returns the stderr lines the process wrote so far.
func (p *proc) logLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// startProc starts csvmeshd with args and env added to the test's
// environment, and waits until it logs "csvmesh ready".
func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	bin := binary(t, "services/csvmeshd")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, addrs: map[string]string{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			switch rec["msg"] {
			case "listening":
				p.mu.Lock()
				p.addrs[fmt.Sprint(rec["listener"])] = fmt.Sprint(rec["addr"])
				p.mu.Unlock()
			case "csvmesh ready":
				once.Do(func() { close(ready) })
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("--- logs of %s:\n%s", name, strings.Join(p.logLines(), "\n"))
		}
	})
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("%s exited before it was ready (%v):\n%s", name, p.err, strings.Join(p.logLines(), "\n"))
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready after 60s:\n%s", name, strings.Join(p.logLines(), "\n"))
	}
	return p
}

// addr returns where listener (ingest, validator, analyzer, gateway) listens.
func (p *proc) addr(t *testing.T, listener string) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.addrs[listener]
	if !ok {
		t.Fatalf("%s did not log a %s listener", p.name, listener)
	}
	return a
}

// stop sends sig and waits for the process to exit; it returns the exit error.
func (p *proc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not exit within 30s of %v", p.name, sig)
	}
	return p.err
}

// waitHealthy waits until the gRPC server at addr reports SERVING.
func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jsonLines checks that every line is a JSON object with a service field and
// returns the decoded records.
func jsonLines(t *testing.T, name string, lines []string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for i, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("%s log line %d is not JSON: %q", name, i+1, l)
			continue
		}
		if _, ok := rec["service"]; !ok {
			t.Errorf("%s log line %d has no service: %q", name, i+1, l)
		}
		recs = append(recs, rec)
	}
	return recs
}

// mesh4 is csvmesh running as four processes on loopback sharing one data
// directory, exporting spans to one collector.
type mesh4 struct {
	dataDir                              string
	col                                  *collector
	validator, analyzer, ingest, gateway *proc
	ingestAddr, gatewayAddr              string
	validatorAddr, analyzerAddr          string
}

func startMesh4(t *testing.T, extra ...string) *mesh4 {
	t.Helper()
	m := &mesh4{dataDir: t.TempDir(), col: startCollector(t)}
	common := append([]string{"--data-dir", m.dataDir, "--drain-timeout", "5s"}, extra...)
	m.validator = startProc(t, "validator", m.col.env("csvmesh-validator"),
		append([]string{"--target=validator", "--validator-listen=127.0.0.1:0"}, common...)...)
	m.validatorAddr = m.validator.addr(t, "validator")
	m.analyzer = startProc(t, "analyzer", m.col.env("csvmesh-analyzer"),
		append([]string{"--target=analyzer", "--analyzer-listen=127.0.0.1:0"}, common...)...)
	m.analyzerAddr = m.analyzer.addr(t, "analyzer")
	m.ingest = m.startIngest(t, "127.0.0.1:0", extra...)
	m.ingestAddr = m.ingest.addr(t, "ingest")
	m.gateway = startProc(t, "gateway", m.col.env("csvmesh-gateway"),
		append([]string{"--target=gateway", "--gateway-listen=127.0.0.1:0", "--ingest-addr=" + m.ingestAddr}, common...)...)
	m.gatewayAddr = m.gateway.addr(t, "gateway")
	for _, a := range []string{m.validatorAddr, m.analyzerAddr, m.ingestAddr} {
		waitHealthy(t, a)
	}
	return m
}

// startIngest starts (or restarts) the ingest process on listen.
func (m *mesh4) startIngest(t *testing.T, listen string, extra ...string) *proc {
	t.Helper()
	return startProc(t, "ingest", m.col.env("csvmesh-ingest"),
		append([]string{"--target=ingest", "--ingest-listen=" + listen,
			"--validator-addr=" + m.validatorAddr, "--analyzer-addr=" + m.analyzerAddr,
			"--data-dir", m.dataDir, "--drain-timeout", "5s"}, extra...)...)
}

// runCmd runs a command and returns its stdout, failing the test with its
// stderr if it fails.
func runCmd(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
