package validator

import (
	"context"
	"io"
	"sync"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/infer"
)

// blockJob is one block of records in flight, with what a worker made of it.
// Jobs and their buffers are reused, so memory stays bounded by the number
// of jobs and the size of the largest block.
type blockJob struct {
	blk  *csvparse.Block
	done chan error // the worker's verdict; capacity 1

	rows int64 // records in the block, each a row

	// The main pass.
	norm    []byte   // normalized CSV of the valid rows
	valid   int64    // valid rows
	rejects []rowRec // invalid rows, in order
	errs    []errRec // their errors
	arena   []byte   // texts of rejects and errors
	inf     *infer.Inferrer
	dups    []taggedDup // duplicate keys in the block, by offset

	// The fused path (mainWorker.prepare).
	fused      bool     // the block takes the fused path
	prepared   bool     // mainWorker.prepare has run on it
	blockValid bool     // every field of the block is valid UTF-8 as it is
	odd        []oddRec // the records with a quote
	oddBuf     []byte   // their text, but for those fusedRow takes

	// The key pass.
	keys []keyRec
}

// span locates bytes in a job's arena.
type span struct{ start, end int }

// bytes returns the bytes of s in arena.
func (s span) bytes(arena []byte) []byte { return arena[s.start:s.end] }

// stage is what a pipeline does with blocks.
type stage interface {
	// newWorker returns the processing of one worker goroutine.
	newWorker() blockWorker
	// attach prepares a job before it is handed to a worker; it is called
	// in block order, from one goroutine.
	attach(j *blockJob) error
	// merge takes the results of a processed job; it is called in block
	// order, from the goroutine that called runPipeline.
	merge(j *blockJob) error
}

// blockWorker processes blocks on one goroutine.
type blockWorker interface {
	process(j *blockJob) error
}

// runPipeline cuts src into blocks of whole records with a csvparse
// Splitter and runs st over them: a dispatcher reads blocks, workers
// goroutines process them, and the caller's goroutine merges them in order.
// At most 2*workers blocks are in flight. It returns the first error of any
// part, or ctx's error.
func runPipeline(ctx context.Context, src io.Reader, opts csvparse.Options, blockSize, workers int, st stage) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 2 * workers
	free := make(chan *blockJob, n)
	for range n {
		free <- &blockJob{done: make(chan error, 1)}
	}
	work := make(chan *blockJob, n)
	order := make(chan *blockJob, n)
	var (
		wg      sync.WaitGroup
		dispErr error
	)
	sp := csvparse.NewSplitter(src, opts, blockSize)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		for {
			if ctx.Err() != nil {
				return
			}
			var j *blockJob
			select {
			case j = <-free:
			case <-ctx.Done():
				return
			}
			blk, err := sp.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				dispErr = readError(err)
				return
			}
			j.blk = blk
			if err := st.attach(j); err != nil {
				blk.Release()
				dispErr = err
				return
			}
			order <- j
			work <- j
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := st.newWorker()
			for j := range work {
				if err := ctx.Err(); err != nil {
					j.done <- err
					continue
				}
				j.done <- w.process(j)
			}
		}()
	}
	var err error
	for j := range order {
		e := <-j.done
		if e == nil && err == nil {
			e = st.merge(j)
		}
		j.blk.Release()
		j.blk = nil
		if e != nil && err == nil {
			err = e
			cancel()
		}
		free <- j
	}
	wg.Wait()
	if err == nil {
		err = dispErr
	}
	if err == nil {
		// The dispatcher stops quietly when ctx is done.
		err = parent.Err()
	}
	return err
}
