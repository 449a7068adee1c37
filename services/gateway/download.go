package gateway

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

const (
	downloadPattern = "/v1/jobs/{job}/artifacts/{artifact}:download"
	downloadMethod  = "/csvmesh.ingest.v1.IngestService/DownloadArtifact"
)

// download serves GET /v1/jobs/{job}/artifacts/{artifact}:download: the
// artifact's bytes as the body, copied chunk by chunk from DownloadArtifact.
func (g *gateway) download(w http.ResponseWriter, r *http.Request, params map[string]string) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	job, artifact := params["job"], params["artifact"]
	actx, err := runtime.AnnotateContext(ctx, g.mux, r, downloadMethod, runtime.WithHTTPPathPattern(downloadPattern))
	if err != nil {
		g.writeError(ctx, w, r, err)
		return
	}
	stream, err := g.client.DownloadArtifact(actx, &ingestv1.DownloadArtifactRequest{Name: "jobs/" + job + "/artifacts/" + artifact})
	if err != nil {
		g.writeError(actx, w, r, err)
		return
	}
	// Until the first message arrives nothing is written, so an error still
	// gets its own HTTP status.
	first, err := stream.Recv()
	ended := errors.Is(err, io.EOF)
	switch {
	case ended:
		first = &ingestv1.DownloadArtifactResponse{}
	case err != nil:
		g.writeError(actx, w, r, err)
		return
	}
	ct := first.GetContentType()
	if ct == "" {
		ct = artifactFiles[artifact].contentType
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(job, artifact, ct)}))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(first.GetChunk()); err != nil {
		return // the client went away; cancel ends the gRPC stream
	}
	// Commit the status and headers now: the client learns at once that the
	// download started, however long the next chunk takes.
	_ = http.NewResponseController(w).Flush()
	for !ended {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// The status line is gone: abort the response so the client
			// sees a broken transfer, not a complete-looking short file.
			g.cfg.logger.ErrorContext(actx, "artifact download failed mid-stream",
				"artifact", "jobs/"+job+"/artifacts/"+artifact, "error", err)
			panic(http.ErrAbortHandler)
		}
		if _, err := w.Write(msg.GetChunk()); err != nil {
			return // the client went away
		}
	}
}

// artifactFile is how a known artifact is saved: its file name and the
// Content-Type answered when ingest gives none.
type artifactFile struct {
	name, contentType string
}

// artifactFiles maps the artifact segment of a resource name to its file.
var artifactFiles = map[string]artifactFile{
	"source":     {"source.csv", "text/csv"},
	"normalized": {"normalized.csv", "text/csv"},
	"parquet":    {"normalized.parquet", "application/vnd.apache.parquet"},
	"rejects":    {"rejects.csv", "text/csv"},
	"schema":     {"schema.json", "application/json"},
	"errors":     {"errors.json", "application/json"},
	"report":     {"report.json", "application/json"},
}

// downloadName is the attachment file name of an artifact: "{job}-" and the
// artifact's file name (normalized.csv, normalized.parquet, schema.json,
// ...); for an artifact this gateway does not know, "{job}-{artifact}" with
// an extension for CSV and JSON.
func downloadName(job, artifact, contentType string) string {
	if f, ok := artifactFiles[artifact]; ok {
		return job + "-" + f.name
	}
	name := job + "-" + artifact
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "text/csv":
		return name + ".csv"
	case "application/json":
		return name + ".json"
	}
	return name
}
