"""Chapter 00 — start here: warm-up exercises on the exercise system and on units."""

from .. import units as u
from ._core import ChoiceExercise, FunctionExercise, Mistake, ValueExercise, register

register(ValueExercise(
    "00.hbm_bytes",
    "An 80 GB GPU, in bytes",
    no_variants="a warm-up on the check itself (80 GB in bytes), and the fixed answer the graders' test corpora use",
    expected=80 * u.GB,
    unit="B",
    rtol=1e-6,
    quantity="bytes",
    hints=[
        "Datasheets use decimal prefixes: G (giga) means 10⁹.",
        "Multiply 80 by labkit.units.GB — or write 80e9.",
    ],
    mistakes=[
        Mistake("That is 80 GiB (80 × 2³⁰ bytes). Datasheets mean decimal gigabytes: 10⁹ bytes each.",
                value=80 * u.GiB, rtol=1e-6),
        Mistake("That is the number of bits. A byte is 8 bits; the answer is in bytes.",
                value=80 * u.GB * 8, rtol=1e-6),
        Mistake("That is 80 MB: giga is 10⁹, not 10⁶.", value=80e6, rtol=1e-6),
    ],
))


def _gb_to_gib(n_gb):
    return n_gb * u.GB / u.GiB


register(FunctionExercise(
    "00.gb_to_gib",
    "Convert GB (10⁹ bytes) to GiB (2³⁰ bytes)",
    reference=_gb_to_gib,
    cases=lambda rng: {"n_gb": float(rng.choice([1, 16, 24, 40, 80, 141, 192])) * float(rng.uniform(0.5, 2))},
    edge_cases=[{"n_gb": 0.0}, {"n_gb": 1.0}, {"n_gb": 80.0}, {"n_gb": 1e6}],
    rtol=1e-9,
    atol=1e-12,
    quantity="bytes",
    teaches=("labkit.units.convert",),
    hints=[
        "First turn GB into bytes, then bytes into GiB.",
        "bytes = n_gb × 10⁹; GiB = bytes / 2³⁰ (labkit.units has GB and GiB).",
        "return n_gb * 1e9 / 2**30",
    ],
    mistakes=[
        Mistake("You converted the other way (GiB to GB): divide by 2³⁰, don't multiply.",
                fn=lambda n_gb: n_gb * u.GiB / u.GB),
        Mistake("You divided by 1024³ but forgot to multiply by 10⁹ first (or the reverse).",
                fn=lambda n_gb: n_gb / u.GiB),
    ],
))


def _days_to_train(total_flops, flops_per_s):
    return total_flops / flops_per_s / u.DAY


register(FunctionExercise(
    "00.days_to_train",
    "Days to do some FLOPs at a given rate",
    reference=_days_to_train,
    cases=lambda rng: {"total_flops": 10 ** rng.uniform(15, 25), "flops_per_s": 10 ** rng.uniform(9, 18)},
    edge_cases=[{"total_flops": 3.14e23, "flops_per_s": 1e15}, {"total_flops": 0.0, "flops_per_s": 1e12},
                {"total_flops": 86400.0, "flops_per_s": 1.0}],
    rtol=1e-6,
    atol=1e-30,
    quantity="time",
    teaches=("labkit.hardware.training_time", "labkit.core.roofline.training_time"),
    hints=[
        "Time is work divided by rate: seconds = total_flops / flops_per_s.",
        "Then turn seconds into days: a day is 86,400 s (labkit.units.DAY).",
    ],
    mistakes=[
        Mistake("That is in seconds: divide by 86,400 (labkit.units.DAY) to get days.", factor=u.DAY),
        Mistake("That is in hours: divide by 24 more to get days.", factor=24),
        Mistake("You multiplied by the rate: time is work divided by rate.",
                fn=lambda total_flops, flops_per_s: total_flops * flops_per_s / u.DAY),
    ],
))

register(ChoiceExercise(
    "00.gb_or_gib",
    "Which is larger: 1 GB or 1 GiB?",
    answer="gib",
    choices={"gb": "1 GB", "gib": "1 GiB", "same": "they are equal"},
    explanations={
        "gib": "1 GiB = 2³⁰ = 1,073,741,824 bytes, about 7.4 % more than 1 GB = 10⁹ bytes.",
        "gb": "1 GB is 10⁹ bytes; 1 GiB is 2³⁰ = 1,073,741,824 bytes.",
        "same": "They differ by about 7.4 %: 10⁹ versus 2³⁰ bytes — enough to matter when sizing memory.",
    },
    quantity="choice",
    hints=["Write both as a number of bytes.", "10⁹ = 1,000,000,000; 2³⁰ = 1,073,741,824."],
))
