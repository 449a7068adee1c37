#!/usr/bin/env python3
"""Writes golden.json: pandas results for a few fixed vectors and frames.

Run with a python3 that has pandas (Debian: apt-get install python3-pandas):

    python3 gen_golden.py > golden.json

Every float is written as its repr(), which round-trips exactly and spells
NaN and infinities as nan, inf and -inf (Go's strconv.ParseFloat reads all of
these). The Go tests read only golden.json; they do not need python.
"""
import json
import sys

import numpy as np
import pandas as pd


def r(x):
    return repr(float(x))


def vectors():
    rng = np.random.default_rng(20240531)
    nan, inf = float("nan"), float("inf")
    return {
        "empty": [],
        "one": [3.5],
        "two": [1.0, 2.0],
        "three": [1.0, 2.0, 4.0],
        "four": [1.0, 2.0, 4.0, 8.0],
        "pandas-doc-skew": [1.0, nan, 1.0, 2.0],
        "pandas-doc-kurt": [1.0, nan, 1.0, 3.0, 2.0],
        "skewed": [1.0, 2.0, 3.0, 4.0, 10.0],
        "constant-tenth": [0.1] * 7,
        "negative-zero": [-0.0, -0.0, 0.0],
        "signs": [-2.5, 0.0, -0.0, 3.0, 7.25, -1.0, 0.5],
        "small-scale-thresholds": [1e-8, 2e-8, 4e-8, 1.5e-8, 9e-8],
        "with-inf": [1.0, 2.0, inf, 4.0],
        "both-infs": [1.0, -inf, inf, 4.0],
        "above-2^53": [float(2**53 + k) for k in (0, 2, 4, 8, 16, 64)],
        "lognormal-40": [float(v) for v in rng.lognormal(0.0, 1.0, 40)],
        "normal-ish-50": [float(v) for v in rng.normal(100.0, 15.0, 50)],
        "with-nans-30": [
            float(v) if i % 4 else nan
            for i, v in enumerate(rng.exponential(2.0, 30))
        ],
    }


def frames():
    rng = np.random.default_rng(7)
    nan, inf = float("nan"), float("inf")
    small = {
        "a": [1, 2, 3, 4, 5, 6, nan, 8],
        "b": [2, 1, 4, 3, 7, nan, 6, 9],
        "const": [5, 5, 5, 5, 5, 5, 5, 5],
        "single": [nan, nan, nan, 1, nan, nan, nan, nan],
        "infs": [1, inf, 2, 0.5, 3, 2, 1, -inf],
        "neg": [-1, -2, -3, -4, -5, -6, -7, -8],
    }
    base = rng.normal(0.0, 1.0, 60)
    rand = {
        "x": base,
        "y": base * 0.8 + rng.normal(0.0, 0.6, 60),
        "z": rng.exponential(1.0, 60),
        "w": -base + rng.normal(0.0, 2.0, 60),
    }
    rand = pd.DataFrame(rand)
    mask = rng.random(rand.shape) < 0.2
    rand = rand.mask(mask)
    return {
        "small": pd.DataFrame(small, dtype="float64"),
        "random-60x4-20pct-missing": rand,
    }


def main():
    out = {"pandas": pd.__version__, "numpy": np.__version__, "series": [], "frames": []}
    for name, values in vectors().items():
        s = pd.Series(values, dtype="float64")
        out["series"].append({
            "name": name,
            "values": [r(v) for v in values],
            "count": int(s.count()),
            "sum": r(s.sum()),
            "mean": r(s.mean()),
            "var": r(s.var()),
            "var0": r(s.var(ddof=0)),
            "std": r(s.std()),
            "skew": r(s.skew()),
            "kurt": r(s.kurt()),
            "min": r(s.min()),
            "max": r(s.max()),
        })
    for name, df in frames().items():
        corr = df.corr(method="pearson")
        cov = df.cov()
        out["frames"].append({
            "name": name,
            "columns": list(df.columns),
            "rows": [[r(v) for v in row] for row in df.itertuples(index=False)],
            "corr": [[r(v) for v in row] for row in corr.to_numpy()],
            "cov": [[r(v) for v in row] for row in cov.to_numpy()],
        })
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
