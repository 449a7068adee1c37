package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/csvmesh/csvmesh/services/internal/grpcx"
)

// csvmeshdPkg is the package built when --csvmeshd is not given.
const csvmeshdPkg = "github.com/csvmesh/csvmesh/services/csvmeshd"

// buildCsvmeshd builds csvmeshd into dir and returns the binary's path.
func buildCsvmeshd(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "csvmeshd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, csvmeshdPkg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", csvmeshdPkg, err, out)
	}
	return bin, nil
}

// freePorts returns n distinct free loopback addresses. The listeners are
// closed before returning, so another process could take a port in between;
// on loopback in a benchmark that race is acceptable.
func freePorts(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// proc is one running csvmeshd process.
type proc struct {
	target string
	addr   string // where it listens
	cmd    *exec.Cmd
	log    string // path of its stderr log
	done   chan struct{}
	err    error // the exit status, set before done is closed
}

// mesh is the four csvmeshd processes of one benchmark run.
type mesh struct {
	procs   []*proc // validator, analyzer, ingest, gateway
	ingest  string  // ingest's gRPC address
	gateway string  // gateway's HTTP address
}

// startMesh starts csvmeshd four times, one process per service, sharing
// dataDir, each logging to dataDir/logs/<target>.log.
func startMesh(bin, dataDir, logLevel string) (*mesh, error) {
	addrs, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	logDir := filepath.Join(dataDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	common := []string{
		"--data-dir=" + dataDir,
		"--log-level=" + logLevel,
		"--validator-listen=" + addrs[0],
		"--analyzer-listen=" + addrs[1],
		"--ingest-listen=" + addrs[2],
		"--gateway-listen=" + addrs[3],
		"--validator-addr=" + addrs[0],
		"--analyzer-addr=" + addrs[1],
		"--ingest-addr=" + addrs[2],
	}
	m := &mesh{ingest: addrs[2], gateway: addrs[3]}
	for i, target := range []string{"validator", "analyzer", "ingest", "gateway"} {
		p := &proc{target: target, addr: addrs[i], log: filepath.Join(logDir, target+".log"), done: make(chan struct{})}
		lf, err := os.Create(p.log)
		if err != nil {
			m.stop(time.Second)
			return nil, fmt.Errorf("create %s: %w", p.log, err)
		}
		p.cmd = exec.Command(bin, append([]string{"--target=" + target}, common...)...)
		p.cmd.Stdout, p.cmd.Stderr = lf, lf
		// Own process group, so a Ctrl-C reaches csvbench alone and it stops
		// the services in order; SIGTERM if csvbench dies without doing so.
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := p.cmd.Start(); err != nil {
			lf.Close()
			m.stop(time.Second)
			return nil, fmt.Errorf("start csvmeshd --target=%s: %w", target, err)
		}
		go func() {
			p.err = p.cmd.Wait()
			lf.Close()
			close(p.done)
		}()
		m.procs = append(m.procs, p)
	}
	return m, nil
}

// waitReady polls grpc.health.v1 Check on each gRPC service and GET /healthz
// on the gateway until all answer SERVING / 200, a process exits, or ctx is
// done.
func (m *mesh) waitReady(ctx context.Context) error {
	for _, p := range m.procs {
		check := func(ctx context.Context) error { return checkGRPC(ctx, p.addr) }
		if p.target == "gateway" {
			check = func(ctx context.Context) error { return checkHTTP(ctx, "http://"+p.addr+"/healthz") }
		}
		for {
			actx, cancel := context.WithTimeout(ctx, time.Second)
			err := check(actx)
			cancel()
			if err == nil {
				break
			}
			select {
			case <-p.done:
				return fmt.Errorf("csvmeshd --target=%s exited before it was ready (%v)%s", p.target, p.err, p.logTail(20))
			case <-ctx.Done():
				return fmt.Errorf("csvmeshd --target=%s not ready on %s: %w (last check: %v)%s", p.target, p.addr, ctx.Err(), err, p.logTail(20))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func checkGRPC(ctx context.Context, addr string) error {
	conn, err := grpcx.Dial(addr, grpcx.ClientConfig{})
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health status %s", s)
	}
	return nil
}

func checkHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// stop reads each process's peak RSS, then sends it SIGTERM and waits up to
// grace for it to exit before killing it. Processes are stopped front to
// back: gateway, ingest, then the workers. It returns the peak RSS of each
// process that was still running.
func (m *mesh) stop(grace time.Duration) ([]procRSS, error) {
	var rss []procRSS
	var errs []error
	for i := len(m.procs) - 1; i >= 0; i-- {
		p := m.procs[i]
		select {
		case <-p.done:
			errs = append(errs, fmt.Errorf("csvmeshd --target=%s had already exited (%v)%s", p.target, p.err, p.logTail(10)))
			continue
		default:
		}
		if hwm, err := peakRSS(p.cmd.Process.Pid); err == nil {
			rss = append(rss, procRSS{Name: p.target, Bytes: hwm})
		} else {
			errs = append(errs, err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", p.target, err))
		}
		select {
		case <-p.done:
			if p.err != nil {
				errs = append(errs, fmt.Errorf("csvmeshd --target=%s exited with %v after SIGTERM%s", p.target, p.err, p.logTail(10)))
			}
		case <-time.After(grace):
			p.cmd.Process.Kill()
			<-p.done
			errs = append(errs, fmt.Errorf("csvmeshd --target=%s did not exit within %s of SIGTERM; killed", p.target, grace))
		}
	}
	return rss, errors.Join(errs...)
}

// logTail returns the last n lines of the process's log, indented, for an
// error message.
func (p *proc) logTail(n int) string {
	data, err := os.ReadFile(p.log)
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n  " + p.target + " log (" + p.log + "):\n    " + strings.Join(lines, "\n    ")
}

// peakRSS returns VmHWM, the peak resident set size, of process pid in
// bytes; pid 0 means this process.
func peakRSS(pid int) (int64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	return parseVmHWM(data)
}

// parseVmHWM finds the "VmHWM:  1234 kB" line of a /proc/<pid>/status file.
func parseVmHWM(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("peak RSS: unexpected line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("peak RSS: %q: %w", line, err)
		}
		return kb << 10, nil
	}
	return 0, errors.New("peak RSS: no VmHWM line in status")
}

// loadAvg returns the 1, 5 and 15 minute load averages from /proc/loadavg,
// or "unknown".
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
