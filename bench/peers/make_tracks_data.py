"""Seeded synthetic activations for the `deeptransport tracks` benchmark (bench/tracks.sh),
resembling a ResNet's residual stream: a start cloud x_0 drawn from a Gaussian mixture, then
x_{l+1} = x_l + 0.1 tanh(x_l W_l) with W_l random (entries N(0, 1/d)), so every layer is a small
smooth nonlinear update of the previous one. W_l = 0.7 W + 0.71 E_l mixes one matrix W shared by all
layers with a fresh one E_l (both entries N(0, 1/d)): successive blocks push an input in related
directions, as in a trained ResNet, which puts the mean line-shape score near 1.5 (the ResNets on
the seed's slides: 1.27-1.81; independent W_l would give the random-walk value, about sqrt(m)).

Two data sets, both written as uncompressed .npz archives (one entry per layer, keys
layer00, layer01, ...), the format `deeptransport tracks --activations` reads one entry at a time
(crates/deeptransport-cli/src/activations.rs; a .safetensors file, by contrast, is read whole):

  small  n = 10 000 inputs, 20 layers of width 64, float64 (~100 MB): the timing case;
  big    n = 10 000 inputs, 50 layers of width 1024, float32 (~2 GB): the streaming memory case.

The big archive is written layer by layer (never held in memory whole). A file that exists with
the same parameters (recorded in FILE.json beside it) is kept, so reruns cost nothing.

    bench/.venv/bin/python bench/peers/make_tracks_data.py --out bench/results/tracks-data
    bench/.venv/bin/python bench/peers/make_tracks_data.py --out DIR --which small --n 2000
"""
import argparse
import json
import zipfile
from pathlib import Path

import numpy as np


MIX = 0.7  # weight of the shared matrix in W_l


def layers(n, depth, d, dtype, seed, components=8):
    """Yields x_0, ..., x_{depth-1}, each (n, d) of `dtype` (computed in that precision)."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal((d, d)) / np.sqrt(d)
    means = rng.normal(0.0, 2.0, size=(components, d))
    scales = rng.uniform(0.5, 1.0, size=components)
    label = rng.integers(0, components, size=n)
    x = (means[label] + scales[label, None] * rng.standard_normal((n, d))).astype(dtype)
    yield x
    for _ in range(depth - 1):
        fresh = rng.standard_normal((d, d)) / np.sqrt(d)
        w = (MIX * shared + np.sqrt(1 - MIX ** 2) * fresh).astype(dtype)
        x = x + dtype(0.1) * np.tanh(x @ w)
        yield x


def write_npz(path, n, depth, d, dtype, seed):
    """An uncompressed .npz (what np.savez writes) filled one layer at a time."""
    tmp = path.with_suffix(".npz.part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for k, x in enumerate(layers(n, depth, d, dtype, seed)):
            with zf.open(f"layer{k:02d}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(x), allow_pickle=False)
    tmp.replace(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench/results/tracks-data")
    ap.add_argument("--which", choices=("small", "big", "both"), default="both")
    ap.add_argument("--n", type=int, default=10_000, help="inputs (both data sets)")
    ap.add_argument("--small-layers", type=int, default=20)
    ap.add_argument("--small-width", type=int, default=64)
    ap.add_argument("--big-layers", type=int, default=50)
    ap.add_argument("--big-width", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    sets = {
        "small": (a.small_layers, a.small_width, np.float64),
        "big": (a.big_layers, a.big_width, np.float32),
    }
    for which, (depth, d, dtype) in sets.items():
        if a.which not in (which, "both"):
            continue
        path = out / f"tracks_{which}_n{a.n}_L{depth}_d{d}_{np.dtype(dtype).name}.npz"
        params = {"n": a.n, "layers": depth, "width": d, "dtype": np.dtype(dtype).name, "seed": a.seed,
                  "update": f"x + 0.1 tanh(x W_l), W_l = {MIX} W + sqrt(1 - {MIX}^2) E_l, W, E_l ~ N(0, 1/d)", "start": "8-component Gaussian mixture"}
        meta = path.with_suffix(".json")
        if path.exists() and meta.exists() and json.loads(meta.read_text()).get("params") == params:
            print(path)
            continue
        write_npz(path, a.n, depth, d, dtype, a.seed)
        meta.write_text(json.dumps({"params": params, "bytes": path.stat().st_size}) + "\n")
        print(path)


if __name__ == "__main__":
    main()
