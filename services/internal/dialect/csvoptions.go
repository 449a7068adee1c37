package dialect

import "github.com/csvmesh/csvmesh/services/internal/csvparse"

// CSVOptions returns the parser options of the dialect; the caller adds the
// limits and positions.
func (d Detected) CSVOptions() csvparse.Options {
	return csvparse.Options{
		Comma:            d.Comma,
		Quote:            d.Quote,
		Escape:           d.Escape,
		NoDoubleQuote:    !d.DoubleQuote,
		SkipInitialSpace: d.SkipInitialSpace,
		Comment:          d.Comment,
	}
}
