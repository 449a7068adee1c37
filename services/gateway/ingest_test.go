package gateway_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	"github.com/csvmesh/csvmesh/services/gateway"
	"github.com/csvmesh/csvmesh/services/ingest"
	"github.com/csvmesh/csvmesh/services/internal/grpctest"
	"github.com/csvmesh/csvmesh/services/internal/grpcx"
	"github.com/csvmesh/csvmesh/services/internal/storage"
)

// TestAgainstIngest drives the real ingest server through the gateway: a
// multipart upload, reading the job back, the raw download of the stored
// source, cancelling the job and watching its events to the end. Ingest's
// workers are not started (no validator or analyzer is involved), so the job
// stays PENDING until it is cancelled.
func TestAgainstIngest(t *testing.T) {
	store, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := ingest.OpenJobStore(filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jobs.Close() })
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: discard})
	ingestv1.RegisterIngestServiceServer(srv, ingest.NewServer(store, jobs, nil, nil, ingest.WithLogger(discard)))
	h, err := gateway.New(t.Context(), grpctest.Serve(t, srv), gateway.WithLogger(discard), gateway.WithChunkSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	e := &env{url: ts.URL, client: ts.Client()}

	file := csvBody(100_000)
	sum := sha256.Sum256(file)
	body, ct := multipartBody(t, [][2]string{{"sha256", hex.EncodeToString(sum[:])}, {"schema", testSchemaJSON}}, "prices.csv", file, nil)
	req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", body)
	req.Header.Set("Content-Type", ct)
	resp, got := e.do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: status %d, body %s", resp.StatusCode, got)
	}
	var up struct {
		Job struct {
			Name      string `json:"name"`
			FileName  string `json:"file_name"`
			State     string `json:"state"`
			SizeBytes string `json:"size_bytes"`
			Sha256    string `json:"sha256"`
		} `json:"job"`
	}
	if err := json.Unmarshal(got, &up); err != nil {
		t.Fatalf("upload answer %s: %v", got, err)
	}
	if up.Job.FileName != "prices.csv" || up.Job.State != "STATE_PENDING" || up.Job.SizeBytes != "100000" || up.Job.Sha256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("upload answer %s", got)
	}
	jobID := strings.TrimPrefix(up.Job.Name, "jobs/")

	resp, got = e.do(t, e.newRequest(t, http.MethodGet, "/v1/"+up.Job.Name, nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"file_name":"prices.csv"`) {
		t.Errorf("get: %d %s", resp.StatusCode, got)
	}

	resp, got = e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/"+jobID+"/artifacts/source:download", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d %s", resp.StatusCode, got)
	}
	if !bytes.Equal(got, file) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", len(got), len(file))
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != "attachment; filename="+jobID+"-source.csv" {
		t.Errorf("Content-Disposition = %q", cd)
	}

	resp, got = e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/"+jobID+"/artifacts/report:download", nil))
	if resp.StatusCode == http.StatusOK {
		t.Errorf("download of a report that does not exist: 200 %s", got)
	}

	resp, got = e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/nosuchjob", nil))
	checkError(t, resp, got, http.StatusBadRequest, codes.InvalidArgument, "name")
	resp, got = e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs/"+strings.Repeat("0", 32), nil))
	checkError(t, resp, got, http.StatusNotFound, codes.NotFound, "")

	resp, got = e.do(t, e.newRequest(t, http.MethodPost, "/v1/"+up.Job.Name+":cancel", nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"state":"STATE_CANCELLED"`) {
		t.Fatalf("cancel: %d %s", resp.StatusCode, got)
	}
	resp, got = e.do(t, e.newRequest(t, http.MethodPost, "/v1/"+up.Job.Name+":cancel", nil))
	checkError(t, resp, got, http.StatusBadRequest, codes.FailedPrecondition, "")

	// The job is terminal: the watch replays its events and ends.
	resp, got = e.do(t, e.newRequest(t, http.MethodGet, "/v1/"+up.Job.Name+":watch", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: %d %s", resp.StatusCode, got)
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(got))
	n := 0
	for sc.Scan() {
		var line struct {
			Result *struct {
				Event struct {
					State string `json:"state"`
				} `json:"event"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Result == nil {
			t.Fatalf("watch line %q: %v", sc.Bytes(), err)
		}
		last = line.Result.Event.State
		n++
	}
	if n < 2 || last != "STATE_CANCELLED" {
		t.Errorf("watch gave %d events ending in %q, want the upload and the cancel: %s", n, last, got)
	}

	resp, got = e.do(t, e.newRequest(t, http.MethodGet, "/v1/jobs?page_size=10", nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"name":"`+up.Job.Name+`"`) {
		t.Errorf("list: %d %s", resp.StatusCode, got)
	}
}

// TestAnalysisOptionsAgainstIngest uploads through the gateway to the real
// ingest server with percentiles and columns: valid ones are on the job,
// invalid ones are answered 400 with ingest's field violation naming the
// percentile or column.
func TestAnalysisOptionsAgainstIngest(t *testing.T) {
	store, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := ingest.OpenJobStore(filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jobs.Close() })
	srv := grpcx.NewServer(grpcx.ServerConfig{Logger: discard})
	ingestv1.RegisterIngestServiceServer(srv, ingest.NewServer(store, jobs, nil, nil, ingest.WithLogger(discard)))
	h, err := gateway.New(t.Context(), grpctest.Serve(t, srv), gateway.WithLogger(discard))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	e := &env{url: ts.URL, client: ts.Client()}
	file := csvBody(1000)

	for _, enc := range uploadEncodings {
		t.Run(enc.name+"/accepted", func(t *testing.T) {
			resp, got := e.do(t, enc.request(t, e, [][2]string{{"schema", testSchemaJSON}, {"percentiles", "0.9,0.1"}, {"columns", "price"}, {"exact_categorical", "1"}}, file))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("upload: status %d, body %s", resp.StatusCode, got)
			}
			var up struct {
				Job struct {
					AnalysisOptions struct {
						Percentiles      []float64 `json:"percentiles"`
						Columns          []string  `json:"columns"`
						ExactCategorical bool      `json:"exact_categorical"`
					} `json:"analysis_options"`
				} `json:"job"`
			}
			if err := json.Unmarshal(got, &up); err != nil {
				t.Fatalf("upload answer %s: %v", got, err)
			}
			o := up.Job.AnalysisOptions
			if len(o.Percentiles) != 2 || o.Percentiles[0] != 0.9 || o.Percentiles[1] != 0.1 || len(o.Columns) != 1 || o.Columns[0] != "price" || !o.ExactCategorical {
				t.Errorf("job's analysis options %+v, want percentiles [0.9 0.1], columns [price] and exact_categorical", o)
			}
		})
		refused := []struct {
			name   string
			params [][2]string
			field  string
		}{
			{"percentile out of range", [][2]string{{"percentiles", "0.5,1.5"}}, "metadata.analysis_options.percentiles[1]"},
			{"duplicate percentile", [][2]string{{"percentiles", "0.5,0.50"}}, "metadata.analysis_options.percentiles[1]"},
			{"empty column", [][2]string{{"columns", "id,"}}, "metadata.analysis_options.columns[1]"},
			{"column not in the schema", [][2]string{{"schema", testSchemaJSON}, {"columns", "id,qty"}}, "metadata.analysis_options.columns[1]"},
		}
		for _, tc := range refused {
			t.Run(enc.name+"/"+tc.name, func(t *testing.T) {
				resp, got := e.do(t, enc.request(t, e, tc.params, file))
				checkError(t, resp, got, http.StatusBadRequest, codes.InvalidArgument, tc.field)
			})
		}
	}
}
