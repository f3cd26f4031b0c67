#!/usr/bin/env python3
"""Writes the hand-made seed files of each fuzz target into fuzz/corpus/TARGET/ (standard
library only). The committed corpus is these seeds plus what the fuzzer found, minimised
(README.md); rerunning this script only re-adds the seeds."""
import io, json, os, struct, sys, zipfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def npy(shape, values, dtype="<f8", fortran=False, version=1):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        dtype, "True" if fortran else "False",
        "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0])
    pre = 10 if version == 1 else 12
    pad = 64 - (pre + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header))
    else:
        head = b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header))
    code = {"<f8": "<d", ">f8": ">d", "<f4": "<f", ">f4": ">f", "<i8": "<q"}[dtype]
    body = b"".join(struct.pack(code, v) for v in values)
    return head + header.encode() + body


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f64s(*v):
    return b"".join(struct.pack("<d", x) for x in v)


def f32s(*v):
    return b"".join(struct.pack("<f", x) for x in v)


def npz(entries, deflate=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


# CSV point and weight files.
put("csv", "plain.csv", "0,0\n1,0\n0,1\n1,1\n")
put("csv", "header.csv", "x,y,z\n1.5,-2e3,0.25\n3,4,5\n")
put("csv", "comments.csv", "# a comment\n\n1, 2\n # indented\n3 ,4\n\n")
put("csv", "quoted.csv", '"a","b"\n"1","2"\n"3e-300","-0.0"\n')
put("csv", "ragged.csv", "1,2\n3\n")
put("csv", "nan.csv", "1,nan\n2,inf\n")
put("csv", "weights.csv", "w\n1\n0\n2.5\n")
put("csv", "negative.csv", "1\n-1\n")
put("csv", "crlf.csv", "1,2\r\n3,4\r\n")
put("csv", "latin1.csv", b"1,\xe9\n")

# NPY: points, weights, activations, trajectories.
put("npy", "c2d.npy", npy((3, 2), [0, 1, 2, 3, 4, 5]))
put("npy", "f2d.npy", npy((2, 3), [0, 1, 2, 3, 4, 5], fortran=True))
put("npy", "f4.npy", npy((2, 2), [1, 2, 3, 4], dtype="<f4"))
put("npy", "be.npy", npy((1, 2), [1, 2], dtype=">f8"))
put("npy", "1d.npy", npy((4,), [1, 0, 2, 1]))
put("npy", "3d.npy", npy((2, 2, 1), [0, 1, 2, 3]))
put("npy", "4d.npy", npy((1, 1, 2, 1), [0, 1], dtype="<f4", fortran=True))
put("npy", "v2.npy", npy((1, 1), [7], version=2))
put("npy", "int.npy", npy((1, 2), [1, 2], dtype="<i8"))
put("npy", "empty.npy", npy((0, 3), []))
put("npy", "truncated.npy", npy((100, 100), [1, 2]))

# JSON measure specs.
put("measure", "gaussian.json", json.dumps({"kind": "gaussian", "mean": [0, 1], "cov": [[1, 0.5], [0.5, 2]]}))
put("measure", "mixture.json", json.dumps({"kind": "mixture", "weights": [1, 3], "components": [
    {"mean": [0], "cov": [[1]]}, {"mean": [5], "cov": [[0.1]]}]}))
put("measure", "not-spd.json", '{"kind": "gaussian", "mean": [0, 0], "cov": [[1, 2], [2, 1]]}')
put("measure", "ragged.json", '{"kind": "gaussian", "mean": [0, 0], "cov": [[1], [0, 1]]}')
put("measure", "unknown.json", '{"kind": "gaussian", "mean": [0], "cov": [[1]], "extra": 1}')
put("measure", "big.json", '{"kind": "mixture", "weights": [1e308, 1e308], "components": [{"mean": [1e308], "cov": [[1e-308]]}, {"mean": [-1e308], "cov": [[1e308]]}]}')

# .npz archives of layers.
layers = [("x.npy", npy((3, 2), [0, 1, 2, 3, 4, 5])), ("h.npy", npy((3, 1), [1, 2, 3], dtype="<f4")),
          ("y.npy", npy((3, 2, 2), list(range(12)), fortran=True))]
put("npz", "stored.npz", npz(layers))
put("npz", "deflated.npz", npz(layers, deflate=True))
put("npz", "one.npz", npz(layers[:1]))
put("npz", "nan.npz", npz([("a.npy", npy((1, 1), [1])), ("b.npy", npy((1, 1), [float("nan")]))]))
put("npz", "mismatch.npz", npz([("a.npy", npy((1, 1), [1])), ("b", b"not npy")]))

# .safetensors activations.
put("safetensors", "f64.safetensors", safetensors({"a": ("F64", [2, 2], f64s(1, 2, 3, 4)),
                                                   "b": ("F32", [2, 1], f32s(5, 6))}))
put("safetensors", "half.safetensors", safetensors({"a": ("F16", [1, 2], struct.pack("<2e", 1, 2)),
                                                    "b": ("BF16", [1, 1, 2], b"\x80\x3f\x00\x40"),
                                                    "c": ("I32", [1, 1], b"\0\0\0\0")}))
put("safetensors", "empty.safetensors", safetensors({"a": ("F64", [0, 3], b""), "b": ("F64", [1], f64s(1))}))
put("safetensors", "scalar.safetensors", safetensors({"a": ("F64", [], f64s(1)), "b": ("F64", [1], f64s(1))},
                                                     {"k": "v"}))

# deeptransport-nn weights (Network::to_safetensors's layout: 2 → 3 → 1, dense, then residual).
arch = {"format": 1, "kind": "mlp", "precision": "f64", "encoder_stages": None, "stages": [
    {"type": "dense", "fan_in": 2, "fan_out": 3, "hidden": None, "activation": "relu"},
    {"type": "dense", "fan_in": 3, "fan_out": 1, "hidden": None, "activation": "identity"}]}
put("network", "mlp.safetensors", safetensors({
    "stages.0.weight": ("F64", [3, 2], f64s(1, 0, 0, 1, 1, 1)), "stages.0.bias": ("F64", [3], f64s(0, 0, 0)),
    "stages.1.weight": ("F64", [1, 3], f64s(1, 1, 1)), "stages.1.bias": ("F64", [1], f64s(0.5))},
    {"deeptransport-nn": json.dumps(arch)}))
arch_r = {"format": 1, "kind": "residual_mlp", "precision": "f32", "encoder_stages": None, "stages": [
    {"type": "residual", "fan_in": 2, "fan_out": 2, "hidden": 3, "activation": "tanh"}]}
put("network", "residual.safetensors", safetensors({
    "stages.0.inner.weight": ("F32", [3, 2], f32s(1, 0, 0, 1, 1, 1)), "stages.0.inner.bias": ("F32", [3], f32s(0, 0, 0)),
    "stages.0.outer.weight": ("F32", [2, 3], f32s(1, 1, 1, 0, 0, 0)), "stages.0.outer.bias": ("F32", [2], f32s(0, 1))},
    {"deeptransport-nn": json.dumps(arch_r)}))
