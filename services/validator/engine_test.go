package validator

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
)

const rejectsHeader = "line,record,column,field,code,message,row\n"

func schema(fields ...string) *typev1.Schema {
	// fields are "name:type" or "name:type!" for required.
	s := &typev1.Schema{}
	for _, f := range fields {
		i := strings.LastIndex(f, ":")
		name, typ := f[:i], f[i+1:]
		req := strings.HasSuffix(typ, "!")
		typ = strings.TrimSuffix(typ, "!")
		s.Fields = append(s.Fields, &typev1.Field{Name: name, Type: typev1.FieldType(typev1.FieldType_value["FIELD_TYPE_"+strings.ToUpper(typ)]), Required: req})
	}
	return s
}

// collector is an EventSink that keeps every event.
type collector struct {
	progress []*validatorv1.ValidationProgress
	batches  []*validatorv1.RowErrorBatch
}

func (c *collector) Progress(p *validatorv1.ValidationProgress) error {
	c.progress = append(c.progress, p)
	return nil
}

func (c *collector) RowErrors(b *validatorv1.RowErrorBatch) error {
	c.batches = append(c.batches, b)
	return nil
}

func (c *collector) errors() []*typev1.RowError {
	var all []*typev1.RowError
	for _, b := range c.batches {
		all = append(all, b.GetErrors()...)
	}
	return all
}

func TestRun(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		cfg         Config
		wantNorm    string
		wantRejects string // without the header row
		wantSchema  *typev1.Schema
		wantValid   int64
		wantRej     int64
	}{
		{
			name: "infer every type",
			in: "id,price,flag,day,ts,name,empty\n" +
				"1,1.5,true,2024-01-02,2024-01-02T03:04:05Z,x,\n" +
				"2,NA,FALSE,2024-02-29,2024-01-02 03:04:05.5,N/A,null\n" +
				"-3,7,True,2024-03-01,2024-01-02,\"a,b\",NaN\n",
			wantNorm: "id,price,flag,day,ts,name,empty\n" +
				"1,1.5,true,2024-01-02,2024-01-02T03:04:05Z,x,\n" +
				"2,,FALSE,2024-02-29,2024-01-02 03:04:05.5,,\n" +
				"-3,7,True,2024-03-01,2024-01-02,\"a,b\",\n",
			wantSchema: schema("id:integer", "price:number", "flag:boolean", "day:date", "ts:datetime", "name:string", "empty:string"),
			wantValid:  3,
		},
		{
			name:       "infer: overflow, dash, mixed",
			in:         "big,dash,mixed\n1,-,1\n99999999999999999999,5,true\n",
			wantNorm:   "big,dash,mixed\n1,-,1\n99999999999999999999,5,true\n",
			wantSchema: schema("big:number", "dash:string", "mixed:string"),
			wantValid:  2,
		},
		{
			name:       "pandas header mangling",
			in:         ",a,a\n1,2,3\n",
			wantNorm:   "Unnamed: 0,a,a.1\n1,2,3\n",
			wantSchema: schema("Unnamed: 0:integer", "a:integer", "a.1:integer"),
			wantValid:  1,
		},
		{
			name:     "field count",
			in:       "a,b\n1,2\n3\n\n4,5,6\n7,8\n",
			wantNorm: "a,b\n1,2\n7,8\n",
			wantRejects: "3,3,0,,field_count,the row has 1 fields but the header has 2,3\n" +
				"5,4,0,,field_count,the row has 3 fields but the header has 2,\"4,5,6\"\n",
			wantSchema: schema("a:integer", "b:integer"),
			wantValid:  2, wantRej: 2,
		},
		{
			name:        "invalid UTF-8 names the column",
			in:          "a,b\n1,x\xffy\n2,ok\n",
			wantNorm:    "a,b\n2,ok\n",
			wantRejects: "2,2,2,b,encoding,\"column 2 (\"\"b\"\") is not valid UTF-8\",\"1,x\uFFFDy\"\n",
			wantSchema:  schema("a:integer", "b:string"),
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "text after a closing quote",
			in:          "a,b\n\"1\"x,2\n3,4\n",
			wantNorm:    "a,b\n3,4\n",
			wantRejects: "2,2,1,a,quote,unexpected 'x' after the closing quote of field 1,\"\"\"1\"\"x,2\"\n",
			wantSchema:  schema("a:integer", "b:integer"),
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "unterminated quote consumes the rest",
			in:          "a,b\n1,2\n3,\"4\n5,6\n",
			wantNorm:    "a,b\n1,2\n",
			wantRejects: "3,3,2,b,quote,unterminated quoted field starting at line 3,\"3,\"\"4\n5,6\n\"\n",
			wantSchema:  schema("a:integer", "b:integer"),
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "field too long",
			in:          "a,b\n1,abcdef\n2,abc\n",
			cfg:         Config{MaxFieldBytes: 4},
			wantNorm:    "a,b\n2,abc\n",
			wantRejects: "2,2,2,b,field_too_long,field 2 is longer than 4 bytes,\"1,abcdef\"\n",
			wantSchema:  schema("a:integer", "b:string"),
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "record too long, reject row truncated",
			in:          "a,b\n1," + strings.Repeat("z", 40) + "\n2,y\n",
			cfg:         Config{MaxRecordBytes: 16, MaxRejectRowBytes: 5},
			wantNorm:    "a,b\n2,y\n",
			wantRejects: "2,2,0,,record_too_long,the record is longer than 16 bytes,\"1,zzz\"\n",
			wantSchema:  schema("a:integer", "b:string"),
			wantValid:   1, wantRej: 1,
		},
		{
			name:       "CRLF, BOM, blank lines and a delimiter",
			in:         "\xef\xbb\xbfa;b\r\n\r\n1;\"x;y\"\r\n2;\"q\"\"\"\r\n",
			cfg:        Config{Delimiter: ';'},
			wantNorm:   "a,b\n1,x;y\n2,\"q\"\"\"\n",
			wantSchema: schema("a:integer", "b:string"),
			wantValid:  2,
		},
		{
			name:        "lone CR line endings, CR and CRLF in quotes",
			in:          "a,b\r1,\"x\ry\"\r2,\"p\r\nq\"\r\r3\r",
			wantNorm:    "a,b\n1,\"x\ry\"\n2,\"p\r\nq\"\n",
			wantRejects: "7,4,0,,field_count,the row has 1 fields but the header has 2,3\n",
			wantSchema:  schema("a:integer", "b:string"),
			wantValid:   2, wantRej: 1,
		},
		{
			name:       "a quote inside an unquoted field is literal",
			in:         "a,b\n1,x\"y\n2,\"\"\n",
			wantNorm:   "a,b\n1,\"x\"\"y\"\n2,\n",
			wantSchema: schema("a:integer", "b:string"),
			wantValid:  2,
		},
		{
			name:        "more fields than MaxFields",
			in:          "a,b\n1,2,3\n4,5\n",
			cfg:         Config{MaxFields: 2},
			wantNorm:    "a,b\n4,5\n",
			wantRejects: "2,2,0,,field_count,the record has more than 2 fields,\"1,2,3\"\n",
			wantSchema:  schema("a:integer", "b:integer"),
			wantValid:   1, wantRej: 1,
		},
		{
			name: "reject row cut before a split rune, invalid UTF-8 replaced",
			in:   "a,b\n1,\u00e9\xffx\n2,\xff\xff\u00e9\n",
			cfg:  Config{MaxRejectRowBytes: 5},
			wantRejects: "2,2,2,b,encoding,\"column 2 (\"\"b\"\") is not valid UTF-8\",\"1,\u00e9\uFFFD\"\n" +
				"3,3,2,b,encoding,\"column 2 (\"\"b\"\") is not valid UTF-8\",\"2,\uFFFD\"\n",
			wantNorm:   "a,b\n",
			wantSchema: schema("a:string", "b:string"),
			wantRej:    2,
		},
		{
			name: "schema: normalize every type",
			in: "i,n,b,d,ts,s\n" +
				"+007,1.50,Yes,2024-01-02,2024-01-02 03:04:05.120,\" x \"\n" +
				"-0,-1e-9,n,2024-02-29,2024-01-02T03:04:05+01:00,NA\n" +
				",,,,,\n",
			cfg: Config{Schema: schema("i:integer", "n:number", "b:boolean", "d:date", "ts:datetime", "s:string")},
			wantNorm: "i,n,b,d,ts,s\n" +
				"7,1.5,true,2024-01-02,2024-01-02T03:04:05.12Z, x \n" +
				"0,-1e-9,false,2024-02-29,2024-01-02T02:04:05Z,\n" +
				",,,,,\n",
			wantSchema: schema("i:integer", "n:number", "b:boolean", "d:date", "ts:datetime", "s:string"),
			wantValid:  3,
		},
		{
			name: "schema: type and required errors, all reported",
			in: "id,price,day\n" +
				"1,2.5,2024-01-01\n" +
				"x,abc,2024-13-01\n" +
				"NA,1,2024-01-01\n" +
				"99999999999999999999,1,2024-01-01\n",
			cfg:      Config{Schema: schema("id:integer!", "price:number", "day:date")},
			wantNorm: "id,price,day\n1,2.5,2024-01-01\n",
			wantRejects: "3,3,1,id,type,\"column 1 (\"\"id\"\"): \"\"x\"\" is not an integer; column 2 (\"\"price\"\"): \"\"abc\"\" is not a number; column 3 (\"\"day\"\"): \"\"2024-13-01\"\" is not a date (YYYY-MM-DD)\",\"x,abc,2024-13-01\"\n" +
				"4,4,1,id,required,\"column 1 (\"\"id\"\") is required but the value is missing\",\"NA,1,2024-01-01\"\n" +
				"5,5,1,id,type,\"column 1 (\"\"id\"\"): \"\"99999999999999999999\"\" is out of range for an integer (64-bit)\",\"99999999999999999999,1,2024-01-01\"\n",
			wantSchema: schema("id:integer!", "price:number", "day:date"),
			wantValid:  1, wantRej: 3,
		},
		{
			name:       "schema without fields means infer",
			in:         "a\n1\n",
			cfg:        Config{Schema: &typev1.Schema{}},
			wantNorm:   "a\n1\n",
			wantSchema: schema("a:integer"),
			wantValid:  1,
		},
		{
			name:       "one empty column keeps its rows",
			in:         "a\n\"\"\nx\n",
			wantNorm:   "a\n\"\"\nx\n",
			wantSchema: schema("a:string"),
			wantValid:  2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var norm, rej bytes.Buffer
			var events collector
			res, err := Run(context.Background(), strings.NewReader(tc.in), &norm, &rej, tc.cfg, &events)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if norm.String() != tc.wantNorm {
				t.Errorf("normalized:\n got %q\nwant %q", norm.String(), tc.wantNorm)
			}
			if rej.String() != rejectsHeader+tc.wantRejects {
				t.Errorf("rejects:\n got %q\nwant %q", rej.String(), rejectsHeader+tc.wantRejects)
			}
			if !proto.Equal(res.GetSchema(), tc.wantSchema) {
				t.Errorf("schema:\n got %v\nwant %v", res.GetSchema(), tc.wantSchema)
			}
			if res.GetRowsValid() != tc.wantValid || res.GetRowsRejected() != tc.wantRej || res.GetRowsTotal() != tc.wantValid+tc.wantRej {
				t.Errorf("rows total/valid/rejected = %d/%d/%d, want %d/%d/%d", res.GetRowsTotal(), res.GetRowsValid(), res.GetRowsRejected(), tc.wantValid+tc.wantRej, tc.wantValid, tc.wantRej)
			}
			if res.GetBytesRead() != int64(len(tc.in)) || res.GetNormalizedSizeBytes() != int64(norm.Len()) || res.GetRejectsSizeBytes() != int64(rej.Len()) {
				t.Errorf("sizes read/normalized/rejects = %d/%d/%d, want %d/%d/%d", res.GetBytesRead(), res.GetNormalizedSizeBytes(), res.GetRejectsSizeBytes(), len(tc.in), norm.Len(), rej.Len())
			}
			if got := int64(len(events.errors())); got != tc.wantRej {
				t.Errorf("streamed %d row errors, want %d", got, tc.wantRej)
			}
			if n := len(events.progress); n == 0 || events.progress[n-1].GetRowsRead() != res.GetRowsTotal() || events.progress[n-1].GetBytesRead() != int64(len(tc.in)) {
				t.Errorf("final progress = %v, want rows %d bytes %d", events.progress, res.GetRowsTotal(), len(tc.in))
			}
		})
	}
}

func TestRunRowErrorDetails(t *testing.T) {
	in := "id,price\n1,2\n\"x\",y\n3,4\n"
	var events collector
	_, err := Run(context.Background(), strings.NewReader(in), &bytes.Buffer{}, &bytes.Buffer{},
		Config{Schema: schema("id:integer", "price:number")}, &events)
	if err != nil {
		t.Fatal(err)
	}
	want := []*typev1.RowError{{
		Line: 3, Record: 3, Column: 1, Field: "id", Code: "type", Value: "x",
		Message: `column 1 ("id"): "x" is not an integer; column 2 ("price"): "y" is not a number`,
	}}
	got := events.errors()
	if len(got) != 1 || !proto.Equal(got[0], want[0]) {
		t.Errorf("row errors:\n got %v\nwant %v", got, want)
	}
}

func TestRunStreamedErrorCap(t *testing.T) {
	var in strings.Builder
	in.WriteString("a,b\n")
	for range 7 {
		in.WriteString("1\n2,3\n")
	}
	var events collector
	var rej bytes.Buffer
	res, err := Run(context.Background(), strings.NewReader(in.String()), &bytes.Buffer{}, &rej,
		Config{ErrorBatchSize: 2, MaxStreamedErrors: 5}, &events)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetRowsRejected() != 7 || res.GetRowsValid() != 7 {
		t.Errorf("rejected/valid = %d/%d, want 7/7", res.GetRowsRejected(), res.GetRowsValid())
	}
	if got := strings.Count(rej.String(), "\n"); got != 8 {
		t.Errorf("rejects has %d lines, want 8", got)
	}
	var sizes []int
	for _, b := range events.batches {
		sizes = append(sizes, len(b.GetErrors()))
	}
	if len(sizes) != 3 || sizes[0] != 2 || sizes[1] != 2 || sizes[2] != 1 {
		t.Errorf("batch sizes = %v, want [2 2 1]", sizes)
	}
	for i, e := range events.errors() {
		if want := int64(2 + 2*i); e.GetLine() != want {
			t.Errorf("error %d at line %d, want %d", i, e.GetLine(), want)
		}
	}
}

func TestRunProgressInterval(t *testing.T) {
	var in strings.Builder
	in.WriteString("a\n")
	for i := range 200000 {
		in.WriteString("12345678\n")
		_ = i
	}
	var events collector
	// A 1ns interval makes progress due after every read of the source.
	_, err := Run(context.Background(), strings.NewReader(in.String()), &bytes.Buffer{}, &bytes.Buffer{},
		Config{ProgressInterval: 1, TotalBytes: int64(in.Len())}, &events)
	if err != nil {
		t.Fatal(err)
	}
	if len(events.progress) < 3 {
		t.Fatalf("got %d progress events, want several", len(events.progress))
	}
	for i, p := range events.progress {
		if p.GetBytesTotal() != int64(in.Len()) {
			t.Errorf("progress %d: total %d, want %d", i, p.GetBytesTotal(), in.Len())
		}
		if i > 0 && (p.GetBytesRead() < events.progress[i-1].GetBytesRead() || p.GetRowsRead() < events.progress[i-1].GetRowsRead()) {
			t.Errorf("progress %d goes backwards: %v after %v", i, p, events.progress[i-1])
		}
	}
}

func TestRunFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		cfg     Config
		want    error
		wantMsg string
	}{
		{"empty", "", Config{}, ErrEmptyFile, "the file is empty"},
		{"blank lines only", "\n\r\n\n", Config{}, ErrEmptyFile, "the file is empty"},
		{"BOM only", "\xef\xbb\xbf", Config{}, ErrEmptyFile, "the file is empty"},
		{"header only", "a,b\n", Config{}, ErrNoDataRows, "the file has a header row but no data rows"},
		{"header only, no newline", "a,b", Config{}, ErrNoDataRows, "the file has a header row but no data rows"},
		{"shard without rows", "", Config{Header: []string{"a"}}, ErrEmptyFile, "the file is empty"},
		{"header differs from schema", "id,px,day\n1,2,3\n", Config{Schema: schema("id:integer", "price:number", "day:date")},
			ErrHeaderMismatch, `header column 2 is "px" but the schema expects "price"`},
		{"header shorter than schema", "id\n1\n", Config{Schema: schema("id:integer", "price:number")},
			ErrHeaderMismatch, `the header has 1 columns but the schema expects 2: column 2 "price" is missing`},
		{"header longer than schema", "id,price,x\n1,2,3\n", Config{Schema: schema("id:integer", "price:number")},
			ErrHeaderMismatch, `the header has 3 columns but the schema expects 2: header column 3 "x" is not in the schema`},
		{"duplicate header names are mangled before the check", "a,a\n1,2\n", Config{Schema: schema("a:integer", "a:integer")},
			nil, "invalid schema.fields[1].name"},
		{"header with bad quote", "\"a\"b,c\n1,2\n", Config{}, ErrMalformedHeader,
			`the header row (line 1) cannot be read: unexpected 'b' after the closing quote of field 1`},
		{"header not UTF-8", "a,\xff\n1,2\n", Config{}, ErrMalformedHeader, "header column 2 is not valid UTF-8; save the file as UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), strings.NewReader(tc.in), &bytes.Buffer{}, &bytes.Buffer{}, tc.cfg, nil)
			if err == nil {
				t.Fatal("Run succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to say %q", err, tc.wantMsg)
			}
		})
	}
}

func TestRunConfigErrors(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{Delimiter: '"'}, "dialect.delimiter"},
		{Config{Delimiter: '\n'}, "dialect.delimiter"},
		{Config{Delimiter: 0xC3}, "dialect.delimiter"},
		{Config{Header: []string{}}, "header"},
		{Config{Schema: &typev1.Schema{Fields: []*typev1.Field{{Name: "a"}}}}, "schema.fields[0].type"},
		{Config{Schema: &typev1.Schema{Fields: []*typev1.Field{{Name: "", Type: typev1.FieldType_FIELD_TYPE_STRING}}}}, "schema.fields[0].name"},
		{Config{Schema: schema("a:string", "b:string", "a:integer")}, "schema.fields[2].name"},
		{Config{FirstLine: -1}, "first_line"},
	}
	for _, tc := range tests {
		_, err := Run(context.Background(), strings.NewReader("a\n1\n"), &bytes.Buffer{}, &bytes.Buffer{}, tc.cfg, nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("config %+v: err = %v, want a ConfigError about %s", tc.cfg, err, tc.field)
		}
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, strings.NewReader("a\n1\n"), &bytes.Buffer{}, &bytes.Buffer{}, Config{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestRunShard validates a file in two row-aligned byte ranges, as the
// fan-out will, and checks that positions and outputs match the whole-file
// run.
func TestRunShard(t *testing.T) {
	in := "id,note\n1,a\n2,\"two\nlines\"\nx,b\n4,c\n5\n6,d\n"
	cut := strings.Index(in, "x,b")
	cfg := Config{Schema: schema("id:integer", "note:string")}

	var wholeNorm, wholeRej bytes.Buffer
	whole, err := Run(context.Background(), strings.NewReader(in), &wholeNorm, &wholeRej, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	var n1, r1, n2, r2 bytes.Buffer
	first, err := Run(context.Background(), strings.NewReader(in[:cut]), &n1, &r1, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	shardCfg := cfg
	shardCfg.Header = []string{"id", "note"}
	shardCfg.FirstLine = 5
	shardCfg.FirstRecord = 4
	shardCfg.FirstOffset = int64(cut)
	second, err := Run(context.Background(), strings.NewReader(in[cut:]), &n2, &r2, shardCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n1.String()+strings.TrimPrefix(n2.String(), "id,note\n"), wholeNorm.String(); got != want {
		t.Errorf("normalized shards:\n got %q\nwant %q", got, want)
	}
	if got, want := r1.String()+strings.TrimPrefix(r2.String(), rejectsHeader), wholeRej.String(); got != want {
		t.Errorf("rejects shards:\n got %q\nwant %q", got, want)
	}
	wantRej := rejectsHeader + "5,4,1,id,type,\"column 1 (\"\"id\"\"): \"\"x\"\" is not an integer\",\"x,b\"\n" +
		"7,6,0,,field_count,the row has 1 fields but the header has 2,5\n"
	if wholeRej.String() != wantRej {
		t.Errorf("rejects:\n got %q\nwant %q", wholeRej.String(), wantRej)
	}
	if first.GetRowsTotal()+second.GetRowsTotal() != whole.GetRowsTotal() ||
		first.GetBytesRead()+second.GetBytesRead() != int64(len(in)) {
		t.Errorf("shard totals %v + %v do not add up to %v", first, second, whole)
	}
}
