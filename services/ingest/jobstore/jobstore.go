// Package jobstore keeps ingest's jobs and their event logs in an embedded
// SQLite database (modernc.org/sqlite, pure Go) in WAL mode.
//
// A job is stored as its ingestv1.Job protobuf message next to the few columns
// that queries need (state, times, idempotency key, the W3C traceparent of
// the upload). Each job has an append-only event log whose sequence numbers
// start at 1 and have no gaps. Every change to a job and the events that
// describe it are written in one transaction, through Update or Claim, whose
// callback sees the current row: that is where callers guard transitions.
//
// Writes go through a single connection (so they never contend with each
// other inside the process and begin IMMEDIATE transactions); reads use a
// small pool of read-only connections, which WAL lets run beside a writer.
package jobstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

// ErrNotFound is returned for a job id that has no row.
var ErrNotFound = errors.New("jobstore: job not found")

// ErrInvalidPageToken is returned by List for a page token it did not issue.
var ErrInvalidPageToken = errors.New("jobstore: invalid page token")

// ErrNoPendingJob is returned by Claim when no job is PENDING.
var ErrNoPendingJob = errors.New("jobstore: no pending job")

// DuplicateKeyError is returned by Create when another job already has the
// idempotency key. Existing is that job.
type DuplicateKeyError struct {
	// Key is the idempotency key.
	Key string
	// Existing is the job that holds the key.
	Existing *ingestv1.Job
}

// Error implements error.
func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("jobstore: idempotency key %q already used by %s", e.Key, e.Existing.GetName())
}

// Default limits.
const (
	// DefaultBusyTimeout is how long a connection waits for a lock held by
	// another connection before failing with SQLITE_BUSY.
	DefaultBusyTimeout = 10 * time.Second
	// DefaultReadConns is the size of the read-only connection pool.
	DefaultReadConns = 4
)

// Option configures Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	readConns   int
	now         func() time.Time
}

// WithBusyTimeout sets SQLite's busy_timeout; the default is DefaultBusyTimeout.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.busyTimeout = d
		}
	}
}

// WithReadConns sets how many read-only connections may be open at once; the
// default is DefaultReadConns.
func WithReadConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.readConns = n
		}
	}
}

// WithClock sets the clock that stamps update and event times; the default
// is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// Store is the job database. It is safe for concurrent use.
type Store struct {
	w   *sql.DB // one connection; every write
	r   *sql.DB // read-only pool
	now func() time.Time
}

// Record is a job row.
type Record struct {
	// Job is the job message.
	Job *ingestv1.Job
	// Traceparent is the W3C traceparent of the upload that created the job.
	Traceparent string
	// LastSequence is the sequence number of the job's latest event.
	LastSequence int64
}

const schemaVersion = 1

const schemaSQL = `
CREATE TABLE IF NOT EXISTS jobs (
	id              TEXT PRIMARY KEY,
	state           INTEGER NOT NULL,
	create_time     INTEGER NOT NULL,
	update_time     INTEGER NOT NULL,
	idempotency_key TEXT UNIQUE,
	traceparent     TEXT NOT NULL DEFAULT '',
	last_sequence   INTEGER NOT NULL,
	job             BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS jobs_by_create_time ON jobs (create_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, create_time, id);
CREATE TABLE IF NOT EXISTS events (
	job_id   TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	sequence INTEGER NOT NULL,
	event    BLOB NOT NULL,
	PRIMARY KEY (job_id, sequence)
) STRICT, WITHOUT ROWID;
`

// Open opens (creating if needed) the job database in the file at path and
// brings its schema up to date. The caller closes it with Close.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout, readConns: DefaultReadConns, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("jobstore: empty database path")
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(o.busyTimeout.Milliseconds(), 10))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("jobstore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	ctx := context.Background()
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("jobstore: open %s: %w", path, err)
	}

	rq := url.Values{}
	rq.Set("_busy_timeout", q.Get("_busy_timeout"))
	rq.Set("_query_only", "1")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("jobstore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("jobstore: open %s: %w", path, err)
	}
	return &Store{w: w, r: r, now: o.now}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("database schema version %d is newer than this program's %d", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// JobID returns the id part of a job's name, `jobs/{id}`.
func JobID(job *ingestv1.Job) string {
	return strings.TrimPrefix(job.GetName(), "jobs/")
}

// Create inserts a new job and its first event in one transaction. The job's
// name must be `jobs/{id}` and its create time set. When the job carries an
// idempotency key that another job already has, nothing is written and the
// error is a *DuplicateKeyError naming the existing job.
func (s *Store) Create(ctx context.Context, job *ingestv1.Job, traceparent string, first *ingestv1.JobEvent) (*ingestv1.Job, *ingestv1.JobEvent, error) {
	id := JobID(job)
	if id == "" || job.GetCreateTime() == nil {
		return nil, nil, errors.New("jobstore: create: job needs a name and a create time")
	}
	job = proto.Clone(job).(*ingestv1.Job)
	first = proto.Clone(first).(*ingestv1.JobEvent)
	now := s.now()
	job.UpdateTime = timestamppb.New(now)
	first.Sequence = 1
	first.EventTime = job.UpdateTime
	first.State = job.GetState()
	jb, err := proto.Marshal(job)
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: marshal job: %w", err)
	}
	eb, err := proto.Marshal(first)
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: marshal event: %w", err)
	}
	var key any
	if k := job.GetIdempotencyKey(); k != "" {
		key = k
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: create %s: %w", id, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO jobs (id, state, create_time, update_time, idempotency_key, traceparent, last_sequence, job)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
		id, int64(job.GetState()), job.GetCreateTime().AsTime().UnixNano(), now.UnixNano(), key, traceparent, jb)
	if err != nil {
		var se *sqlite.Error
		if key != nil && errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			rec, gerr := scanRecord(tx.QueryRowContext(ctx, selectRecord+` WHERE idempotency_key = ?`, key))
			if gerr != nil {
				return nil, nil, fmt.Errorf("jobstore: create %s: find job with key %q: %w", id, key, gerr)
			}
			return nil, nil, &DuplicateKeyError{Key: key.(string), Existing: rec.Job}
		}
		return nil, nil, fmt.Errorf("jobstore: create %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (job_id, sequence, event) VALUES (?, 1, ?)`, id, eb); err != nil {
		return nil, nil, fmt.Errorf("jobstore: create %s: first event: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("jobstore: create %s: commit: %w", id, err)
	}
	return job, first, nil
}

const selectRecord = `SELECT job, traceparent, last_sequence FROM jobs`

type rowScanner interface {
	Scan(dest ...any) error
}

func scanRecord(row rowScanner) (*Record, error) {
	var (
		b   []byte
		rec Record
	)
	if err := row.Scan(&b, &rec.Traceparent, &rec.LastSequence); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	rec.Job = &ingestv1.Job{}
	if err := proto.Unmarshal(b, rec.Job); err != nil {
		return nil, fmt.Errorf("unmarshal job: %w", err)
	}
	return &rec, nil
}

// Get returns the job with the given id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	rec, err := scanRecord(s.r.QueryRowContext(ctx, selectRecord+` WHERE id = ?`, id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("jobstore: get %s: %w", id, err)
	}
	return rec, nil
}

// GetByIdempotencyKey returns the job that holds the idempotency key, or
// ErrNotFound.
func (s *Store) GetByIdempotencyKey(ctx context.Context, key string) (*Record, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: empty idempotency key", ErrNotFound)
	}
	rec, err := scanRecord(s.r.QueryRowContext(ctx, selectRecord+` WHERE idempotency_key = ?`, key))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: idempotency key %q", ErrNotFound, key)
		}
		return nil, fmt.Errorf("jobstore: get by idempotency key: %w", err)
	}
	return rec, nil
}

// Exists reports whether a job with the given id has a row.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("jobstore: exists %s: %w", id, err)
	}
	return n > 0, nil
}

// UpdateFunc changes job in place and returns the events that record the
// change. It runs inside the write transaction and sees the job's current
// row, so it is where a caller checks that a transition is still allowed; an
// error from it rolls everything back and is returned as is. The store sets
// each event's sequence and time, the state of each event that has none (to
// the job's state after the change), and the job's update time.
type UpdateFunc func(job *ingestv1.Job) ([]*ingestv1.JobEvent, error)

// Update applies fn to the job with the given id and appends the events it
// returns, in one transaction. It returns the updated job and the stored
// events. An event whose state is unspecified gets the job's state after
// the change.
func (s *Store) Update(ctx context.Context, id string, fn UpdateFunc) (*ingestv1.Job, []*ingestv1.JobEvent, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: update %s: %w", id, err)
	}
	defer tx.Rollback()
	job, events, err := s.updateTx(ctx, tx, id, fn)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("jobstore: update %s: commit: %w", id, err)
	}
	return job, events, nil
}

// Claim applies fn, as Update does, to the oldest PENDING job, or returns
// ErrNoPendingJob. fn normally moves the job out of PENDING, so that no other
// caller claims it again.
func (s *Store) Claim(ctx context.Context, fn UpdateFunc) (*Record, []*ingestv1.JobEvent, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: claim: %w", err)
	}
	defer tx.Rollback()
	var id string
	err = tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE state = ? ORDER BY create_time, id LIMIT 1`,
		int64(ingestv1.Job_STATE_PENDING)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNoPendingJob
	}
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: claim: %w", err)
	}
	job, events, err := s.updateTx(ctx, tx, id, fn)
	if err != nil {
		return nil, nil, err
	}
	rec, err := scanRecord(tx.QueryRowContext(ctx, selectRecord+` WHERE id = ?`, id))
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: claim %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("jobstore: claim %s: commit: %w", id, err)
	}
	rec.Job = job
	return rec, events, nil
}

func (s *Store) updateTx(ctx context.Context, tx *sql.Tx, id string, fn UpdateFunc) (*ingestv1.Job, []*ingestv1.JobEvent, error) {
	rec, err := scanRecord(tx.QueryRowContext(ctx, selectRecord+` WHERE id = ?`, id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, nil, fmt.Errorf("jobstore: update %s: %w", id, err)
	}
	job := rec.Job
	events, err := fn(job)
	if err != nil {
		return nil, nil, err
	}
	now := timestamppb.New(s.now())
	job.UpdateTime = now
	jb, err := proto.Marshal(job)
	if err != nil {
		return nil, nil, fmt.Errorf("jobstore: update %s: marshal job: %w", id, err)
	}
	seq := rec.LastSequence
	for _, ev := range events {
		seq++
		ev.Sequence = seq
		ev.EventTime = now
		if ev.State == ingestv1.Job_STATE_UNSPECIFIED {
			ev.State = job.GetState()
		}
		eb, err := proto.Marshal(ev)
		if err != nil {
			return nil, nil, fmt.Errorf("jobstore: update %s: marshal event: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO events (job_id, sequence, event) VALUES (?, ?, ?)`, id, seq, eb); err != nil {
			return nil, nil, fmt.Errorf("jobstore: update %s: append event %d: %w", id, seq, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, update_time = ?, last_sequence = ?, job = ? WHERE id = ?`,
		int64(job.GetState()), now.AsTime().UnixNano(), seq, jb, id); err != nil {
		return nil, nil, fmt.Errorf("jobstore: update %s: %w", id, err)
	}
	return job, events, nil
}

// Events returns up to limit events of the job with sequence numbers greater
// than after, in order.
func (s *Store) Events(ctx context.Context, id string, after int64, limit int) ([]*ingestv1.JobEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT event FROM events WHERE job_id = ? AND sequence > ? ORDER BY sequence LIMIT ?`, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("jobstore: events %s: %w", id, err)
	}
	defer rows.Close()
	var out []*ingestv1.JobEvent
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("jobstore: events %s: %w", id, err)
		}
		ev := &ingestv1.JobEvent{}
		if err := proto.Unmarshal(b, ev); err != nil {
			return nil, fmt.Errorf("jobstore: events %s: unmarshal: %w", id, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobstore: events %s: %w", id, err)
	}
	return out, nil
}

// IDsInStates returns the ids of the jobs in any of the given states, oldest
// first.
func (s *Store) IDsInStates(ctx context.Context, states ...ingestv1.Job_State) ([]string, error) {
	if len(states) == 0 {
		return nil, nil
	}
	args := make([]any, len(states))
	for i, st := range states {
		args[i] = int64(st)
	}
	q := `SELECT id FROM jobs WHERE state IN (?` + strings.Repeat(", ?", len(states)-1) + `) ORDER BY create_time, id`
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("jobstore: list by state: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("jobstore: list by state: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobstore: list by state: %w", err)
	}
	return ids, nil
}

// List returns up to pageSize jobs, newest first, starting after the position
// pageToken encodes ("" for the first page), and the token of the next page
// ("" when there is none). A token List did not issue gives
// ErrInvalidPageToken.
func (s *Store) List(ctx context.Context, pageSize int, pageToken string) ([]*ingestv1.Job, string, error) {
	if pageSize <= 0 {
		return nil, "", errors.New("jobstore: list: page size must be positive")
	}
	var (
		rows *sql.Rows
		err  error
	)
	if pageToken == "" {
		rows, err = s.r.QueryContext(ctx, `SELECT id, create_time, job FROM jobs ORDER BY create_time DESC, id DESC LIMIT ?`, pageSize+1)
	} else {
		ct, id, perr := decodePageToken(pageToken)
		if perr != nil {
			return nil, "", perr
		}
		rows, err = s.r.QueryContext(ctx, `SELECT id, create_time, job FROM jobs
			WHERE create_time < ? OR (create_time = ? AND id < ?)
			ORDER BY create_time DESC, id DESC LIMIT ?`, ct, ct, id, pageSize+1)
	}
	if err != nil {
		return nil, "", fmt.Errorf("jobstore: list: %w", err)
	}
	defer rows.Close()
	var (
		jobs         []*ingestv1.Job
		lastID       string
		lastCreateNs int64
		more         bool
	)
	for rows.Next() {
		if len(jobs) == pageSize {
			more = true
			break
		}
		var (
			id string
			ct int64
			b  []byte
		)
		if err := rows.Scan(&id, &ct, &b); err != nil {
			return nil, "", fmt.Errorf("jobstore: list: %w", err)
		}
		job := &ingestv1.Job{}
		if err := proto.Unmarshal(b, job); err != nil {
			return nil, "", fmt.Errorf("jobstore: list: unmarshal %s: %w", id, err)
		}
		jobs = append(jobs, job)
		lastID, lastCreateNs = id, ct
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("jobstore: list: %w", err)
	}
	if !more {
		return jobs, "", nil
	}
	return jobs, encodePageToken(lastCreateNs, lastID), nil
}

// PageToken returns the page token under which List continues with the jobs
// listed after job (older than it). A caller that returns only part of a
// page uses it as the next page's token, with the last job it returns.
func PageToken(job *ingestv1.Job) string {
	return encodePageToken(job.GetCreateTime().AsTime().UnixNano(), JobID(job))
}

const pageTokenPrefix = "v1:"

func encodePageToken(createNs int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(pageTokenPrefix + strconv.FormatInt(createNs, 10) + ":" + id))
}

func decodePageToken(tok string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", ErrInvalidPageToken
	}
	rest, ok := strings.CutPrefix(string(b), pageTokenPrefix)
	if !ok {
		return 0, "", ErrInvalidPageToken
	}
	ns, id, ok := strings.Cut(rest, ":")
	if !ok || id == "" {
		return 0, "", ErrInvalidPageToken
	}
	ct, err := strconv.ParseInt(ns, 10, 64)
	if err != nil || ct < 0 {
		return 0, "", ErrInvalidPageToken
	}
	return ct, id, nil
}
