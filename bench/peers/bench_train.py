"""Benchmark: training throughput of small networks, the PyTorch peer of deeptransport-nn.

Models (float32, parameters initialised by torch.nn.Linear's default):
  mlp     Linear(2,128) ReLU Linear(128,128) ReLU Linear(128,2)
  resmlp  Linear(2,128) ReLU, 2 residual blocks x + Linear(128,128)(ReLU(Linear(128,128)(x))),
          Linear(128,2)
  ae      encoder Linear(64,128) ReLU Linear(128,8); decoder Linear(8,128) ReLU Linear(128,64)
Inputs: one fixed seeded N(0,1) batch (width 2, or 64 for ae) re-used at every step; targets: a
fixed seeded N(0,1) batch of width 2 (mlp, resmlp) or the input itself (ae).
Loss: ((out - y)**2).sum(1).mean() + gamma * sum(W**2) over the weight matrices (not the biases),
gamma = 1e-4, computed inside the loss at every step.
Optimisers: torch.optim.SGD(lr=0.01) (no momentum) and torch.optim.Adam(lr=1e-3), each on a fresh
model from the same seed. One step = zero_grad, forward, loss, backward, step.
Timing: 50 warm-up steps, then REPEATS repeats of STEPS steps (time.perf_counter); ms_per_step is
the median over the repeats, ms_per_step_min the fastest. One JSON line per (model, optimizer);
a single "skipped" line when torch does not import. The Rust side
(target/release/examples/bench_train --impl deeptransport|candle) prints the same keys.

    bench/.venv/bin/python bench/peers/bench_train.py [--model mlp|resmlp|ae|all]
        [--optimizer sgd|adam|all] [--batch 256] [--steps 2000] [--repeats 5] [--threads 1]
"""
import argparse
import json
import statistics
import sys
import time

MODELS = ("mlp", "resmlp", "ae")
OPTIMIZERS = ("sgd", "adam")
GAMMA = 1e-4
WARMUP = 50
SEED = 2026

try:
    import torch
    from torch import nn
    TORCH_ERROR = None
except Exception as e:  # noqa: BLE001 - an optional peer: any import failure skips it
    TORCH_ERROR = f"{type(e).__name__}: {e}".splitlines()[0]


if TORCH_ERROR is None:
    class ResBlock(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.inner = nn.Linear(width, width)
            self.outer = nn.Linear(width, width)

        def forward(self, x):
            return x + self.outer(torch.relu(self.inner(x)))


def make_model(name):
    """The model, its input width and whether the target is the input (autoencoder)."""
    if name == "mlp":
        return nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                             nn.Linear(128, 2)), 2, False
    if name == "resmlp":
        return nn.Sequential(nn.Linear(2, 128), nn.ReLU(), ResBlock(128), ResBlock(128),
                             nn.Linear(128, 2)), 2, False
    if name == "ae":
        encoder = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 8))
        decoder = nn.Sequential(nn.Linear(8, 128), nn.ReLU(), nn.Linear(128, 64))
        return nn.Sequential(encoder, decoder), 64, True
    raise ValueError(name)


def bench(model_name, opt_name, batch, steps, repeats):
    torch.manual_seed(SEED)
    model, width, autoencoder = make_model(model_name)
    model = model.float()
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    gen = torch.Generator().manual_seed(SEED + 1)
    x = torch.randn(batch, width, generator=gen, dtype=torch.float32)
    y = x if autoencoder else torch.randn(batch, 2, generator=gen, dtype=torch.float32)
    if opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        out = model(x)
        loss = ((out - y) ** 2).sum(1).mean() + GAMMA * sum((w ** 2).sum() for w in weights)
        loss.backward()
        opt.step()
        return loss

    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        times.append((time.perf_counter() - t0) / steps * 1e3)
    assert torch.isfinite(loss).item(), (model_name, opt_name, loss)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=MODELS + ("all",), default="all")
    ap.add_argument("--optimizer", choices=OPTIMIZERS + ("all",), default="all")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if TORCH_ERROR:
        print(json.dumps({"bench": "train", "impl": "pytorch", "skipped": TORCH_ERROR}), flush=True)
        return 0
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set, or parallel work has started: keep the default
    models = MODELS if args.model == "all" else (args.model,)
    optimizers = OPTIMIZERS if args.optimizer == "all" else (args.optimizer,)
    for m in models:
        for o in optimizers:
            times = bench(m, o, args.batch, args.steps, args.repeats)
            median = statistics.median(times)
            print(json.dumps({
                "bench": "train", "impl": "pytorch", "model": m, "optimizer": o,
                "batch": args.batch, "threads": args.threads, "precision": "f32",
                "ms_per_step": median, "ms_per_step_min": min(times),
                "samples_per_s": args.batch / median * 1000, "torch": torch.__version__,
            }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
