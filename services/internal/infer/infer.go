// Package infer infers a Frictionless Table Schema from the values of a whole
// CSV file.
//
// An Inferrer keeps, per column, a small bit set of the candidate types that
// every value seen so far fits, and a second one of the candidates that
// accepted some value not in its canonical form. Observe tests a value
// against the live candidates only, allocates nothing, and costs next to
// nothing once a column can only be a string. Several goroutines may each
// fill their own Inferrer over part of a file; Merge then combines them as if
// one had seen every value.
//
// The candidates, in the order of preference when several fit a whole
// column, are: integer; integer with ',' groups (`1,234`); number; number
// with ',' groups and '.' decimals (`1,234.5`); number with ',' decimals and
// '.' groups or none (`1.234,5`); boolean (true, True, TRUE, false, False,
// FALSE); date `%Y-%m-%d`, `%d/%m/%Y`, `%m/%d/%Y`, `%d.%m.%Y`; ISO 8601
// datetime; time `%H:%M:%S`; and string, which fits anything. Candidates
// using ',' inside a number exist only when the file's delimiter is not ','.
package infer

import (
	"bytes"
	"fmt"
	"math/bits"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// DefaultMissingValues are the texts pandas 1.5 reads as missing by default
// (its na_values), the empty field included. An inferred schema lists them
// as its missingValues. Treat the slice as read-only.
var DefaultMissingValues = []string{
	"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
	"1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
	"nan", "null",
}

// IsMissing reports whether v is one of DefaultMissingValues. It does not
// allocate.
func IsMissing(v []byte) bool {
	switch len(v) {
	case 0:
		return true
	case 2:
		return v[0] == 'N' && v[1] == 'A'
	case 3:
		switch string(v) {
		case "#NA", "N/A", "NaN", "n/a", "nan":
			return true
		}
	case 4:
		switch string(v) {
		case "#N/A", "-NaN", "-nan", "<NA>", "NULL", "None", "null":
			return true
		}
	case 6:
		return string(v) == "1.#IND"
	case 7:
		switch string(v) {
		case "-1.#IND", "1.#QNAN":
			return true
		}
	case 8:
		switch string(v) {
		case "#N/A N/A", "-1.#QNAN":
			return true
		}
	}
	return false
}

// Options configure an Inferrer.
type Options struct {
	// Comma is the file's field delimiter. Candidates that use ',' inside a
	// number (as a group or decimal mark) are tried only when it is not ','.
	// 0 is taken as ','.
	Comma byte
}

// The candidates, as bit numbers, in order of preference. String is no bit:
// a column whose bit set is empty is a string.
const (
	candInt      = iota // integer
	candIntGroup        // integer, group ','
	candNum             // number
	candNumGroup        // number, group ',', decimal '.'
	candNumEuro         // number, decimal ',', group '.' or none
	candBool            // boolean
	candDateISO         // date %Y-%m-%d
	candDateDMY         // date %d/%m/%Y
	candDateMDY         // date %m/%d/%Y
	candDateDots        // date %d.%m.%Y
	candDatetime        // datetime, ISO 8601
	candTime            // time %H:%M:%S
	numCands
)

// candidate bit masks.
const (
	bitInt   = 1 << candInt
	bitDMY   = 1 << candDateDMY
	bitMDY   = 1 << candDateMDY
	allCands = 1<<numCands - 1
	// commaCands use ',' inside numbers.
	commaCands = 1<<candIntGroup | 1<<candNumGroup | 1<<candNumEuro
	// numericCands are the integer and number candidates.
	numericCands = bitInt | 1<<candIntGroup | 1<<candNum | commaCands
)

// Column flags.
const (
	flagSeen      = 1 << iota // some value was observed
	flagFormula               // some value starts with = + - @ tab or CR
	flagEuroGroup             // the ',' decimal candidate read a '.' group
	flagDayMonth              // a d/m/Y-m/d/Y value whose two readings differ
)

// column is the state of one column.
type column struct {
	live    uint16 // candidates every value so far fits
	rewrite uint16 // candidates that accepted a non-canonical value
	flags   uint8
}

// Inferrer infers the types of a fixed number of columns from their
// non-missing values. It is not safe for concurrent use; give each goroutine
// its own and Merge them.
type Inferrer struct {
	cols []column
	init uint16 // the candidates a fresh column starts with
}

// New returns an Inferrer for ncols columns.
func New(ncols int, opts Options) *Inferrer {
	init := uint16(allCands)
	if opts.Comma == ',' || opts.Comma == 0 {
		init &^= commaCands
	}
	in := &Inferrer{cols: make([]column, ncols), init: init}
	for i := range in.cols {
		in.cols[i].live = init
	}
	return in
}

// Observe records the non-missing, valid UTF-8 value v of column col (0-based,
// below the ncols given to New). It does not allocate and does not keep v.
func (in *Inferrer) Observe(col int, v []byte) {
	c := &in.cols[col]
	if len(v) > 0 && isFormulaStart(v[0]) {
		c.flags |= flagFormula
	}
	live := c.live
	if live == 0 {
		return
	}
	c.flags |= flagSeen
	if live&bitInt != 0 {
		// A canonical integer is a canonical number of every kind and
		// nothing else: one lexer settles every candidate.
		r := lexInt(v, 0)
		if r == accept {
			c.live = live & numericCands
			return
		}
		if r == reject {
			live &^= bitInt
		} else {
			c.rewrite |= bitInt
		}
	}
	if live&(bitDMY|bitMDY) != 0 {
		live &^= (bitDMY | bitMDY) &^ observeSlashed(c, v)
	}
	rewrite := c.rewrite
	for m := live &^ (bitInt | bitDMY | bitMDY); m != 0; m &= m - 1 {
		k := bits.TrailingZeros16(m)
		var r uint8
		switch k {
		case candIntGroup:
			r = lexInt(v, ',')
		case candNum:
			r = lexNumber(v, 0, '.')
		case candNumGroup:
			r = lexNumber(v, ',', '.')
		case candNumEuro:
			r = lexNumber(v, '.', ',')
			if r != reject && bytes.IndexByte(v, '.') >= 0 {
				c.flags |= flagEuroGroup
			}
		case candBool:
			r = lexBool(v)
		case candDateISO:
			r = outcome(lexISODate(v), true)
		case candDateDots:
			a, b, y, ok := splitDate(v, '.')
			r = outcome(ok && validDate(y, b, a), false)
		case candDatetime:
			r = lexDatetime(v)
		case candTime:
			r = outcome(lexTime(v), true)
		}
		switch r {
		case reject:
			live &^= 1 << k
		case rewrites:
			rewrite |= 1 << k
		}
	}
	c.live, c.rewrite = live, rewrite
}

// observeSlashed tests v against the candidates `%d/%m/%Y` and `%m/%d/%Y`,
// which are still live in c, and returns those of the two that accept it.
// Neither form is canonical.
func observeSlashed(c *column, v []byte) uint16 {
	a, b, y, ok := splitDate(v, '/')
	if !ok {
		return 0
	}
	var keep uint16
	if validDate(y, b, a) {
		keep |= bitDMY
	}
	if validDate(y, a, b) {
		keep |= bitMDY
	}
	keep &= c.live
	c.rewrite |= keep
	if a != b {
		c.flags |= flagDayMonth
	}
	return keep
}

// isFormulaStart reports whether a text starting with c is one that
// spreadsheets may run as a formula (tableschema's NeutralizeFormulas).
func isFormulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Merge adds what o observed to in, as if in had observed o's values too. o
// must have as many columns and the same Options; it is left unchanged.
func (in *Inferrer) Merge(o *Inferrer) {
	if len(o.cols) != len(in.cols) {
		panic(fmt.Sprintf("infer: Merge of %d columns into %d", len(o.cols), len(in.cols)))
	}
	for i := range in.cols {
		c, d := &in.cols[i], &o.cols[i]
		c.live &= d.live
		c.rewrite |= d.rewrite
		c.flags |= d.flags
	}
}

// Result is an inferred schema.
type Result struct {
	// Schema has one field per column, with the most specific type every
	// observed value fits, and DefaultMissingValues as its missing values.
	Schema *typev1.Schema
	// Rewrite tells, per field, whether some observed value's text differs
	// from the canonical text tableschema's Normalize writes for it (for
	// string fields: whether some value starts with a character that
	// NeutralizeFormulas would escape).
	Rewrite []bool
	// Warnings are remarks a person should read, such as an empty column
	// or ambiguous dates.
	Warnings []string
}

// Result returns the schema inferred from the values observed so far. names
// are the column names; a column without one is named `fieldN` (1-based).
func (in *Inferrer) Result(names []string) Result {
	res := Result{
		Schema: &typev1.Schema{
			Fields:        make([]*typev1.Field, len(in.cols)),
			MissingValues: &typev1.MissingValues{Values: append([]string(nil), DefaultMissingValues...)},
		},
		Rewrite: make([]bool, len(in.cols)),
	}
	for i, c := range in.cols {
		name := fmt.Sprintf("field%d", i+1)
		if i < len(names) {
			name = names[i]
		}
		f := &typev1.Field{Name: name, Type: typev1.FieldType_FIELD_TYPE_STRING}
		res.Schema.Fields[i] = f
		if c.flags&flagSeen == 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("column %q is empty", name))
			continue
		}
		if c.live == 0 {
			res.Rewrite[i] = c.flags&flagFormula != 0
			continue
		}
		k := bits.TrailingZeros16(c.live)
		res.Rewrite[i] = c.rewrite&(1<<k) != 0
		switch k {
		case candInt:
			f.Type = typev1.FieldType_FIELD_TYPE_INTEGER
		case candIntGroup:
			f.Type = typev1.FieldType_FIELD_TYPE_INTEGER
			f.GroupChar = ","
		case candNum:
			f.Type = typev1.FieldType_FIELD_TYPE_NUMBER
		case candNumGroup:
			f.Type = typev1.FieldType_FIELD_TYPE_NUMBER
			f.GroupChar = ","
		case candNumEuro:
			f.Type = typev1.FieldType_FIELD_TYPE_NUMBER
			f.DecimalChar = ","
			if c.flags&flagEuroGroup != 0 {
				f.GroupChar = "."
			}
		case candBool:
			f.Type = typev1.FieldType_FIELD_TYPE_BOOLEAN
		case candDateISO:
			f.Type = typev1.FieldType_FIELD_TYPE_DATE
		case candDateDMY:
			f.Type = typev1.FieldType_FIELD_TYPE_DATE
			f.Format = "%d/%m/%Y"
			if c.live&bitMDY != 0 && c.flags&flagDayMonth != 0 {
				res.Warnings = append(res.Warnings, fmt.Sprintf(
					"column %q: dates fit both %%d/%%m/%%Y and %%m/%%d/%%Y (no day above 12); read as day first, %%d/%%m/%%Y", name))
			}
		case candDateMDY:
			f.Type = typev1.FieldType_FIELD_TYPE_DATE
			f.Format = "%m/%d/%Y"
		case candDateDots:
			f.Type = typev1.FieldType_FIELD_TYPE_DATE
			f.Format = "%d.%m.%Y"
		case candDatetime:
			f.Type = typev1.FieldType_FIELD_TYPE_DATETIME
		case candTime:
			f.Type = typev1.FieldType_FIELD_TYPE_TIME
		}
	}
	return res
}
