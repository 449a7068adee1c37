package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

// watchers returns how many WatchJob calls are subscribed to the job.
func (h *harness) watchers(name string) int {
	n := &h.srv.notify
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs[strings.TrimPrefix(name, "jobs/")])
}

// lastSequence returns the sequence of the job's latest event.
func (h *harness) lastSequence(name string) int64 {
	h.t.Helper()
	rec, err := h.jobs.Get(context.Background(), strings.TrimPrefix(name, "jobs/"))
	if err != nil {
		h.t.Fatal(err)
	}
	return rec.LastSequence
}

type watchResult struct {
	events []*ingestv1.JobEvent
	err    error // nil when the stream ended with io.EOF
}

// startWatch watches the job from after in the background; the result
// arrives when the stream ends.
func (h *harness) startWatch(name string, after int64) <-chan watchResult {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	out := make(chan watchResult, 1)
	go func() {
		defer cancel()
		var res watchResult
		stream, err := h.client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: name, AfterSequence: after})
		for err == nil {
			var resp *ingestv1.WatchJobResponse
			if resp, err = stream.Recv(); err == nil {
				res.events = append(res.events, resp.GetEvent())
			}
		}
		if !errors.Is(err, io.EOF) {
			res.err = err
		}
		out <- res
	}()
	return out
}

func TestWatchFromTheEndOfARunningJobEndsWhenItFinishes(t *testing.T) {
	tests := []struct {
		name       string
		past       int64 // how far past the job's last event the cursor is
		wantEvents int
	}{
		{name: "cursor at the end", past: 0, wantEvents: 1}, // the terminal event
		{name: "cursor at the terminal event", past: 1, wantEvents: 0},
		{name: "cursor far past the end", past: 100, wantEvents: 0},
	}
	h := newFakeHarness(t, blockingValidator(), nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
			h.waitState(job.GetName(), ingestv1.Job_STATE_VALIDATING)
			last := h.lastSequence(job.GetName())
			done := h.startWatch(job.GetName(), last+tc.past)
			eventually(t, "the watch to subscribe", func() bool { return h.watchers(job.GetName()) == 1 })
			if _, err := h.client.CancelJob(context.Background(), &ingestv1.CancelJobRequest{Name: job.GetName()}); err != nil {
				t.Fatal(err)
			}
			res := <-done
			if res.err != nil {
				t.Fatalf("watch from %d (last %d) ended with %v, want the end of the stream", last+tc.past, last, res.err)
			}
			if len(res.events) != tc.wantEvents {
				t.Fatalf("%d events, want %d: %v", len(res.events), tc.wantEvents, res.events)
			}
			if tc.wantEvents > 0 && res.events[0].GetState() != ingestv1.Job_STATE_CANCELLED {
				t.Errorf("event %v, want the cancellation", res.events[0])
			}
		})
	}
}

func TestStopEndsWatches(t *testing.T) {
	h := newFakeHarness(t, blockingValidator(), nil)
	job := h.mustUpload(md("f.csv"), []byte(sampleCSV))
	h.waitState(job.GetName(), ingestv1.Job_STATE_VALIDATING)
	last := h.lastSequence(job.GetName())
	// A watch that has caught up with the running job and waits for more.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	open, err := h.client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: job.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	for range last {
		if _, err := open.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	h.srv.Stop()

	tests := []struct {
		name  string
		recv  func() error
		after int64 // the sequence the message tells the client to resume after
	}{
		{name: "open watch", recv: func() error {
			_, err := open.Recv()
			return err
		}, after: last},
		{name: "watch after stop", recv: func() error { return (<-h.startWatch(job.GetName(), 1)).err }, after: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := wantCode(t, tc.recv(), codes.Unavailable)
			for _, want := range []string{"shutting down", fmt.Sprintf("after_sequence=%d", tc.after)} {
				if !strings.Contains(st.Message(), want) {
					t.Errorf("message %q does not say %q", st.Message(), want)
				}
			}
		})
	}
}
