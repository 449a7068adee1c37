package csvparse

import (
	"bytes"
	"errors"
	"io"
	"runtime"
)

// DefaultBlockSize is the block size of a Splitter made with blockSize <= 0
// (1 MiB).
const DefaultBlockSize = 1 << 20

// splitSlack is how far past blockSize + MaxRecordBytes a block's buffer
// may reach: the look-ahead that decides whether a record is over-long,
// and a byte order mark.
const splitSlack = 16

// Block is a run of whole records cut from a Splitter's input. Parse it
// with NewBytesReader(b.Data, opts), opts being the Splitter's Options with
// FirstLine = b.Line and FirstOffset = b.Offset, to get exactly the records
// (with their lines and offsets) one Reader over the whole input would.
//
// A record longer than MaxRecordBytes is not kept whole: its block ends with
// the record's first MaxRecordBytes+1 or +2 bytes, followed, when they end
// inside a quoted field that is closed later, by a closing quote the input
// does not have, so that the block's reader reports the record as a Reader
// would. The rest of the record is skipped; Offset and Line of the next
// block account for it.
type Block struct {
	// Data holds the block's records. It is only valid until Release.
	Data []byte
	// Offset is the byte offset of Data[0] in the input.
	Offset int64
	// Line is the 1-based physical line of Data[0].
	Line int64
	// Seq numbers the blocks of a Splitter 0, 1, 2, ...
	Seq int64

	s   *Splitter
	buf []byte
}

// Release returns the block's buffer to its Splitter for reuse. Data must
// not be used after it. Release may be called from any goroutine, once.
func (b *Block) Release() {
	if b.s == nil {
		return
	}
	b.s.put(b.buf)
	b.s, b.buf, b.Data = nil, nil, nil
}

// Splitter reads an input in blocks of whole records, for parsing in
// parallel. Its Next is not safe for concurrent use; Block.Release is.
//
// Memory: each block's buffer holds at most blockSize + MaxRecordBytes + a
// few bytes (a block grows past blockSize only for a record that needs it),
// and the Splitter keeps a few released buffers for reuse, so memory is
// bounded by that size times the number of blocks the caller holds at once
// plus that pool.
type Splitter struct {
	r         io.Reader
	d         dialect
	blockSize int
	maxRecord int
	limit     int // largest buffer: blockSize + maxRecord + splitSlack
	free      chan []byte

	tail []byte // input read past the previous block
	skip []byte // buffer for skipping the rest of an over-long record
	// regions is scratch space for lastBoundary.
	regions []int
	offset  int64 // input offset of tail[0]
	line    int64 // physical line of tail[0]
	seq     int64
	eof     bool
	err     error
}

// NewSplitter returns a Splitter reading r in blocks of about blockSize
// bytes (DefaultBlockSize if blockSize <= 0), cut at record ends as a Reader
// with opts would find them. Only the dialect options, MaxRecordBytes,
// FirstLine and FirstOffset of opts matter; as for a Reader, a byte order
// mark is only skipped when FirstOffset is 0.
func NewSplitter(r io.Reader, opts Options, blockSize int) *Splitter {
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	s := &Splitter{r: r, blockSize: blockSize, line: opts.FirstLine, offset: max(opts.FirstOffset, 0)}
	if s.line <= 0 {
		s.line = 1
	}
	s.maxRecord = opts.MaxRecordBytes
	if s.maxRecord <= 0 {
		s.maxRecord = DefaultMaxRecordBytes
	}
	s.limit = blockSize + s.maxRecord + splitSlack
	s.free = make(chan []byte, 2*runtime.GOMAXPROCS(0)+2)
	s.d, s.err = newDialect(opts, s.maxRecord)
	return s
}

// buffer returns an empty buffer with room for at least size bytes.
func (s *Splitter) buffer(size int) []byte {
	select {
	case b := <-s.free:
		if cap(b) >= size {
			return b
		}
	default:
	}
	return make([]byte, 0, max(size, min(s.blockSize+splitSlack, s.limit)))
}

// put keeps buf for reuse if the pool has room.
func (s *Splitter) put(buf []byte) {
	select {
	case s.free <- buf[:0]:
	default:
	}
}

// fill reads into buf until it holds target bytes or the input ends, growing
// it (up to s.limit) if needed.
func (s *Splitter) fill(buf []byte, target int) ([]byte, error) {
	target = min(target, s.limit)
	if cap(buf) < target {
		nb := make([]byte, len(buf), target)
		copy(nb, buf)
		buf = nb
	}
	for idle := 0; len(buf) < target && !s.eof; {
		n, err := s.r.Read(buf[len(buf):target])
		if n < 0 || n > target-len(buf) {
			return buf, errors.New("csvparse: invalid Read count")
		}
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return buf, err
		}
		if n == 0 {
			if idle++; idle == 100 {
				return buf, io.ErrNoProgress
			}
		}
	}
	return buf, nil
}

// Next returns the next block, or io.EOF after the last one. Any other
// error (of the underlying reader, or ErrInvalidDelimiter or
// ErrInvalidDialect) is sticky.
func (s *Splitter) Next() (*Block, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.eof && len(s.tail) == 0 {
		return nil, io.EOF
	}
	buf := append(s.buffer(max(len(s.tail), s.blockSize)+splitSlack), s.tail...)
	s.tail = nil
	target := s.blockSize
	for {
		var err error
		// The file's first block starts after a byte order mark.
		start := 0
		if s.offset == 0 {
			if buf, err = s.fill(buf, max(target, 3)); err != nil {
				return nil, s.fail(err)
			}
			if bytes.HasPrefix(buf, []byte("\xef\xbb\xbf")) {
				start = 3
			}
		} else if buf, err = s.fill(buf, target); err != nil {
			return nil, s.fail(err)
		}
		if s.eof {
			if len(buf) == 0 {
				s.put(buf)
				return nil, io.EOF
			}
			return s.emit(buf, len(buf), len(buf)), nil
		}
		var b int
		if b, s.regions = s.d.lastBoundary(buf, start, s.regions); b > start {
			return s.emit(buf, b, b), nil
		}
		// No record ends in buf: the one at start is longer than what is
		// buffered. Read more until it ends or proves over-long.
		if len(buf)-start < s.maxRecord+3 {
			target = max(2*len(buf), s.blockSize)
			continue
		}
		blk, err := s.overlong(buf, start)
		if err != nil {
			return nil, s.fail(err)
		}
		if blk != nil {
			return blk, nil
		}
		// It was a comment line, now skipped: start again on the rest.
		buf = append(buf[:0], s.tail...)
		s.tail = nil
		target = s.blockSize
	}
}

func (s *Splitter) fail(err error) error {
	s.err = err
	return err
}

// emit returns a block of buf[:n], which covers the input up to consumed,
// and keeps the input after it for the next block.
func (s *Splitter) emit(buf []byte, n, consumed int) *Block {
	blk := &Block{Data: buf[:n:n], Offset: s.offset, Line: s.line, Seq: s.seq, s: s, buf: buf}
	s.seq++
	if consumed < len(buf) {
		s.tail = buf[consumed:]
	}
	lines, _ := countBreaks(buf[:consumed], false)
	s.offset += int64(consumed)
	s.line += lines
	return blk
}

// overlong handles the record (or comment line) at buf[start:], which has no
// line ending in its first MaxRecordBytes+2 bytes: it skips the rest of it,
// keeping what follows in s.tail, and returns a block with its start, or
// nil for a comment line.
func (s *Splitter) overlong(buf []byte, start int) (*Block, error) {
	// The state at the cut, MaxRecordBytes+2 bytes into the record; the
	// byte after the cut is buffered too.
	cut := start + s.maxRecord + 2
	sc := scanner{d: &s.d}
	sc.scan(buf[:cut], start, false)
	switch {
	case sc.st == scEscU:
		// Do not end the block on an escape character: cut before it.
		cut--
		sc.st = scUnquoted
	case sc.st == scEscQ:
		cut--
		sc.st = scQuoted
	case sc.st == scAfterQuote && s.d.doubleQuote && buf[cut] == s.d.quote:
		// Do not split a doubled quote: cut before it.
		cut--
		sc.st = scQuoted
	}
	cutState := sc.st
	sc.opened = 0
	// Count the record's line breaks and find its end, reading on into a
	// separate buffer.
	lines, prevCR := countBreaks(buf[start:cut], false)
	skipped := int64(0)
	chunk := buf[cut:]
	j, done := sc.scan(chunk, 0, s.eof)
	for {
		n, cr := countBreaks(chunk[:j], prevCR)
		lines, prevCR, skipped = lines+n, cr, skipped+int64(j)
		if done || s.eof {
			break
		}
		if s.skip == nil {
			s.skip = make([]byte, 0, min(64<<10, s.limit))
		}
		var err error
		if chunk, err = s.fill(s.skip[:0], cap(s.skip)); err != nil {
			return nil, err
		}
		j, done = sc.scan(chunk, 0, s.eof)
	}
	if j < len(chunk) {
		s.tail = chunk[j:]
	}
	if cutState == scComment {
		s.offset += int64(cut) + skipped
		s.line += lines
		return nil, nil
	}
	n := cut
	if cutState == scQuoted && !(!done && sc.opened == 0 && sc.inQuotes()) {
		buf = buf[:cut+1]
		buf[cut] = s.d.quote
		n++
	}
	blk := &Block{Data: buf[:n:n], Offset: s.offset, Line: s.line, Seq: s.seq, s: s, buf: buf}
	s.seq++
	s.offset += int64(cut) + skipped
	s.line += lines
	return blk, nil
}
