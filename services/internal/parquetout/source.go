package parquetout

import (
	"errors"
	"io"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
)

// source reads the records of the input from the blocks of a
// csvparse.Splitter, each parsed in place by a csvparse.NewBytesReader. It
// can keep the blocks it reads and read them again from the start, which is
// how the first row group is read twice without holding more than its CSV
// text.
type source struct {
	sp *csvparse.Splitter

	replay []*csvparse.Block // kept blocks to read before the splitter's
	keep   bool              // keep the blocks read, for rewind
	kept   []*csvparse.Block

	blk    *csvparse.Block // being read
	rd     *csvparse.Reader
	record int64 // number of the next record
}

func newSource(src io.Reader, blockSize int) *source {
	return &source{sp: csvparse.NewSplitter(src, csvparse.Options{}, blockSize), record: 1}
}

// next returns the next record, io.EOF at the end of the input, a
// *csvparse.RecordError for a record that cannot be read, or the error of
// the underlying reader. The record is valid until the next call.
func (s *source) next() (*csvparse.Record, error) {
	for {
		if s.rd != nil {
			rec, err := s.rd.Next()
			if err == nil {
				s.record = rec.Number + 1
				return rec, nil
			}
			if err != io.EOF {
				var re *csvparse.RecordError
				if errors.As(err, &re) {
					s.record = re.Record + 1
				}
				return nil, err
			}
			s.rd = nil
			if !s.keep {
				s.blk.Release()
			}
			s.blk = nil
		}
		if err := s.nextBlock(); err != nil {
			return nil, err
		}
	}
}

// nextBlock starts reading the next block.
func (s *source) nextBlock() error {
	var blk *csvparse.Block
	if len(s.replay) > 0 {
		blk = s.replay[0]
		s.replay[0] = nil
		s.replay = s.replay[1:]
	} else {
		var err error
		if blk, err = s.sp.Next(); err != nil {
			return err
		}
	}
	if s.keep {
		s.kept = append(s.kept, blk)
	}
	s.blk = blk
	s.rd = csvparse.NewBytesReader(blk.Data, csvparse.Options{FirstLine: blk.Line, FirstOffset: blk.Offset, FirstRecord: s.record})
	return nil
}

// rewind makes the source read again, from the first record, the blocks it
// kept, and keep no more.
func (s *source) rewind() {
	s.replay = append(s.kept, s.replay...)
	s.kept = nil
	s.keep = false
	s.blk, s.rd = nil, nil
	s.record = 1
}

// close releases the blocks the source holds.
func (s *source) close() {
	for _, b := range s.kept {
		b.Release()
	}
	for _, b := range s.replay {
		b.Release()
	}
	if s.blk != nil && !s.keep {
		s.blk.Release()
	}
	s.kept, s.replay, s.blk, s.rd = nil, nil, nil, nil
}
