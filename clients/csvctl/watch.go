package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// watchCommand is `csvctl watch`.
func watchCommand() *command {
	return &command{
		name:    "watch",
		args:    "JOB",
		nargs:   1,
		summary: "Print a job's events until it ends; the exit code tells how.",
		details: `
Each event is one line on stdout: its time (UTC), the job's state after it,
and what happened: a state change with its message, progress (bytes and
rows), or a batch of rejected rows summarised by reason with the first one
in full. The watch first replays the job's past events, then follows new
ones. A broken stream (UNAVAILABLE, or an end before the job finished) is
resumed after the last event seen, up to --reconnects times in a row.

Exit codes: 0 the job SUCCEEDED, 3 it FAILED (the reason is printed on
stderr), 4 it was CANCELLED, 1 the watch itself failed.`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			reconnects := defaultReconnects
			fs.IntVar(&reconnects, "reconnects", reconnects, "times in a row to resume a broken event stream")
			return func(ctx context.Context, args []string) int {
				name, err := jobName(args[0])
				if err != nil {
					return a.usageError(lookupCommand("watch"), err.Error())
				}
				client, closeConn, err := a.connect()
				if err != nil {
					return a.fail(ctx, "watch "+name, err)
				}
				defer closeConn()
				return a.watchJob(ctx, client, name, reconnects, false)
			}
		},
	}
}

// errStreamEnded reports an event stream that ended before the job did.
var errStreamEnded = errors.New("event stream ended before the job finished")

// watchAndReport is upload --follow: watch the job, then print its report
// if it succeeded.
func (a *app) watchAndReport(ctx context.Context, client ingestv1.IngestServiceClient, name string) int {
	return a.watchJob(ctx, client, name, defaultReconnects, true)
}

// watchJob prints name's events until the job ends and returns the exit
// code for how it ended.
func (a *app) watchJob(ctx context.Context, client ingestv1.IngestServiceClient, name string, reconnects int, printReport bool) int {
	last, err := a.watch(ctx, client, name, reconnects)
	if err != nil {
		return a.fail(ctx, "watch "+name, err)
	}
	switch last.GetState() {
	case ingestv1.Job_STATE_SUCCEEDED:
		if !printReport {
			return exitOK
		}
		job, err := a.getJob(ctx, client, name)
		if err != nil {
			return a.fail(ctx, "get "+name, err)
		}
		if job.GetReport() == nil {
			fmt.Fprintf(a.stderr, "csvctl: job %s succeeded without a report\n", name)
			return exitOK
		}
		fmt.Fprintln(a.stdout)
		if err := writeReport(a.stdout, job.GetReport(), defaultReportWidth); err != nil {
			return a.fail(ctx, "print report", err)
		}
		return exitOK
	case ingestv1.Job_STATE_FAILED:
		reason := ""
		if sc := last.GetStateChange(); sc != nil {
			reason = sc.GetMessage()
		}
		// The job's failure_reason is the authoritative one; the event's
		// message stands in if the job cannot be fetched.
		if job, err := a.getJob(ctx, client, name); err == nil && job.GetFailureReason() != "" {
			reason = job.GetFailureReason()
		}
		if reason == "" {
			reason = "no reason given"
		}
		fmt.Fprintf(a.stderr, "csvctl: job %s failed: %s\n", name, oneLine(reason))
		return exitJobFailed
	default: // CANCELLED
		fmt.Fprintf(a.stderr, "csvctl: job %s was cancelled\n", name)
		return exitJobCancelled
	}
}

// getJob fetches one job with the unary deadline.
func (a *app) getJob(ctx context.Context, client ingestv1.IngestServiceClient, name string) (*ingestv1.Job, error) {
	ctx, cancel := a.unary(ctx)
	defer cancel()
	resp, err := client.GetJob(ctx, &ingestv1.GetJobRequest{Name: name})
	if err != nil {
		return nil, err
	}
	return resp.GetJob(), nil
}

// watch prints name's events until one puts the job in a terminal state,
// which it returns. A broken stream is resumed after the last event seen,
// at most reconnects times in a row, with doubling pauses.
func (a *app) watch(ctx context.Context, client ingestv1.IngestServiceClient, name string, reconnects int) (*ingestv1.JobEvent, error) {
	var last *ingestv1.JobEvent
	failures := 0
	for {
		progressed, err := a.watchOnce(ctx, client, name, &last)
		if err == nil {
			return last, nil
		}
		if progressed {
			failures = 0
		}
		retry := errors.Is(err, errStreamEnded) || status.Code(err) == codes.Unavailable
		if ctx.Err() != nil || !retry || failures >= reconnects {
			return nil, err
		}
		delay := a.reconnectDelay
		for i := 0; i < failures && delay < maxReconnectDelay; i++ {
			delay *= 2
		}
		delay = min(delay, maxReconnectDelay)
		failures++
		fmt.Fprintf(a.stderr, "csvctl: watch %s: %s; resuming after event %d (attempt %d of %d)\n",
			name, describeError(err), last.GetSequence(), failures, reconnects)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// watchOnce runs one WatchJob stream from after *last, printing events and
// updating *last, and returns nil once a terminal event was printed.
// progressed reports whether any new event arrived.
func (a *app) watchOnce(ctx context.Context, client ingestv1.IngestServiceClient, name string, last **ingestv1.JobEvent) (progressed bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: name, AfterSequence: (*last).GetSequence()})
	if err != nil {
		return false, err
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return progressed, errStreamEnded
		}
		if err != nil {
			return progressed, err
		}
		ev := resp.GetEvent()
		if ev == nil || (ev.GetSequence() > 0 && ev.GetSequence() <= (*last).GetSequence()) {
			continue // a replayed event already printed
		}
		progressed = true
		*last = ev
		fmt.Fprintln(a.stdout, formatEvent(ev))
		if terminal(ev.GetState()) {
			return true, nil
		}
	}
}

// terminal reports whether s is a final state.
func terminal(s ingestv1.Job_State) bool {
	switch s {
	case ingestv1.Job_STATE_SUCCEEDED, ingestv1.Job_STATE_FAILED, ingestv1.Job_STATE_CANCELLED:
		return true
	}
	return false
}

// stateName is a state without its STATE_ prefix.
func stateName(s ingestv1.Job_State) string {
	return strings.TrimPrefix(s.String(), "STATE_")
}

// eventTimeLayout is the layout of times in watch output: UTC with
// milliseconds.
const eventTimeLayout = "2006-01-02T15:04:05.000Z"

// formatEvent renders one event as a line of watch output.
func formatEvent(ev *ingestv1.JobEvent) string {
	ts := "-"
	if ev.GetEventTime() != nil {
		ts = ev.GetEventTime().AsTime().UTC().Format(eventTimeLayout)
	}
	var what string
	switch k := ev.GetKind().(type) {
	case *ingestv1.JobEvent_StateChange:
		sc := k.StateChange
		what = fmt.Sprintf("state %s -> %s", stateName(sc.GetFrom()), stateName(sc.GetTo()))
		if msg := oneLine(sc.GetMessage()); msg != "" {
			what += ": " + msg
		}
	case *ingestv1.JobEvent_Progress:
		what = "progress " + formatJobProgress(k.Progress)
	case *ingestv1.JobEvent_RowErrors:
		what = formatRowErrors(k.RowErrors.GetErrors())
	default:
		what = "event"
	}
	return fmt.Sprintf("%s  %-10s  %s", ts, stateName(ev.GetState()), what)
}

// formatJobProgress renders bytes done of total with a percentage, and rows.
func formatJobProgress(p *ingestv1.Progress) string {
	var parts []string
	switch {
	case p.GetBytesTotal() > 0:
		parts = append(parts, fmt.Sprintf("%s / %s (%.1f%%)", formatBytes(p.GetBytesProcessed()), formatBytes(p.GetBytesTotal()),
			min(100, 100*float64(p.GetBytesProcessed())/float64(p.GetBytesTotal()))))
	case p.GetBytesProcessed() > 0:
		parts = append(parts, formatBytes(p.GetBytesProcessed()))
	}
	parts = append(parts, fmt.Sprintf("%d rows", p.GetRowsProcessed()))
	return strings.Join(parts, ", ")
}

// rowErrorIndent starts the lines of the errors of a row-errors event.
const rowErrorIndent = "    "

// formatRowErrors renders a batch of row errors: a summary (how many, how
// many of each type), then each error on its own indented line.
func formatRowErrors(errs []*typev1.RowError) string {
	if len(errs) == 0 {
		return "row errors: 0"
	}
	byType := map[string]int{}
	for _, e := range errs {
		byType[errorType(e)]++
	}
	counts := make([]string, 0, len(byType))
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		counts = append(counts, fmt.Sprintf("%s %d", t, byType[t]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "row errors: %d (%s)", len(errs), strings.Join(counts, ", "))
	for _, e := range errs {
		b.WriteString("\n" + rowErrorIndent + formatRowError(e))
	}
	return b.String()
}

// errorType is e's type, "error" when the server gave none.
func errorType(e *typev1.RowError) string {
	if t := e.GetType(); t != "" {
		return t
	}
	return "error"
}

// formatRowError renders one row error on one line:
//
//	row 7 (line 8, byte 312) field 4 "price" type-error: "12x" is not a number
//
// The field part is left out for errors about the whole row; the message
// names the offending value.
func formatRowError(e *typev1.RowError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "row %d (line %d, byte %d)", e.GetRowNumber(), e.GetLineNumber(), e.GetByteOffset())
	if e.GetFieldNumber() > 0 || e.GetFieldName() != "" {
		b.WriteString(" field ")
		b.WriteString(formatErrorField(e.GetFieldNumber(), e.GetFieldName()))
	}
	b.WriteString(" ")
	b.WriteString(errorType(e))
	if msg := oneLine(e.GetMessage()); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
