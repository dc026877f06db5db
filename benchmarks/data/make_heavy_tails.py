#!/usr/bin/env python3
"""Write heavy-tails.json: real heavy-tailed columns for benchmarks/sketch-accuracy.bench.js.

The Wisconsin diagnostic breast cancer data set (569 rows) as scikit-learn ships it inside its
package (sklearn.datasets.load_breast_cancer, no download). Kept: the columns whose skewness is
above 3 (long right tails: areas and errors), values rounded to 7 significant digits.

Usage:  python3 -m venv --system-site-packages test/fixtures/.venv
        test/fixtures/.venv/bin/pip install scikit-learn==1.9.1 scipy numpy
        test/fixtures/.venv/bin/python benchmarks/data/make_heavy_tails.py
"""

import json
import os

import numpy as np
import scipy.stats
import sklearn
from sklearn.datasets import load_breast_cancer

HERE = os.path.dirname(os.path.abspath(__file__))

data = load_breast_cancer()
columns = []
for i, name in enumerate(data.feature_names):
    values = data.data[:, i]
    skew = float(scipy.stats.skew(values))
    if skew > 3:
        columns.append(
            {
                "name": str(name),
                "skewness": round(skew, 3),
                "maxOverMedian": round(float(values.max() / np.median(values)), 2),
                "values": [float(f"{v:.6e}") for v in values],
            }
        )

out = {
    "generator": "benchmarks/data/make_heavy_tails.py",
    "source": "sklearn.datasets.load_breast_cancer (Wisconsin diagnostic breast cancer, UCI)",
    "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
    "columns": columns,
}
with open(os.path.join(HERE, "heavy-tails.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(", ".join(f"{c['name']} (skew {c['skewness']})" for c in columns))
