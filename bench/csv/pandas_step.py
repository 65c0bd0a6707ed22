#!/usr/bin/python3
"""pandas_step.py IN OUT — the seed's preprocessing step in pandas with
Spark's semantics (what users would write instead of hamf preprocess):
read_csv, alexa_rank / 1e6, pathlength / urllength with x/0 -> null,
CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END, drop, to_csv."""
import sys

import numpy as np
import pandas as pd

df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""])
df["alexa_rank_scaled"] = df["alexa_rank"] / 1000000
u = df["urllength"]
df["pathlength_normalized"] = np.where((u == 0) | u.isna(), np.nan, df["pathlength"] / u.where(u != 0, 1))
df["hassecureconnection_encoded"] = (df["hassecureconnection"] == "yes").astype("int64")
df = df.drop(columns=["alexa_rank", "pathlength", "hassecureconnection"])
df.to_csv(sys.argv[2], index=False)
