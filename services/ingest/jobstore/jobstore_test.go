package jobstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newJob(id string, created time.Time, key string) *ingestv1.Job {
	return &ingestv1.Job{Name: "jobs/" + id, State: ingestv1.Job_STATE_PENDING, CreateTime: timestamppb.New(created), IdempotencyKey: key}
}

func created() *ingestv1.JobEvent {
	return &ingestv1.JobEvent{Kind: &ingestv1.JobEvent_StateChange{StateChange: &ingestv1.StateChange{To: ingestv1.Job_STATE_PENDING}}}
}

func progress(n int64) *ingestv1.JobEvent {
	return &ingestv1.JobEvent{Kind: &ingestv1.JobEvent_Progress{Progress: &ingestv1.Progress{BytesProcessed: n}}}
}

func TestCreateUpdateEventsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobs.db")
	s := open(t, path)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	job, first, err := s.Create(ctx, newJob("a", t0, "key"), "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01", created())
	if err != nil {
		t.Fatal(err)
	}
	if first.GetSequence() != 1 || first.GetState() != ingestv1.Job_STATE_PENDING || job.GetUpdateTime() == nil {
		t.Fatalf("first event %v, job %v", first, job)
	}

	// Concurrent updates still number events from 1 without gaps.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.Update(ctx, "a", func(j *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
				return []*ingestv1.JobEvent{progress(int64(i)), progress(int64(i))}, nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	// A failing UpdateFunc writes nothing and its error comes back as is.
	errNo := errors.New("no")
	if _, _, err := s.Update(ctx, "a", func(j *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
		j.State = ingestv1.Job_STATE_FAILED
		return nil, errNo
	}); !errors.Is(err, errNo) {
		t.Fatalf("update error %v", err)
	}
	if _, _, err := s.Update(ctx, "missing", func(*ingestv1.Job) ([]*ingestv1.JobEvent, error) { return nil, nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing job: %v", err)
	}
	s.Close()

	s = open(t, path)
	rec, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if rec.LastSequence != 41 || rec.Job.GetState() != ingestv1.Job_STATE_PENDING || rec.Traceparent == "" {
		t.Fatalf("record after reopen: seq %d, %v, %q", rec.LastSequence, rec.Job, rec.Traceparent)
	}
	var all []*ingestv1.JobEvent
	for after := int64(0); ; {
		page, err := s.Events(ctx, "a", after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].GetSequence()
	}
	for i, ev := range all {
		if ev.GetSequence() != int64(i+1) || ev.GetEventTime() == nil {
			t.Fatalf("event %d: %v", i, ev)
		}
	}
	if len(all) != 41 {
		t.Fatalf("%d events, want 41", len(all))
	}
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
}

func TestCreateDuplicateKey(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "jobs.db"))
	now := time.Now()
	if _, _, err := s.Create(ctx, newJob("a", now, "k"), "", created()); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Create(ctx, newJob("b", now, "k"), "", created())
	var dup *DuplicateKeyError
	if !errors.As(err, &dup) || dup.Existing.GetName() != "jobs/a" {
		t.Fatalf("duplicate key: %v", err)
	}
	if ok, _ := s.Exists(ctx, "b"); ok {
		t.Error("the duplicate was stored")
	}
	// Jobs without a key never collide.
	for _, id := range []string{"c", "d"} {
		if _, _, err := s.Create(ctx, newJob(id, now, ""), "", created()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		key, want string
	}{{"k", "jobs/a"}, {"other", ""}, {"", ""}} {
		rec, err := s.GetByIdempotencyKey(ctx, tc.key)
		switch {
		case tc.want == "" && !errors.Is(err, ErrNotFound):
			t.Errorf("key %q: %v, %v; want ErrNotFound", tc.key, rec, err)
		case tc.want != "" && (err != nil || rec.Job.GetName() != tc.want):
			t.Errorf("key %q: %v, %v; want %s", tc.key, rec, err, tc.want)
		}
	}
}

func TestListPagesAndClaimOrder(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "jobs.db"))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 9 {
		id := fmt.Sprintf("j%d", i)
		ids = append(ids, id)
		// Two jobs share each create time, so ties are broken by id.
		if _, _, err := s.Create(ctx, newJob(id, t0.Add(time.Duration(i/2)*time.Second), ""), "", created()); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int{1, 2, 4, 9, 20} {
		var got []string
		tok := ""
		for {
			jobs, next, err := s.List(ctx, size, tok)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				got = append(got, JobID(j))
			}
			if next == "" {
				break
			}
			tok = next
		}
		want := fmt.Sprint([]string{"j8", "j7", "j6", "j5", "j4", "j3", "j2", "j1", "j0"})
		if fmt.Sprint(got) != want {
			t.Errorf("size %d: %v, want %s", size, got, want)
		}
	}
	// PageToken(job) continues right after job, also when the page was cut
	// short before its last job (ties of create time included).
	first, _, err := s.List(ctx, 9, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range first[:len(first)-1] {
		rest, _, err := s.List(ctx, 1, PageToken(j))
		if err != nil || len(rest) != 1 || JobID(rest[0]) != JobID(first[i+1]) {
			t.Errorf("after %s: %v, %v; want %s", JobID(j), rest, err, JobID(first[i+1]))
		}
	}
	for _, tok := range []string{"x", "djE6", "djI6MTox", encodePageToken(-1, "a")} {
		if _, _, err := s.List(ctx, 5, tok); !errors.Is(err, ErrInvalidPageToken) {
			t.Errorf("token %q: %v", tok, err)
		}
	}

	// Claim takes the oldest pending job first.
	for _, want := range ids {
		rec, events, err := s.Claim(ctx, func(j *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
			j.State = ingestv1.Job_STATE_VALIDATING
			return []*ingestv1.JobEvent{progress(1)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if JobID(rec.Job) != want || rec.LastSequence != 2 || events[0].GetState() != ingestv1.Job_STATE_VALIDATING {
			t.Fatalf("claimed %s (seq %d), want %s", JobID(rec.Job), rec.LastSequence, want)
		}
	}
	if _, _, err := s.Claim(ctx, func(*ingestv1.Job) ([]*ingestv1.JobEvent, error) { return nil, nil }); !errors.Is(err, ErrNoPendingJob) {
		t.Errorf("claim with nothing pending: %v", err)
	}
	got, err := s.IDsInStates(ctx, ingestv1.Job_STATE_VALIDATING)
	if err != nil || len(got) != len(ids) {
		t.Errorf("IDsInStates: %v, %v", got, err)
	}
}

// TestJobSettingsSurviveReopen checks that a job's schema, dialect,
// validation options and validation summary come back whole after the
// database is reopened: the job is stored as its protobuf message.
func TestJobSettingsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobs.db")
	s := open(t, path)
	headerRows, noDouble, maxRows, maxRatio := int32(2), false, int64(3), 0.25
	minimum := "0"
	job := newJob("b", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "")
	job.Schema = &typev1.Schema{
		Fields: []*typev1.Field{
			{Name: "id", Type: typev1.FieldType_FIELD_TYPE_INTEGER, Constraints: &typev1.FieldConstraints{Required: true, Unique: true, Minimum: &minimum}},
			{Name: "at", Type: typev1.FieldType_FIELD_TYPE_TIME, Format: "%H:%M", Transforms: []typev1.Transform{typev1.Transform_TRANSFORM_TRIM}},
		},
		MissingValues: &typev1.MissingValues{Values: []string{"", "NA"}},
		PrimaryKey:    []string{"id"},
	}
	job.Dialect = &typev1.Dialect{Delimiter: ";", QuoteChar: "'", DoubleQuote: &noDouble, EscapeChar: `\`, HeaderRows: &headerRows,
		SkipInitialSpace: true, CommentPrefix: "#", Encoding: "utf-16le"}
	job.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRows: &maxRows, MaxInvalidRatio: &maxRatio, ErrorSampleSize: 9, NeutralizeFormulas: true}
	if _, _, err := s.Create(ctx, job, "", created()); err != nil {
		t.Fatal(err)
	}
	summary := &ingestv1.ValidationSummary{
		RowsTotal: 3, RowsValid: 2, RowsRejected: 1, Schema: job.GetSchema(), SchemaInferred: false, Dialect: job.GetDialect(),
		SampleErrors: []*typev1.RowError{{Type: "type-error", RowNumber: 3, LineNumber: 3, ByteOffset: 20, FieldNumber: 1, FieldName: "id", Value: "x", Message: `"x" is not an integer`}},
		ErrorCounts:  []*typev1.ErrorCount{{Type: "type-error", FieldName: "id", FieldNumber: 1, Count: 1}},
		ErrorTotal:   1, Warnings: []string{"1 row is invalid"},
	}
	if _, _, err := s.Update(ctx, "b", func(j *ingestv1.Job) ([]*ingestv1.JobEvent, error) {
		j.Validation = summary
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	rec, err := s.Get(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(rec.Job.GetSchema(), job.GetSchema()) || !proto.Equal(rec.Job.GetDialect(), job.GetDialect()) ||
		!proto.Equal(rec.Job.GetValidationOptions(), job.GetValidationOptions()) || !proto.Equal(rec.Job.GetValidation(), summary) {
		t.Errorf("after reopen the job is %v", rec.Job)
	}
}
