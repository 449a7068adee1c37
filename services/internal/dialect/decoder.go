package dialect

import (
	"errors"
	"io"
	"unicode/utf8"
)

// decodeBufSize is the size of the raw input buffer of a UTF-16 decoder.
const decodeBufSize = 32 << 10

// maxEmptyReads bounds consecutive reads that return no data and no error.
const maxEmptyReads = 100

// NewDecoder returns a reader of the text of r, in encoding e, as the parser
// reads it. UTF-16 is transcoded to UTF-8 (a byte order mark dropped,
// unpaired surrogates and a dangling last byte becoming U+FFFD); a UTF-8 byte
// order mark is dropped; Windows-1252 and ISO 8859-1 come back as r itself,
// since their bytes are transcoded field by field with AppendUTF8. The
// decoder streams in fixed-size buffers and never holds the whole input.
func NewDecoder(r io.Reader, e Encoding) io.Reader {
	switch e {
	case UTF8, UTF8BOM:
		return &bomStripper{r: r}
	case UTF16LE:
		return newUTF16Reader(r, false, false)
	case UTF16BE:
		return newUTF16Reader(r, true, false)
	case UTF16:
		return newUTF16Reader(r, false, true)
	}
	return r
}

// bomStripper drops a UTF-8 byte order mark at the start of r.
type bomStripper struct {
	r    io.Reader
	head [3]byte
	n    int  // bytes in head
	off  int  // bytes of head already returned
	done bool // head has been read
	err  error
}

// Read implements io.Reader.
func (s *bomStripper) Read(p []byte) (int, error) {
	if !s.done {
		s.done = true
		s.n, s.err = io.ReadFull(s.r, s.head[:])
		if errors.Is(s.err, io.ErrUnexpectedEOF) {
			s.err = io.EOF
		}
		if s.n == 3 && s.head == [3]byte{0xEF, 0xBB, 0xBF} {
			s.off = 3
		}
	}
	if s.off < s.n {
		k := copy(p, s.head[s.off:s.n])
		s.off += k
		return k, nil
	}
	if s.err != nil {
		return 0, s.err
	}
	return s.r.Read(p)
}

// utf16Reader transcodes UTF-16 to UTF-8.
type utf16Reader struct {
	r         io.Reader
	bigEndian bool
	sniff     bool // the byte order is still to be found (UTF16)
	started   bool // the byte order mark has been dealt with
	in        []byte
	inStart   int
	inEnd     int
	out       []byte // decoded bytes not yet returned: out[outStart:]
	outStart  int
	err       error // sticky error of r
}

func newUTF16Reader(r io.Reader, bigEndian, sniff bool) *utf16Reader {
	return &utf16Reader{
		r:         r,
		bigEndian: bigEndian,
		sniff:     sniff,
		in:        make([]byte, decodeBufSize),
		out:       make([]byte, 0, decodeBufSize*3/2+utf8.UTFMax),
	}
}

// Read implements io.Reader.
func (d *utf16Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for d.outStart == len(d.out) {
		if d.inStart == d.inEnd && d.err != nil {
			return 0, d.err
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
		d.decode()
	}
	n := copy(p, d.out[d.outStart:])
	d.outStart += n
	return n, nil
}

// fill reads more input, keeping the undecoded tail. It reads until at least
// 4 bytes are buffered (enough for a surrogate pair and a byte order mark)
// or r reports an error.
func (d *utf16Reader) fill() error {
	if d.inStart > 0 {
		d.inEnd = copy(d.in, d.in[d.inStart:d.inEnd])
		d.inStart = 0
	}
	for empty := 0; d.err == nil && d.inEnd < len(d.in); {
		n, err := d.r.Read(d.in[d.inEnd:])
		d.inEnd += n
		d.err = err
		if d.inEnd >= 4 {
			break
		}
		if n == 0 && err == nil {
			if empty++; empty >= maxEmptyReads {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// decode transcodes the buffered input into d.out.
func (d *utf16Reader) decode() {
	eof := d.err != nil
	src := d.in[d.inStart:d.inEnd]
	if !d.started {
		if len(src) < 2 && !eof {
			return
		}
		d.started = true
		if d.sniff {
			switch e := DetectEncoding(src, eof); e {
			case UTF16BE:
				d.bigEndian = true
			}
		}
		if len(src) >= 2 {
			if (d.bigEndian && src[0] == 0xFE && src[1] == 0xFF) || (!d.bigEndian && src[0] == 0xFF && src[1] == 0xFE) {
				src = src[2:]
				d.inStart += 2
			}
		}
	}
	var used int
	d.out, used = appendUTF16(d.out[:0], src, d.bigEndian, eof)
	d.outStart = 0
	d.inStart += used
}

// appendUTF16 appends the UTF-8 form of the UTF-16 text src to dst and
// returns how many bytes of src it used. Unless eof, it leaves a last odd
// byte and a last high surrogate unused, since more input may complete them;
// at eof they become U+FFFD, as does every unpaired surrogate.
func appendUTF16(dst, src []byte, bigEndian, eof bool) ([]byte, int) {
	i := 0
	for i+1 < len(src) {
		var u rune
		if bigEndian {
			u = rune(src[i])<<8 | rune(src[i+1])
		} else {
			u = rune(src[i]) | rune(src[i+1])<<8
		}
		switch {
		case u < utf8.RuneSelf:
			dst = append(dst, byte(u))
			i += 2
		case u < 0xD800 || u > 0xDFFF:
			dst = utf8.AppendRune(dst, u)
			i += 2
		case u < 0xDC00: // high surrogate
			if i+3 >= len(src) {
				if !eof {
					return dst, i
				}
				dst = utf8.AppendRune(dst, utf8.RuneError)
				i += 2
				continue
			}
			var v rune
			if bigEndian {
				v = rune(src[i+2])<<8 | rune(src[i+3])
			} else {
				v = rune(src[i+2]) | rune(src[i+3])<<8
			}
			if v >= 0xDC00 && v <= 0xDFFF {
				dst = utf8.AppendRune(dst, 0x10000+(u-0xD800)<<10+(v-0xDC00))
				i += 4
			} else {
				dst = utf8.AppendRune(dst, utf8.RuneError)
				i += 2
			}
		default: // lone low surrogate
			dst = utf8.AppendRune(dst, utf8.RuneError)
			i += 2
		}
	}
	if i < len(src) && eof {
		dst = utf8.AppendRune(dst, utf8.RuneError)
		i++
	}
	return dst, i
}
