"""Calls a scoring-service with Triton's own Python gRPC client (tritonclient[grpc] from PyPI).

Usage: triton_client.py HOST:PORT GOLDEN_JSON [MODEL_VERSION]

For every model in the golden file: ServerReady, ModelMetadata, then ModelInfer on the golden
sample. Prints one JSON document on stdout: readiness, each model's metadata and predictions.
The caller (test/interop) compares them with the golden predictions.
"""

import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient


def main() -> None:
    url, golden_file = sys.argv[1], sys.argv[2]
    version = sys.argv[3] if len(sys.argv) > 3 else ""
    with open(golden_file, encoding="utf-8") as f:
        golden = json.load(f)
    client = grpcclient.InferenceServerClient(url=url)
    out = {
        "server_live": client.is_server_live(),
        "server_ready": client.is_server_ready(),
        "models": {},
    }
    columns = golden["sample"]["columns"]
    rows = golden["sample"]["rows"]
    for model, expected in sorted(golden["predictions"].items()):
        metadata = client.get_model_metadata(model, model_version=version, as_json=True)
        input_meta = metadata["inputs"][0]
        indexes = [columns.index(c) for c in expected["columns"]]
        data = np.array([[row[i] for i in indexes] for row in rows], dtype=np.float32)
        infer_input = grpcclient.InferInput(input_meta["name"], list(data.shape), "FP32")
        infer_input.set_data_from_numpy(data)
        result = client.infer(
            model,
            [infer_input],
            model_version=version,
            outputs=[
                grpcclient.InferRequestedOutput("label"),
                grpcclient.InferRequestedOutput("probabilities"),
            ],
        )
        response = result.get_response(as_json=True)
        out["models"][model] = {
            "ready": client.is_model_ready(model, model_version=version),
            "metadata": metadata,
            "model_version": response["model_version"],
            "label": result.as_numpy("label").tolist(),
            "probabilities": result.as_numpy("probabilities").tolist(),
        }
    client.close()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
