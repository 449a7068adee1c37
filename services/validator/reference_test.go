package validator

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/dialect"
	"github.com/csvmesh/csvmesh/services/internal/infer"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
	"golang.org/x/text/encoding/charmap"
)

// This file is an independent reference implementation of Run, written from
// Run's documentation in the most obvious way: its own RFC 4180 parser over
// the whole input in memory, maps for unique and primary keys, fmt for
// messages, one row at a time. It shares no code with the engine but
// MangleHeader (which has its own pandas-derived tests) and the packages the
// engine builds on, each tested on its own: dialect.Resolve picks the
// dialect, tableschema normalizes values and infer infers types. The
// differential tests and FuzzValidate compare the engine with it.
//
// It covers UTF-8, windows-1252 and iso-8859-1 input without a byte order
// mark, CR line endings other than CRLF, quoting errors or comment lines,
// read as the dialect '"'-quoted
// with doubled quotes and one header row (or a given header), without record
// limits, with progress only at the end. Everything else is covered by the
// tables of engine_test.go.

// errClass is how outcomes compare errors: the violation type of a
// *FileError, the field of a *ConfigError, or the message of anything else.
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

// refRow is a record of the reference parser.
type refRow struct {
	fields       []string
	raw          string
	line, offset int64
}

// refParse splits in into records at comma. ok is false for input it does
// not cover: a lone CR, a quote error.
func refParse(in string, comma byte) (rows []refRow, ok bool) {
	line := int64(1)
	for pos := 0; pos < len(in); {
		rec := refRow{line: line, offset: int64(pos)}
		start := pos
		var field strings.Builder
		for {
			if pos < len(in) && in[pos] == '"' {
				pos++
				for {
					i := strings.IndexByte(in[pos:], '"')
					if i < 0 {
						return nil, false // unterminated
					}
					seg := in[pos : pos+i]
					line += int64(strings.Count(seg, "\n"))
					field.WriteString(seg)
					pos += i + 1
					if pos < len(in) && in[pos] == '"' {
						field.WriteByte('"')
						pos++
						continue
					}
					break
				}
				if pos < len(in) && in[pos] != comma && in[pos] != '\n' && in[pos] != '\r' {
					return nil, false // text after the closing quote
				}
			} else {
				for pos < len(in) && in[pos] != comma && in[pos] != '\n' && in[pos] != '\r' {
					field.WriteByte(in[pos])
					pos++
				}
			}
			rec.fields = append(rec.fields, field.String())
			field.Reset()
			if pos < len(in) && in[pos] == comma {
				pos++
				continue
			}
			break
		}
		rec.raw = in[start:pos]
		switch {
		case strings.HasPrefix(in[pos:], "\r\n"):
			pos += 2
		case strings.HasPrefix(in[pos:], "\n"):
			pos++
		case pos < len(in):
			return nil, false // a lone CR
		}
		line++
		rows = append(rows, rec)
	}
	return rows, true
}

// refQuote writes a record with minimal quoting, as the outputs are
// written: a field is quoted if it holds a comma, a quote, CR or LF, or is
// the lone empty field of its record.
func refQuote(fields ...string) string {
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

// refCut shortens s to at most n bytes without splitting a UTF-8 sequence
// (backing up over at most three continuation bytes) and makes it valid.
func refCut(s string, n int) string {
	if len(s) > n {
		cut := n
		for k := 0; k < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); k++ {
			cut--
		}
		s = s[:cut]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// refGroup writes n with ',' between groups of three digits.
func refGroup(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// refPercent writes n/total as a percentage with up to two decimals.
func refPercent(n, total int64) string {
	hundredths := (n*10000 + total/2) / total // rounded
	switch {
	case hundredths == 0:
		return "<0.01%"
	case hundredths == 10000 && n < total:
		return ">99.99%"
	}
	s := fmt.Sprintf("%d.%02d", hundredths/100, hundredths%100)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// refError is one row error of the reference.
type refError struct {
	typ   string
	field int // 1-based, 0 for the row
	value string
	msg   string
	cells int // the cells a missing-cell or extra-cell error counts
}

// refName is a field's name as errors show it.
func refName(name string) string {
	if len(name) <= MaxNameBytes {
		return name
	}
	return refCut(name, MaxNameBytes-len("…")) + "…"
}

// refCells is "1 cell" or "n cells".
func refCells(n int) string {
	if n == 1 {
		return "1 cell"
	}
	return fmt.Sprintf("%d cells", n)
}

// runRef runs the reference. ok is false for input or config it does not
// cover.
func runRef(in []byte, cfg Config) (o outcome, ok bool) {
	fail := func(class string) (outcome, bool) { return outcome{err: class}, true }
	if cfg.MaxFieldBytes != 0 || cfg.MaxFields != 0 || cfg.MaxRecordBytes != 0 || cfg.ProgressInterval != 0 {
		return o, false
	}
	if err := cfg.validate(); err != nil {
		return o, false
	}
	head := in[:min(len(in), SampleBytes)]
	d, err := dialect.Resolve(cfg.Dialect, head, len(in) <= SampleBytes)
	if err != nil || d.Quote != '"' || !d.DoubleQuote || d.Escape != 0 || d.HeaderRows != 1 || d.Comment != "" ||
		d.SkipInitialSpace || bytes.HasPrefix(in, []byte("\xef\xbb\xbf")) {
		return o, false
	}
	// dec returns a text of the file as UTF-8, and whether it is valid.
	var dec func(string) (string, bool)
	encName := "UTF-8"
	switch d.Encoding {
	case dialect.UTF8:
		dec = func(s string) (string, bool) { return s, utf8.ValidString(s) }
	case dialect.Windows1252:
		encName = "windows-1252"
		dec = func(s string) (string, bool) {
			t, _ := charmap.Windows1252.NewDecoder().String(s)
			for i := range len(s) {
				switch s[i] {
				case 0x81, 0x8D, 0x8F, 0x90, 0x9D: // undefined
					return t, false
				}
			}
			return t, true
		}
	case dialect.Latin1:
		encName = "iso-8859-1"
		dec = func(s string) (string, bool) {
			t, _ := charmap.ISO8859_1.NewDecoder().String(s)
			return t, true
		}
	default:
		return o, false
	}
	records, ok := refParse(string(in), d.Comma)
	if !ok {
		return o, false
	}
	firstLine := max(cfg.FirstLine, 1)
	for i := range records {
		records[i].line += firstLine - 1
		records[i].offset += cfg.FirstOffset
	}
	number := cfg.FirstRecord // of the first data row
	header := cfg.Header
	if header == nil {
		for len(records) > 0 && records[0].raw == "" {
			records = records[1:] // blank lines before the header
		}
		if len(records) == 0 {
			return fail("file error " + ViolationEmptyFile)
		}
		for _, name := range records[0].fields {
			t, ok := dec(name)
			if !ok {
				return fail("file error " + ViolationMalformedHeader)
			}
			header = append(header, t)
		}
		records = records[1:]
		number = cmp.Or(number, 1) + 1
	} else {
		number = cmp.Or(number, 2)
	}
	header = MangleHeader(header)
	fields := cfg.Schema.GetFields()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.GetName()
	}
	if len(fields) == 0 && cfg.Header == nil {
		// An inferred schema cannot hold a name this long, whether or not
		// data rows follow.
		for _, n := range header {
			if len(n) > tableschema.MaxNameBytes {
				return fail("file error " + ViolationMalformedHeader)
			}
		}
	}
	switch {
	case len(fields) > 0 && !slices.Equal(names, header):
		return fail("file error " + ViolationHeaderMismatch)
	case len(records) == 0 && cfg.Header == nil:
		return fail("file error " + ViolationNoDataRows)
	case len(records) == 0:
		return fail("file error " + ViolationEmptyFile)
	}
	inferring := len(fields) == 0
	neutralize := cfg.Options.GetNeutralizeFormulas()
	var c, keyC *tableschema.Compiled // keyC: without neutralization, for keys
	required := make([]bool, len(header))
	if !inferring {
		if c, err = tableschema.Compile(cfg.Schema, tableschema.Options{NeutralizeFormulas: neutralize}); err != nil {
			return fail(err.Error())
		}
		if keyC, err = tableschema.Compile(cfg.Schema, tableschema.Options{}); err != nil {
			return fail(err.Error())
		}
		for i, f := range c.Fields {
			required[i] = f.Required || slices.Contains(c.PrimaryKey, i)
		}
	}
	// normalize returns a valid, non-missing value in canonical form.
	normalize := func(i int, v string) (string, bool) {
		v, ok := dec(v)
		if !ok || c.IsMissing([]byte(v)) {
			return "", false
		}
		out, ve := keyC.Fields[i].Normalize(nil, []byte(v))
		return string(keyC.Fields[i].ValueKey(nil, out)), ve == nil && len(out) > 0
	}
	// The key passes: the first row of each key.
	rowNumber := func(r int) int64 { return number + int64(r) }
	uniqueFirst := make(map[int]map[string]int64) // field -> key -> first row
	pkFirst := map[string]int64{}
	if !inferring {
		for _, i := range c.Unique {
			uniqueFirst[i] = map[string]int64{}
		}
		for r, rec := range records {
			if !slices.ContainsFunc(rec.fields, func(f string) bool { return f != "" }) {
				continue // blank
			}
			for i, first := range uniqueFirst {
				if i >= len(rec.fields) {
					continue
				}
				if k, ok := normalize(i, rec.fields[i]); ok {
					if _, seen := first[k]; !seen {
						first[k] = rowNumber(r)
					}
				}
			}
			if len(c.PrimaryKey) > 0 {
				var key []string
				for _, i := range c.PrimaryKey {
					if i >= len(rec.fields) {
						break
					}
					if k, ok := normalize(i, rec.fields[i]); ok {
						key = append(key, k)
					}
				}
				if len(key) == len(c.PrimaryKey) {
					if _, seen := pkFirst[strings.Join(key, "\x00")]; !seen {
						pkFirst[strings.Join(key, "\x00")] = rowNumber(r)
					}
				}
			}
		}
	}

	res := &validatorv1.ValidationResult{Dialect: d.Proto(), SchemaInferred: inferring}
	norm, rej := refQuote(header...), refQuote(RejectsHeader...)
	inf := infer.New(len(header), infer.Options{Comma: d.Comma})
	counts := map[[2]string]int64{}
	var errSample []*typev1.RowError
	sampleBytes := 0
	sampleSize := int(cmp.Or(cfg.Options.GetErrorSampleSize(), DefaultErrorSampleSize))
	for r, rec := range records {
		row := rowNumber(r)
		res.RowsTotal++
		var errs []refError
		add := func(typ string, field int, value, format string, args ...any) {
			errs = append(errs, refError{typ, field, refCut(value, MaxValueBytes), fmt.Sprintf(format, args...), 1})
		}
		at := func(i int) string { return fmt.Sprintf("row %d, field %d (%q)", row, i+1, refName(header[i])) }
		n := len(rec.fields)
		out := make([]string, min(n, len(header)))
		blank := !slices.ContainsFunc(rec.fields, func(f string) bool { return f != "" })
		if blank {
			add(tableschema.ErrTypeBlankRow, 0, "", "row %d is blank", row)
		}
		for i := 0; i < min(n, len(header)) && !blank; i++ {
			v, valid := dec(rec.fields[i])
			switch {
			case !valid:
				add(tableschema.ErrTypeEncodingError, i+1, v, "%s: the value is not valid %s", at(i), encName)
			case inferring && infer.IsMissing([]byte(v)):
			case inferring:
				out[i] = v
			case c.IsMissing([]byte(v)):
				if required[i] {
					add(tableschema.ErrTypeConstraintError, i+1, v, "%s: a value is required but it is missing", at(i))
				}
			default:
				canon, ve := c.Fields[i].Normalize(nil, []byte(v))
				if ve != nil {
					add(ve.Type, i+1, v, "%s: %s", at(i), ve.Msg)
					continue
				}
				if len(canon) == 0 && required[i] {
					add(tableschema.ErrTypeConstraintError, i+1, v, "%s: a value is required but it is missing", at(i))
					continue
				}
				out[i] = string(canon)
				if first, ok := uniqueFirst[i]; ok {
					if k, ok := normalize(i, rec.fields[i]); ok && first[k] != row {
						add(tableschema.ErrTypeUniqueError, i+1, v, "%s: %q is also in row %d (unique)", at(i), refCut(v, MaxValueBytes), first[k])
					}
				}
			}
		}
		if h := len(header); n < h && !blank {
			if n+1 == h {
				add(tableschema.ErrTypeMissingCell, n+1, "", "row %d: the row has %s but the header has %d: cell %d (%q) is missing", row, refCells(n), h, h, refName(header[n]))
			} else {
				add(tableschema.ErrTypeMissingCell, n+1, "", "row %d: the row has %s but the header has %d: cells %d to %d are missing", row, refCells(n), h, n+1, h)
			}
			errs[len(errs)-1].cells = h - n
		}
		if h := len(header); n > h && !blank {
			v, _ := dec(rec.fields[h])
			if n == h+1 {
				add(tableschema.ErrTypeExtraCell, h+1, v, "row %d: the row has %s but the header has %d: cell %d is extra: %q", row, refCells(n), h, n, refCut(v, MaxValueBytes))
			} else {
				add(tableschema.ErrTypeExtraCell, h+1, v, "row %d: the row has %s but the header has %d: cells %d to %d are extra (cell %d: %q)", row, refCells(n), h, h+1, n, h+1, refCut(v, MaxValueBytes))
			}
			errs[len(errs)-1].cells = n - h
		}
		if !inferring && len(c.PrimaryKey) > 0 && n > slices.Max(c.PrimaryKey) && !blank {
			var key, shown []string
			for _, i := range c.PrimaryKey {
				if k, ok := normalize(i, rec.fields[i]); ok {
					key = append(key, k)
				}
				v, _ := dec(rec.fields[i])
				shown = append(shown, strconv.Quote(refCut(v, MaxValueBytes)))
			}
			if first := pkFirst[strings.Join(key, "\x00")]; len(key) == len(c.PrimaryKey) && first != row {
				var pkNames []string
				for _, i := range c.PrimaryKey {
					pkNames = append(pkNames, strconv.Quote(refName(header[i])))
				}
				value := "(" + strings.Join(shown, ", ") + ")"
				add(tableschema.ErrTypePrimaryKey, 0, value, "row %d: primary key (%s) = %s is also the key of row %d", row, strings.Join(pkNames, ", "), value, first)
			}
		}
		if len(errs) == 0 {
			if inferring {
				for i, v := range out {
					if v != "" {
						inf.Observe(i, []byte(v))
					}
				}
			}
			res.RowsValid++
			norm += refQuote(out...)
			continue
		}
		res.RowsRejected++
		var types, msgs []string
		for _, e := range errs {
			if !slices.Contains(types, e.typ) {
				types = append(types, e.typ)
			}
		}
		for k, e := range errs {
			for c := range e.cells {
				field, name := e.field, ""
				switch {
				case e.typ == tableschema.ErrTypeExtraCell:
					field = 0
				case e.typ == tableschema.ErrTypeMissingCell:
					field += c
					name = refName(header[field-1])
				case field > 0:
					name = refName(header[field-1])
				}
				counts[[2]string{fmt.Sprintf("%09d", field) + name, e.typ}]++
				res.ErrorTotal++
			}
			if k >= maxRowErrors {
				continue
			}
			msgs = append(msgs, e.msg)
			if len(errSample) < sampleSize && sampleBytes < maxSampleBytes {
				re := &typev1.RowError{Type: e.typ, RowNumber: row, LineNumber: rec.line, ByteOffset: rec.offset,
					FieldNumber: int32(e.field), Value: e.value, Message: e.msg}
				if e.field > 0 && e.field <= len(header) {
					re.FieldName = refName(header[e.field-1])
				}
				errSample = append(errSample, re)
				sampleBytes += rowErrorBytes(re)
			}
		}
		msg := strings.Join(msgs, "; ")
		if len(errs) > maxRowErrors {
			msg += fmt.Sprintf("; and %d more errors", len(errs)-maxRowErrors)
		}
		if len(msg) > maxRowMessageBytes {
			msg = refCut(msg, maxRowMessageBytes-len("…")) + "…"
		}
		raw, _ := dec(rec.raw)
		rej += refQuote(fmt.Sprint(row), fmt.Sprint(rec.line), fmt.Sprint(rec.offset), strings.Join(types, ";"),
			msg, strings.ToValidUTF8(raw, "\uFFFD"))
	}
	keys := make([][2]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0][:9], b[0][:9]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		field, _ := strconv.Atoi(k[0][:9])
		res.ErrorCounts = append(res.ErrorCounts, &typev1.ErrorCount{Type: k[1], FieldName: k[0][9:], FieldNumber: int32(field), Count: counts[k]})
	}
	if d.Encoding != dialect.UTF8 && cfg.Dialect.GetEncoding() == "" {
		res.Warnings = append(res.Warnings, "the file's encoding was detected as "+encName+"; its text was converted to UTF-8")
	}
	if inferring {
		ir := inf.Result(header)
		res.Schema = ir.Schema
		res.Warnings = append(res.Warnings, ir.Warnings...)
		o.rewrite = ir.Rewrite
		for i, f := range ir.Schema.GetFields() {
			if f.GetType() == typev1.FieldType_FIELD_TYPE_STRING || f.GetType() == typev1.FieldType_FIELD_TYPE_ANY {
				o.rewrite[i] = o.rewrite[i] && neutralize
			}
		}
	} else {
		res.Schema = cfg.Schema
	}
	if res.RowsRejected > 0 {
		counts := fmt.Sprintf("%s of %s rows (%s) are invalid", refGroup(res.RowsRejected), refGroup(res.RowsTotal), refPercent(res.RowsRejected, res.RowsTotal))
		switch opts := cmp.Or(cfg.Options, &typev1.ValidationOptions{}); {
		case opts.MaxInvalidRows != nil && res.RowsRejected > opts.GetMaxInvalidRows():
			unit := "rows"
			if opts.GetMaxInvalidRows() == 1 {
				unit = "row"
			}
			res.ThresholdExceeded = fmt.Sprintf("%s, over the limit of %s invalid %s (max_invalid_rows)", counts, refGroup(opts.GetMaxInvalidRows()), unit)
		case opts.MaxInvalidRatio != nil && float64(res.RowsRejected)/float64(res.RowsTotal) > opts.GetMaxInvalidRatio():
			limit := strconv.FormatFloat(opts.GetMaxInvalidRatio()*100, 'f', 4, 64)
			limit = strings.TrimSuffix(strings.TrimRight(limit, "0"), ".")
			res.ThresholdExceeded = fmt.Sprintf("%s, over the limit of %s%% (max_invalid_ratio)", counts, limit)
		default:
			res.Warnings = append(res.Warnings, counts+"; they are in the rejects output")
		}
	}
	batch := cmp.Or(cfg.ErrorBatchSize, DefaultErrorBatchSize)
	for len(errSample) > 0 {
		n, size := 0, 0
		for n < len(errSample) && n < batch && size < maxBatchBytes {
			size += rowErrorBytes(errSample[n])
			n++
		}
		o.events.batches = append(o.events.batches, &validatorv1.RowErrorBatch{Errors: errSample[:n]})
		errSample = errSample[n:]
	}
	total := int64(len(in))
	o.events.progress = []*validatorv1.ValidationProgress{{BytesRead: total, BytesTotal: total, RowsRead: res.RowsTotal}}
	res.BytesRead, res.NormalizedSizeBytes, res.RejectsSizeBytes = int64(len(in)), int64(len(norm)), int64(len(rej))
	o.norm, o.rej, o.res = norm, rej, res
	return o, true
}
