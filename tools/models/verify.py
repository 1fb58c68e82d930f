#!/usr/bin/env python3
"""Check the committed fixtures against themselves and Python onnxruntime.

    tools/models/.venv/bin/python tools/models/verify.py
Exits non-zero on the first failed check.
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

FX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def load(name):
    with open(os.path.join(FX, name)) as fh:
        return json.load(fh)


def main():
    manifest, golden, demo = load("manifest.json"), load("golden.json"), load("demo-entities.json")
    cols = golden["sample"]["columns"]
    rows = golden["sample"]["rows"]
    assert len(cols) == 8 and len(rows) == 32 and all(len(r) == 8 for r in rows)

    # every sample value is float32-exact (JSON double -> float32 -> double is the identity)
    for r in rows:
        for v in r:
            assert float(np.float32(v)) == float(v), v

    # demo customers == first 10 golden rows, both labels present
    assert len(demo) == 10
    for i, ent in enumerate(demo):
        assert ent["entityType"] == "customer" and ent["key"] == f"c-{i + 1:04d}"
        assert list(ent["features"]) == cols
        assert [ent["features"][c] for c in cols] == rows[i]
    assert len(set(golden["predictions"]["truck-roll-gbt"]["label"][:10])) == 2

    sample = np.array(rows, dtype=np.float32)
    for m in manifest["models"]:
        path = os.path.join(FX, m["file"])
        data = open(path, "rb").read()
        assert hashlib.sha256(data).hexdigest() == m["sha256"] and len(data) == m["sizeBytes"]
        onnx.checker.check_model(onnx.load_from_string(data))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        (inp,) = sess.get_inputs()
        k = m["input"]["shape"][1]
        assert inp.name == m["input"]["name"] == "features" and inp.type == "tensor(float)"
        assert inp.shape[1] == k == len(m["features"])
        outs = {o.name: o for o in sess.get_outputs()}
        assert list(outs) == ["label", "probabilities"], list(outs)
        assert outs["label"].type == "tensor(int64)" and outs["probabilities"].type == "tensor(float)"
        idx = [cols.index(f["ref"].split(":", 1)[1]) for f in m["features"]]
        gp = golden["predictions"][m["name"]]
        assert gp["columns"] == [cols[i] for i in idx]
        label, proba = sess.run(["label", "probabilities"], {"features": sample[:, idx]})
        assert label.shape == (32,) and proba.shape == (32, 2)
        assert label.tolist() == gp["label"], m["name"]
        want = np.array(gp["probabilities"], dtype=np.float64)
        diff = float(np.max(np.abs(proba.astype(np.float64) - want)))
        assert diff < 1e-5, (m["name"], diff)
        assert np.array_equal(np.float32(want), proba), "golden probabilities are not exact float32"
        meta = {p.key: p.value for p in onnx.load(path).metadata_props}
        assert meta["name"] == m["name"] and meta["version"] == m["version"]
        print(f"ok {m['name']}: input {inp.name} {inp.shape}, outputs "
              f"{[(o.name, o.type, o.shape) for o in sess.get_outputs()]}, max diff {diff}")

    neg = {n["name"]: n for n in manifest["negativeFixtures"]}
    try:
        ort.InferenceSession(os.path.join(FX, neg["broken"]["file"]), providers=["CPUExecutionProvider"])
        raise AssertionError("broken model loaded")
    except AssertionError:
        raise
    except Exception as e:
        print("ok broken: fails to load:", type(e).__name__)
    mm = ort.InferenceSession(os.path.join(FX, neg["mismatch"]["file"]), providers=["CPUExecutionProvider"])
    assert mm.get_inputs()[0].shape[1] == 3
    try:
        mm.run(None, {"features": sample[:, :4]})
        raise AssertionError("mismatch model accepted 4 columns")
    except AssertionError:
        raise
    except Exception as e:
        print("ok mismatch: rejects 4 columns:", type(e).__name__)
    print("all fixture checks passed")


if __name__ == "__main__":
    sys.exit(main())
