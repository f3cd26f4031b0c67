"""Regenerate data/digits.csv from the copy of the UCI digits data bundled with scikit-learn.

Writes data/digits.csv (next to this script): the 1797 8x8 images returned by
sklearn.datasets.load_digits(), in load_digits order. One header row
``label,p0,p1,...,p63``, then one row per image: the integer label 0-9 followed by
the 64 pixel values as integers 0-16 (row-major 8x8). Line ends are ``\\n``; there is
no index column and no trailing whitespace. The output is deterministic, so a rerun
is byte-identical. Prints the SHA-256 of the file written.

No internet is needed: the data ship inside scikit-learn. Run from the repository root:

    bench/.venv/bin/python data/regenerate_digits.py

Source: UCI Machine Learning Repository, "Optical Recognition of Handwritten Digits",
E. Alpaydin and C. Kaynak, 1998, DOI 10.24432/C50P49, licensed CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). See data/README.md and
data/LICENSE-digits.txt.
"""

import hashlib
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parent / "digits.csv"


def main() -> None:
    digits = load_digits()
    pixels = np.asarray(digits.data)
    labels = np.asarray(digits.target)
    assert pixels.shape == (1797, 64), pixels.shape
    assert labels.shape == (1797,), labels.shape

    pix = pixels.astype(np.int64)
    lab = labels.astype(np.int64)
    # The bundled values are integers stored as floats: refuse any rounding.
    assert np.array_equal(pix, pixels), "non-integer pixel value"
    assert np.array_equal(lab, labels), "non-integer label"
    assert pix.min() >= 0 and pix.max() <= 16, (pix.min(), pix.max())
    assert lab.min() >= 0 and lab.max() <= 9, (lab.min(), lab.max())

    lines = ["label," + ",".join(f"p{i}" for i in range(64))]
    for y, row in zip(lab.tolist(), pix.tolist()):
        lines.append(",".join(str(v) for v in [y, *row]))
    data = ("\n".join(lines) + "\n").encode("ascii")

    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes, {len(lines) - 1} images)")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}  digits.csv")


if __name__ == "__main__":
    main()
