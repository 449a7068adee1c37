package validator

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/infer"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// errKind is the kind of a row error: its type, and how its message reads.
type errKind uint8

const (
	kindType        errKind = iota // type-error from Normalize; detail is its message
	kindConstraint                 // constraint-error from Normalize; detail is its message
	kindRequired                   // constraint-error: a missing value in a required field
	kindUnique                     // unique-error; aux is the first row
	kindPrimaryKey                 // primary-key; value is the key, aux the first row
	kindBlank                      // blank-row
	kindExtraCell                  // extra-cell: every extra cell of the row; field is the first, aux the row's cell count
	kindMissingCell                // missing-cell: every missing cell of the row; field is the first, aux the row's cell count
	kindEncoding                   // encoding-error
	kindMalformed                  // malformed-row; detail is the parser's message
)

// kindTypes are the error types of the kinds.
var kindTypes = [...]string{
	kindType:        tableschema.ErrTypeTypeError,
	kindConstraint:  tableschema.ErrTypeConstraintError,
	kindRequired:    tableschema.ErrTypeConstraintError,
	kindUnique:      tableschema.ErrTypeUniqueError,
	kindPrimaryKey:  tableschema.ErrTypePrimaryKey,
	kindBlank:       tableschema.ErrTypeBlankRow,
	kindExtraCell:   tableschema.ErrTypeExtraCell,
	kindMissingCell: tableschema.ErrTypeMissingCell,
	kindEncoding:    tableschema.ErrTypeEncodingError,
	kindMalformed:   tableschema.ErrTypeMalformedRow,
}

// kindMask has a bit per error type, shared by the kinds of that type.
var kindMask = func() (m [len(kindTypes)]uint32) {
	for k := range kindTypes {
		for l := range k + 1 {
			if kindTypes[l] == kindTypes[k] {
				m[k] = 1 << l
				break
			}
		}
	}
	return m
}()

// errRec is one error of a row, as a worker records it; the merger, which
// knows the row's number, writes its message.
type errRec struct {
	kind   errKind
	field  int32 // 1-based cell number; 0 for the row
	value  span  // the value, valid UTF-8, cut to MaxValueBytes
	detail span  // the message of Normalize or the parser
	aux    int64
}

// rowRec is an invalid row.
type rowRec struct {
	local        int64 // the row's number within its block, from 1
	line, offset int64
	raw          span // the row's text, valid UTF-8
	errs0, errs1 int  // its errors in the job's errs
}

// taggedDup is a row whose key for a checker is also that of FirstRow.
type taggedDup struct {
	offset, firstRow int64
	checker          int
}

// keyRec is a key of a row for a checker, found by the key pass.
type keyRec struct {
	checker       int
	local, offset int64
	key           span
}

// isBlank reports whether every cell is empty.
func isBlank(fields [][]byte) bool {
	for _, f := range fields {
		if len(f) > 0 {
			return false
		}
	}
	return true
}

// rowValid reports whether every field of a record whose text is raw is
// valid UTF-8 as it is: all ASCII, or valid UTF-8 in a UTF-8 file.
func (e *engine) rowValid(raw []byte) bool {
	if e.transcode {
		return isASCII(raw)
	}
	return utf8.Valid(raw)
}

// plainRecord reports whether raw, the text of a record, holds no '"',
// quote or escape byte: its fields are unquoted and, when the delimiter is
// ',', none needs quotes in the normalized output.
func (e *engine) plainRecord(raw []byte) bool {
	if e.d.Quote == '"' && e.d.Escape == 0 {
		return bytes.IndexByte(raw, '"') < 0
	}
	return plainRecord(raw, e.d.Quote, e.d.Escape)
}

// inferMissingStart marks the first bytes of infer's non-empty missing
// values, so most values skip infer.IsMissing.
var inferMissingStart = func() (t [256]bool) {
	for _, m := range infer.DefaultMissingValues {
		if m != "" {
			t[m[0]] = true
		}
	}
	return t
}()

// inferMissing is infer.IsMissing.
func inferMissing(v []byte) bool {
	return len(v) == 0 || inferMissingStart[v[0]] && infer.IsMissing(v)
}

// mainWorker checks rows on one goroutine.
type mainWorker struct {
	e          *engine
	blockValid bool   // every field of the block is valid UTF-8 as it is
	tbuf       []byte // a transcoded value
	qbuf       []byte // a value being quoted
	kbuf       []byte // a primary key's values
	scratch    []byte // for Field.Canonical
	tryCopy    bool   // schemaRow tries copyRow first
	row0       int    // the current row's first error in the job's errs

	// The fused path.
	fields [][]byte
	blank  [][]byte
	rec    csvparse.Record
}

func (w *mainWorker) process(j *blockJob) error {
	e := w.e
	j.rows, j.valid = 0, 0
	j.norm, j.rejects, j.errs, j.arena = j.norm[:0], j.rejects[:0], j.errs[:0], j.arena[:0]
	if n := len(j.blk.Data) + len(j.blk.Data)/8 + 64; cap(j.norm) < n {
		// The normalized rows are about as long as the block; most blocks
		// are about blockSize long.
		j.norm = make([]byte, 0, max(n, e.blockSize+e.blockSize/8+64))
	}
	if e.inferring {
		j.inf = infer.New(e.ncols, infer.Options{Comma: e.d.Comma})
	}
	if j.fused {
		if !j.prepared {
			w.prepare(j)
		}
		return w.processFused(j)
	}
	opts := e.blockOptions(j.blk)
	w.tryCopy = e.copyRows
	rd := csvparse.NewBytesReader(j.blk.Data, opts)
	w.blockValid = e.blockValid(j.blk.Data)
	di := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		j.rows++
		if err != nil {
			re, ok := err.(*csvparse.RecordError)
			if !ok {
				return err
			}
			w.malformed(j, rec, re)
			continue
		}
		for di < len(j.dups) && j.dups[di].offset < rec.Offset {
			di++
		}
		d0 := di
		for di < len(j.dups) && j.dups[di].offset == rec.Offset {
			di++
		}
		if e.inferring {
			w.inferRow(j, rec)
		} else {
			w.schemaRow(j, rec, j.dups[d0:di])
		}
	}
}

// addErr records an error of the current row. Past maxRowErrors errors in
// the row only the error's kind and field are kept, for the counts.
func (w *mainWorker) addErr(j *blockJob, kind errKind, field int, value []byte, detail string, aux int64) {
	er := errRec{kind: kind, field: int32(field), aux: aux}
	if len(j.errs)-w.row0 >= maxRowErrors {
		j.errs = append(j.errs, er)
		return
	}
	if value != nil {
		s := len(j.arena)
		j.arena = appendValidUTF8(j.arena, cutUTF8(value, MaxValueBytes))
		er.value = span{s, len(j.arena)}
	}
	if detail != "" {
		s := len(j.arena)
		j.arena = append(j.arena, detail...)
		er.detail = span{s, len(j.arena)}
	}
	j.errs = append(j.errs, er)
}

// reject records the current row as invalid, with the errors from errs0 on.
func (w *mainWorker) reject(j *blockJob, line, offset int64, raw []byte, errs0 int) {
	s := len(j.arena)
	if w.e.transcode {
		j.arena, _ = w.e.enc.AppendUTF8(j.arena, raw)
	} else {
		j.arena = appendValidUTF8(j.arena, raw)
	}
	j.rejects = append(j.rejects, rowRec{local: j.rows, line: line, offset: offset, raw: span{s, len(j.arena)}, errs0: errs0, errs1: len(j.errs)})
}

// malformed records a row the parser could not split.
func (w *mainWorker) malformed(j *blockJob, rec *csvparse.Record, re *csvparse.RecordError) {
	e0 := len(j.errs)
	w.row0 = e0
	w.addErr(j, kindMalformed, re.Column, nil, re.Msg, 0)
	var raw []byte
	if rec != nil {
		raw = rec.Raw
	}
	w.reject(j, re.Line, re.Offset, raw, e0)
}

// cell returns field v as UTF-8 and whether it is valid; valid tells that
// the whole row is known to be.
func (w *mainWorker) cell(v []byte, valid bool) ([]byte, bool) {
	if valid {
		return v, true
	}
	var ok bool
	w.tbuf, ok = w.e.enc.AppendUTF8(w.tbuf[:0], v)
	return w.tbuf, ok
}

// cellErrors records the errors of a row that do not depend on types: a
// blank row, or invalid encodings and missing and extra cells.
func (w *mainWorker) cellErrors(j *blockJob, fields [][]byte, valid bool) {
	e := w.e
	if isBlank(fields) {
		w.addErr(j, kindBlank, 0, nil, "", 0)
		return
	}
	n := min(len(fields), e.ncols)
	if !valid {
		for i := range n {
			if v, ok := w.cell(fields[i], false); !ok {
				w.addErr(j, kindEncoding, i+1, v, "", 0)
			}
		}
	}
	w.countErrors(j, fields, valid)
}

// countErrors records one missing-cell error for all the missing cells of
// a row, or one extra-cell error, with the first extra value, for all its
// extra cells; the merger counts each cell.
func (w *mainWorker) countErrors(j *blockJob, fields [][]byte, valid bool) {
	e := w.e
	if len(fields) < e.ncols {
		w.addErr(j, kindMissingCell, len(fields)+1, nil, "", int64(len(fields)))
	}
	if len(fields) > e.ncols {
		v, _ := w.cell(fields[e.ncols], valid)
		w.addErr(j, kindExtraCell, e.ncols+1, v, "", int64(len(fields)))
	}
}

// inferRow handles a row when the schema is being inferred: a row with the
// right number of cells, not blank and validly encoded, is observed and
// written with its values as they are, missing ones emptied.
func (w *mainWorker) inferRow(j *blockJob, rec *csvparse.Record) {
	e := w.e
	fields := rec.Fields
	valid := w.blockValid || e.rowValid(rec.Raw)
	ok := len(fields) == e.ncols && !isBlank(fields)
	if ok && !valid {
		for _, f := range fields {
			if _, good := w.cell(f, false); !good {
				ok = false
				break
			}
		}
	}
	if !ok {
		e0 := len(j.errs)
		w.row0 = e0
		w.cellErrors(j, fields, valid)
		w.reject(j, rec.Line, rec.Offset, rec.Raw, e0)
		return
	}
	emptied := false
	if valid {
		for i, v := range fields {
			if inferMissing(v) {
				emptied = emptied || len(v) > 0
				continue
			}
			j.inf.Observe(i, v)
		}
		if !emptied && e.rawCopy && e.plainRecord(rec.Raw) {
			// The record's text is its normalized record: its fields are
			// unquoted, need no quotes, and none is emptied. (It is not one
			// empty field, which would be a blank row.)
			j.norm = append(j.norm, rec.Raw...)
			j.norm = append(j.norm, '\n')
			j.valid++
			return
		}
	}
	start := len(j.norm)
	line := j.norm
	for i, f := range fields {
		if i > 0 {
			line = append(line, ',')
		}
		v, _ := w.cell(f, valid)
		if inferMissing(v) {
			continue
		}
		if !valid {
			j.inf.Observe(i, v)
		}
		line = csvparse.AppendField(line, v)
	}
	if e.ncols == 1 && len(line) == start {
		line = append(line, '"', '"')
	}
	j.norm = append(line, '\n')
	j.valid++
}

// copyRow writes a row whose text is its normalized form as it is, and
// reports whether it did: a row with every cell, not blank, validly
// encoded, whose cells are unquoted (so the text is the cells joined by the
// ',' delimiter), need no quotes, and are each canonical (Field.Canonical)
// or missing and empty in a field that is not required. Any other row is
// left to schemaRow's full check.
func (w *mainWorker) copyRow(j *blockJob, rec *csvparse.Record) bool {
	e := w.e
	fields, raw := rec.Fields, rec.Raw
	if len(fields) != e.ncols || !w.blockValid && !e.rowValid(raw) {
		return false
	}
	cols := e.cols[:len(fields)]
	n := len(fields) - 1 // the delimiters
	for i, v := range fields {
		c := &cols[i]
		n += len(v)
		if len(v) == 0 && e.missingEmpty || !e.missingEmpty && e.compiled.IsMissing(v) {
			if len(v) > 0 || c.required {
				return false
			}
			continue
		}
		if c.mayQuote && needsQuoting(v) {
			return false
		}
		if !c.identity {
			var ok bool
			if w.scratch, ok = c.field.Canonical(w.scratch, v); !ok {
				return false
			}
		}
	}
	// Quoting or escaping would make the text longer than the cells and
	// delimiters; a blank row has only delimiters.
	if n != len(raw) || n == len(fields)-1 {
		return false
	}
	j.norm = append(j.norm, raw...)
	j.norm = append(j.norm, '\n')
	j.valid++
	return true
}

// schemaRow checks a row against the schema and writes it normalized, or
// records it as invalid with all its errors.
func (w *mainWorker) schemaRow(j *blockJob, rec *csvparse.Record, dups []taggedDup) {
	e := w.e
	if w.tryCopy && len(dups) == 0 && w.copyRow(j, rec) {
		return
	}
	fields := rec.Fields
	e0 := len(j.errs)
	w.row0 = e0
	if isBlank(fields) {
		w.addErr(j, kindBlank, 0, nil, "", 0)
		w.reject(j, rec.Line, rec.Offset, rec.Raw, e0)
		return
	}
	valid := w.blockValid || e.rowValid(rec.Raw)
	start := len(j.norm)
	line := j.norm
	if cap(line)-len(line) < len(rec.Raw)+64 {
		// Room for the normalized record and tailNeedsQuoting's reads.
		line = slices.Grow(line, len(rec.Raw)+64)
	}
	// In a plain record no value needs quotes.
	plain := e.d.Comma == ',' && e.plainRecord(rec.Raw)
	cols := e.cols[:min(len(fields), e.ncols)]
	fields = fields[:len(cols)]
	missingEmpty := e.missingEmpty
	for i := range cols {
		c := &cols[i]
		if i > 0 {
			line = append(line, ',')
		}
		v := fields[i]
		if !valid {
			var ok bool
			if v, ok = w.cell(v, false); !ok {
				w.addErr(j, kindEncoding, i+1, v, "", 0)
				continue
			}
		}
		if missingEmpty && len(v) == 0 || !missingEmpty && e.compiled.IsMissing(v) {
			if c.required {
				w.addErr(j, kindRequired, i+1, v, "", 0)
			}
			continue
		}
		s := len(line)
		var ve *tableschema.ValueError
		if c.identity {
			line = append(line, v...)
		} else {
			line, ve = c.field.Normalize(line, v)
		}
		if ve != nil {
			line = line[:s]
			kind := kindType
			if ve.Type == tableschema.ErrTypeConstraintError {
				kind = kindConstraint
			}
			w.addErr(j, kind, i+1, v, ve.Msg, 0)
			continue
		}
		if len(line) == s && c.required {
			// The value is empty after its transforms.
			w.addErr(j, kindRequired, i+1, v, "", 0)
			continue
		}
		if !plain && c.mayQuote && tailNeedsQuoting(line, s) {
			w.qbuf = append(w.qbuf[:0], line[s:]...)
			line = csvparse.AppendField(line[:s], w.qbuf)
		}
		if c.unique >= 0 && len(dups) > 0 {
			if first, ok := findDup(dups, c.unique); ok {
				w.addErr(j, kindUnique, i+1, v, "", first)
			}
		}
	}
	if len(rec.Fields) != e.ncols {
		w.countErrors(j, rec.Fields, valid)
	}
	if e.pkChecker >= 0 && len(dups) > 0 && e.hasKeyCells(rec.Fields) {
		// Only rows with every key cell have keys.
		fields := rec.Fields
		if first, ok := findDup(dups, e.pkChecker); ok {
			w.kbuf = append(w.kbuf[:0], '(')
			for k, i := range e.compiled.PrimaryKey {
				if k > 0 {
					w.kbuf = append(w.kbuf, ", "...)
				}
				v, _ := w.cell(fields[i], valid)
				w.kbuf = strconv.AppendQuote(w.kbuf, string(cutUTF8(v, MaxValueBytes)))
			}
			w.kbuf = append(w.kbuf, ')')
			w.addErr(j, kindPrimaryKey, 0, w.kbuf, "", first)
		}
	}
	if len(j.errs) > e0 {
		j.norm = line[:start]
		w.reject(j, rec.Line, rec.Offset, rec.Raw, e0)
		return
	}
	if e.ncols == 1 && len(line) == start {
		line = append(line, '"', '"')
	}
	j.norm = append(line, '\n')
	j.valid++
}

// hasKeyCells reports whether a row has every cell of the primary key.
func (e *engine) hasKeyCells(fields [][]byte) bool {
	return len(fields) > e.pkMaxField
}

// findDup returns the first row of the duplicate of checker c among a row's
// duplicates.
func findDup(dups []taggedDup, c int) (int64, bool) {
	for _, d := range dups {
		if d.checker == c {
			return d.firstRow, true
		}
	}
	return 0, false
}

// keyWorker collects the unique and primary keys of rows on one goroutine.
type keyWorker struct {
	e    *engine
	tbuf []byte
	nbuf []byte // a canonical value
	vbuf []byte // its ValueKey
}

func (w *keyWorker) process(j *blockJob) error {
	e := w.e
	j.rows, j.keys, j.arena = 0, j.keys[:0], j.arena[:0]
	rd := csvparse.NewBytesReader(j.blk.Data, e.blockOptions(j.blk))
	blockValid := e.blockValid(j.blk.Data)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		j.rows++
		if err != nil {
			if _, ok := err.(*csvparse.RecordError); !ok {
				return err
			}
			continue
		}
		fields := rec.Fields
		if isBlank(fields) {
			// A blank row is not checked further.
			continue
		}
		valid := blockValid || e.rowValid(rec.Raw)
		for c, i := range e.keyFields {
			if i < 0 || i >= len(fields) {
				// A missing cell has no key, as a missing value has none.
				continue
			}
			var ok bool
			if w.nbuf, ok = w.normalize(w.nbuf[:0], fields[i], i, valid); ok {
				s := len(j.arena)
				j.arena = e.keyCompiled.Fields[i].ValueKey(j.arena, w.nbuf)
				j.keys = append(j.keys, keyRec{checker: c, local: j.rows, offset: rec.Offset, key: span{s, len(j.arena)}})
			}
		}
		if e.pkChecker < 0 || !e.hasKeyCells(fields) {
			continue
		}
		s := len(j.arena)
		ok := true
		for _, i := range e.compiled.PrimaryKey {
			var good bool
			if w.nbuf, good = w.normalize(w.nbuf[:0], fields[i], i, valid); !good {
				ok = false
				break
			}
			w.vbuf = e.keyCompiled.Fields[i].ValueKey(w.vbuf[:0], w.nbuf)
			j.arena = binary.AppendUvarint(j.arena, uint64(len(w.vbuf)))
			j.arena = append(j.arena, w.vbuf...)
		}
		if ok {
			j.keys = append(j.keys, keyRec{checker: e.pkChecker, local: j.rows, offset: rec.Offset, key: span{s, len(j.arena)}})
		} else {
			j.arena = j.arena[:s]
		}
	}
}

// normalize appends the canonical text of the value f of field i, before
// neutralization, to dst, and reports whether f is a valid, non-missing
// value that is not empty after its transforms.
func (w *keyWorker) normalize(dst, f []byte, i int, valid bool) ([]byte, bool) {
	e := w.e
	v := f
	if !valid {
		var ok bool
		if w.tbuf, ok = e.enc.AppendUTF8(w.tbuf[:0], f); !ok {
			return dst, false
		}
		v = w.tbuf
	}
	if e.isMissing(v) {
		return dst, false
	}
	s := len(dst)
	out, ve := e.keyCompiled.Fields[i].Normalize(dst, v)
	if ve != nil || len(out) == s {
		// An invalid value, or one empty after its transforms (written
		// as missing), has no key.
		return out[:s], false
	}
	return out, true
}
