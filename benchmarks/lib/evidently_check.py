# The check benchmark's second baseline: Evidently's data-drift preset on the same two files, as a
# user of Evidently would run it (pandas reads both files whole; Report([DataDriftPreset()]) with
# its defaults). Prints one JSON line: rows read and the columns Evidently flags.
#   python3 benchmarks/lib/evidently_check.py reference.csv current.csv
# Needs evidently 0.7.x, which imports only under pandas < 3 (the versions of
# test/fixtures/drift/requirements.txt, plus pyarrow for Parquet); the benchmark runs it with the
# interpreter named by DRIFTWATCH_EVIDENTLY_PYTHON (default: python3).
import json
import sys

import pandas as pd
from evidently import Dataset, Report
from evidently.presets import DataDriftPreset


def read(path):
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


reference, current = read(sys.argv[1]), read(sys.argv[2])
snapshot = Report([DataDriftPreset()], include_tests=True).run(
    Dataset.from_pandas(current), Dataset.from_pandas(reference)
)
result = snapshot.dict()
ids = {}
for metric in result["metrics"]:
    config = metric["config"]
    if config["type"].endswith("ValueDrift"):
        ids[metric["id"]] = config["column"]
drifted = sorted(
    ids[test["metric_config"]["metric_id"]]
    for test in result["tests"]
    if test["metric_config"]["metric_id"] in ids and test["status"] == "FAIL"
)
print(json.dumps({"rows": len(current), "referenceRows": len(reference), "drifted": drifted}))
