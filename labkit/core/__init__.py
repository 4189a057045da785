"""labkit's shared core: the ideas several chapters use, each in one module.

    validate   argument checks every public function uses (clear ValueError/TypeError naming the argument)
    devices    Device, the one datasheet row type, and datasheet(name) from datasets/hardware.csv
    roofline   ridge point, attainable FLOP/s, the time of a kernel, a decode step, a training run
    timeline   Timeline: what devices did over time (start, end, state), used by chapters 04, 05, 06
    trend      exponential fits with a doubling time (chapters 01 and 02)
    plotting   new_axes() -> (fig, ax), log axes without minor ticks, the course style
    explore    the explorer API: build(fig) -> handles, update(handles, **values) -> readout

Chapter modules (labkit.hardware, labkit.scaling, ...) import from here; the core never imports a
chapter. See labkit/ARCHITECTURE.md.
"""
