"""Writes a variant of a tree-ensemble ONNX classifier: same graph and signature, different
outputs (every leaf weight scaled). Used by test/interop to register a "new version" whose answers
are told apart from the original's.

Usage: make_variant.py IN.onnx OUT.onnx [SCALE]
"""

import sys

import onnx
from onnx import helper


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
    model = onnx.load(source)
    changed = 0
    for node in model.graph.node:
        if node.op_type != "TreeEnsembleClassifier":
            continue
        for i, attribute in enumerate(node.attribute):
            if attribute.name == "class_weights":
                weights = [w * scale for w in attribute.floats]
                node.attribute[i].CopyFrom(helper.make_attribute("class_weights", weights))
                changed += 1
    if changed == 0:
        sys.exit(f"{source}: no TreeEnsembleClassifier with class_weights found")
    onnx.checker.check_model(model)
    onnx.save(model, target)


if __name__ == "__main__":
    main()
