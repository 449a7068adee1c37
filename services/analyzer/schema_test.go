package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// jsonSchema is the subset of JSON Schema report.schema.json uses: $ref to
// $defs, type, properties, required, additionalProperties false, items,
// enum, pattern and anyOf.
type jsonSchema struct {
	Ref                  string                 `json:"$ref"`
	Defs                 map[string]*jsonSchema `json:"$defs"`
	Type                 string                 `json:"type"`
	Properties           map[string]*jsonSchema `json:"properties"`
	Required             []string               `json:"required"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Items                *jsonSchema            `json:"items"`
	Enum                 []any                  `json:"enum"`
	Pattern              string                 `json:"pattern"`
	AnyOf                []*jsonSchema          `json:"anyOf"`
}

// validate returns where v breaks s, with root holding the $defs.
func (s *jsonSchema) validate(root *jsonSchema, v any, at string) []string {
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/$defs/")
		def := root.Defs[name]
		if !ok || def == nil {
			return []string{at + ": unknown $ref " + s.Ref}
		}
		return def.validate(root, v, at)
	}
	if len(s.AnyOf) > 0 {
		for _, alt := range s.AnyOf {
			if len(alt.validate(root, v, at)) == 0 {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: %v matches no alternative", at, v)}
	}
	var errs []string
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want object", at, v)}
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				errs = append(errs, at+": missing "+r)
			}
		}
		for k, x := range m {
			ps, ok := s.Properties[k]
			if !ok {
				if s.AdditionalProperties != nil && !*s.AdditionalProperties {
					errs = append(errs, at+": unexpected "+k)
				}
				continue
			}
			errs = append(errs, ps.validate(root, x, at+"."+k)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want array", at, v)}
		}
		for i, x := range a {
			errs = append(errs, s.Items.validate(root, x, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want string", at, v)}
		}
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(str) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", at, str, s.Pattern))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: %T, want number", at, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %T, want boolean", at, v)}
		}
	case "":
	default:
		return []string{at + ": unknown type " + s.Type}
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v not in %v", at, v, s.Enum))
	}
	return errs
}

func loadReportSchema(t *testing.T) *jsonSchema {
	t.Helper()
	b, err := os.ReadFile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s jsonSchema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func validateJSON(t *testing.T, s *jsonSchema, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	return s.validate(s, v, "$")
}

// TestReportSchema checks that the report JSON the server writes for every
// fixture, and for an approximate (over-budget) analysis, validates against
// report.schema.json, and that the check catches a broken document.
func TestReportSchema(t *testing.T) {
	s := loadReportSchema(t)
	type doc struct {
		name string
		json []byte
	}
	var docs []doc
	for _, f := range loadFixtures(t) {
		for _, cfg := range []Config{{}, {MemoryBudget: 1, TempDir: t.TempDir()}} {
			rep, err := Analyze(context.Background(), strings.NewReader(string(f.csv)), f.schema, true, f.quantiles, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := reportJSON.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, doc{fmt.Sprintf("%s/budget-%d", f.name, cfg.MemoryBudget), b})
		}
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			for _, e := range validateJSON(t, s, d.json) {
				t.Error(e)
			}
		})
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"int64-as-number", `{"row_count": 3, "columns": [{"name": "a", "type": "FIELD_TYPE_STRING"}]}`, "$.row_count"},
		{"unknown-key", `{"columns": [{"name": "a", "type": "FIELD_TYPE_STRING", "mode": 1}]}`, "unexpected mode"},
		{"missing-name", `{"columns": [{"type": "FIELD_TYPE_STRING"}]}`, "missing name"},
		{"bad-double", `{"columns": [{"name": "a", "type": "FIELD_TYPE_NUMBER", "numeric": {"mean": "nan"}}]}`, "numeric.mean"},
		{"bad-type", `{"columns": [{"name": "a", "type": "STRING"}]}`, "not in"},
	} {
		t.Run("rejects/"+tc.name, func(t *testing.T) {
			errs := validateJSON(t, s, []byte(tc.doc))
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
				t.Errorf("errors %q, want one containing %q", errs, tc.want)
			}
		})
	}
}
