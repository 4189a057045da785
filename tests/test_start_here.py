import numpy as np
import pytest

from labkit import start_here, units as u
from labkit.hardware import time_to_train


def test_gpus_come_from_the_dataset():
    machines = start_here.gpus()
    assert set(machines) == {"NVIDIA V100 SXM2", "NVIDIA A100 SXM 80GB", "NVIDIA H100 SXM"}
    assert machines["NVIDIA A100 SXM 80GB"].peak_flops_per_s == pytest.approx(312e12)


def test_explorer_readout_matches_the_model():
    ex = start_here.time_to_train_explorer()
    ex.update(gpus=10_000, utilization=0.2, gpu="NVIDIA V100 SXM2")
    days = float(time_to_train(3.14e23, 125e12, 0.2, 10_000)) / u.DAY
    # Patterson et al. 2021, Table 4: GPT-3 took 14.8 days on 10,000 V100s -> ~20 % of peak (±5 %)
    assert days == pytest.approx(14.8, rel=0.05)
    assert u.fmt_seconds(days * u.DAY) in ex.readout
    curve = ex.figure._labkit["curve"].get_ydata()
    assert np.all(np.diff(curve) < 0)  # more GPUs, fewer days
    assert ex.png[:4] == b"\x89PNG" and ex.jpeg[:2] == b"\xff\xd8"
