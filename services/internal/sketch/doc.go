// Package sketch holds mergeable, bounded-memory summaries of column values
// with stated error guarantees, for statistics over files larger than memory
// computed in shards and combined:
//
//   - KLL: quantiles, ranks and histograms of float64 values (KLL sketch, as
//     Apache DataSketches' KllDoublesSketch), exact while it holds at most k
//     values, with pandas' and numpy's linear interpolation;
//   - HLL: the number of distinct byte-string values, exact up to a budget,
//     then HyperLogLog with 2^14 registers (0.81% standard error);
//   - SpaceSaving: the most frequent values with per-value error bounds,
//     exact while there are at most m distinct values.
//
// Each summary has Merge, which combines the summaries of two streams into
// one of their concatenation with the same kind of guarantee, and
// MarshalBinary/UnmarshalBinary, a versioned encoding so that partial
// summaries can travel between processes; UnmarshalBinary checks the
// summary's invariants and wraps ErrCorrupt when they fail. Hashes of values
// are XXH64 (Hash64), stable across processes.
//
// No summary is safe for concurrent use. Updates do not allocate in steady
// state.
package sketch
