package tableschema

import (
	"testing"
	"time"
)

// TestCalendar holds DaysFromCivil and DaysIn against the time package over
// every day from year -1 to 2400 and a few far years.
func TestCalendar(t *testing.T) {
	for _, y := range append([]int{-401, -400, 9999}, rangeInts(-1, 2400)...) {
		for m := 1; m <= 12; m++ {
			n := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if got := DaysIn(y, m); got != n {
				t.Fatalf("DaysIn(%d, %d) = %d, want %d", y, m, got, n)
			}
			for d := 1; d <= n; d++ {
				// Midnights are whole multiples of a day, so the division is exact.
				want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400
				if got := DaysFromCivil(y, m, d); got != want {
					t.Fatalf("DaysFromCivil(%d, %d, %d) = %d, want %d", y, m, d, got, want)
				}
			}
		}
	}
}

func rangeInts(lo, hi int) []int {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}
