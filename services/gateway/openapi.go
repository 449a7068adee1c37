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
				"or as multipart/form-data whose fields, named like the query parameters, come before the part named file; " +
				"in a multipart body the schema may also be a file part named schema. The dialect parameters (delimiter to encoding) " +
				"override detection; the validation options (max_invalid_rows to neutralize_formulas) set thresholds and outputs; " +
				"percentiles and columns say what the statistical report holds.",
			"operationId": "IngestService_UploadFileREST",
			"tags":        []string{"IngestService"},
			"consumes":    []string{"text/csv", "application/octet-stream", "multipart/form-data"},
			"produces":    []string{"application/json"},
			"parameters": append(uploadQueryParameters(),
				map[string]any{"name": "body", "in": "body", "required": true, "schema": map[string]any{"type": "string", "format": "binary"}},
			),
			"responses": map[string]any{
				"200": map[string]any{"description": "The file is stored; the job runs.", "schema": map[string]any{
					"type": "object", "properties": map[string]any{"job": map[string]any{"$ref": "#/definitions/v1Job"}}}},
				"400":     map[string]any{"description": "Bad metadata (a parameter that does not parse, an invalid Table Schema, dialect or option), an empty file, or a size or SHA-256 mismatch; the details name the field.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"413":     map[string]any{"description": "The file is over the limit.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"415":     map[string]any{"description": "An unsupported Content-Type.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"default": map[string]any{"description": "An error.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
			},
		},
	},
	"/v1/{name}:download": map[string]any{
		"get": map[string]any{
			"summary": "DownloadArtifact over REST: the artifact's bytes as the body, with its Content-Type and a Content-Disposition filename " +
				"{job}-source.csv, -normalized.csv, -normalized.parquet, -rejects.csv, -schema.json, -errors.json or -report.json.",
			"operationId": "IngestService_DownloadArtifactRaw",
			"tags":        []string{"IngestService"},
			"produces":    []string{"text/csv", "application/json", "application/vnd.apache.parquet"},
			"parameters": []any{
				map[string]any{"name": "name", "in": "path", "required": true, "type": "string", "pattern": "jobs/[^/]+/artifacts/[^/]+",
					"description": "The artifact's resource name, jobs/{job}/artifacts/{artifact} where {artifact} is " +
						"source, normalized, parquet, rejects, schema, errors or report."},
			},
			"responses": map[string]any{
				"200":     map[string]any{"description": "The artifact.", "schema": map[string]any{"type": "file"}},
				"404":     map[string]any{"description": "No such job or artifact.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
				"default": map[string]any{"description": "An error.", "schema": map[string]any{"$ref": "#/definitions/rpcStatus"}},
			},
		},
	},
}

// uploadQueryParameters describes metaFields as OpenAPI query parameters.
func uploadQueryParameters() []any {
	params := make([]any, 0, len(metaFields)+1)
	for _, f := range metaFields {
		p := map[string]any{"name": f.name, "in": "query", "type": f.kind, "description": f.doc}
		if f.format != "" {
			p["format"] = f.format
		}
		if f.items != "" {
			p["items"] = map[string]any{"type": f.items}
			p["collectionFormat"] = "csv"
		}
		params = append(params, p)
	}
	return params
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
