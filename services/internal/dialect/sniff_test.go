package dialect

import (
	"reflect"
	"testing"
)

func TestScan(t *testing.T) {
	comma := Detected{Comma: ',', Quote: '"', DoubleQuote: true}
	escaped := Detected{Comma: ',', Quote: '"', Escape: '\\'}
	tests := []struct {
		name  string
		text  string
		atEOF bool
		d     Detected
		want  scanStats
	}{
		{"plain", "a,b\n1,2", true, comma,
			scanStats{counts: []int{2, 2}, delims: 2, firstTerm: "\n", atEOF: true}},
		{"cut last record left out", "a,b\n1,2", false, comma,
			scanStats{counts: []int{2}, delims: 1, firstTerm: "\n"}},
		{"only a cut record", "a,b,c", false, comma,
			scanStats{counts: []int{3}, delims: 2}},
		{"unclosed quote at EOF", "a,b\n1,\"2\n3", true, comma,
			scanStats{counts: []int{2, 2}, delims: 2, firstTerm: "\n", atEOF: true}},
		{"unclosed quote in a cut sample", "a,b\n1,\"2\n3", false, comma,
			scanStats{counts: []int{2}, delims: 1, firstTerm: "\n"}},
		{"doubled quotes", "\"a\"\",b\",c\r\n", true, comma,
			scanStats{counts: []int{2}, delims: 1, firstTerm: "\r\n", atEOF: true}},
		{"escaped quote", "\"a\\\",b\",c\n", true, escaped,
			scanStats{counts: []int{2}, delims: 1, firstTerm: "\n", atEOF: true}},
		{"escaped delimiter unquoted", "a\\,b,c\n", true, escaped,
			scanStats{counts: []int{2}, delims: 1, firstTerm: "\n", atEOF: true}},
		{"escape at the end", "a,b\\", true, escaped,
			scanStats{counts: []int{2}, delims: 1, atEOF: true}},
		{"spaces and blank lines", "\n\na, b\r\r1, 2\r", true, comma,
			scanStats{counts: []int{2, 2}, delims: 2, spaced: 2, firstTerm: "\n", atEOF: true}},
		{"comments", "#x,y\n#z\na,b\n#w\n1,2\n", true, Detected{Comma: ',', Quote: '"', Comment: "#"},
			scanStats{counts: []int{2, 2}, delims: 2, firstTerm: "\n", leadingComments: 2, atEOF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scan([]byte(tt.text), tt.atEOF, tt.d)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("scan(%q) = %+v; want %+v", tt.text, got, tt.want)
			}
		})
	}
}
