package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

// downloadFileMode is the permission of a downloaded file.
const downloadFileMode = 0o644

// downloadCommand is `csvctl download`.
func downloadCommand() *command {
	return &command{
		name:    "download",
		args:    "JOB ARTIFACT",
		nargs:   2,
		summary: "Download an artifact: source, normalized, parquet, rejects, schema, errors or report.",
		details: `
The artifacts: source (the file as uploaded), normalized (the valid rows as
normalized CSV), parquet (the valid rows as Parquet), rejects (the rejected
rows with where and why), schema (the Table Schema, given or inferred, as
JSON), errors (the error counts and a sample of errors as JSON) and report
(the statistics as JSON).

The artifact is streamed to FILE, or to stdout without -o (or with -o -).
A file is written under a temporary name in the same directory and renamed
once complete, so a failed download leaves no partial file; an existing
FILE is replaced only on success.`,
		setup: func(a *app, fs *flag.FlagSet) func(context.Context, []string) int {
			var out string
			fs.StringVar(&out, "o", "", "write to `FILE` instead of stdout")
			return func(ctx context.Context, args []string) int {
				c := lookupCommand("download")
				job, err := jobName(args[0])
				if err != nil {
					return a.usageError(c, err.Error())
				}
				name, err := artifactName(job, args[1])
				if err != nil {
					return a.usageError(c, err.Error())
				}
				client, closeConn, err := a.connect()
				if err != nil {
					return a.fail(ctx, "download "+name, err)
				}
				defer closeConn()
				if out == "" || out == "-" {
					if _, err := download(ctx, client, name, a.stdout); err != nil {
						return a.fail(ctx, "download "+name, err)
					}
					return exitOK
				}
				n, err := downloadToFile(ctx, client, name, out)
				if err != nil {
					return a.fail(ctx, "download "+name, err)
				}
				fmt.Fprintf(a.stderr, "%s: %s written to %s\n", name, formatBytes(n), out)
				return exitOK
			}
		},
	}
}

// download streams the artifact name to w and returns the bytes written.
func download(ctx context.Context, client ingestv1.IngestServiceClient, name string, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.DownloadArtifact(ctx, &ingestv1.DownloadArtifactRequest{Name: name})
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		m, err := w.Write(resp.GetChunk())
		n += int64(m)
		if err != nil {
			return n, fmt.Errorf("write: %w", err)
		}
	}
}

// downloadToFile streams the artifact name into path through a temporary
// file in the same directory, renamed to path only once complete and
// synced.
func downloadToFile(ctx context.Context, client ingestv1.IngestServiceClient, name, path string) (n int64, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.partial")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if n, err = download(ctx, client, name, tmp); err != nil {
		return n, err
	}
	if err = tmp.Chmod(downloadFileMode); err != nil {
		return n, err
	}
	if err = tmp.Sync(); err != nil {
		return n, err
	}
	if err = tmp.Close(); err != nil {
		return n, err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return n, err
	}
	return n, nil
}
