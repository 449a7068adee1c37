package main

import (
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	t.Run("defaults", func(t *testing.T) {
		c, err := parseConfig(nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.target != "all" || c.dataDir != "csvmesh-data" || c.ingestListen != "127.0.0.1:50051" ||
			c.gatewayListen != "127.0.0.1:8080" || c.maxUploadBytes != 10<<30 || c.workers != 2 || c.stageTimeout != time.Hour ||
			c.memoryBudget != 256<<20 || c.maxSpillBytes != 64<<30 {
			t.Errorf("defaults = %+v", c)
		}
	})
	t.Run("environment, then flags on top", func(t *testing.T) {
		c, err := parseConfig([]string{"--workers=3", "--max-upload-bytes=2GiB"}, env(map[string]string{
			"CSVMESH_TARGET":           "ingest",
			"CSVMESH_WORKERS":          "7",
			"CSVMESH_DATA_DIR":         "/srv/csvmesh",
			"CSVMESH_MAX_UPLOAD_BYTES": "5MB",
			"CSVMESH_STAGE_TIMEOUT":    "90s",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.target != "ingest" || c.workers != 3 || c.dataDir != "/srv/csvmesh" || c.maxUploadBytes != 2<<30 || c.stageTimeout != 90*time.Second {
			t.Errorf("got %+v", c)
		}
		if !c.runs("ingest") || c.runs("gateway") {
			t.Error("runs() disagrees with --target=ingest")
		}
	})
	bad := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"unknown target", []string{"--target=web"}, nil},
		{"zero workers", []string{"--workers=0"}, nil},
		{"bad size", []string{"--max-upload-bytes=lots"}, nil},
		{"negative size", []string{"--max-upload-bytes=-1"}, nil},
		{"tiny messages", []string{"--max-message-bytes=1KiB"}, nil},
		{"bad env", nil, map[string]string{"CSVMESH_WORKERS": "many"}},
		{"stray argument", []string{"extra"}, nil},
		{"zero timeout", []string{"--stage-timeout=0s"}, nil},
		{"unknown log level", []string{"--log-level=bogus"}, nil},
		{"record shorter than a field", []string{"--max-field-bytes=8MiB", "--max-record-bytes=4MiB"}, nil},
		{"no attempts", []string{"--retry-attempts=0"}, nil},
		{"no analyses", []string{"--max-analyses=0"}, nil},
		{"no streams", []string{"--max-concurrent-streams=0"}, nil},
		{"no spill", []string{"--max-spill-bytes=0"}, nil},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseConfig(tc.args, env(tc.env)); err == nil {
				t.Errorf("parseConfig(%q, %v) succeeded, want an error", tc.args, tc.env)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"512", 512}, {"64KiB", 64 << 10}, {"64kib", 64 << 10}, {"100MB", 100e6}, {"10GiB", 10 << 30},
		{"1GB", 1e9}, {"7B", 7}, {"3M", 3 << 20}, {" 2 GiB ", 2 << 30},
	}
	for _, tc := range tests {
		got, err := parseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "MB", "1.5GB", "-3", "99999999999TiB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) succeeded, want an error", in)
		}
	}
}

func TestDerivedLimits(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := parseConfig([]string{"--max-analyses=3", "--memory-budget=100MiB", "--max-record-bytes=1MiB", "--max-fields=10"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.goMemoryLimit(env(nil)), int64(3*100<<20+256<<20); got != want {
		t.Errorf("memory limit = %d, want max-analyses x budget + 256MiB = %d", got, want)
	}
	if got := c.goMemoryLimit(env(map[string]string{"GOMEMLIMIT": "1GiB"})); got != 0 {
		t.Errorf("memory limit with GOMEMLIMIT set = %d, want 0 (the runtime's own)", got)
	}
	if got, want := c.normalizedRecordBytes(), 2<<20+2*10+2; got != want {
		t.Errorf("analyzer record limit = %d, want %d", got, want)
	}
	c.target = "gateway"
	if got := c.goMemoryLimit(env(nil)); got != 0 {
		t.Errorf("a gateway-only process gets memory limit %d, want none", got)
	}
}
