package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/gateway"
)

// testSchemaJSON is a Frictionless Table Schema, and testSchema the Struct
// the gateway must send for it.
const testSchemaJSON = `{"fields":[{"name":"id","type":"integer","constraints":{"required":true}},{"name":"price","type":"number"}],"primaryKey":["id"]}`

var testSchema = mustStruct(map[string]any{
	"fields": []any{
		map[string]any{"name": "id", "type": "integer", "constraints": map[string]any{"required": true}},
		map[string]any{"name": "price", "type": "number"},
	},
	"primaryKey": []any{"id"},
})

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

// csvBody returns n bytes of CSV-looking data.
func csvBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString("id,price\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d,%d.%02d\n", i, i*7%1000, i%100)
	}
	return b.Bytes()[:n]
}

// hideLen hides the length of a reader so the request is sent chunked,
// without Content-Length.
type hideLen struct{ io.Reader }

func multipartBody(t *testing.T, fields [][2]string, fileName string, file []byte, after [][2]string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	for _, f := range after {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

func TestUpload(t *testing.T) {
	const chunk = 1000
	file := csvBody(10*chunk + 500)
	size := int64(len(file))

	tests := []struct {
		name     string
		request  func(t *testing.T, e *env) *http.Request
		wantMeta *ingestv1.UploadMetadata
	}{{
		name: "raw text/csv with query metadata",
		request: func(t *testing.T, e *env) *http.Request {
			q := url.Values{
				"file_name":       {"trades.csv"},
				"sha256":          {"abc123"},
				"idempotency_key": {"key-1"},
				"delimiter":       {";"},
				"schema":          {testSchemaJSON},
			}
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?"+q.Encode(), bytes.NewReader(file))
			req.Header.Set("Content-Type", "text/csv; charset=utf-8")
			return req
		},
		wantMeta: &ingestv1.UploadMetadata{
			FileName:          "trades.csv",
			DeclaredSizeBytes: &size,
			Sha256:            "abc123",
			TableSchema:       testSchema,
			Dialect:           &typev1.Dialect{Delimiter: ";"},
			IdempotencyKey:    "key-1",
		},
	}, {
		name: "raw octet-stream chunked with Idempotency-Key header",
		request: func(t *testing.T, e *env) *http.Request {
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?file_name=t.csv", hideLen{bytes.NewReader(file)})
			req.Header.Set("Content-Type", "application/octet-stream")
			req.Header.Set("Idempotency-Key", "key-2")
			return req
		},
		wantMeta: &ingestv1.UploadMetadata{FileName: "t.csv", IdempotencyKey: "key-2"},
	}, {
		name: "multipart with fields before the file",
		request: func(t *testing.T, e *env) *http.Request {
			body, ct := multipartBody(t, [][2]string{
				{"schema", testSchemaJSON},
				{"sha256", "def456"},
				{"idempotency_key", "key-3"},
				{"delimiter", "\t"},
			}, "prices.csv", file, nil)
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", body)
			req.Header.Set("Content-Type", ct)
			return req
		},
		wantMeta: &ingestv1.UploadMetadata{
			FileName:       "prices.csv",
			Sha256:         "def456",
			TableSchema:    testSchema,
			Dialect:        &typev1.Dialect{Delimiter: "\t"},
			IdempotencyKey: "key-3",
		},
	}, {
		name: "multipart file_name field overrides the part's filename",
		request: func(t *testing.T, e *env) *http.Request {
			body, ct := multipartBody(t, [][2]string{{"file_name", "renamed.csv"}}, "C:\\tmp\\orig.csv", file, nil)
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?delimiter=%7C", hideLen{body})
			req.Header.Set("Content-Type", ct)
			return req
		},
		wantMeta: &ingestv1.UploadMetadata{FileName: "renamed.csv", Dialect: &typev1.Dialect{Delimiter: "|"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.keepData = true
			e := newEnv(t, fake, gateway.WithChunkSize(chunk))
			resp, body := e.do(t, tc.request(t, e))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, body %s", resp.StatusCode, body)
			}
			u := <-fake.uploads
			if u.err != nil {
				t.Fatalf("ingest saw error %v", u.err)
			}
			if !proto.Equal(u.meta, tc.wantMeta) {
				t.Errorf("metadata = %v, want %v", u.meta, tc.wantMeta)
			}
			if !bytes.Equal(u.data, file) {
				t.Errorf("ingest got %d bytes, want the %d sent, intact", len(u.data), len(file))
			}
			wantChunks := []int{chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk, chunk, 500}
			if !slices.Equal(u.chunks, wantChunks) {
				t.Errorf("chunks = %v, want %v", u.chunks, wantChunks)
			}
			// The answer is the UploadFileResponse in snake_case, unset fields left out.
			var got map[string]map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			sum := sha256.Sum256(file)
			want := map[string]map[string]any{"job": {
				"name":       "jobs/j1",
				"file_name":  tc.wantMeta.GetFileName(),
				"state":      "STATE_PENDING",
				"size_bytes": fmt.Sprint(len(file)),
				"sha256":     hex.EncodeToString(sum[:]),
			}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("response body %s, want %v", body, want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestUploadRejected(t *testing.T) {
	file := csvBody(5000)
	raw := func(query, contentType string) func(t *testing.T, e *env) *http.Request {
		return func(t *testing.T, e *env) *http.Request {
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload"+query, bytes.NewReader(file))
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			return req
		}
	}
	form := func(fields [][2]string, withFile bool, after [][2]string) func(t *testing.T, e *env) *http.Request {
		return func(t *testing.T, e *env) *http.Request {
			var f []byte
			if withFile {
				f = file
			}
			body, ct := multipartBody(t, fields, "a.csv", f, after)
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", body)
			req.Header.Set("Content-Type", ct)
			return req
		}
	}
	tests := []struct {
		name     string
		opts     []gateway.Option
		request  func(t *testing.T, e *env) *http.Request
		wantHTTP int
		wantCode codes.Code
		field    string // a BadRequest violation expected, if not empty
		// ingest is what ingest must have seen: "none" (no call) or
		// "cancelled" (a call whose stream was cancelled).
		ingest string
	}{
		{name: "JSON content type", request: raw("?file_name=a.csv", "application/json"),
			wantHTTP: http.StatusUnsupportedMediaType, wantCode: codes.InvalidArgument, field: "Content-Type", ingest: "none"},
		{name: "form-urlencoded (curl --data default)", request: raw("?file_name=a.csv", "application/x-www-form-urlencoded"),
			wantHTTP: http.StatusUnsupportedMediaType, wantCode: codes.InvalidArgument, field: "Content-Type", ingest: "none"},
		{name: "no content type", request: raw("?file_name=a.csv", ""),
			wantHTTP: http.StatusUnsupportedMediaType, wantCode: codes.InvalidArgument, field: "Content-Type", ingest: "none"},
		{name: "raw without file_name", request: raw("", "text/csv"),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "file_name", ingest: "none"},
		{name: "schema not JSON", request: raw("?file_name=a.csv&schema=%7Bnope", "text/csv"),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "schema", ingest: "none"},
		{name: "bare semicolon delimiter", request: raw("?file_name=a.csv&delimiter=;", "text/csv"),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "query", ingest: "none"},
		{name: "unknown query parameter", request: raw("?file_name=a.csv&filename=b.csv", "text/csv"),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "filename", ingest: "none"},
		{name: "repeated query parameter", request: raw("?file_name=a.csv&file_name=b.csv", "text/csv"),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "file_name", ingest: "none"},
		{name: "idempotency header disagrees with query", request: func(t *testing.T, e *env) *http.Request {
			req := raw("?file_name=a.csv&idempotency_key=k1", "text/csv")(t, e)
			req.Header.Set("Idempotency-Key", "k2")
			return req
		}, wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "idempotency_key", ingest: "none"},
		{name: "multipart without file part", request: form([][2]string{{"sha256", "x"}}, false, nil),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "file", ingest: "none"},
		{name: "multipart unknown field", request: form([][2]string{{"color", "red"}}, true, nil),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "color", ingest: "none"},
		{name: "multipart field given twice", request: form([][2]string{{"sha256", "x"}, {"sha256", "y"}}, true, nil),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "sha256", ingest: "none"},
		{name: "multipart field too large", opts: []gateway.Option{gateway.WithMaxFormFieldBytes(16)},
			request:  form([][2]string{{"schema", testSchemaJSON}}, true, nil),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "schema", ingest: "none"},
		{name: "multipart field after the file", request: form(nil, true, [][2]string{{"sha256", "late"}}),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, field: "file", ingest: "cancelled"},
		{name: "multipart truncated in the file part",
			request: func(t *testing.T, e *env) *http.Request {
				body, ct := multipartBody(t, nil, "a.csv", file, nil)
				b, _ := io.ReadAll(body)
				cut := b[:bytes.LastIndex(b, []byte("\r\n--"))] // no closing boundary
				req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", bytes.NewReader(cut))
				req.Header.Set("Content-Type", ct)
				return req
			},
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument, ingest: "cancelled"},
		{name: "Content-Length over the limit", opts: []gateway.Option{gateway.WithMaxUploadBytes(1000)},
			request:  raw("?file_name=a.csv", "text/csv"),
			wantHTTP: http.StatusRequestEntityTooLarge, wantCode: codes.ResourceExhausted, ingest: "none"},
		{name: "chunked body over the limit", opts: []gateway.Option{gateway.WithMaxUploadBytes(1000), gateway.WithChunkSize(100)},
			request: func(t *testing.T, e *env) *http.Request {
				req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?file_name=a.csv", hideLen{bytes.NewReader(file)})
				req.Header.Set("Content-Type", "text/csv")
				return req
			},
			wantHTTP: http.StatusRequestEntityTooLarge, wantCode: codes.ResourceExhausted, ingest: "cancelled"},
		{name: "multipart over the limit", opts: []gateway.Option{gateway.WithMaxUploadBytes(1000), gateway.WithChunkSize(100)},
			request: func(t *testing.T, e *env) *http.Request {
				req := form(nil, true, nil)(t, e)
				req.Body = io.NopCloser(hideLen{req.Body})
				req.ContentLength = -1
				req.GetBody = nil
				return req
			},
			wantHTTP: http.StatusRequestEntityTooLarge, wantCode: codes.ResourceExhausted, ingest: "cancelled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			e := newEnv(t, fake, tc.opts...)
			resp, body := e.do(t, tc.request(t, e))
			checkError(t, resp, body, tc.wantHTTP, tc.wantCode, tc.field)
			switch tc.ingest {
			case "none":
				if n := fake.uploadCalls.Load(); n != 0 {
					t.Errorf("ingest got %d UploadFile calls, want none", n)
				}
			case "cancelled":
				u := <-fake.uploads
				if status.Code(u.err) != codes.Canceled {
					t.Errorf("ingest's upload ended with %v, want CANCELED", u.err)
				}
			default:
				t.Fatalf("bad test: ingest %q", tc.ingest)
			}
		})
	}
}

// TestUploadIngestErrors checks that ingest's errors reach the HTTP client
// with the mapped status and the details intact, whether ingest fails at the
// end of the upload or in the middle of it.
func TestUploadIngestErrors(t *testing.T) {
	withDetail := func(c codes.Code, msg string) error {
		st, err := status.New(c, msg).WithDetails(&errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{{Type: "STORE", Subject: "jobs", Description: msg}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	tests := []struct {
		name     string
		midway   bool
		err      error
		wantHTTP int
		wantCode codes.Code
	}{
		{name: "sha256 mismatch at the end", err: status.Error(codes.InvalidArgument, "sha256 mismatch"),
			wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument},
		{name: "too large midway", midway: true, err: status.Error(codes.ResourceExhausted, "file exceeds 1 GiB"),
			wantHTTP: http.StatusRequestEntityTooLarge, wantCode: codes.ResourceExhausted},
		{name: "precondition with details", err: withDetail(codes.FailedPrecondition, "job store is read-only"),
			wantHTTP: http.StatusBadRequest, wantCode: codes.FailedPrecondition},
		{name: "unavailable", err: status.Error(codes.Unavailable, "storage down"),
			wantHTTP: http.StatusServiceUnavailable, wantCode: codes.Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			if tc.midway {
				fake.onChunk = func(*upload) error { return tc.err }
			} else {
				fake.uploadErr = tc.err
			}
			e := newEnv(t, fake, gateway.WithChunkSize(512))
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?file_name=a.csv", bytes.NewReader(csvBody(4096)))
			req.Header.Set("Content-Type", "text/csv")
			resp, body := e.do(t, req)
			checkError(t, resp, body, tc.wantHTTP, tc.wantCode, "")
			var eb errorBody
			_ = json.Unmarshal(body, &eb)
			if want := status.Convert(tc.err); eb.Message != want.Message() || len(eb.Details) != len(want.Details()) {
				t.Errorf("error body %s, want message %q and %d details", body, want.Message(), len(want.Details()))
			}
		})
	}
}

// TestUploadClientDisconnect checks that a client that goes away in the
// middle of the body cancels the gRPC stream, so ingest keeps nothing.
func TestUploadClientDisconnect(t *testing.T) {
	fake := newFake()
	arrived := newSignal()
	fake.onChunk = func(*upload) error { arrived.fire(); return nil }
	e := newEnv(t, fake, gateway.WithChunkSize(1000))

	u, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const declared = 1 << 20
	fmt.Fprintf(conn, "POST /v1/jobs:upload?file_name=a.csv HTTP/1.1\r\nHost: %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n", u.Host, declared)
	if _, err := conn.Write(csvBody(10_000)); err != nil {
		t.Fatal(err)
	}
	<-arrived.C // ingest is receiving the file
	conn.Close()

	up := <-fake.uploads
	if status.Code(up.err) != codes.Canceled {
		t.Errorf("ingest's upload ended with %v, want CANCELED", up.err)
	}
	if up.total == 0 || up.total >= declared {
		t.Errorf("ingest got %d bytes before the cancel, want some but not all %d", up.total, declared)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestUploadLargeStreamsInBoundedMemory uploads 64 MiB, generated as it is
// sent, and checks that it reaches ingest intact in full chunks of the
// configured size, and that the gateway never runs far ahead of ingest: the
// bytes the client has sent but ingest has not received stay a small bound
// (socket buffers, one gRPC flow-control window, one chunk), far below the
// size of the file, which a gateway that buffered the body would exceed.
func TestUploadLargeStreamsInBoundedMemory(t *testing.T) {
	const (
		size  = 64 << 20
		chunk = 256 << 10
		// maxLag is generous: kernel buffers at both ends of the loopback
		// connection, the bufconn pipe, the gRPC window and a few chunks.
		maxLag = 16 << 20
	)
	fake := newFake()
	gen := &countingReader{r: io.LimitReader(rand.NewChaCha8([32]byte{1, 2, 3}), size)}
	var lag atomic.Int64
	fake.onChunk = func(u *upload) error {
		if l := gen.n.Load() - u.total; l > lag.Load() {
			lag.Store(l)
		}
		return nil
	}
	e := newEnv(t, fake, gateway.WithChunkSize(chunk))

	h := sha256.New()
	req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?file_name=big.csv", hideLen{io.TeeReader(gen, h)})
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, body := e.do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.StatusCode, body)
	}
	u := <-fake.uploads
	if u.total != size {
		t.Fatalf("ingest got %d bytes, want %d", u.total, size)
	}
	if want := hex.EncodeToString(h.Sum(nil)); u.sha256 != want {
		t.Errorf("ingest's sha256 %s, want %s", u.sha256, want)
	}
	if len(u.chunks) != size/chunk {
		t.Errorf("ingest got %d chunks, want %d", len(u.chunks), size/chunk)
	}
	for i, c := range u.chunks {
		if c != chunk {
			t.Fatalf("chunk %d has %d bytes, want %d", i, c, chunk)
		}
	}
	if l := lag.Load(); l > maxLag {
		t.Errorf("the client got %d bytes ahead of ingest, want at most %d: the gateway buffers", l, maxLag)
	}
	t.Logf("largest lead of the client over ingest: %d KiB", lag.Load()>>10)
	if !strings.Contains(string(body), `"size_bytes":"67108864"`) {
		t.Errorf("response %s lacks the size", body)
	}
}
