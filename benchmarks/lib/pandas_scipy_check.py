# The check benchmark's Python baseline: the "twenty lines of pandas + scipy" an engineer writes
# instead of running a drift tool. Reads both files whole (CSV or Parquet, by extension), then per
# column: numerical -> scipy's ks_2samp and wasserstein_distance; otherwise a chi-square test of
# the current counts against the reference shares. Prints one JSON line: rows read and the
# columns whose KS or chi-square p-value is below 0.05.
#   python3 benchmarks/lib/pandas_scipy_check.py reference.csv current.csv
import json
import sys

import numpy as np
import pandas as pd
from scipy import stats


def read(path):
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


reference, current = read(sys.argv[1]), read(sys.argv[2])
drifted = []
for column in reference.columns:
    ref, cur = reference[column].dropna(), current[column].dropna()
    if pd.api.types.is_numeric_dtype(ref) and ref.nunique() > 10:
        p = stats.ks_2samp(ref, cur).pvalue
        stats.wasserstein_distance(ref, cur)
    else:
        categories = sorted(set(ref.unique()) | set(cur.unique()), key=str)
        expected = ref.value_counts().reindex(categories, fill_value=0).to_numpy() + 0.5
        observed = cur.value_counts().reindex(categories, fill_value=0).to_numpy()
        p = stats.chisquare(observed, expected / expected.sum() * observed.sum()).pvalue
    if p < 0.05:
        drifted.append(column)
print(json.dumps({"rows": len(current), "referenceRows": len(reference), "drifted": drifted}))
