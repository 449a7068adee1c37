package tableschema

import (
	"bytes"
	"testing"
)

func TestValueKey(t *testing.T) {
	tests := []struct {
		field string // field JSON
		a, b  string // raw values
		same  bool
	}{
		{`{"name":"n","type":"number"}`, "1.0", "1.00", true},
		{`{"name":"n","type":"number"}`, "1.0", "1e0", true},
		{`{"name":"n","type":"number"}`, "-0", "0.0", true},
		{`{"name":"n","type":"number"}`, "NaN", "nan", true},
		{`{"name":"n","type":"number"}`, "INF", "inf", true},
		{`{"name":"n","type":"number"}`, "1", "1.0000001", false},
		{`{"name":"n","type":"number"}`, "inf", "-inf", false},
		{`{"name":"i","type":"integer"}`, "007", "7", true},
		{`{"name":"i","type":"integer"}`, "-0", "0", true},
		{`{"name":"i","type":"integer"}`, "7", "70", false},
		{`{"name":"d","type":"datetime"}`, "2024-01-02T03:04:05Z", "2024-01-02T05:04:05+02:00", true},
		{`{"name":"d","type":"datetime"}`, "2024-01-02T03:04:05Z", "2024-01-02T03:04:05+0000", true},
		{`{"name":"d","type":"datetime"}`, "2024-01-02T03:04:05.10Z", "2024-01-02T03:04:05.1Z", true},
		{`{"name":"d","type":"datetime"}`, "2024-01-02T03:04:05", "2024-01-02T03:04:05.000", true},
		{`{"name":"d","type":"datetime"}`, "2024-01-02T03:04:05", "2024-01-02T03:04:05Z", false},
		{`{"name":"d","type":"datetime"}`, "2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z", false},
		{`{"name":"d","type":"datetime","format":"%d/%m/%Y %H:%M"}`, "02/01/2024 03:04", "02/01/2024 03:04", true},
		{`{"name":"s","type":"string"}`, "a", "a", true},
		{`{"name":"s","type":"string"}`, "a", "a ", false},
	}
	for _, tc := range tests {
		t.Run(tc.field+"/"+tc.a+"/"+tc.b, func(t *testing.T) {
			f := compileOne(t, tc.field, Options{})
			key := func(v string) []byte {
				canon, ve := f.Normalize(nil, []byte(v))
				if ve != nil {
					t.Fatalf("Normalize(%q): %v", v, ve)
				}
				return f.ValueKey([]byte("x"), canon)[1:]
			}
			if ka, kb := key(tc.a), key(tc.b); bytes.Equal(ka, kb) != tc.same {
				t.Errorf("keys %q and %q: same = %v, want %v", ka, kb, !tc.same, tc.same)
			}
		})
	}
}

func TestValueKeyAllocations(t *testing.T) {
	f := compileOne(t, `{"name":"d","type":"datetime"}`, Options{})
	canon := []byte("2024-01-02T03:04:05.123+02:00")
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = f.ValueKey(buf[:0], canon) }); n != 0 {
		t.Errorf("ValueKey: %v allocations, want 0", n)
	}
}
