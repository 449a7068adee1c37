package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress bar defaults.
const (
	// progressInterval is the least time between two redraws: at most ten a
	// second.
	progressInterval = 100 * time.Millisecond
	// progressBarWidth is the width of the bar itself, in cells.
	progressBarWidth = 20
)

// progress reports how far a byte stream has come on stderr. On a terminal
// it redraws one line in place, at most once per interval; elsewhere (a log
// file, CI) it prints only a final summary line.
type progress struct {
	w        io.Writer
	label    string
	total    int64 // bytes expected; negative when unknown
	tty      bool
	now      func() time.Time
	interval time.Duration

	start time.Time
	last  time.Time
	done  int64
	drawn bool
}

// newProgress starts a progress report labelled label for total bytes
// (negative: unknown).
func (a *app) newProgress(label string, total int64) *progress {
	return &progress{
		w:        a.stderr,
		label:    label,
		total:    total,
		tty:      a.stderrTTY,
		now:      a.now,
		interval: progressInterval,
		start:    a.now(),
	}
}

// Set records that done bytes have been handled and redraws the bar if the
// last redraw is old enough.
func (p *progress) Set(done int64) {
	p.done = done
	if !p.tty {
		return
	}
	now := p.now()
	if p.drawn && now.Sub(p.last) < p.interval {
		return
	}
	p.draw(now)
}

// draw redraws the bar in place.
func (p *progress) draw(now time.Time) {
	fmt.Fprintf(p.w, "\r%s\x1b[K", formatProgress(p.label, p.done, p.total, now.Sub(p.start)))
	p.last = now
	p.drawn = true
}

// Finish draws the final state: the full bar and a line break on a
// terminal, a summary line elsewhere.
func (p *progress) Finish() {
	now := p.now()
	if p.tty {
		p.draw(now)
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintln(p.w, formatSummary(p.label, p.done, now.Sub(p.start)))
}

// Abort ends a bar that will not finish, so that the error message that
// follows starts on its own line.
func (p *progress) Abort() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}

// formatProgress renders one progress line: bytes done / total, percentage,
// bar, average rate and estimated time left. A negative total is unknown
// and shows only bytes and rate.
func formatProgress(label string, done, total int64, elapsed time.Duration) string {
	rate := formatRate(done, elapsed)
	if total < 0 {
		return fmt.Sprintf("%s  %s  %s", label, formatBytes(done), rate)
	}
	frac := 1.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	return fmt.Sprintf("%s  %s / %s  %5.1f%%  %s  %s  ETA %s",
		label, formatBytes(done), formatBytes(total), frac*100, bar(frac, progressBarWidth), rate, formatETA(done, total, elapsed))
}

// formatSummary renders the line printed when a transfer ends off a
// terminal.
func formatSummary(label string, done int64, elapsed time.Duration) string {
	round := 100 * time.Millisecond
	switch {
	case elapsed < time.Millisecond:
		round = time.Microsecond
	case elapsed < time.Second:
		round = time.Millisecond
	}
	return fmt.Sprintf("%s: %s in %s (%s)", label, formatBytes(done), elapsed.Round(round), formatRate(done, elapsed))
}

// bar draws a bar of width cells filled to frac.
func bar(frac float64, width int) string {
	n := int(frac * float64(width))
	switch {
	case n >= width:
		return "[" + strings.Repeat("=", width) + "]"
	case n <= 0:
		return "[>" + strings.Repeat(" ", width-1) + "]"
	}
	return "[" + strings.Repeat("=", n) + ">" + strings.Repeat(" ", width-n-1) + "]"
}

// formatBytes renders n bytes with a binary unit: 512 B, 1.5 KiB, 12.3 MiB.
func formatBytes(n int64) string {
	return formatBytesFloat(float64(n))
}

// formatBytesFloat is formatBytes for fractional amounts, such as rates.
func formatBytesFloat(n float64) string {
	if n < 1024 {
		return fmt.Sprintf("%.0f B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	v := n / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// formatRate renders the average rate of done bytes over elapsed.
func formatRate(done int64, elapsed time.Duration) string {
	if elapsed <= 0 {
		return "-- B/s"
	}
	return formatBytesFloat(float64(done)/elapsed.Seconds()) + "/s"
}

// formatETA estimates the time left to reach total from the average rate
// so far: "--" while no estimate can be made, "<1s" when nearly done.
func formatETA(done, total int64, elapsed time.Duration) string {
	if done >= total {
		return "0s"
	}
	if done <= 0 || elapsed <= 0 {
		return "--"
	}
	left := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
	if left < time.Second {
		return "<1s"
	}
	return formatDuration(left)
}

// formatDuration renders d rounded to the second: 42s, 3m07s, 2h05m09s.
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
}
