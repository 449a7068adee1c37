package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
)

func TestListJobsView(t *testing.T) {
	h := newFakeHarness(t, nil, nil)
	job := h.waitDone(h.mustUpload(md("f.csv"), []byte(sampleCSV)).GetName())
	if job.GetReport() == nil || len(job.GetValidation().GetSampleErrors()) == 0 {
		t.Fatalf("the job has no report or sample errors to leave out: %v", job)
	}
	tests := []struct {
		view ingestv1.JobView
		full bool
	}{
		{ingestv1.JobView_JOB_VIEW_UNSPECIFIED, false},
		{ingestv1.JobView_JOB_VIEW_BASIC, false},
		{ingestv1.JobView_JOB_VIEW_FULL, true},
	}
	for _, tc := range tests {
		t.Run(tc.view.String(), func(t *testing.T) {
			resp, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{View: tc.view})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetJobs()) != 1 {
				t.Fatalf("%d jobs", len(resp.GetJobs()))
			}
			got := resp.GetJobs()[0]
			if tc.full {
				if !proto.Equal(got, job) {
					t.Errorf("FULL view %v, want the whole job %v", got, job)
				}
				return
			}
			if got.GetReport() != nil || len(got.GetValidation().GetSampleErrors()) != 0 {
				t.Errorf("basic view has a report or sample errors: %v", got)
			}
			// Everything else is there, counts and schema included.
			want := proto.Clone(job).(*ingestv1.Job)
			want.Report = nil
			want.Validation.SampleErrors = nil
			if !proto.Equal(got, want) {
				t.Errorf("basic view %v, want %v", got, want)
			}
		})
	}
	t.Run("GetJob is full", func(t *testing.T) {
		resp, err := h.client.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: job.GetName()})
		if err != nil || !proto.Equal(resp.GetJob(), job) {
			t.Errorf("GetJob %v, %v", resp.GetJob(), err)
		}
	})
	t.Run("unknown view", func(t *testing.T) {
		_, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{View: 7})
		st := wantCode(t, err, codes.InvalidArgument)
		if got := badRequestFields(st); len(got) != 1 || got[0] != "view" {
			t.Errorf("BadRequest fields %v", got)
		}
	})
}

// bigSamplesValidator records DefaultErrorSampleSize row errors of about
// perError bytes each, so that a full job is about
// DefaultErrorSampleSize*perError bytes.
func bigSamplesValidator(perError int) *fakeValidator {
	val := &fakeValidator{}
	val.fn = func(_ int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
		var errs []*typev1.RowError
		for i := range DefaultErrorSampleSize {
			line := int64(1000 + i)
			errs = append(errs, &typev1.RowError{Type: "type-error", RowNumber: line, LineNumber: line, Message: "bad", Value: strings.Repeat("v", perError)})
		}
		if err := s.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_RowErrors{RowErrors: &validatorv1.RowErrorBatch{Errors: errs}}}); err != nil {
			return err
		}
		return fakeValidate(val.store, req, s)
	}
	return val
}

func TestListJobsPageByteLimit(t *testing.T) {
	const jobs = 5
	type listing struct {
		view  ingestv1.JobView
		pages int
	}
	tests := []struct {
		name     string
		perError int      // bytes of each sample error's value
		opts     []Option // on top of the harness's
		limit    int      // the response size limit to check, 0 for none
		listings []listing
	}{
		// About 1.2 MiB a full job: five do not fit in 4 MiB; basic ones do.
		{name: "default limit", perError: 12 << 10, limit: DefaultMaxListResponseBytes, listings: []listing{
			{ingestv1.JobView_JOB_VIEW_FULL, 2}, {ingestv1.JobView_JOB_VIEW_BASIC, 1}, {ingestv1.JobView_JOB_VIEW_UNSPECIFIED, 1},
		}},
		// A job larger than the limit still makes a page of one.
		{name: "jobs over the limit", perError: 1 << 10, opts: []Option{WithMaxListResponseBytes(50 << 10)}, listings: []listing{
			{ingestv1.JobView_JOB_VIEW_FULL, jobs}, {ingestv1.JobView_JOB_VIEW_BASIC, 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHarness(t, bigSamplesValidator(tc.perError), nil, tc.opts...)
			var want []string
			for i := range jobs {
				job := h.mustUpload(md(fmt.Sprintf("f%d.csv", i)), []byte(sampleCSV))
				if done := h.waitDone(job.GetName()); done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
					t.Fatalf("job %s: %s", done.GetState(), done.GetFailureReason())
				}
				want = append([]string{job.GetName()}, want...) // newest first
			}
			for _, l := range tc.listings {
				t.Run(l.view.String(), func(t *testing.T) {
					var got []string
					pages := 0
					for token := ""; ; {
						resp, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{PageToken: token, View: l.view})
						if err != nil {
							t.Fatal(err)
						}
						pages++
						if n := proto.Size(resp); tc.limit > 0 && n > tc.limit {
							t.Errorf("page %d is %d bytes, over the %d-byte limit", pages, n, tc.limit)
						}
						if len(resp.GetJobs()) == 0 {
							t.Fatalf("page %d is empty", pages)
						}
						for _, j := range resp.GetJobs() {
							got = append(got, j.GetName())
							n := len(j.GetValidation().GetSampleErrors())
							if full := n == DefaultErrorSampleSize; full != (l.view == ingestv1.JobView_JOB_VIEW_FULL) || (!full && n != 0) {
								t.Errorf("job %s in view %s has %d sample errors", j.GetName(), l.view, n)
							}
						}
						if token = resp.GetNextPageToken(); token == "" {
							break
						}
					}
					if pages != l.pages {
						t.Errorf("%d pages, want %d", pages, l.pages)
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("listed %v, want each job once, newest first: %v", got, want)
					}
				})
			}
		})
	}
}
