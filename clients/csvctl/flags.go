package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseInterleaved parses args with fs like fs.Parse, but also accepts flags
// after positional arguments (`csvctl upload FILE --follow`). Everything
// after a "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// byteSize is a flag.Value holding a byte count written with an optional
// unit: B, K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024) or KB, MB, GB, TB
// (powers of 1000).
type byteSize int64

// sizeUnits maps the lower-cased units of a byteSize to their multiples.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// parseByteSize parses a size such as "1MiB", "512k" or "4096".
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("invalid size %q: want a number with an optional unit (B, KiB, MiB, GiB, KB, MB, GB)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	b := v * float64(mult)
	if b != math.Trunc(b) || b > math.MaxInt64/2 {
		return 0, fmt.Errorf("invalid size %q: not a whole number of bytes", s)
	}
	return int64(b), nil
}

// String implements flag.Value.
func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	v := int64(*b)
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if v != 0 && v%u.n == 0 {
			return strconv.FormatInt(v/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(v, 10)
}

// Set implements flag.Value.
func (b *byteSize) Set(s string) error {
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	if v <= 0 {
		return errors.New("must be positive")
	}
	*b = byteSize(v)
	return nil
}

// outputFormat is the -o flag of get, list and report.
type outputFormat string

// The output formats.
const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
)

// String implements flag.Value.
func (o *outputFormat) String() string { return string(*o) }

// Set implements flag.Value.
func (o *outputFormat) Set(s string) error {
	switch outputFormat(s) {
	case outputTable, outputJSON:
		*o = outputFormat(s)
		return nil
	}
	return fmt.Errorf("unknown output format %q: want table or json", s)
}

// outputFlag defines -o (table or json, default table) on fs.
func outputFlag(fs *flag.FlagSet) *outputFormat {
	o := outputTable
	fs.Var(&o, "o", "output `format`: table or json")
	return &o
}

// jobName turns a job argument, `jobs/abc` or `abc`, into the resource name
// `jobs/abc`.
func jobName(arg string) (string, error) {
	id := strings.TrimPrefix(strings.TrimSpace(arg), "jobs/")
	if id == "" || strings.ContainsAny(id, "/ \t\r\n") || !utf8.ValidString(id) {
		return "", fmt.Errorf("invalid job %q: want jobs/ID or ID", arg)
	}
	return "jobs/" + id, nil
}

// artifactIDs are the artifacts a job may have, as named in
// `jobs/{job}/artifacts/{artifact}`.
var artifactIDs = []string{"source", "normalized", "parquet", "rejects", "schema", "errors", "report"}

// artifactName returns the resource name of artifact of job (a resource
// name).
func artifactName(job, artifact string) (string, error) {
	for _, a := range artifactIDs {
		if artifact == a {
			return job + "/artifacts/" + a, nil
		}
	}
	return "", fmt.Errorf("unknown artifact %q: want one of %s", artifact, strings.Join(artifactIDs, ", "))
}

// parseDelimiter returns the single-character delimiter named by s: the
// character itself, or `\t` / "tab" for a tab. The empty string means
// unset: the server detects the delimiter.
func parseDelimiter(s string) (string, error) {
	switch strings.ToLower(s) {
	case "":
		return "", nil
	case `\t`, "tab":
		return "\t", nil
	}
	if utf8.RuneCountInString(s) != 1 || !utf8.ValidString(s) {
		return "", fmt.Errorf("invalid delimiter %q: want a single character (or \\t, tab)", s)
	}
	if strings.ContainsAny(s, "\"\r\n") {
		return "", fmt.Errorf("invalid delimiter %q: quotes and line breaks cannot separate fields", s)
	}
	return s, nil
}

// parseChar returns the single character named by s for the flag called
// name: the character itself, or `\t` / "tab" for a tab. The empty string
// means unset. Line breaks are refused.
func parseChar(name, s string) (string, error) {
	switch strings.ToLower(s) {
	case "":
		return "", nil
	case `\t`, "tab":
		return "\t", nil
	}
	if utf8.RuneCountInString(s) != 1 || !utf8.ValidString(s) {
		return "", fmt.Errorf("invalid --%s %q: want a single character", name, s)
	}
	if s == "\r" || s == "\n" {
		return "", fmt.Errorf("invalid --%s %q: a line break cannot be %s", name, s, name)
	}
	return s, nil
}

// optionalInt is a flag.Value for an integer in [min, max] that may be left
// unset, which is not the same as 0.
type optionalInt struct {
	value    int64
	set      bool
	min, max int64
}

// String implements flag.Value.
func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatInt(o.value, 10)
}

// Set implements flag.Value.
func (o *optionalInt) Set(s string) error {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < o.min || v > o.max {
		return fmt.Errorf("want an integer from %d to %d", o.min, o.max)
	}
	o.value, o.set = v, true
	return nil
}

// optionalRatio is a flag.Value for a number in [0, 1] that may be left
// unset.
type optionalRatio struct {
	value float64
	set   bool
}

// String implements flag.Value.
func (o *optionalRatio) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatFloat(o.value, 'g', -1, 64)
}

// Set implements flag.Value.
func (o *optionalRatio) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return errors.New("want a number from 0 to 1, such as 0.05")
	}
	o.value, o.set = v, true
	return nil
}

// maxPercentiles is the most percentiles AnalysisOptions may carry.
const maxPercentiles = 100

// maxColumns is the most columns AnalysisOptions may name.
const maxColumns = 4096

// percentileList is a flag.Value for percentiles given as fractions in
// [0, 1] separated by commas, such as 0.1,0.5,0.9; a flag given again adds
// to the list. Each percentile may be given once.
type percentileList []float64

// String implements flag.Value.
func (p *percentileList) String() string {
	if p == nil {
		return ""
	}
	parts := make([]string, len(*p))
	for i, v := range *p {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (p *percentileList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return fmt.Errorf("%q is not a fraction from 0 to 1; want percentiles such as 0.1,0.5,0.9", strings.TrimSpace(part))
		}
		if slices.Contains(*p, v) {
			return fmt.Errorf("the percentile %v is given twice", v)
		}
		*p = append(*p, v)
	}
	if len(*p) > maxPercentiles {
		return fmt.Errorf("%d percentiles; at most %d may be given", len(*p), maxPercentiles)
	}
	return nil
}

// columnList is a flag.Value for column names separated by commas, such as
// price,qty, each exactly as in the file's header; a flag given again adds
// to the list. Each name must be non-empty and given once.
type columnList []string

// String implements flag.Value.
func (c *columnList) String() string {
	if c == nil {
		return ""
	}
	return strings.Join(*c, ",")
}

// Set implements flag.Value.
func (c *columnList) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		if name == "" {
			return errors.New("a column name is empty; want names separated by commas, such as price,qty")
		}
		if slices.Contains(*c, name) {
			return fmt.Errorf("the column %q is given twice", name)
		}
		*c = append(*c, name)
	}
	if len(*c) > maxColumns {
		return fmt.Errorf("%d columns; at most %d may be given", len(*c), maxColumns)
	}
	return nil
}
