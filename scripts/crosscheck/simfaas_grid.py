#!/usr/bin/env python3
"""Runs SimFaaS (Mahmoudi & Khazaei, CLOSER 2021; PyPI `simfaas`) on a grid of parameters and
writes its results with 95% confidence intervals over replications, as the reference that
tests/serverless_crosscheck.rs compares autoscale-sim's per_request platform with.

Model in both: Poisson arrivals at `arrival_rate`; a warm request takes Exp(warm_service_rate),
a cold one Exp(cold_service_rate) on a new instance; an idle instance expires after
`expiration_threshold` seconds; requests go to the most recently created idle instance.

Usage (see README.md beside this file): python3 simfaas_grid.py OUT.csv [--replications R]
[--max-time SECONDS] [--grid default|heldout]
"""

import argparse
import csv
import itertools
import math
import sys

import numpy as np
from simfaas.ServerlessSimulator import ServerlessSimulator

# Two-sided 95% Student t quantiles by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 14: 2.145, 19: 2.093, 29: 2.045}

GRIDS = {
    # arrival rates, (warm rate, cold rate) pairs, expiration thresholds
    "default": ([0.2, 1.0, 3.0], [(1 / 2.016, 1 / 2.163), (1.0, 0.2)], [10.0, 60.0, 600.0]),
    "heldout": ([0.5, 2.0], [(2.0, 0.5), (1 / 1.5, 1 / 3.0)], [30.0, 300.0]),
}

METRICS = ["prob_cold", "inst_count_avg", "inst_running_count_avg", "inst_idle_count_avg"]


def t975(df):
    keys = sorted(k for k in T975 if k <= df)
    return T975[keys[-1]] if keys else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--max-time", type=float, default=20000.0)
    ap.add_argument("--grid", choices=sorted(GRIDS), default="default")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rates, services, thresholds = GRIDS[args.grid]
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        header = ["arrival_rate", "warm_service_rate", "cold_service_rate",
                  "expiration_threshold", "max_time", "replications"]
        for m in METRICS:
            header += [m, m + "_ci95"]
        w.writerow(header)
        for point, (lam, (mu_w, mu_c), thr) in enumerate(itertools.product(rates, services, thresholds)):
            values = {m: [] for m in METRICS}
            for r in range(args.replications):
                np.random.seed(args.seed * 1_000_003 + point * 1000 + r)
                sim = ServerlessSimulator(arrival_rate=lam, warm_service_rate=mu_w,
                                          cold_service_rate=mu_c, expiration_threshold=thr,
                                          max_time=args.max_time)
                sim.generate_trace(debug_print=False, progress=False)
                res = sim.get_result_dict()
                for m in METRICS:
                    values[m].append(float(res[m]))
            row = [lam, mu_w, mu_c, thr, args.max_time, args.replications]
            for m in METRICS:
                xs = np.array(values[m])
                n = len(xs)
                half = t975(n - 1) * xs.std(ddof=1) / math.sqrt(n) if n > 1 else float("nan")
                row += [repr(float(xs.mean())), repr(float(half))]
            w.writerow(row)
            f.flush()
            print(f"point {point}: rate {lam}, warm {mu_w:.4f}, cold {mu_c:.4f}, threshold {thr}: "
                  f"p_cold {np.mean(values['prob_cold']):.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
