#!/usr/bin/env python3
"""BoTorch/GPyTorch timings of the cases of bench/gp_bench.cpp on a CUDA device, in float64:
exact log marginal likelihood plus gradient (SingleTaskGP, Matern-5/2 ARD with an
outputscale, Cholesky forced for every n) at d = 10, and posterior + analytic LogEI over m
candidates in chunks of 10,000. Median of a few repetitions, synchronized. Writes JSON
({"cases": [{"case", "median_ms", ...}]}) to --out after every case, atomically, so that a run
stopped by its time cap keeps the cases it finished. Used by bench/device_check.sh."""
import argparse
import json
import os
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--lml-n", default="1000,2000,5000,10000")
    ap.add_argument("--score", default="1000:10000,1000:100000,1000:1000000,10000:10000,10000:100000")
    args = ap.parse_args()

    import torch
    import gpytorch
    from botorch.acquisition.analytic import LogExpectedImprovement
    from botorch.models import SingleTaskGP
    from gpytorch.kernels import MaternKernel, ScaleKernel
    from gpytorch.mlls import ExactMarginalLogLikelihood

    if not torch.cuda.is_available():
        print("botorch_compare: no CUDA device", file=sys.stderr)
        return 77
    dev = torch.device("cuda")
    dt = torch.float64
    d = 10
    gen = torch.Generator(device="cpu").manual_seed(7)

    def model_for(n):
        X = torch.rand(n, d, generator=gen, dtype=dt).to(dev)
        y = torch.sin(3 * X).sum(-1, keepdim=True) / d**0.5
        covar = ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=d)).to(dev, dt)
        model = SingleTaskGP(X, y, covar_module=covar).to(dev, dt)
        covar.base_kernel.lengthscale = torch.full((1, d), 0.5, dtype=dt, device=dev)
        covar.outputscale = torch.tensor(1.0, dtype=dt, device=dev)
        model.likelihood.noise = torch.tensor([1e-3], dtype=dt, device=dev)
        return model, X, y

    def timed(fn):
        fn()  # warm-up
        torch.cuda.synchronize()
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            fn()
            torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)

    cases = []
    doc = {"torch": torch.__version__, "gpytorch": gpytorch.__version__,
           "device": torch.cuda.get_device_name(0), "dtype": "float64", "cases": cases}

    def save():
        tmp = args.out + ".part"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, args.out)

    exact = [gpytorch.settings.max_cholesky_size(10**8),
             gpytorch.settings.fast_computations(covar_root_decomposition=False, log_prob=False,
                                                 solves=False)]
    for c in exact:
        c.__enter__()
    for n in [int(v) for v in args.lml_n.split(",") if v]:
        model, X, y = model_for(n)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        model.train()

        def lml_grad():
            model.zero_grad()
            loss = -mll(model(X), y.squeeze(-1))
            loss.backward()

        ms = timed(lml_grad)
        cases.append({"case": f"lml_grad n={n} d={d}", "n": n, "d": d, "median_ms": ms})
        save()
        print(f"lml_grad n={n}: {ms:.2f} ms", flush=True)
        del model, mll
        torch.cuda.empty_cache()
    for spec in [s for s in args.score.split(",") if s]:
        n, m = (int(v) for v in spec.split(":"))
        model, X, y = model_for(n)
        model.eval()
        acq = LogExpectedImprovement(model, best_f=y.max())
        Xc = torch.rand(m, 1, d, generator=gen, dtype=dt).to(dev)

        def score():
            with torch.no_grad():
                best = None
                for s in range(0, m, 10000):
                    v = acq(Xc[s:s + 10000])
                    top = v.max()
                    best = top if best is None else torch.maximum(best, top)
                return best

        ms = timed(score)
        cases.append({"case": f"logei n={n} m={m}", "n": n, "m": m, "median_ms": ms})
        save()
        print(f"logei n={n} m={m}: {ms:.2f} ms", flush=True)
        del model, acq, Xc
        torch.cuda.empty_cache()
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
