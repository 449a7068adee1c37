package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readmeBlocks returns the bash blocks of README.md that follow a
// `<!-- readme-test: NAME -->` marker, by name.
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- readme-test: ([a-z0-9-]+) -->\n```bash\n(.*?)```")
	blocks := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		blocks[m[1]] = m[2]
	}
	return blocks
}

// startGoRun runs the README's first command, `go run ./services/csvmeshd`,
// from the repository root with env added, and waits until it is ready. It
// returns the listeners' addresses.
func startGoRun(t *testing.T, env []string) map[string]string {
	t.Helper()
	cmd := exec.Command("go", "run", "./services/csvmeshd")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		lines []string
		addrs = map[string]string{}
	)
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			var rec map[string]any
			mu.Lock()
			lines = append(lines, sc.Text())
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				switch rec["msg"] {
				case "listening":
					addrs[fmt.Sprint(rec["listener"])] = fmt.Sprint(rec["addr"])
				case "csvmesh ready":
					once.Do(func() { close(ready) })
				}
			}
			mu.Unlock()
		}
		cmd.Wait()
	}()
	logs := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "\n")
	}
	t.Cleanup(func() {
		// SIGTERM the whole group (go run and the program it started): the
		// program must drain and exit on its own.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Errorf("csvmeshd did not stop within 30s of SIGTERM")
		}
		if !strings.Contains(logs(), `"msg":"stopped"`) {
			t.Errorf("csvmeshd did not log a clean stop after SIGTERM")
		}
		if t.Failed() {
			t.Logf("--- csvmeshd logs:\n%s", logs())
		}
	})
	select {
	case <-ready:
	case <-done:
		t.Fatalf("go run ./services/csvmeshd exited early:\n%s", logs())
	case <-time.After(3 * time.Minute):
		t.Fatalf("go run ./services/csvmeshd not ready:\n%s", logs())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, l := range []string{"ingest", "validator", "analyzer", "gateway"} {
		if addrs[l] == "" {
			t.Fatalf("no %s listener logged:\n%s", l, strings.Join(lines, "\n"))
		}
	}
	return addrs
}

// TestREADME runs the README's commands as they stand: the mesh with
// `go run ./services/csvmeshd` (on free ports, through the CSVMESH_*
// variables), then each walkthrough block in bash, with the documented
// default addresses replaced by the ones the mesh actually listens on.
func TestREADME(t *testing.T) {
	root := repoRoot(t)
	for _, tool := range []string{"bash", "curl", "jq", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README walkthroughs need %s on PATH: %v", tool, err)
		}
	}
	// grpcurl at its pinned version, installed by the repo's own script.
	runCmd(t, root, nil, filepath.Join(root, ".ci", "install-tools"))

	addrs := startGoRun(t, []string{
		"CSVMESH_DATA_DIR=" + t.TempDir(),
		"CSVMESH_INGEST_LISTEN=127.0.0.1:0",
		"CSVMESH_VALIDATOR_LISTEN=127.0.0.1:0",
		"CSVMESH_ANALYZER_LISTEN=127.0.0.1:0",
		"CSVMESH_GATEWAY_LISTEN=127.0.0.1:0",
	})
	for _, l := range []string{"ingest", "validator", "analyzer"} {
		waitHealthy(t, addrs[l])
	}
	blocks := readmeBlocks(t)
	gobin := t.TempDir()
	env := []string{
		"GOBIN=" + gobin,
		"PATH=" + gobin + ":" + filepath.Join(root, ".ci", "bin") + ":" + os.Getenv("PATH"),
		"CSVCTL_ADDR=" + addrs["ingest"],
	}
	replacer := strings.NewReplacer(
		"localhost:50051", addrs["ingest"],
		"localhost:50052", addrs["validator"],
		"localhost:50053", addrs["analyzer"],
		"localhost:8080", addrs["gateway"],
	)
	tests := []struct {
		block string
		want  []string
	}{
		{"csvctl", []string{"SUCCEEDED", "price", "mean", "missing-cell", "line"}},
		{"curl", []string{"STATE_SUCCEEDED", `"row_count"`, "symbol,price,quantity", "STATE_"}},
		{"grpcurl", []string{"csvmesh.ingest.v1.IngestService", "grpc.health.v1.Health", "rpc UploadFile", "STATE_SUCCEEDED", "SERVING"}},
		{"grpcurl-upload", []string{`"name": "jobs/`, "tiny.csv"}},
		{"report", []string{"5%", "95%", "AAPL", `{"name":"symbol","count":"5"`, `{"name":"price","count":"4","null_count":"1"}`}},
		{"schema", []string{"ACME-01,2026-03-02,1234.50,EUR,invoice 17", `ACME-02,2026-03-03,-99.00,EUR,"'=HYPERLINK(""http://example.com"")"`,
			"primary-key", "type-error", "exit status 3", "2 of 4 rows"}},
	}
	for _, tc := range tests {
		t.Run(tc.block, func(t *testing.T) {
			script, ok := blocks[tc.block]
			if !ok {
				t.Fatalf("README.md has no readme-test block %q", tc.block)
			}
			script = "set -euo pipefail\n" + replacer.Replace(script)
			cmd := exec.Command("bash", "-c", script)
			// The csvctl walkthrough starts in the repository (go install
			// ./clients/csvctl) and moves to a scratch directory itself; the
			// others run in the scratch directory it left the reader in.
			cmd.Dir = t.TempDir()
			if strings.Contains(script, "go install ./") {
				cmd.Dir = root
			}
			cmd.Env = append(os.Environ(), env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("README block %q failed: %v\n%s", tc.block, err, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("README block %q: output lacks %q:\n%s", tc.block, w, out.String())
				}
			}
		})
	}
}
