package validator

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
)

// This file is an independent reference implementation of Run, written from
// Run's documentation in the most obvious way (encoding/csv, strconv, time,
// regexp, math/big, whole strings in memory) and sharing no code with the
// engine but MangleHeader, which has its own pandas-derived tests. The
// differential tests and FuzzValidate compare the engine with it.
//
// It only covers input that encoding/csv reads as csvparse does: no CR, no
// byte order mark, no quoting error. It ignores the record limits
// (MaxRecordBytes, MaxFieldBytes, MaxFields) and reports progress only at the
// end (ProgressInterval 0). Everything outside that is covered by the
// byte-exact tables of engine_test.go and server_test.go.

// errClass is how outcomes compare errors: the violation type of a
// *FileError, the field of a *ConfigError, or the message of anything else.
// The messages of file and config errors are checked by TestRunFileErrors.
func errClass(err error) string {
	var fe *FileError
	var ce *ConfigError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return "file error " + fe.Type
	case errors.As(err, &ce):
		return "config error " + ce.Field
	}
	return err.Error()
}

// refMissing is pandas' default na_values, as listed in the read_csv docs.
var refMissing = map[string]bool{"": true, "#N/A": true, "#N/A N/A": true, "#NA": true, "-1.#IND": true,
	"-1.#QNAN": true, "-NaN": true, "-nan": true, "1.#IND": true, "1.#QNAN": true, "<NA>": true, "N/A": true,
	"NA": true, "NULL": true, "NaN": true, "None": true, "n/a": true, "nan": true, "null": true}

// refRecord writes one record with minimal quoting, as Run's outputs do: a
// field is quoted if it holds a comma, a quote, CR or LF, or is the lone
// empty field of its record.
func refRecord(fields ...string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if strings.ContainsAny(f, ",\"\r\n") || f == "" && len(fields) == 1 {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		b.WriteString(f)
	}
	return b.String() + "\n"
}

// refCut shortens s to at most n bytes, backing up over UTF-8 continuation
// bytes so as not to split a rune (at most four of them, as the engine does:
// in invalid UTF-8 that may drop one byte more than needed), and makes it
// valid UTF-8.
func refCut(s string, n int) string {
	if len(s) > n {
		cut := n
		for k := 0; k < utf8.UTFMax && cut > 0 && s[cut]&0xC0 == 0x80; k++ {
			cut--
		}
		s = s[:cut]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

var (
	refIntegerRE  = regexp.MustCompile(`^[+-]?[0-9]+$`)
	refNumberRE   = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$`)
	refDatetimeRE = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:[.,]([0-9]{1,9}))?([Zz]|([+-])([0-9]{2}):?([0-9]{2}))?)?$`)
)

// refNumber returns the canonical form of a decimal number: exact, without
// '+', leading or trailing zeros, plain when 1e-6 <= |v| < 1e21 and as
// d.ddde±n otherwise.
func refNumber(v string) (string, bool) {
	m := refNumberRE.FindStringSubmatch(v)
	if m == nil || m[2]+m[3] == "" {
		return "", false
	}
	digits := strings.TrimLeft(m[2]+m[3], "0")
	if digits == "" {
		return "0", true
	}
	// v = 0.digits × 10^point
	point, _ := new(big.Int).SetString("0"+strings.TrimLeft(m[4], "+-"), 10)
	if strings.HasPrefix(m[4], "-") {
		point.Neg(point)
	}
	point.Add(point, big.NewInt(int64(len(digits)-len(m[3]))))
	digits = strings.TrimRight(digits, "0")
	sign := strings.TrimPrefix(m[1], "+")
	if point.Cmp(big.NewInt(21)) > 0 || point.Cmp(big.NewInt(-6)) <= 0 {
		mant := digits[:1]
		if len(digits) > 1 {
			mant += "." + digits[1:]
		}
		e := point.Sub(point, big.NewInt(1))
		plus := ""
		if e.Sign() > 0 {
			plus = "+"
		}
		return sign + mant + "e" + plus + e.String(), true
	}
	p := int(point.Int64())
	switch {
	case p <= 0:
		return sign + "0." + strings.Repeat("0", -p) + digits, true
	case p >= len(digits):
		return sign + digits + strings.Repeat("0", p-len(digits)), true
	}
	return sign + digits[:p] + "." + digits[p:], true
}

func refDate(v string) bool {
	_, err := time.Parse("2006-01-02", v)
	return err == nil
}

// refDatetime returns a date-time (or a bare date, taken as midnight) as RFC
// 3339 in UTC, fraction without trailing zeros.
func refDatetime(v string) (string, bool) {
	m := refDatetimeRE.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	if m[2] == "" {
		return m[1] + "T00:00:00Z", refDate(m[1])
	}
	t, err := time.Parse("2006-01-02 15:04:05", m[1]+" "+m[2])
	if err != nil {
		return "", false
	}
	if m[5] != "" {
		oh, _ := strconv.Atoi(m[6])
		om, _ := strconv.Atoi(m[7])
		if oh > 23 || om > 59 {
			return "", false
		}
		off := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
		if m[5] == "-" {
			off = -off
		}
		t = t.Add(-off)
	}
	s := t.Format("2006-01-02T15:04:05")
	if frac := strings.TrimRight(m[3], "0"); frac != "" {
		s += "." + frac
	}
	return s + "Z", true
}

// refNormalize returns v checked against and normalized to typ, or why it
// is not a value of typ.
func refNormalize(typ typev1.FieldType, v string) (string, string) {
	switch typ {
	case typev1.FieldType_FIELD_TYPE_INTEGER:
		n, err := strconv.ParseInt(v, 10, 64)
		if !refIntegerRE.MatchString(v) { // ParseInt reports overflow before bad syntax
			return "", "is not an integer"
		} else if errors.Is(err, strconv.ErrRange) {
			return "", "is out of range for an integer (64-bit)"
		} else if err != nil {
			return "", "is not an integer"
		}
		return strconv.FormatInt(n, 10), ""
	case typev1.FieldType_FIELD_TYPE_NUMBER:
		if s, ok := refNumber(v); ok {
			return s, ""
		}
		return "", "is not a number"
	case typev1.FieldType_FIELD_TYPE_BOOLEAN:
		switch strings.ToLower(v) {
		case "true", "yes", "t", "y", "1":
			return "true", ""
		case "false", "no", "f", "n", "0":
			return "false", ""
		}
		return "", "is not a boolean (true/false, yes/no, t/f, y/n, 1/0)"
	case typev1.FieldType_FIELD_TYPE_DATE:
		if refDate(v) {
			return v, ""
		}
		return "", "is not a date (YYYY-MM-DD)"
	case typev1.FieldType_FIELD_TYPE_DATETIME:
		if s, ok := refDatetime(v); ok {
			return s, ""
		}
		return "", "is not a date-time (RFC 3339, or YYYY-MM-DD HH:MM:SS[.fff])"
	}
	return v, ""
}

// refInferOrder lists the types inference may pick, the most specific first.
// Booleans are inferred only from true and false, in any case.
var refInferOrder = []typev1.FieldType{typev1.FieldType_FIELD_TYPE_INTEGER, typev1.FieldType_FIELD_TYPE_NUMBER,
	typev1.FieldType_FIELD_TYPE_BOOLEAN, typev1.FieldType_FIELD_TYPE_DATE, typev1.FieldType_FIELD_TYPE_DATETIME}

func refFits(typ typev1.FieldType, v string) bool {
	switch typ {
	case typev1.FieldType_FIELD_TYPE_NUMBER:
		_, ok := refNumber(v) // an integer out of range is still a number
		return ok
	case typev1.FieldType_FIELD_TYPE_BOOLEAN:
		return strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
	}
	_, why := refNormalize(typ, v)
	return why == ""
}

// refConfigField returns the request field a Config gets wrong, if any.
func refConfigField(cfg Config) string {
	switch d := cfg.Delimiter; {
	case d == '"' || d == '\r' || d == '\n' || d >= 0x80:
		return "dialect.delimiter"
	case cfg.Header != nil && len(cfg.Header) == 0:
		return "header"
	}
	for i, h := range cfg.Header {
		if !utf8.ValidString(h) {
			return fmt.Sprintf("header[%d]", i)
		}
	}
	for i, f := range cfg.Schema.GetFields() {
		_, known := typev1.FieldType_name[int32(f.GetType())]
		switch {
		case f.GetName() == "" || !utf8.ValidString(f.GetName()):
			return fmt.Sprintf("schema.fields[%d].name", i)
		case !known || f.GetType() == typev1.FieldType_FIELD_TYPE_UNSPECIFIED:
			return fmt.Sprintf("schema.fields[%d].type", i)
		case slices.ContainsFunc(cfg.Schema.GetFields()[:i], func(g *typev1.Field) bool { return g.GetName() == f.GetName() }):
			return fmt.Sprintf("schema.fields[%d].name", i)
		}
	}
	if cfg.FirstLine < 0 || cfg.FirstRecord < 0 || cfg.FirstOffset < 0 || cfg.TotalBytes < 0 {
		return "first_line"
	}
	return ""
}

// runRef runs the reference. ok is false for input it does not cover.
func runRef(in []byte, cfg Config) (o outcome, ok bool) {
	if bytes.IndexByte(in, '\r') >= 0 || bytes.HasPrefix(in, []byte("\xef\xbb\xbf")) {
		return o, false
	}
	fail := func(class string) (outcome, bool) { return outcome{err: class}, true }
	if f := refConfigField(cfg); f != "" {
		return fail("config error " + f)
	}
	cr := csv.NewReader(bytes.NewReader(in))
	cr.FieldsPerRecord = -1
	if cfg.Delimiter != 0 {
		cr.Comma = rune(cfg.Delimiter)
	}
	var records [][]string
	var lines []int64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			return o, false
		}
		line, _ := cr.FieldPos(0)
		records, lines = append(records, rec), append(lines, int64(line)+max(cfg.FirstLine, 1)-1)
	}
	number := cfg.FirstRecord // of records[0]
	if number == 0 && cfg.Header != nil {
		number = 2
	} else if number == 0 {
		number = 1
	}
	header := cfg.Header
	if header == nil {
		if len(records) == 0 {
			return fail("file error " + ViolationEmptyFile)
		} else if slices.ContainsFunc(records[0], func(name string) bool { return !utf8.ValidString(name) }) {
			return fail("file error " + ViolationMalformedHeader)
		}
		header, records, lines, number = records[0], records[1:], lines[1:], number+1
	}
	header = MangleHeader(header)
	fields := cfg.Schema.GetFields()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.GetName()
	}
	switch {
	case len(fields) > 0 && !slices.Equal(names, header):
		return fail("file error " + ViolationHeaderMismatch)
	case len(records) == 0 && cfg.Header == nil:
		return fail("file error " + ViolationNoDataRows)
	case len(records) == 0:
		return fail("file error " + ViolationEmptyFile)
	}

	res := &validatorv1.ValidationResult{Schema: cfg.Schema}
	norm, rej := refRecord(header...), refRecord(RejectsHeader...)
	cands := make([][]typev1.FieldType, len(header)) // inference: the types all values fit
	for i := range cands {
		cands[i] = slices.Clone(refInferOrder)
	}
	seen := make([]bool, len(header)) // inference: a column had a value
	maxRow, batchSize := cfg.MaxRejectRowBytes, cfg.ErrorBatchSize
	if maxRow <= 0 {
		maxRow = DefaultMaxRejectRowBytes
	}
	if batchSize <= 0 {
		batchSize = DefaultErrorBatchSize
	}
	var streamed []*typev1.RowError
	for r, rec := range records {
		res.RowsTotal++
		type problem struct {
			col              int
			code, value, msg string
		}
		var problems []problem
		if len(rec) != len(header) {
			problems = append(problems, problem{0, CodeFieldCount, "", fmt.Sprintf("the row has %d fields but the header has %d", len(rec), len(header))})
		}
		for i, v := range rec {
			if len(rec) == len(header) && !utf8.ValidString(v) {
				problems = append(problems, problem{i + 1, CodeEncoding, v, fmt.Sprintf("column %d (%q) is not valid UTF-8", i+1, header[i])})
			}
		}
		out := make([]string, len(rec))
		for i, v := range rec {
			switch {
			case len(problems) > 0 && len(fields) == 0 || len(rec) != len(header) || !utf8.ValidString(v):
			case refMissing[v]:
				if len(fields) > 0 && fields[i].GetRequired() {
					problems = append(problems, problem{i + 1, CodeRequired, v, fmt.Sprintf("column %d (%q) is required but the value is missing", i+1, header[i])})
				}
			case len(fields) > 0:
				var why string
				if out[i], why = refNormalize(fields[i].GetType(), v); why != "" {
					problems = append(problems, problem{i + 1, CodeType, v, fmt.Sprintf("column %d (%q): %q %s", i+1, header[i], refCut(v, MaxValueBytes), why)})
				}
			default:
				out[i], seen[i] = v, true
				cands[i] = slices.DeleteFunc(cands[i], func(t typev1.FieldType) bool { return !refFits(t, v) })
			}
		}
		if len(problems) == 0 {
			res.RowsValid++
			norm += refRecord(out...)
			continue
		}
		res.RowsRejected++
		first, field, msgs := problems[0], "", []string{}
		if first.col > 0 {
			field = header[first.col-1]
		}
		for _, p := range problems {
			msgs = append(msgs, p.msg)
		}
		row := strings.TrimSuffix(refRecord(rec...), "\n")
		rej += refRecord(fmt.Sprint(lines[r]), fmt.Sprint(number+int64(r)), fmt.Sprint(first.col), field, first.code, strings.Join(msgs, "; "), refCut(row, maxRow))
		if len(streamed) < cmp.Or(cfg.MaxStreamedErrors, DefaultMaxStreamedErrors) {
			streamed = append(streamed, &typev1.RowError{Line: lines[r], Record: number + int64(r), Column: int32(first.col),
				Field: field, Code: first.code, Message: strings.Join(msgs, "; "), Value: refCut(first.value, MaxValueBytes)})
		}
	}
	for ; len(streamed) > 0; streamed = streamed[min(batchSize, len(streamed)):] {
		o.events.batches = append(o.events.batches, &validatorv1.RowErrorBatch{Errors: streamed[:min(batchSize, len(streamed))]})
	}
	if len(fields) == 0 {
		res.Schema = &typev1.Schema{}
		for i, name := range header {
			typ := typev1.FieldType_FIELD_TYPE_STRING
			if seen[i] && len(cands[i]) > 0 {
				typ = cands[i][0]
			}
			res.Schema.Fields = append(res.Schema.Fields, &typev1.Field{Name: name, Type: typ})
		}
	}
	o.norm, o.rej, o.res = norm, rej, res
	res.BytesRead, res.NormalizedSizeBytes, res.RejectsSizeBytes = int64(len(in)), int64(len(norm)), int64(len(rej))
	o.events.progress = []*validatorv1.ValidationProgress{{BytesRead: int64(len(in)), BytesTotal: cfg.TotalBytes, RowsRead: res.RowsTotal}}
	return o, true
}
