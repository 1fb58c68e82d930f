"""Reads Scoregate's labelled examples with the Python standard library and numpy only.

The retrain-service keeps one row per scored item joined with its outcome in an SQLite file,
`$RETRAIN_DATA_DIR/labels.sqlite`, table `labeled_examples` (README "Learning loop"). This module
is what a data scientist copies to read it without Scoregate:

    from labeled_examples import load
    data = load(".data/retrain/labels.sqlite", model="truck-roll-gbt")
    data.X, data.y, data.refs        # numpy feature matrix (NaN = no value), labels, column names

Or from a shell, a JSON summary (what the test suite checks):

    python tools/learning/labeled_examples.py .data/retrain/labels.sqlite --model truck-roll-gbt

The file may be read while the service writes it (WAL mode): a reader sees the last committed
transaction.
"""

import argparse
import json
import sqlite3
import sys
from dataclasses import dataclass

import numpy as np


@dataclass
class LabeledExamples:
    refs: list          # feature refs, the model's input order
    X: np.ndarray       # float64 [rows, features]; NaN where the model got no number
    missing: np.ndarray  # bool [rows, features]: no value found (a default or nothing was used)
    y: np.ndarray       # float64 [rows]: the labels
    score: np.ndarray   # float64 [rows]: the score returned
    predicted_at_ms: np.ndarray  # int64 [rows]
    request_ids: list


def load(path, model=None, shadow=False, since_ms=None, until_ms=None):
    """The labelled examples of `model` (all models if None), served (or shadow) ones, oldest first,
    optionally within [since_ms, until_ms) of prediction time."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = ("SELECT request_id, features, feature_flags, label, score, predicted_at_ms"
                 " FROM labeled_examples"
                 " WHERE shadow = ?")
        params = [1 if shadow else 0]
        if model is not None:
            query += " AND model = ?"
            params.append(model)
        if since_ms is not None:
            query += " AND predicted_at_ms >= ?"
            params.append(since_ms)
        if until_ms is not None:
            query += " AND predicted_at_ms < ?"
            params.append(until_ms)
        query += " ORDER BY predicted_at_ms, request_id, batch_index"
        rows = db.execute(query, params).fetchall()
    finally:
        db.close()
    # features: {ref: value} in the model's input order; feature_flags: {ref: ["missing", ...]}
    # for the flagged features only.
    parsed = [(json.loads(row[1]), json.loads(row[2])) for row in rows]
    refs = []
    for features, _ in parsed:
        for ref in features:
            if ref not in refs:
                refs.append(ref)
    column = {ref: i for i, ref in enumerate(refs)}
    X = np.full((len(rows), len(refs)), np.nan)
    missing = np.zeros((len(rows), len(refs)), dtype=bool)
    for r, (features, flags) in enumerate(parsed):
        for ref, value in features.items():
            if isinstance(value, (bool, int, float)):
                X[r, column[ref]] = float(value)
        for ref, names in flags.items():
            missing[r, column[ref]] = "missing" in names
    return LabeledExamples(
        refs=refs,
        X=X,
        missing=missing,
        y=np.array([row[3] for row in rows], dtype=np.float64),
        score=np.array([row[4] for row in rows], dtype=np.float64),
        predicted_at_ms=np.array([row[5] for row in rows], dtype=np.int64),
        request_ids=[row[0] for row in rows],
    )


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", help="the labels.sqlite file")
    parser.add_argument("--model")
    parser.add_argument("--shadow", action="store_true")
    args = parser.parse_args(argv)
    data = load(args.store, model=args.model, shadow=args.shadow)
    summary = {
        "rows": int(len(data.y)),
        "refs": data.refs,
        "positives": int(np.sum(data.y == 1)),
        "feature_means": [None if np.all(np.isnan(col)) else float(np.nanmean(col)) for col in data.X.T],
        "missing": [int(n) for n in data.missing.sum(axis=0)],
        "score_sum": float(np.sum(data.score)),
        "first_request_id": data.request_ids[0] if data.request_ids else None,
    }
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
