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
import random
import sys

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QUANTILES = [0.25, 0.5, 0.75]
NUMERIC = {"FIELD_TYPE_INTEGER", "FIELD_TYPE_NUMBER"}


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
        }
        if fd["type"] in NUMERIC:
            out["mean"] = num(d["mean"])
            out["std"] = num(d["std"])
            out["min"] = num(d["min"])
            out["max"] = num(d["max"])
            values = s.astype("float64").quantile(quantiles) if s.count() == 0 else s.quantile(quantiles)
            out["percentiles"] = [{"quantile": q, "value": num(values[q])} for q in quantiles]
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
            counts = s.value_counts()
            if unique > 16 and len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
                sys.exit(f"{name}.{col}: tie for top among more than 16 distinct values; pandas' pick is arbitrary")
        columns.append(out)

    expected = {
        "pandas": pd.__version__,
        "row_count": len(df),
        "quantiles": quantiles,
        "columns": columns,
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
