#!/usr/bin/env bash
# test_pandas_parity.sh — the seed's preprocessing step run by hamf equals
# what Debian's pandas computes with Spark's semantics ('/' gives a double,
# x/0 is NULL, NULL propagates, CASE WHEN NULL = 'yes' takes ELSE), value for
# value and in the same column order, on generated raw data that has rows
# with urllength 0 and empty cells. Small blocks force the streaming path.
set -euo pipefail
"$HAMF" datagen phishing --rows 60000 --seed 11 -o raw.csv
step=(--with 'alexa_rank_scaled = alexa_rank / 1000000'
  --with 'pathlength_normalized = pathlength / urllength'
  --with "hassecureconnection_encoded = CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END"
  --drop alexa_rank,pathlength,hassecureconnection)
# one block split across 4 parser threads
"$HAMF" preprocess raw.csv -o out.csv --threads 4 "${step[@]}"
# many small blocks: the streaming path gives the same bytes
"$HAMF" preprocess raw.csv -o out_small.csv --threads 1 --block-size 65536 "${step[@]}"
cmp out.csv out_small.csv
/usr/bin/python3 - <<'PY'
import math
import sys

import numpy as np
import pandas as pd

raw = pd.read_csv("raw.csv", keep_default_na=False, na_values=[""])
# the input must exercise the edge cases
assert (raw["urllength"] == 0).sum() > 10, "no zero-length rows"
for c in ("urllength", "pathlength", "alexa_rank", "hassecureconnection"):
    assert raw[c].isna().sum() > 5, "no nulls in " + c

exp = raw.copy()
exp["alexa_rank_scaled"] = exp["alexa_rank"] / 1000000
u = exp["urllength"]
exp["pathlength_normalized"] = np.where((u == 0) | u.isna(), np.nan, exp["pathlength"] / u.where(u != 0, 1))
exp["hassecureconnection_encoded"] = (exp["hassecureconnection"] == "yes").astype("int64")
exp = exp.drop(columns=["alexa_rank", "pathlength", "hassecureconnection"])

# round_trip: pandas' default float parser is not correctly rounded
got = pd.read_csv("out.csv", keep_default_na=False, na_values=[""], float_precision="round_trip")
assert list(got.columns) == list(exp.columns), (list(got.columns), list(exp.columns))
assert len(got) == len(exp) == 60000, (len(got), len(exp))
bad = 0
for c in exp.columns:
    e, g = exp[c].tolist(), got[c].tolist()
    for i, (a, b) in enumerate(zip(e, g)):
        na = isinstance(a, float) and math.isnan(a)
        nb = isinstance(b, float) and math.isnan(b)
        if na != nb or (not na and a != b):
            bad += 1
            if bad < 10:
                print("row %d column %s: pandas %r hamf %r" % (i, c, a, b), file=sys.stderr)
assert bad == 0, "%d values differ" % bad
# the text itself round-trips exactly: every double is the one pandas computed
txt = pd.read_csv("out.csv", dtype=str, keep_default_na=False)
for c in ("alexa_rank_scaled", "pathlength_normalized"):
    for s, v in zip(txt[c], exp[c]):
        if s == "":
            assert math.isnan(v)
        else:
            assert float(s) == v and ("." in s or "e" in s), (s, v)
print("parity ok:", len(got), "rows,", len(got.columns), "columns")
PY
