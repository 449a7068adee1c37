package validator

import (
	"context"
	"fmt"
	"io"
	"runtime"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// Renormalize copies src, a normalized CSV that Run wrote while inferring
// s, to dst with the values of each field i for which rewrite[i] is true
// rewritten in their canonical form (string and any fields: neutralized
// against spreadsheet formulas, the only reason Run flags them). Empty
// values stay empty. It uses workers goroutines (0 means GOMAXPROCS) and
// the block machinery of Run, so memory stays bounded whatever src's size.
//
// A value that s does not accept is an error: Run's inference guarantees
// there is none.
func Renormalize(ctx context.Context, src io.Reader, dst io.Writer, s *typev1.Schema, rewrite []bool, workers int) error {
	c, err := tableschema.Compile(s, tableschema.Options{NeutralizeFormulas: true})
	if err != nil {
		return err
	}
	if len(rewrite) != len(c.Fields) {
		return fmt.Errorf("renormalize: %d rewrite flags for %d fields", len(rewrite), len(c.Fields))
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	st := &renormStage{fields: c.Fields, rewrite: rewrite, dst: dst}
	return runPipeline(ctx, &ctxReader{ctx: ctx, r: src}, csvparse.Options{}, DefaultBlockSize, workers, st)
}

// renormStage rewrites blocks of a normalized CSV.
type renormStage struct {
	fields  []*tableschema.Field
	rewrite []bool
	dst     io.Writer
}

func (s *renormStage) newWorker() blockWorker { return &renormWorker{s: s} }

func (s *renormStage) attach(*blockJob) error { return nil }

func (s *renormStage) merge(j *blockJob) error {
	if _, err := s.dst.Write(j.norm); err != nil {
		return fmt.Errorf("write normalized output: %w", err)
	}
	return nil
}

type renormWorker struct {
	s    *renormStage
	qbuf []byte
}

func (w *renormWorker) process(j *blockJob) error {
	s := w.s
	j.norm = j.norm[:0]
	rd := csvparse.NewBytesReader(j.blk.Data, csvparse.Options{FirstOffset: j.blk.Offset, FirstLine: j.blk.Line})
	first := j.blk.Seq == 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("renormalize: %w", err)
		}
		if first {
			// The header row.
			first = false
			j.norm = append(j.norm, rec.Raw...)
			j.norm = append(j.norm, '\n')
			continue
		}
		line := j.norm
		start := len(line)
		for i, v := range rec.Fields {
			if i > 0 {
				line = append(line, ',')
			}
			if i >= len(s.rewrite) || !s.rewrite[i] || len(v) == 0 {
				line = csvparse.AppendField(line, v)
				continue
			}
			p := len(line)
			var ve *tableschema.ValueError
			line, ve = s.fields[i].Normalize(line, v)
			if ve != nil {
				return fmt.Errorf("renormalize: line %d, field %d: %s", rec.Line, i+1, ve.Msg)
			}
			if needsQuoting(line[p:]) {
				w.qbuf = append(w.qbuf[:0], line[p:]...)
				line = csvparse.AppendField(line[:p], w.qbuf)
			}
		}
		if len(rec.Fields) == 1 && len(line) == start {
			line = append(line, '"', '"')
		}
		j.norm = append(line, '\n')
	}
}
