package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// maxSchemaFileBytes bounds the schema file read by upload --schema.
const maxSchemaFileBytes = 1 << 20

// shortFieldTypes maps the short type names accepted in a schema file to
// the enum names of csvmesh.type.v1.FieldType.
var shortFieldTypes = map[string]string{
	"string":    "FIELD_TYPE_STRING",
	"text":      "FIELD_TYPE_STRING",
	"integer":   "FIELD_TYPE_INTEGER",
	"int":       "FIELD_TYPE_INTEGER",
	"number":    "FIELD_TYPE_NUMBER",
	"float":     "FIELD_TYPE_NUMBER",
	"double":    "FIELD_TYPE_NUMBER",
	"decimal":   "FIELD_TYPE_NUMBER",
	"boolean":   "FIELD_TYPE_BOOLEAN",
	"bool":      "FIELD_TYPE_BOOLEAN",
	"date":      "FIELD_TYPE_DATE",
	"datetime":  "FIELD_TYPE_DATETIME",
	"timestamp": "FIELD_TYPE_DATETIME",
}

// readSchemaFile reads and parses the schema file at path.
func readSchemaFile(path string) (*typev1.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSchemaFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read schema %s: %w", path, err)
	}
	if len(data) > maxSchemaFileBytes {
		return nil, fmt.Errorf("schema %s is larger than %d bytes", path, maxSchemaFileBytes)
	}
	s, err := parseSchema(data)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	return s, nil
}

// parseSchema parses the JSON form (protojson) of a csvmesh.type.v1.Schema.
// A field's type may also be given by a short name in any case (number,
// integer, string, ...; see shortFieldTypes) or as a full enum name in any
// case. Unknown keys and unknown type names are errors.
func parseSchema(data []byte) (*typev1.Schema, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON: more than one value")
	}
	if m, ok := doc.(map[string]any); ok {
		if fields, ok := m["fields"].([]any); ok {
			for _, f := range fields {
				fm, ok := f.(map[string]any)
				if !ok {
					continue
				}
				if t, ok := fm["type"].(string); ok {
					fm["type"] = normalizeFieldType(t)
				}
			}
		}
	}
	norm, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	s := &typev1.Schema{}
	if err := protojson.Unmarshal(norm, s); err != nil {
		return nil, err
	}
	return s, nil
}

// normalizeFieldType returns the enum name of a type written short or in
// any case; names it does not know are returned as they are, for protojson
// to reject.
func normalizeFieldType(t string) string {
	low := strings.ToLower(strings.TrimSpace(t))
	if full, ok := shortFieldTypes[low]; ok {
		return full
	}
	if up := strings.ToUpper(low); strings.HasPrefix(up, "FIELD_TYPE_") {
		if _, ok := typev1.FieldType_value[up]; ok {
			return up
		}
	}
	return t
}
