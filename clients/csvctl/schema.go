package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// maxSchemaFileBytes bounds the schema file read by upload --schema, as the
// server bounds UploadMetadata.table_schema.
const maxSchemaFileBytes = 1 << 20

// utf8BOM is the byte order mark some editors put at the start of a UTF-8
// file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// schemaFileError is a schema file that cannot be sent: unreadable, too
// large, or not a JSON object.
type schemaFileError struct {
	path string
	msg  string
	err  error
}

// Error implements error.
func (e *schemaFileError) Error() string {
	s := "schema " + e.path + ": " + e.msg
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *schemaFileError) Unwrap() error { return e.err }

// readTableSchema reads the Frictionless Table Schema JSON file at path, at
// most maxSchemaFileBytes, for UploadMetadata.table_schema. It checks only
// that the file is one JSON object (a leading UTF-8 byte order mark is
// allowed); the server checks the Table Schema itself and names the field
// and the problem. Errors are *schemaFileError.
func readTableSchema(path string) (*structpb.Struct, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &schemaFileError{path: path, msg: "cannot open", err: pathCause(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSchemaFileBytes+1))
	if err != nil {
		return nil, &schemaFileError{path: path, msg: "cannot read", err: pathCause(err)}
	}
	if len(data) > maxSchemaFileBytes {
		return nil, &schemaFileError{path: path, msg: fmt.Sprintf("larger than the limit of %s", formatBytes(maxSchemaFileBytes))}
	}
	return parseTableSchema(path, data)
}

// pathCause returns the cause of a *fs.PathError (which repeats the path),
// or err itself.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseTableSchema parses data, the contents of the schema file at path, as
// one JSON object.
func parseTableSchema(path string, data []byte) (*structpb.Struct, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &schemaFileError{path: path, msg: "is empty; want a Frictionless Table Schema, a JSON object such as {\"fields\": [...]}"}
	}
	if trimmed[0] != '{' {
		return nil, &schemaFileError{path: path, msg: "is not a JSON object; want a Frictionless Table Schema such as {\"fields\": [...]}"}
	}
	if err := checkOneJSONValue(data); err != nil {
		return nil, &schemaFileError{path: path, msg: "is not valid JSON", err: err}
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(data, s); err != nil {
		return nil, &schemaFileError{path: path, msg: "is not valid JSON", err: err}
	}
	return s, nil
}

// checkOneJSONValue reports whether data holds exactly one JSON value,
// naming the line and column of a syntax error. (protojson's own errors are
// deliberately unstable text.)
func checkOneJSONValue(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	err := dec.Decode(&v)
	if err == nil {
		end := dec.InputOffset()
		if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
			return fmt.Errorf("%s: more than one JSON value", position(data, int64(len(data)-len(rest))))
		}
		return nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		return fmt.Errorf("%s: %w", position(data, se.Offset-1), err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: unexpected end of the file", position(data, int64(len(data))))
	}
	return err
}

// position renders the byte at offset off in data as "line L, column C",
// both from 1; columns count bytes.
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// schemaCommand is `csvctl schema`.
func schemaCommand() *command {
	return &command{
		name:    "schema",
		args:    "JOB",
		nargs:   1,
		summary: "Print the Table Schema a job's rows were checked against.",
		details: `
Prints the job's schema artifact, schema.json: the Frictionless Table Schema
given at upload or the one inferred from the file. It exists once validation
has finished. Save it, edit it and send it back with another upload:

  csvctl schema JOB > schema.json
  csvctl upload --schema schema.json FILE`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			return func(ctx context.Context, args []string) int {
				job, err := jobName(args[0])
				if err != nil {
					return a.usageError(lookupCommand("schema"), err.Error())
				}
				name := job + "/artifacts/schema"
				client, closeConn, err := a.connect()
				if err != nil {
					return a.fail(ctx, "schema "+job, err)
				}
				defer closeConn()
				if _, err := download(ctx, client, name, a.stdout); err != nil {
					if status.Code(err) == codes.NotFound && ctx.Err() == nil {
						fmt.Fprintf(a.stderr, "csvctl: schema %s: %s\n(the schema artifact is written when validation finishes; 'csvctl get %s' shows the job's state)\n",
							job, describeError(err), args[0])
						return exitError
					}
					return a.fail(ctx, "schema "+job, err)
				}
				return exitOK
			}
		},
	}
}
