package gateway

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPI is the OpenAPI v2 document buf generates from the ingest protos.
//
//go:embed openapiv2/csvmesh.swagger.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPI)))
	_, _ = w.Write(openAPI)
}
