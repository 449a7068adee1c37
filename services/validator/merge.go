package validator

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/infer"
	"github.com/csvmesh/csvmesh/services/internal/uniq"
)

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// countKey is an ErrorCount's key.
type countKey struct {
	typ   string
	field int32
}

// merger takes the blocks' results in order: it numbers the rows, writes
// the outputs, renders the errors, counts them and reports events.
type merger struct {
	e      *engine
	events EventSink
	norm   countingWriter
	rej    countingWriter
	rejBuf []byte
	msgBuf []byte

	rows, valid, invalid int64
	counts               map[countKey]int64
	missing              []int64 // missing-cell counts by field number
	total                int64
	streamed             int
	batch                []*typev1.RowError
	batchBytes           int // rowErrorBytes of the batch
	sampleBytes          int // rowErrorBytes of the sample so far
	inf                  *infer.Inferrer
	rewrite              []bool

	// Progress: bytes done in earlier passes, the input's size, and the
	// number of passes, each counted as 1/passes of the input.
	progressBase, progressTotal, passes int64
	bytesDone                           int64
	lastProgress                        time.Time
}

func newMerger(e *engine, out Outputs, events EventSink) *merger {
	m := &merger{
		e:            e,
		events:       events,
		norm:         countingWriter{w: out.Normalized},
		rej:          countingWriter{w: out.Rejects},
		counts:       make(map[countKey]int64),
		missing:      make([]int64, e.ncols+1),
		lastProgress: time.Now(),
	}
	if e.inferring {
		m.inf = infer.New(e.ncols, infer.Options{Comma: e.d.Comma})
	}
	return m
}

// start writes the outputs' header rows.
func (m *merger) start() error {
	b := csvparse.AppendRecord(nil, stringsToBytes(m.e.header))
	if _, err := m.norm.Write(b); err != nil {
		return fmt.Errorf("write normalized output: %w", err)
	}
	m.rejBuf = csvparse.AppendRecord(m.rejBuf[:0], stringsToBytes(RejectsHeader))
	return nil
}

func stringsToBytes(s []string) [][]byte {
	b := make([][]byte, len(s))
	for i, v := range s {
		b[i] = []byte(v)
	}
	return b
}

// mainStage is the pass that checks rows.
type mainStage struct {
	e    *engine
	m    *merger
	dups *dupSource
	prep *mainWorker // prepares fused blocks on the dispatcher (one worker)
}

func (s *mainStage) newWorker() blockWorker { return &mainWorker{e: s.e} }

func (s *mainStage) attach(j *blockJob) error {
	j.dups = j.dups[:0]
	if s.dups != nil {
		lo := s.e.cfg.FirstOffset + s.e.bom + s.e.dataStart + j.blk.Offset
		var err error
		if j.dups, err = s.dups.take(j.dups, lo, lo+int64(len(j.blk.Data))); err != nil {
			return err
		}
	}
	// A block at offset 0 may start with a byte order mark that its Reader
	// skips: it takes the general path.
	j.fused = s.e.fused && s.e.blockOptions(j.blk).FirstOffset != 0
	// With one worker the dispatcher has time to spare: it prepares the
	// block while the worker checks the previous one. With more, it would
	// hold them up.
	j.prepared = j.fused && s.e.workers == 1
	if j.prepared {
		if s.prep == nil {
			s.prep = &mainWorker{e: s.e}
		}
		s.prep.prepare(j)
	}
	return nil
}

func (s *mainStage) merge(j *blockJob) error {
	m := s.m
	if _, err := m.norm.Write(j.norm); err != nil {
		return fmt.Errorf("write normalized output: %w", err)
	}
	base := s.e.firstRow + m.rows - 1
	for i := range j.rejects {
		if err := m.reject(j, &j.rejects[i], base+j.rejects[i].local); err != nil {
			return err
		}
	}
	m.rows += j.rows
	m.valid += j.valid
	m.invalid += int64(len(j.rejects))
	if j.inf != nil {
		m.inf.Merge(j.inf)
	}
	m.bytesDone = s.e.dataStart + j.blk.Offset + int64(len(j.blk.Data))
	return m.maybeProgress()
}

// reject writes an invalid row to the rejects output and its errors to the
// counts and the error sample.
func (m *merger) reject(j *blockJob, r *rowRec, row int64) error {
	e := m.e
	b := strconv.AppendInt(m.rejBuf, row, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.line, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.offset, 10)
	b = append(b, ',')
	errs := j.errs[r.errs0:r.errs1]
	var seen uint32 // the kinds whose type is written
	for k := range errs {
		kind := errs[k].kind
		if seen&kindMask[kind] != 0 {
			continue
		}
		if seen != 0 {
			b = append(b, ';')
		}
		seen |= kindMask[kind]
		b = append(b, kindTypes[kind]...)
	}
	b = append(b, ',')
	msgs := m.msgBuf[:0]
	full := false // msgs has reached maxRowMessageBytes
	for k := range errs {
		er := &errs[k]
		m.count(er)
		if k >= maxRowErrors {
			continue
		}
		start := len(msgs)
		if k > 0 {
			msgs = append(msgs, "; "...)
		}
		msgs = m.appendMessage(msgs, j.arena, er, row)
		if m.events != nil && m.streamed < e.sampleSize && m.sampleBytes < maxSampleBytes {
			m.streamed++
			re := &typev1.RowError{
				Type:        kindTypes[er.kind],
				RowNumber:   row,
				LineNumber:  r.line,
				ByteOffset:  r.offset,
				FieldNumber: er.field,
				Value:       string(er.value.bytes(j.arena)),
				Message:     string(bytes.TrimPrefix(msgs[start:], []byte("; "))),
			}
			if er.field > 0 && int(er.field) <= e.ncols {
				re.FieldName = fieldName(e.header[er.field-1])
			}
			m.batch = append(m.batch, re)
			n := rowErrorBytes(re)
			m.sampleBytes += n
			m.batchBytes += n
			if len(m.batch) >= e.batchSize || m.batchBytes >= maxBatchBytes {
				if err := m.flushBatch(); err != nil {
					return err
				}
			}
		}
		switch {
		case full:
			msgs = msgs[:start]
		case len(msgs) > maxRowMessageBytes:
			msgs = append(cutUTF8(msgs, maxRowMessageBytes-len("…")), "…"...)
			full = true
		}
	}
	if n := len(errs) - maxRowErrors; n > 0 && !full {
		msgs = append(msgs, "; and "...)
		msgs = strconv.AppendInt(msgs, int64(n), 10)
		msgs = append(msgs, " more errors"...)
		if len(msgs) > maxRowMessageBytes {
			msgs = append(cutUTF8(msgs, maxRowMessageBytes-len("…")), "…"...)
		}
	}
	m.msgBuf = msgs
	b = csvparse.AppendField(b, msgs)
	b = append(b, ',')
	b = csvparse.AppendField(b, r.raw.bytes(j.arena))
	b = append(b, '\n')
	m.rejBuf = b
	if len(b) >= 64<<10 {
		return m.flushRejects()
	}
	return nil
}

// count counts error er: a missing-cell or extra-cell error once per cell.
func (m *merger) count(er *errRec) {
	ncols := int64(m.e.ncols)
	switch er.kind {
	case kindMissingCell:
		for f := int64(er.field); f <= ncols; f++ {
			m.missing[f]++
		}
		m.total += ncols - int64(er.field) + 1
		return
	case kindExtraCell:
		n := er.aux - ncols
		m.counts[countKey{kindTypes[er.kind], 0}] += n
		m.total += n
		return
	}
	field := er.field
	if int(field) > m.e.ncols {
		field = 0
	}
	m.counts[countKey{kindTypes[er.kind], field}]++
	m.total++
}

// appendField appends `field N ("name")`.
func (m *merger) appendField(dst []byte, field int32) []byte {
	dst = append(dst, "field "...)
	dst = strconv.AppendInt(dst, int64(field), 10)
	if field > 0 && int(field) <= m.e.ncols {
		dst = append(dst, " ("...)
		dst = appendName(dst, m.e.header[field-1])
		dst = append(dst, ')')
	}
	return dst
}

// appendMessage appends the message of error er of row.
func (m *merger) appendMessage(dst, arena []byte, er *errRec, row int64) []byte {
	dst = append(dst, "row "...)
	dst = strconv.AppendInt(dst, row, 10)
	switch er.kind {
	case kindBlank:
		return append(dst, " is blank"...)
	case kindExtraCell, kindMissingCell:
		dst = append(dst, ": the row has "...)
		dst = appendCells(dst, er.aux)
		dst = append(dst, " but the header has "...)
		dst = strconv.AppendInt(dst, int64(m.e.ncols), 10)
		last := int64(m.e.ncols)
		if er.kind == kindExtraCell {
			last = er.aux
		}
		one := int64(er.field) == last
		if one {
			dst = append(dst, ": cell "...)
			dst = strconv.AppendInt(dst, last, 10)
		} else {
			dst = append(dst, ": cells "...)
			dst = strconv.AppendInt(dst, int64(er.field), 10)
			dst = append(dst, " to "...)
			dst = strconv.AppendInt(dst, last, 10)
		}
		switch {
		case er.kind == kindExtraCell && one:
			dst = append(dst, " is extra: "...)
			return strconv.AppendQuote(dst, string(er.value.bytes(arena)))
		case er.kind == kindExtraCell:
			dst = append(dst, " are extra (cell "...)
			dst = strconv.AppendInt(dst, int64(er.field), 10)
			dst = append(dst, ": "...)
			dst = strconv.AppendQuote(dst, string(er.value.bytes(arena)))
			return append(dst, ')')
		case one:
			dst = append(dst, " ("...)
			dst = appendName(dst, m.e.header[er.field-1])
			return append(dst, ") is missing"...)
		}
		return append(dst, " are missing"...)
	case kindPrimaryKey:
		dst = append(dst, ": primary key "...)
		dst = append(dst, m.e.pkNames...)
		dst = append(dst, " = "...)
		dst = append(dst, er.value.bytes(arena)...)
		dst = append(dst, " is also the key of row "...)
		return strconv.AppendInt(dst, er.aux, 10)
	case kindMalformed:
		dst = append(dst, ": "...)
		return append(dst, er.detail.bytes(arena)...)
	}
	dst = append(dst, ", "...)
	dst = m.appendField(dst, er.field)
	dst = append(dst, ": "...)
	switch er.kind {
	case kindRequired:
		return append(dst, "a value is required but it is missing"...)
	case kindUnique:
		dst = strconv.AppendQuote(dst, string(er.value.bytes(arena)))
		dst = append(dst, " is also in row "...)
		dst = strconv.AppendInt(dst, er.aux, 10)
		return append(dst, " (unique)"...)
	case kindEncoding:
		dst = append(dst, "the value is not valid "...)
		return append(dst, encodingName(m.e.enc)...)
	}
	return append(dst, er.detail.bytes(arena)...)
}

// appendName appends a field's name quoted, cut to MaxNameBytes.
func appendName(dst []byte, name string) []byte {
	return strconv.AppendQuote(dst, fieldName(name))
}

// fieldName is a field's name as a RowError or message shows it: cut to
// MaxNameBytes, with "…" where it was cut.
func fieldName(name string) string {
	if len(name) <= MaxNameBytes {
		return name
	}
	return cutUTF8(name, MaxNameBytes-len("…")) + "…"
}

// rowErrorBytes is about the size of a RowError in a message.
func rowErrorBytes(re *typev1.RowError) int {
	return len(re.Type) + len(re.FieldName) + len(re.Value) + len(re.Message) + 48
}

// appendCells appends "1 cell" or "n cells".
func appendCells(dst []byte, n int64) []byte {
	dst = strconv.AppendInt(dst, n, 10)
	if n == 1 {
		return append(dst, " cell"...)
	}
	return append(dst, " cells"...)
}

func (m *merger) flushRejects() error {
	if len(m.rejBuf) == 0 {
		return nil
	}
	if _, err := m.rej.Write(m.rejBuf); err != nil {
		return fmt.Errorf("write rejects output: %w", err)
	}
	m.rejBuf = m.rejBuf[:0]
	return nil
}

func (m *merger) flushBatch() error {
	if len(m.batch) == 0 || m.events == nil {
		return nil
	}
	b := &validatorv1.RowErrorBatch{Errors: m.batch}
	m.batch, m.batchBytes = nil, 0
	return m.events.RowErrors(b)
}

// maybeProgress reports progress when it is due.
func (m *merger) maybeProgress() error {
	switch iv := m.e.cfg.ProgressInterval; {
	case iv == 0:
		return nil
	case iv > 0 && time.Since(m.lastProgress) < iv:
		return nil
	}
	m.lastProgress = time.Now()
	return m.progress(min((m.progressBase+m.bytesDone)/m.passes, m.progressTotal))
}

func (m *merger) progress(done int64) error {
	if err := m.flushBatch(); err != nil {
		return err
	}
	if m.events == nil {
		return nil
	}
	return m.events.Progress(&validatorv1.ValidationProgress{
		BytesRead:  done,
		BytesTotal: m.progressTotal,
		RowsRead:   m.rows,
	})
}

// finish flushes the outputs and returns the result.
func (m *merger) finish() (*validatorv1.ValidationResult, error) {
	e := m.e
	if err := m.flushRejects(); err != nil {
		return nil, err
	}
	res := &validatorv1.ValidationResult{
		RowsTotal:           m.rows,
		RowsValid:           m.valid,
		RowsRejected:        m.invalid,
		BytesRead:           e.size,
		NormalizedSizeBytes: m.norm.n,
		RejectsSizeBytes:    m.rej.n,
		Dialect:             e.d.Proto(),
		SchemaInferred:      e.inferring,
		ErrorTotal:          m.total,
	}
	if slices.Contains(e.d.DetectedFields, "encoding") && encodingName(e.enc) != "UTF-8" {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the file's encoding was detected as %s; its text was converted to UTF-8", e.enc))
	}
	if e.inferring {
		ir := m.inf.Result(e.header)
		res.Schema = ir.Schema
		res.Warnings = append(res.Warnings, ir.Warnings...)
		m.rewrite = ir.Rewrite
		for i, f := range ir.Schema.GetFields() {
			switch f.GetType() {
			case typev1.FieldType_FIELD_TYPE_STRING, typev1.FieldType_FIELD_TYPE_ANY:
				// Only neutralization rewrites a string.
				m.rewrite[i] = m.rewrite[i] && e.neutralize
			}
		}
	} else {
		res.Schema = e.cfg.Schema
	}
	for f, n := range m.missing {
		if n > 0 {
			m.counts[countKey{kindTypes[kindMissingCell], int32(f)}] += n
		}
	}
	for k, n := range m.counts {
		ec := &typev1.ErrorCount{Type: k.typ, FieldNumber: k.field, Count: n}
		if k.field > 0 {
			ec.FieldName = fieldName(e.header[k.field-1])
		}
		res.ErrorCounts = append(res.ErrorCounts, ec)
	}
	slices.SortFunc(res.ErrorCounts, func(a, b *typev1.ErrorCount) int {
		return cmp.Or(cmp.Compare(a.GetFieldNumber(), b.GetFieldNumber()), cmp.Compare(a.GetType(), b.GetType()))
	})
	var warning string
	res.ThresholdExceeded, warning = threshold(e.cfg.Options, m.rows, m.invalid)
	if warning != "" {
		res.Warnings = append(res.Warnings, warning)
	}
	if err := m.progress(m.progressTotal); err != nil {
		return nil, err
	}
	return res, nil
}

// keyStage is the pass that collects unique and primary keys.
type keyStage struct {
	e        *engine
	m        *merger
	checkers []*uniq.Checker
	rows     int64
}

func (s *keyStage) newWorker() blockWorker { return &keyWorker{e: s.e} }

func (s *keyStage) attach(*blockJob) error { return nil }

func (s *keyStage) merge(j *blockJob) error {
	base := s.e.firstRow + s.rows - 1
	for _, k := range j.keys {
		if err := s.checkers[k.checker].Add(k.key.bytes(j.arena), k.offset, base+k.local); err != nil {
			return fmt.Errorf("check unique values: %w", err)
		}
	}
	s.rows += j.rows
	s.m.bytesDone = s.e.dataStart + j.blk.Offset + int64(len(j.blk.Data))
	return s.m.maybeProgress()
}

// prePass reads the rows once to find the duplicate keys.
func (e *engine) prePass(ctx context.Context, m *merger) (*dupSource, error) {
	st := &keyStage{e: e, m: m}
	ok := false
	defer func() {
		if !ok {
			for _, c := range st.checkers {
				c.Close()
			}
		}
	}()
	budget := checkerBudget(e.cfg.UniqueMemoryBudget, len(e.keyFields))
	for range e.keyFields {
		st.checkers = append(st.checkers, uniq.New(e.cfg.SpillDir, budget))
	}
	src, err := e.stream(ctx, e.dataStart)
	if err != nil {
		return nil, err
	}
	if err := runPipeline(ctx, src, e.splitterOptions(), e.blockSize, e.workers, st); err != nil {
		return nil, err
	}
	d := &dupSource{checkers: st.checkers}
	for _, c := range st.checkers {
		it, err := c.Duplicates()
		if err != nil {
			return nil, fmt.Errorf("check unique values: %w", err)
		}
		d.its = append(d.its, it)
	}
	d.heads = make([]uniq.Dup, len(d.its))
	d.live = make([]bool, len(d.its))
	for i := range d.its {
		if err := d.advance(i); err != nil {
			return nil, err
		}
	}
	ok = true
	return d, nil
}

// checkerBudget is the memory budget of each of n checkers that share the
// total budget (uniq.DefaultMemBudget when total <= 0).
func checkerBudget(total int64, n int) int64 {
	if total <= 0 {
		total = uniq.DefaultMemBudget
	}
	return max(total/int64(max(n, 1)), 1)
}

// dupSource merges the duplicates of several checkers by offset.
type dupSource struct {
	checkers []*uniq.Checker
	its      []*uniq.Iterator
	heads    []uniq.Dup
	live     []bool
}

func (d *dupSource) advance(i int) error {
	dup, ok, err := d.its[i].Next()
	if err != nil {
		return fmt.Errorf("check unique values: %w", err)
	}
	d.heads[i], d.live[i] = dup, ok
	return nil
}

// take appends to dst the duplicates at offsets below hi, dropping any
// below lo (there are none when both passes read the same rows).
func (d *dupSource) take(dst []taggedDup, lo, hi int64) ([]taggedDup, error) {
	for {
		best := -1
		for i := range d.heads {
			if d.live[i] && (best < 0 || d.heads[i].Offset < d.heads[best].Offset) {
				best = i
			}
		}
		if best < 0 || d.heads[best].Offset >= hi {
			return dst, nil
		}
		if h := d.heads[best]; h.Offset >= lo {
			dst = append(dst, taggedDup{offset: h.Offset, firstRow: h.FirstRow, checker: best})
		}
		if err := d.advance(best); err != nil {
			return dst, err
		}
	}
}

func (d *dupSource) close() {
	for _, c := range d.checkers {
		c.Close()
	}
}
