"""Independent check of retrain-service's monitoring figures with numpy and scikit-learn.

Reads JSON on stdin:
  {"threshold": t, "items": [{"score": s, "label": 0|1}, ...],
   "psi": [{"edges": [...], "reference": [...proportions...], "values": [v or null, ...]}, ...]}
and prints the same figures computed here: AUC (roc_auc_score), log-loss (log_loss), Brier
(brier_score_loss), FP and FN rates at the threshold, and for each PSI case the bucket counts
(np.searchsorted(edges, v, side="right"), NaN/None in the last bucket) and the PSI with both
proportions floored at 1e-4.
"""

import json
import sys

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

PSI_FLOOR = 1e-4


def quality(items, threshold):
    scores = np.array([i["score"] for i in items], dtype=np.float64)
    labels = np.array([i["label"] for i in items], dtype=np.int64)
    predicted = (scores >= threshold).astype(np.int64)
    negatives = int(np.sum(labels == 0))
    positives = int(np.sum(labels == 1))
    fp = int(np.sum((predicted == 1) & (labels == 0)))
    fn = int(np.sum((predicted == 0) & (labels == 1)))
    return {
        "samples": len(items),
        "positives": positives,
        "auc": float(roc_auc_score(labels, scores)),
        "logLoss": float(log_loss(labels, scores, labels=[0, 1])),
        "brier": float(brier_score_loss(labels, scores)),
        "falsePositiveRate": fp / negatives,
        "falseNegativeRate": fn / positives,
    }


def psi_case(case):
    edges = np.array(case["edges"], dtype=np.float64)
    values = np.array([np.nan if v is None else v for v in case["values"]], dtype=np.float64)
    missing = np.isnan(values)
    buckets = np.where(missing, len(edges) + 1, np.searchsorted(edges, values, side="right"))
    counts = np.bincount(buckets, minlength=len(edges) + 2)
    p = np.maximum(counts / counts.sum(), PSI_FLOOR)
    q = np.maximum(np.array(case["reference"], dtype=np.float64), PSI_FLOOR)
    return {"counts": counts.tolist(), "psi": float(np.sum((p - q) * np.log(p / q)))}


def main():
    data = json.load(sys.stdin)
    json.dump(
        {
            "quality": quality(data["items"], data["threshold"]),
            "psi": [psi_case(c) for c in data["psi"]],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
