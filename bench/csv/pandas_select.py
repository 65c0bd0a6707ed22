#!/usr/bin/python3
"""pandas_select.py IN OUT — read-only in pandas: one column read (usecols,
its fastest setup for this) and written."""
import sys

import pandas as pd

df = pd.read_csv(sys.argv[1], usecols=["urllength"], keep_default_na=False, na_values=[""])
df.to_csv(sys.argv[2], index=False)
