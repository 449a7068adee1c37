package validator

import (
	"fmt"
	"strconv"
)

// MangleHeader returns the column names pandas.read_csv gives a header row:
// an empty name becomes "Unnamed: {i}" (i counted from 0) and a repeated name
// gets a ".1", ".2", ... suffix that does not clash with any other name.
// Named columns are processed before unnamed ones, as pandas' C parser does.
// Names that are already unique and non-empty are returned unchanged.
func MangleHeader(names []string) []string {
	out := make([]string, len(names))
	unnamed := make(map[string]bool)
	for i, n := range names {
		if n == "" {
			n = "Unnamed: " + strconv.Itoa(i)
			unnamed[n] = true
		}
		out[i] = n
	}
	present := make(map[string]int, len(out)) // name -> how many columns hold it now
	for _, n := range out {
		present[n]++
	}
	order := make([]int, 0, len(out))
	for i, n := range out {
		if !unnamed[n] {
			order = append(order, i)
		}
	}
	for i, n := range out {
		if unnamed[n] {
			order = append(order, i)
		}
	}
	counts := make(map[string]int, len(out))
	for _, i := range order {
		col := out[i]
		old := col
		cur := counts[col]
		for cur > 0 {
			counts[old] = cur + 1
			col = old + "." + strconv.Itoa(cur)
			if present[col] > 0 {
				cur++
			} else {
				cur = counts[col]
			}
		}
		if col != out[i] {
			present[out[i]]--
			present[col]++
			out[i] = col
		}
		counts[col] = cur + 1
	}
	return out
}

// checkHeader compares a (mangled) header with a schema's field names.
func checkHeader(header []string, fields []string) error {
	for i := range max(len(header), len(fields)) {
		switch {
		case i >= len(header):
			return &FileError{Type: ViolationHeaderMismatch, Msg: fmt.Sprintf(
				"the header has %d columns but the schema expects %d: column %d %q is missing", len(header), len(fields), i+1, fieldName(fields[i]))}
		case i >= len(fields):
			return &FileError{Type: ViolationHeaderMismatch, Msg: fmt.Sprintf(
				"the header has %d columns but the schema expects %d: header column %d %q is not in the schema", len(header), len(fields), i+1, fieldName(header[i]))}
		case header[i] != fields[i]:
			return &FileError{Type: ViolationHeaderMismatch, Msg: fmt.Sprintf(
				"header column %d is %q but the schema expects %q", i+1, fieldName(header[i]), fieldName(fields[i]))}
		}
	}
	return nil
}
