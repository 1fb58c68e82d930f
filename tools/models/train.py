#!/usr/bin/env python3
"""Train the truck-roll fixture models, export ONNX, write golden predictions.

Run inside the venv made by setup.sh:
    bash tools/models/setup.sh && tools/models/.venv/bin/python tools/models/train.py

Writes (all under tools/models/fixtures/):
    truck-roll-gbt/1/model.onnx, truck-roll-logreg/1/model.onnx,
    broken/model.onnx, mismatch/model.onnx,
    manifest.json, golden.json, demo-entities.json
Deterministic: same code + same pinned packages -> same files.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate_data as gd  # noqa: E402

SEED = 20240611
ROWS = 20000
DRIFT = 0.0
TEST_SIZE = 0.25
SAMPLE_SEED = 7
SAMPLE_ROWS = 32
DEMO_ROWS = 10
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
IR_VERSION = 8  # what opset 17 implies; loadable by every onnxruntime >= 1.13
VERSION = "1"
INPUT_NAME = "features"

ALL_FEATURES = list(gd.FEATURES)
LOGREG_FEATURES = ["tickets_30d", "calls_7d", "modem_age_months", "plan_tier"]
MISMATCH_FEATURES = ["tickets_30d", "calls_7d", "modem_age_months"]


def cols(names):
    return [ALL_FEATURES.index(n) for n in names]


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def to_onnx(model, name, features, description):
    k = len(features)
    onx = convert_sklearn(
        model,
        name=name,
        initial_types=[(INPUT_NAME, FloatTensorType([None, k]))],
        options={id(model): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    # skl2onnx emits opset_import in set order (varies with PYTHONHASHSEED): sort for byte-stable output
    # (and de-duplicate: LinearClassifier models come out with the '' domain listed twice)
    ops = {}
    for o in onx.opset_import:
        ops[o.domain] = max(ops.get(o.domain, 0), o.version)
    del onx.opset_import[:]
    for domain, ver in sorted(ops.items()):
        onx.opset_import.append(helper.make_opsetid(domain, ver))
    if onx.ir_version > IR_VERSION:
        onx.ir_version = IR_VERSION
    onx.doc_string = description
    onx.model_version = int(VERSION)
    onx.domain = "scoregate.fixtures"
    onx.graph.doc_string = description
    meta = {
        "name": name,
        "version": VERSION,
        "features": json.dumps([f"{gd.VIEW}:{f}" for f in features]),
        "entity_type": gd.ENTITY_TYPE,
        "input": INPUT_NAME,
        "outputs": "label,probabilities",
        "code_revision": "tools/models/train.py",
    }
    del onx.metadata_props[:]
    for key, value in meta.items():
        onx.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(onx)
    return onx


def save(onx, relpath, out_dir):
    path = os.path.join(out_dir, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(onx.SerializeToString())
    return path


def run_ort(path, X):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    label, proba = sess.run(["label", "probabilities"], {INPUT_NAME: X.astype(np.float32)})
    return label, proba, sess


def io_spec(sess):
    i = sess.get_inputs()[0]
    return {
        "inputs": [(x.name, x.type, x.shape) for x in sess.get_inputs()],
        "outputs": [(x.name, x.type, x.shape) for x in sess.get_outputs()],
        "_k": i.shape[1],
    }


def opset_of(onx):
    return {("ai.onnx" if o.domain == "" else o.domain): int(o.version) for o in onx.opset_import}


def pick_sample(X_test, gbt_labels_test):
    """32 rows of the test split; the first 10 (demo customers) hold 5 of each predicted label."""
    rng = np.random.default_rng(SAMPLE_SEED)
    perm = rng.permutation(len(X_test))
    pos = [i for i in perm if gbt_labels_test[i] == 1][: DEMO_ROWS // 2]
    neg = [i for i in perm if gbt_labels_test[i] == 0][: DEMO_ROWS - len(pos)]
    demo = [x for pair in zip(neg, pos) for x in pair]  # alternate: no, yes, no, yes...
    rest = [i for i in perm if i not in set(demo)][: SAMPLE_ROWS - len(demo)]
    return np.array(demo + rest)


def row_json(row, names):
    return [gd.format_value(n, v) for n, v in zip(names, row)]


def write_json(path, obj):
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=2)
        fh.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description="train truck-roll fixture models")
    ap.add_argument("--out", default=os.path.join(HERE, "fixtures"))
    args = ap.parse_args(argv)
    out = args.out
    os.makedirs(out, exist_ok=True)

    X, y, p_true = gd.generate(ROWS, SEED, DRIFT)
    X = X.astype(np.float32)  # exact: generator guarantees float32-representable values
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y)

    gbt = GradientBoostingClassifier(n_estimators=50, max_depth=3, learning_rate=0.1, random_state=SEED)
    gbt.fit(X_tr, y_tr)
    lr_cols = cols(LOGREG_FEATURES)
    logreg = LogisticRegression(max_iter=5000, tol=1e-10)
    logreg.fit(X_tr[:, lr_cols], y_tr)
    mm_cols = cols(MISMATCH_FEATURES)
    mismatch = LogisticRegression(max_iter=5000, tol=1e-10)
    mismatch.fit(X_tr[:, mm_cols], y_tr)
    # Its weights do not matter (it exists to be refused for its input width), but lbfgs lands up
    # to 3e-5 apart on different CPUs (BLAS kernels) for this ill-conditioned fit, which changed
    # the file's bytes: keep the fit's values rounded to 3 decimals, written out so that every
    # machine exports the same bytes.
    mismatch.coef_ = np.array([[-0.596, -0.415, -0.016]])
    mismatch.intercept_ = np.array([2.739])

    specs = [
        ("truck-roll-gbt", gbt, ALL_FEATURES,
         "Truck-roll priority: GradientBoostingClassifier (50 trees, depth 3) on all 8 customer_stats features."),
        ("truck-roll-logreg", logreg, LOGREG_FEATURES,
         "Truck-roll priority fallback: LogisticRegression on 4 customer_stats features "
         "(tickets_30d, calls_7d, modem_age_months, plan_tier)."),
    ]

    manifest_models = []
    golden_preds = {}
    sessions = {}
    for name, model, feats, desc in specs:
        onx = to_onnx(model, name, feats, desc)
        rel = f"{name}/{VERSION}/model.onnx"
        path = save(onx, rel, out)
        fc = cols(feats)
        # held-out metrics, from the exported ONNX model (what the gateway will serve)
        lab_te, prob_te, sess = run_ort(path, X_te[:, fc])
        sk_prob = model.predict_proba(X_te[:, fc])
        diff = float(np.max(np.abs(sk_prob - prob_te)))
        agree = float(np.mean(model.predict(X_te[:, fc]) == lab_te))
        print(f"{name}: max |sklearn - onnxruntime| prob diff on test = {diff:.3g}, label agreement = {agree}")
        assert diff < 1e-5 and agree == 1.0
        sessions[name] = (sess, fc, lab_te)
        manifest_models.append({
            "name": name,
            "version": VERSION,
            "file": rel,
            "sha256": sha256(path),
            "sizeBytes": os.path.getsize(path),
            "framework": "sklearn",
            "estimator": type(model).__name__,
            "opset": opset_of(onx),
            "irVersion": int(onx.ir_version),
            "input": {"name": INPUT_NAME, "datatype": "FP32", "shape": [-1, len(feats)]},
            "features": [{"ref": f"{gd.VIEW}:{f}", "dtype": "double", "required": True} for f in feats],
            "outputs": [
                {"name": "label", "datatype": "INT64", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP32", "shape": [-1, 2]},
            ],
            "metrics": {
                "auc": round(float(roc_auc_score(y_te, prob_te[:, 1])), 4),
                "accuracy": round(float(accuracy_score(y_te, lab_te)), 4),
                "testRows": int(len(y_te)),
                "positiveRate": round(float(y_te.mean()), 4),
            },
            "lineage": {"seed": SEED, "rows": ROWS, "drift": DRIFT, "testSize": TEST_SIZE,
                        "codeRevision": "tools/models/train.py"},
        })

    # golden sample
    idx = pick_sample(X_te, sessions["truck-roll-gbt"][2])
    sample = X_te[idx]
    for name, (sess, fc, _) in sessions.items():
        label, proba = sess.run(["label", "probabilities"], {INPUT_NAME: sample[:, fc]})
        assert label.dtype == np.int64 and proba.dtype == np.float32
        assert label.shape == (SAMPLE_ROWS,) and proba.shape == (SAMPLE_ROWS, 2)
        golden_preds[name] = {
            "columns": [ALL_FEATURES[i] for i in fc],
            "label": [int(v) for v in label],
            "probabilities": [[float(a), float(b)] for a, b in proba],
        }
    golden = {
        "description": "onnxruntime (Python) predictions for 32 held-out rows; each model gets the "
                       "listed columns of sample.rows, in that order, as FP32. Compare probabilities within 1e-5.",
        "sample": {
            "columns": ALL_FEATURES,
            "entityKeys": [f"c-{i + 1:04d}" for i in range(SAMPLE_ROWS)],
            "rows": [row_json(r, ALL_FEATURES) for r in sample],
            "trueLabels": [int(v) for v in y_te[idx]],
        },
        "predictions": golden_preds,
    }
    write_json(os.path.join(out, "golden.json"), golden)

    demo = [
        {"entityType": gd.ENTITY_TYPE, "key": f"c-{i + 1:04d}",
         "features": dict(zip(ALL_FEATURES, row_json(sample[i], ALL_FEATURES)))}
        for i in range(DEMO_ROWS)
    ]
    write_json(os.path.join(out, "demo-entities.json"), demo)

    # negative fixtures
    gbt_path = os.path.join(out, "truck-roll-gbt", VERSION, "model.onnx")
    with open(gbt_path, "rb") as fh:
        gbt_bytes = fh.read()
    broken_path = os.path.join(out, "broken", "model.onnx")
    os.makedirs(os.path.dirname(broken_path), exist_ok=True)
    with open(broken_path, "wb") as fh:
        fh.write(gbt_bytes[: len(gbt_bytes) // 2])
    try:
        ort.InferenceSession(broken_path, providers=["CPUExecutionProvider"])
        raise SystemExit("broken/model.onnx unexpectedly loads")
    except SystemExit:
        raise
    except Exception as e:  # expected
        broken_err = type(e).__name__
    mm_onx = to_onnx(mismatch, "truck-roll-mismatch", MISMATCH_FEATURES,
                     "Negative fixture: valid LogisticRegression whose input is 3 wide, not 4 or 8.")
    mm_path = save(mm_onx, "mismatch/model.onnx", out)
    run_ort(mm_path, X_te[:5, mm_cols])

    manifest = {
        "description": "Scoregate test fixtures: truck-roll-priority models (entity customer, view customer_stats). "
                       "Generated by tools/models/train.py; do not edit by hand.",
        "models": manifest_models,
        "negativeFixtures": [
            {"name": "broken", "file": "broken/model.onnx", "kind": "invalid-onnx",
             "description": "First half of the truck-roll-gbt bytes; onnxruntime refuses to load it "
                            f"({broken_err}).",
             "sha256": sha256(broken_path), "sizeBytes": os.path.getsize(broken_path)},
            {"name": "mismatch", "file": "mismatch/model.onnx", "kind": "input-width-mismatch",
             "description": "Valid model with input 'features' FP32 [-1,3] (LogisticRegression on "
                            "tickets_30d, calls_7d, modem_age_months); fails when fed 4 or 8 columns.",
             "sha256": sha256(mm_path), "sizeBytes": os.path.getsize(mm_path),
             "input": {"name": INPUT_NAME, "datatype": "FP32", "shape": [-1, 3]},
             "outputs": [
                 {"name": "label", "datatype": "INT64", "shape": [-1]},
                 {"name": "probabilities", "datatype": "FP32", "shape": [-1, 2]},
             ]},
        ],
    }
    write_json(os.path.join(out, "manifest.json"), manifest)

    for m in manifest_models:
        print(f"{m['name']}: {m['sizeBytes']} bytes, sha256 {m['sha256'][:12]}..., metrics {m['metrics']}")
    print("demo labels (gbt):", golden_preds["truck-roll-gbt"]["label"][:DEMO_ROWS])
    print("logreg coefficients:", {f: round(float(c), 4) for f, c in zip(LOGREG_FEATURES, logreg.coef_[0])}, "intercept",
          round(float(logreg.intercept_[0]), 4))
    print("wrote", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
