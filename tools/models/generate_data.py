#!/usr/bin/env python3
"""Seeded synthetic data for the "truck-roll-priority" domain.

Predicts whether a broadband customer's problem needs a technician visit
(a "truck roll"). Entity type: ``customer``; feature view: ``customer_stats``.

Every feature value is exactly representable as float32 (and therefore as a
double): integers, multiples of 1/64 (``signal_snr_db``, ``outage_minutes_7d``)
or multiples of 1/1024 (``error_rate_1h``). So ``float(np.float32(v)) == v``
and the value survives JSON -> double -> float32 unchanged.

Ground truth (documented, see ``true_logit``)::

    z =  INTERCEPT
       + c_snr    * (signal_snr_db - 28)        (negative: good signal -> no visit)
       + c_err    * error_rate_1h
       + c_reboot * reboots_24h
       + c_ticket * tickets_30d
       + c_outage * outage_minutes_7d
       + c_age    * modem_age_months
       + c_plan   * plan_tier
       + c_calls  * calls_7d
       + c_inter  * [reboots_24h >= 3 and signal_snr_db < 20]   (interaction)
       + Normal(0, NOISE_SD)                                    (label noise)
    label ~ Bernoulli(sigmoid(z))

``drift`` (0 = reference distribution) shifts the feature distributions
(worse signal, more errors, older modems, more outages) and the true
coefficients (outages matter more, modem age matters less), so models
trained at drift 0 degrade on data generated with drift > 0.

CLI:  python generate_data.py --rows 1000 --seed 7 --drift 0 --out data.csv
"""
from __future__ import annotations

import argparse
import csv
import sys
from typing import Dict, Tuple

import numpy as np

FEATURES = [
    "signal_snr_db",
    "error_rate_1h",
    "reboots_24h",
    "tickets_30d",
    "outage_minutes_7d",
    "modem_age_months",
    "plan_tier",
    "calls_7d",
]
INTEGER_FEATURES = {"reboots_24h", "tickets_30d", "modem_age_months", "plan_tier", "calls_7d"}
ENTITY_TYPE = "customer"
VIEW = "customer_stats"
LABEL = "truck_roll"

INTERCEPT = -5.8
NOISE_SD = 0.3
BASE_COEFFS: Dict[str, float] = {
    "signal_snr_db": -0.18,  # per dB above 28
    "error_rate_1h": 6.0,
    "reboots_24h": 0.60,
    "tickets_30d": 0.90,
    "outage_minutes_7d": 0.008,
    "modem_age_months": 0.024,
    "plan_tier": 0.50,
    "calls_7d": 0.60,
}
INTERACTION = 2.4  # reboots_24h >= 3 and signal_snr_db < 20


def _grid(x: np.ndarray, step: float, lo: float, hi: float) -> np.ndarray:
    """Round to a multiple of a power-of-two step, clip; exact in float32."""
    return np.clip(np.round(x / step) * step, lo, hi)


def coefficients(drift: float = 0.0) -> Dict[str, float]:
    """True coefficients under a given drift."""
    c = dict(BASE_COEFFS)
    c["outage_minutes_7d"] *= 1.0 + drift
    c["modem_age_months"] *= max(0.0, 1.0 - 0.5 * drift)
    c["calls_7d"] *= 1.0 + 0.5 * drift
    return c


def sample_features(rows: int, rng: np.random.Generator, drift: float = 0.0) -> np.ndarray:
    """Feature matrix (float64, shape [rows, 8], columns in FEATURES order)."""
    n = rows
    snr = _grid(rng.normal(30.0 - 4.0 * drift, 7.0, n), 1 / 64, 10.0, 45.0)
    err = _grid(rng.beta(1.2, 8.0 - 3.0 * min(drift, 1.5), n), 1 / 1024, 0.0, 1.0)
    # worse signal -> more reboots
    reboots = np.clip(rng.poisson(0.8 + 0.05 * np.maximum(0, 30 - snr) + 0.5 * drift), 0, 10)
    tickets = np.clip(rng.poisson(0.9 + 0.3 * drift, n), 0, 8)
    outage = _grid(rng.exponential(60.0 * (1.0 + drift), n) * (rng.random(n) < 0.6), 1 / 64, 0.0, 600.0)
    age = np.clip(rng.integers(0, 97, n) + np.round(12 * drift), 0, 96)
    plan = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    calls = np.clip(rng.poisson(0.7 + 0.4 * tickets + 0.3 * drift), 0, 12)
    X = np.column_stack([snr, err, reboots, tickets, outage, age, plan, calls]).astype(np.float64)
    assert np.array_equal(X.astype(np.float32).astype(np.float64), X), "values must be float32-exact"
    return X


def true_logit(X: np.ndarray, drift: float = 0.0) -> np.ndarray:
    """Noise-free ground-truth logit for a feature matrix in FEATURES order."""
    c = coefficients(drift)
    col = {f: X[:, i] for i, f in enumerate(FEATURES)}
    z = np.full(X.shape[0], INTERCEPT)
    for f in FEATURES:
        v = col[f] - 28.0 if f == "signal_snr_db" else col[f]
        z = z + c[f] * v
    z = z + INTERACTION * ((col["reboots_24h"] >= 3) & (col["signal_snr_db"] < 20))
    return z


def true_probability(X: np.ndarray, drift: float = 0.0) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-true_logit(X, drift)))


def generate(rows: int, seed: int, drift: float = 0.0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (X float64 [rows, 8], y int64 [rows], p_true float64 [rows])."""
    rng = np.random.default_rng(seed)
    X = sample_features(rows, rng, drift)
    z = true_logit(X, drift) + rng.normal(0.0, NOISE_SD, rows)
    p = 1.0 / (1.0 + np.exp(-z))
    y = (rng.random(rows) < p).astype(np.int64)
    return X, y, true_probability(X, drift)


def format_value(name: str, v: float):
    """JSON/CSV-friendly value: int for integer features, shortest exact float otherwise."""
    return int(v) if name in INTEGER_FEATURES else float(v)


def write_csv(path: str, X: np.ndarray, y: np.ndarray) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FEATURES + [LABEL])
        for row, label in zip(X, y):
            w.writerow([format_value(f, v) for f, v in zip(FEATURES, row)] + [int(label)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--drift", type=float, default=0.0)
    ap.add_argument("--out", default="-", help="CSV path, '-' for stdout")
    a = ap.parse_args(argv)
    X, y, _ = generate(a.rows, a.seed, a.drift)
    if a.out == "-":
        w = csv.writer(sys.stdout)
        w.writerow(FEATURES + [LABEL])
        for row, label in zip(X, y):
            w.writerow([format_value(f, v) for f, v in zip(FEATURES, row)] + [int(label)])
    else:
        write_csv(a.out, X, y)
        print(f"wrote {a.rows} rows (seed={a.seed}, drift={a.drift}, positive rate={y.mean():.3f}) to {a.out}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
