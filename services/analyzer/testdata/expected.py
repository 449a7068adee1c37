#!/usr/bin/python3
"""Expected analyzer figures, computed with pandas describe().

For every fixture testdata/<name>.csv, with its schema and quantiles in
testdata/<name>.spec.json, this script writes testdata/<name>.expected.json:
the figures pandas `DataFrame.describe(include="all")` gives for each column.
The Go tests (fixtures_test.go) compare the analyzer against these files, so
they need no pandas; regenerate and commit them when a fixture changes.

It also (re)writes the generated fixture testdata/random.csv and its spec,
deterministically from a fixed seed.

Regenerate (Debian's pandas, with the system python, not pyenv's):

    apt-get install -y python3-pandas
    cd services/analyzer/testdata && /usr/bin/python3 expected.py

The committed files were made with pandas 1.5.3 and numpy 1.24.2.

How the fixtures are read, to match the analyzer's contract:

* keep_default_na=True: the input is normalized, so the only missing token
  that occurs is the empty field (the fixtures avoid NA, null and the like);
* INTEGER columns as pandas' nullable Int64 (exact 64-bit parsing), NUMBER
  columns as float64;
* STRING, BOOLEAN, DATE and DATETIME columns as str, so that they are
  described as categorical columns (count, unique, top, freq) on their text,
  as the analyzer does. pandas would otherwise turn true/false into bool,
  whose top prints as True, and leave dates as text anyway.

Percentile values come from Series.quantile(q): describe() computes its
percentile rows with exactly that call (pandas/core/describe.py,
describe_numeric_1d); the script checks that the 25%/50%/75% rows of
describe() agree with it.

Beyond describe(), for every column null_share (isna().mean()); for numeric
columns, on the values as float64 (as the analyzer holds them), sum, var,
skew, kurt, the numbers of negative, zero and positive values and the
histogram: numpy.linspace(min, max, 11) edges (one bin [min, max] when all
values are equal; none when the span overflows) with pandas.cut(...,
include_lowest=True) counts; for other columns the min/max/mean length in
characters (str.len()) and the ten most frequent values with their counts,
ties to the value seen first; for the file, DataFrame.corr() of the numeric
columns as float64 (NaN written as null). DATE and DATETIME columns also get
describe(datetime_is_numeric=True) of the values as UTC times (mean, min,
percentiles, max as pandas prints them) and the histogram of their int64
nanoseconds as float64. pandas computes the mean and percentiles of times in
float64 nanoseconds (256 ns apart in this century), so they carry "_ns"
twins that the tests compare within 1024 ns; min and max are exact.

var, skew, kurt and corr are pandas' formulas (nanops.nanvar, nanskew,
nankurt, nancorr, with their NaN and 1e-14 rules) evaluated in exact rational
arithmetic on the float64 values and rounded once at the end, as the analyzer
(services/internal/moments) computes them: pandas' own float64 evaluation
loses digits for a large mean with a tiny spread (prices near 1e9) and
overflows for magnitudes near 1e150, where it gives 0 for a correlation of 1.
Where pandas overflows to NaN for var, skew or kurt, the expected figure is
NaN too, as the analyzer's. Where the two differ by more than 1e-9 relative, pandas' figure is kept
beside the exact one as "pandas_<name>", for the record.

Ties for top: describe() takes value_counts().index[0]. value_counts() lists
values in order of first appearance and then sorts by count with numpy's
quicksort (nargsort), which is an insertion sort, so stable, for up to 16
distinct values: ties then go to the value that appears first in the file,
which is what the analyzer does. With more than 16 distinct values numpy's
introsort is not stable and pandas' choice among tied values is arbitrary;
the generated fixture is checked to have no such tie.
"""

import json
import math
import os
from fractions import Fraction
import random
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QUANTILES = [0.25, 0.5, 0.75]
NUMERIC = {"FIELD_TYPE_INTEGER", "FIELD_TYPE_NUMBER"}
DATETIME = {"FIELD_TYPE_DATE", "FIELD_TYPE_DATETIME"}


def num(x):
    """A float for JSON, or None for NaN (pandas' way of saying unset)."""
    if x is None or x is pd.NA:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        sys.exit("infinite figure: keep fixture magnitudes below 1e154")
    return x


def generate_random():
    """Writes random.csv: a few thousand trade-like rows with missing values."""
    rng = random.Random(20260302)
    symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "BRK.B", "JPM", "V", "XOM", "UNH"]
    weights = [30, 22, 17, 12, 9, 7, 5, 4, 3, 2, 1, 1]
    lines = ["symbol,side,price,quantity,day,note,active"]
    for i in range(3000):
        sym = rng.choices(symbols, weights)[0]
        side = "BUY" if rng.random() < 0.55 else "SELL"
        price = "" if rng.random() < 0.02 else repr(round(rng.lognormvariate(4.5, 0.8), 4))
        qty = "" if rng.random() < 0.01 else str(rng.choice([1, 10, 100, 100, 100, 500, 1000]) * rng.randint(1, 9) * (-1 if rng.random() < 0.05 else 1))
        day = "2026-03-%02d" % (1 + int(rng.triangular(0, 30, 12)))
        r = rng.random()
        if r < 0.3:
            note = ""
        elif r < 0.5:
            note = "standard"
        elif r < 0.55:
            note = '"block, crossed"'
        else:
            note = "n%05d" % rng.randint(0, 99999)
        active = rng.choice(["true", "false", "true", ""])
        lines.append(",".join([sym, side, price, qty, day, note, active]))
    with open(os.path.join(HERE, "random.csv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    spec = {
        "schema": {"fields": [
            {"name": "symbol", "type": "FIELD_TYPE_STRING"},
            {"name": "side", "type": "FIELD_TYPE_STRING"},
            {"name": "price", "type": "FIELD_TYPE_NUMBER"},
            {"name": "quantity", "type": "FIELD_TYPE_INTEGER"},
            {"name": "day", "type": "FIELD_TYPE_DATE"},
            {"name": "note", "type": "FIELD_TYPE_STRING"},
            {"name": "active", "type": "FIELD_TYPE_BOOLEAN"},
        ]},
        "quantiles": [0.05, 0.25, 0.5, 0.75, 0.95],
    }
    with open(os.path.join(HERE, "random.spec.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")


def zero_out(x):
    """pandas' _zero_out_fperr: |x| < 1e-14 counts as 0."""
    return Fraction(0) if abs(x) < Fraction(1, 10**14) else x


def signed_sqrt_ratio(num_, den):
    """num_/sqrt(den) for Fractions, without float overflow."""
    r = math.sqrt(float(num_ * num_ / den))
    return r if num_ >= 0 else -r


def exact_stats(values):
    """var (ddof=1), skew and kurt of the float64 values, exactly."""
    xs = [Fraction(float(v)) for v in values]
    n = len(xs)
    out = {"variance": None, "skewness": None, "kurtosis": None}
    if n == 0:
        return out
    mean = sum(xs) / n
    d = [x - mean for x in xs]
    m2 = sum(x * x for x in d)
    m3 = sum(x * x * x for x in d)
    m4 = sum(x ** 4 for x in d)
    if n >= 2:
        out["variance"] = float(m2 / (n - 1))
    if n >= 3:
        z2, z3 = zero_out(m2), zero_out(m3)
        if z2 == 0:
            out["skewness"] = 0.0
        else:
            # (n*sqrt(n-1)/(n-2)) * m3/m2^1.5
            out["skewness"] = signed_sqrt_ratio(z3 * n / (n - 2), z2 ** 3 / (n - 1))
    if n >= 4:
        numer = zero_out(Fraction(n * (n + 1) * (n - 1)) * m4)
        denom = zero_out(Fraction((n - 2) * (n - 3)) * m2 * m2)
        if denom == 0:
            out["kurtosis"] = 0.0
        else:
            out["kurtosis"] = float(numer / denom - Fraction(3 * (n - 1) ** 2, (n - 2) * (n - 3)))
    return out


def exact_corr(a, b):
    """Pearson correlation over the rows where both are present, exactly."""
    pairs = [(Fraction(float(x)), Fraction(float(y))) for x, y in zip(a, b) if not (math.isnan(x) or math.isnan(y))]
    n = len(pairs)
    if n < 2:
        return None
    mx = sum(p[0] for p in pairs) / n
    my = sum(p[1] for p in pairs) / n
    sxx = sum((p[0] - mx) ** 2 for p in pairs)
    syy = sum((p[1] - my) ** 2 for p in pairs)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pairs)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, signed_sqrt_ratio(sxy, sxx * syy)))


def differ(a, b):
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > 1e-9 * max(abs(a), abs(b))


def histogram(values):
    """The analyzer's histogram of the non-missing values, or None."""
    if len(values) == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if math.isinf(hi - lo) or math.isnan(hi - lo):
        return None
    if lo == hi:
        return {"edges": [lo, hi], "counts": [len(values)]}
    edges = np.linspace(lo, hi, 11)
    counts = pd.cut(values, edges, include_lowest=True).value_counts(sort=False)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def describe_datetime(present, quantiles):
    """describe(datetime_is_numeric=True) of a date or datetime column, in UTC."""
    t = pd.to_datetime(present, utc=True).dt.tz_convert(None)
    if len(t) == 0:
        return {"mean": None, "min": None, "max": None, "percentiles": [], "histogram": None}
    d = t.describe(datetime_is_numeric=True, percentiles=quantiles)
    for q, label in ((0.25, "25%"), (0.5, "50%"), (0.75, "75%")):
        if q in quantiles and d[label] != t.quantile(q):
            sys.exit(f"describe()[{label}] = {d[label]}, quantile({q}) = {t.quantile(q)}")
    return {
        "mean": str(d["mean"]),
        "mean_ns": int(d["mean"].value),
        "min": str(d["min"]),
        "max": str(d["max"]),
        "percentiles": [str(t.quantile(q)) for q in quantiles],
        "percentiles_ns": [int(t.quantile(q).value) for q in quantiles],
        "histogram": histogram(t.astype("int64").astype("float64")),
    }


def describe(name):
    with open(os.path.join(HERE, name + ".spec.json"), encoding="utf-8") as f:
        spec = json.load(f)
    fields = spec["schema"]["fields"]
    quantiles = sorted(spec.get("quantiles") or DEFAULT_QUANTILES)
    dtype = {}
    for fd in fields:
        t = fd["type"]
        dtype[fd["name"]] = "Int64" if t == "FIELD_TYPE_INTEGER" else "float64" if t == "FIELD_TYPE_NUMBER" else str
    df = pd.read_csv(os.path.join(HERE, name + ".csv"), dtype=dtype, keep_default_na=True, encoding="utf-8")
    if list(df.columns) != [fd["name"] for fd in fields]:
        sys.exit(f"{name}: header {list(df.columns)} does not match the spec")
    desc = df.describe(include="all")

    columns = []
    for fd in fields:
        col = fd["name"]
        s = df[col]
        d = desc[col]
        out = {
            "name": col,
            "type": fd["type"],
            "count": int(d["count"]),
            "null_count": int(len(s) - d["count"]),
            "null_share": num(s.isna().mean()) if len(s) else None,
        }
        if fd["type"] in NUMERIC:
            out["mean"] = num(d["mean"])
            out["std"] = num(d["std"])
            out["min"] = num(d["min"])
            out["max"] = num(d["max"])
            values = s.astype("float64").quantile(quantiles) if s.count() == 0 else s.quantile(quantiles)
            out["percentiles"] = [{"quantile": q, "value": num(values[q])} for q in quantiles]
            f = s.astype("float64")
            out["sum"] = num(f.sum())
            ex = exact_stats(f.dropna())
            for key, pd_value in (("variance", num(f.var())), ("skewness", num(f.skew())), ("kurtosis", num(f.kurt()))):
                # Where pandas' float64 evaluation overflows to NaN, the
                # analyzer reports NaN (unset) too (moments' documented rule).
                out[key] = ex[key] if pd_value is not None else None
                if differ(ex[key], pd_value):
                    out["pandas_" + key] = pd_value
            out["negative_count"] = int((f < 0).sum())
            out["zero_count"] = int((f == 0).sum())
            out["positive_count"] = int((f > 0).sum())
            out["histogram"] = histogram(f.dropna())
            for q, label in ((0.25, "25%"), (0.5, "50%"), (0.75, "75%")):
                a, b = num(d[label]), num(s.quantile(q))
                if a != b:
                    sys.exit(f"{name}.{col}: describe()[{label}] = {a}, quantile({q}) = {b}")
        else:
            unique = int(d["unique"])
            out["unique"] = unique
            top = d["top"]
            out["top"] = None if isinstance(top, float) and math.isnan(top) else str(top)
            out["freq"] = None if out["top"] is None else int(d["freq"])
            present = s.dropna()
            lengths = present.str.len()
            out["min_length"] = int(lengths.min()) if len(present) else 0
            out["max_length"] = int(lengths.max()) if len(present) else 0
            out["mean_length"] = num(lengths.mean()) if len(present) else None
            first = {}
            for v in present:
                first.setdefault(v, len(first))
            vc = present.value_counts()
            ranked = sorted(first, key=lambda v: (-int(vc[v]), first[v]))[:10]
            out["top_values"] = [{"value": v, "count": int(vc[v])} for v in ranked]
            if fd["type"] in DATETIME:
                out["datetime"] = describe_datetime(present, quantiles)
            counts = s.value_counts()
            if unique > 16 and len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
                sys.exit(f"{name}.{col}: tie for top among more than 16 distinct values; pandas' pick is arbitrary")
        columns.append(out)

    numeric = [fd["name"] for fd in fields if fd["type"] in NUMERIC]
    fl = df[numeric].astype("float64")
    corr = fl.corr() if numeric else None
    values, pandas_values = [], []
    for i in range(len(numeric)):
        for j in range(len(numeric)):
            ex = exact_corr(fl.iloc[:, i].tolist(), fl.iloc[:, j].tolist())
            values.append(ex)
            pandas_values.append(num(corr.iloc[i, j]))
    expected = {
        "pandas": pd.__version__,
        "row_count": len(df),
        "quantiles": quantiles,
        "columns": columns,
        "correlation": None if corr is None else {
            "columns": numeric,
            "values": values,
            **({"pandas_values": pandas_values} if any(differ(a, b) for a, b in zip(values, pandas_values)) else {}),
        },
    }
    with open(os.path.join(HERE, name + ".expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    generate_random()
    names = sorted(n[: -len(".csv")] for n in os.listdir(HERE) if n.endswith(".csv"))
    for name in names:
        describe(name)
        print("wrote", name + ".expected.json")


if __name__ == "__main__":
    main()
