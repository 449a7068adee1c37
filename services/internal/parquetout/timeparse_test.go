package parquetout

import "testing"

func TestDateCache(t *testing.T) {
	// Each value is parsed with the cache left by the ones before it, and
	// must read as it does without a cache.
	values := []string{
		"2024-03-01T12:00:00Z", "2024-03-01T13:00:00Z", "2024-03-01 14:00:00.5+01:00", "2024-03-02T00:00:00",
		"2024-02-30T00:00:00", "2024-03-02T00:00:00", "2024-03-0xT00:00:00", "2024-03-02", "2024-03-02T25:00:00",
		"2023-02-28T23:59:60", "2024-03-01T12:00:00Z",
	}
	var dc dateCache
	for _, v := range values {
		got, gotOK := parseDatetime([]byte(v), &dc)
		want, wantOK := parseDatetime([]byte(v), nil)
		if got != want || gotOK != wantOK {
			t.Errorf("parseDatetime(%q) with the cache = %+v, %v; without = %+v, %v", v, got, gotOK, want, wantOK)
		}
	}
	dates := []string{"2024-03-01", "2024-03-01", "2024-13-01", "2024-03-01", "2023-02-29", "2024-02-29", "2024-02-2"}
	dc = dateCache{}
	for _, v := range dates {
		got, gotOK := dc.parse([]byte(v))
		want, wantOK := parseDate([]byte(v))
		if got != want || gotOK != wantOK {
			t.Errorf("parse(%q) with the cache = %d, %v; without = %d, %v", v, got, gotOK, want, wantOK)
		}
	}
}
