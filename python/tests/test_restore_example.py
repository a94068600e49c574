"""The Python restoration example (python/examples/restore.py) against the C++ one (mrsolve_restore).

Both restore the centre 64x64 crop of the first held-out image with the shipped network (Python: the
nn.Module of training/train.py with the TorchScript file's weights; C++: the TorchScript module), the same
degradations, start states, seeds and samplers (--quick). Their printed PSNR (2 decimals) and SSIM
(4 decimals) must agree to one unit of the last printed digit: the networks compute the same float32
operations, so their outputs differ by float round-off at most, far below the printed precision, and one
unit covers a value that falls on a rounding boundary.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR

EXAMPLE = SOURCE_DIR / "python" / "examples" / "restore.py"
LINE = re.compile(r"^task=(\w+) sampler=(\S+) nfe=(\d+) psnr=([\d.]+) ssim=([\d.]+) seconds=")


def scores(output):
    found = {}
    for line in output.splitlines():
        m = LINE.match(line)
        if m:
            found[(m.group(1), m.group(2), int(m.group(3)))] = (float(m.group(4)), float(m.group(5)))
    return found


def run_python_example():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--threads", "1"], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_python_example_restores():
    out = run_python_example()
    assert "check=pass" in out
    found = scores(out)
    # The --quick plan: the input and six (sampler, NFE) runs, for both tasks.
    assert len(found) == 14


@pytest.mark.skipif(not os.environ.get("MRSOLVE_RESTORE_BINARY"), reason="the C++ example (mrsolve_restore) is not built")
def test_the_python_example_prints_the_cpp_numbers(tmp_path):
    cpp = subprocess.run([os.environ["MRSOLVE_RESTORE_BINARY"], "--quick", "--threads", "1", "--out", str(tmp_path)],
                         capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=600)
    assert cpp.returncode == 0, cpp.stdout + cpp.stderr
    expected, found = scores(cpp.stdout), scores(run_python_example())
    assert found.keys() == expected.keys()
    for key, (p, s) in expected.items():
        assert abs(found[key][0] - p) <= 0.0101 and abs(found[key][1] - s) <= 0.000101, (key, found[key], (p, s))
