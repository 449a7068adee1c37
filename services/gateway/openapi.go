package gateway

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// generatedOpenAPI is the OpenAPI v2 document buf generates from the ingest
// protos. It cannot describe the two routes written by hand (the streaming
// upload and the raw download), so openAPIDocument adds them.
//
//go:embed openapiv2/csvmesh.swagger.json
var generatedOpenAPI []byte

// handWrittenPaths describes the routes served by upload and download, in
// OpenAPI v2.
var handWrittenPaths = map[string]any{
	uploadPattern: map[string]any{
		"post": map[string]any{
			"summary": "UploadFile over REST: the body is streamed chunk by chunk into the gRPC upload; the answer is the new job.",
			"description": "Send the file as a raw body (Content-Type text/csv or application/octet-stream; metadata in the query) " +
				"or as multipart/form-data whose fields (file_name, sha256, idempotency_key, delimiter, schema) come before the part named file.",
			"operationId": "IngestService_UploadFileREST",
			"tags":        []string{"IngestService"},
			"consumes":    []string{"text/csv", "application/octet-stream", "multipart/form-data"},
			"produces":    []string{"application/json"},
			"parameters": []any{
				map[string]any{"name": "file_name", "in": "query", "type": "string", "description": "The file's name; required for a raw body, defaults to the file part's filename."},
				map[string]any{"name": "sha256", "in": "query", "type": "string", "description": "The file's SHA-256 in hex; the upload fails unless the bytes match."},
				map[string]any{"name": "idempotency_key", "in": "query", "type": "string", "description": "Also accepted as the Idempotency-Key header."},
				map[string]any{"name": "delimiter", "in": "query", "type": "string", "description": "One ASCII character, URL-encoded (%3B for ';')."},
				map[string]any{"name": "schema", "in": "query", "type": "string", "description": "JSON of csvmesh.type.v1.Schema."},
				map[string]any{"name": "body", "in": "body", "required": true, "schema": map[string]any{"type": "string", "format": "binary"}},
			},
			"responses": map[string]any{
				"200": map[string]any{"description": "The file is stored; the job runs.", "schema": map[string]any{
					"type": "object", "properties": map[string]any{"job": map[string]any{"$ref": "#/definitions/v1Job"}}}},
				"400":     map[string]any{"description": "Bad metadata, an empty file, or a size or SHA-256 mismatch.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"413":     map[string]any{"description": "The file is over the limit.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"415":     map[string]any{"description": "An unsupported Content-Type.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"default": map[string]any{"description": "An error.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
			},
		},
	},
	"/v1/{name}:download": map[string]any{
		"get": map[string]any{
			"summary":     "DownloadArtifact over REST: the artifact's bytes as the body, with its Content-Type and a Content-Disposition filename.",
			"operationId": "IngestService_DownloadArtifactRaw",
			"tags":        []string{"IngestService"},
			"produces":    []string{"text/csv", "application/json"},
			"parameters": []any{
				map[string]any{"name": "name", "in": "path", "required": true, "type": "string", "pattern": "jobs/[^/]+/artifacts/[^/]+",
					"description": "The artifact's resource name, jobs/{job}/artifacts/{source|normalized|rejects|report}."},
			},
			"responses": map[string]any{
				"200":     map[string]any{"description": "The artifact.", "schema": map[string]any{"type": "file"}},
				"404":     map[string]any{"description": "No such job or artifact.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"default": map[string]any{"description": "An error.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
			},
		},
	},
}

// openAPI is the document the gateway serves: the generated one plus the
// hand-written routes.
var openAPI = mustOpenAPIDocument(generatedOpenAPI)

func mustOpenAPIDocument(generated []byte) []byte {
	doc, err := openAPIDocument(generated)
	if err != nil {
		panic(err) // the embedded document is checked by the tests
	}
	return doc
}

// openAPIDocument adds handWrittenPaths to a generated document.
func openAPIDocument(generated []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(generated, &doc); err != nil {
		return nil, fmt.Errorf("gateway: generated OpenAPI document: %w", err)
	}
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("gateway: generated OpenAPI document has no paths")
	}
	for p, item := range handWrittenPaths {
		if _, dup := paths[p]; dup {
			return nil, fmt.Errorf("gateway: OpenAPI path %s is both generated and hand-written", p)
		}
		paths[p] = item
	}
	return json.MarshalIndent(doc, "", "  ")
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPI)))
	_, _ = w.Write(openAPI)
}
