package ingest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

// Job ids are 16 random bytes written as 32 lowercase hex digits.
const jobIDLen = 32

func newJobID() string {
	var b [jobIDLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func validJobID(id string) bool {
	if len(id) != jobIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func jobName(id string) string { return "jobs/" + id }

// parseJobName returns the id of a job name, `jobs/{id}`.
func parseJobName(field, name string) (string, error) {
	id, ok := strings.CutPrefix(name, "jobs/")
	if name == "" {
		return "", invalidField(field, "a job name is required, such as jobs/0123456789abcdef0123456789abcdef")
	}
	if !ok || !validJobID(id) {
		return "", invalidField(field, "%q is not a job name; expected jobs/{id} with a 32-digit lowercase hex id", name)
	}
	return id, nil
}

// artifact kinds and their resource-name segments, object names and media
// types.
type artifactKind struct {
	kind        ingestv1.Artifact_Kind
	segment     string
	object      string
	contentType string
}

var artifactKinds = []artifactKind{
	{ingestv1.Artifact_KIND_SOURCE, "source", "source.csv", "text/csv"},
	{ingestv1.Artifact_KIND_NORMALIZED, "normalized", "normalized.csv", "text/csv"},
	{ingestv1.Artifact_KIND_PARQUET, "parquet", "normalized.parquet", "application/vnd.apache.parquet"},
	{ingestv1.Artifact_KIND_REJECTS, "rejects", "rejects.csv", "text/csv"},
	{ingestv1.Artifact_KIND_SCHEMA, "schema", "schema.json", "application/json"},
	{ingestv1.Artifact_KIND_ERROR_REPORT, "errors", "errors.json", "application/json"},
	{ingestv1.Artifact_KIND_REPORT, "report", "report.json", "application/json"},
}

// outputKinds are the artifacts the stages write: every kind but the source.
var outputKinds = []ingestv1.Artifact_Kind{
	ingestv1.Artifact_KIND_NORMALIZED, ingestv1.Artifact_KIND_PARQUET, ingestv1.Artifact_KIND_REJECTS,
	ingestv1.Artifact_KIND_SCHEMA, ingestv1.Artifact_KIND_ERROR_REPORT, ingestv1.Artifact_KIND_REPORT,
}

func artifactOf(k ingestv1.Artifact_Kind) artifactKind {
	for _, a := range artifactKinds {
		if a.kind == k {
			return a
		}
	}
	panic("ingest: unknown artifact kind " + k.String())
}

// objectKey is the storage key of one of a job's objects.
func objectKey(id string, k ingestv1.Artifact_Kind) string {
	return "jobs/" + id + "/" + artifactOf(k).object
}

func artifactName(id string, k ingestv1.Artifact_Kind) string {
	return "jobs/" + id + "/artifacts/" + artifactOf(k).segment
}

// parseArtifactName splits `jobs/{id}/artifacts/{artifact}`. A well-formed
// name whose artifact segment names no kind is a NotFound, not a malformed
// name.
func parseArtifactName(field, name string) (string, artifactKind, error) {
	jobPart, seg, ok := strings.Cut(strings.TrimPrefix(name, "jobs/"), "/artifacts/")
	if name == "" {
		return "", artifactKind{}, invalidField(field, "an artifact name is required, such as jobs/{id}/artifacts/report")
	}
	if !strings.HasPrefix(name, "jobs/") || !ok || !validJobID(jobPart) || seg == "" || strings.Contains(seg, "/") {
		return "", artifactKind{}, invalidField(field, "%q is not an artifact name; expected jobs/{id}/artifacts/{%s}", name, artifactSegments())
	}
	for _, a := range artifactKinds {
		if a.segment == seg {
			return jobPart, a, nil
		}
	}
	return "", artifactKind{}, &notFoundError{resourceType: resourceTypeArtifact, name: name}
}

// artifactSegments lists the artifact segments, `source|normalized|...`.
func artifactSegments() string {
	segs := make([]string, len(artifactKinds))
	for i, a := range artifactKinds {
		segs[i] = a.segment
	}
	return strings.Join(segs, "|")
}
