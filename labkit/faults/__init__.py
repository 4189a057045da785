"""Chapter 05 · fault tolerance: failures at scale, checkpoint intervals and goodput.

One idea a module (this package re-exports their public names): :mod:`.mtbf`, :mod:`.intervals`,
:mod:`.analytic`, :mod:`.practice`, :mod:`.simulation`, :mod:`.plots`, :mod:`.explore`.

SI units in and out: seconds for every time (MTBF, checkpoint, restart, interval, work).

- ``cluster_mtbf``, ``probability_no_failure``: independent failures; a synchronous job stops when
  any of its N devices fails, so the cluster's MTBF is the device MTBF divided by N.
- ``young_interval``, ``daly_interval``, ``optimal_interval``: how much computing to do between
  checkpoints (Young 1974; Daly 2006; the exact optimum of the model below).
- ``expected_waste``, ``expected_goodput``, ``expected_wall_time``: the analytic model (Daly 2006's
  exact form for exponential failures): a segment of τ compute + δ checkpoint must run without a
  failure; a failure loses the segment and costs a restart R, which can itself be hit by a failure.
- What practitioners plan for: ``checkpoint_nbytes``, ``checkpoint_write_time``, ``checkpoint_tiers`` (δ is
  bytes ÷ bandwidth); ``restart_time_for`` and ``NCCL_DEFAULT_TIMEOUT`` (R is detection + rescheduling +
  reload); ``sdc_rollback``, ``checkpoints_to_keep``, ``sdc_waste`` (silent data corruption noticed late);
  ``spare_shortfall``, ``spares_needed`` (hot spares as an Erlang loss system); ``elastic_goodput`` and
  ``elastic_training_claims`` (torchft's published elastic runs);
  ``goodput_split`` (Google's scheduling × runtime × program goodput); asynchronous and in-memory checkpoints:
  ``checkpoint_every_steps`` (CheckFreq's two limits), ``recovery_wasted_time`` and
  ``in_memory_recovery_speedup`` (GEMINI's model), ``llama3_step_time``, and ``checkpointing_claims`` (both
  papers' published figures next to what these models give).
- ``simulate_training``: the same job in simpy, with options the formula lacks (asynchronous
  checkpoints, hot spares that run out, Weibull failures that renew at restarts, silent data
  corruptions); ``simulate_seeds`` runs it over seeds. Its ``.timeline`` is a :class:`labkit.core.timeline.Timeline`
  in the states of ``FAULT_STATES``: computing (kept), checkpointing, computing work that was later
  lost, or restarting. Each state says how hard the devices work and how much of it is kept, so
  chapter 06 prices the timeline in joules without knowing these states.
- ``goodput_explorer``: sliders for devices, MTBF, checkpoint bytes per GPU and write bandwidth (δ is
  their ratio), restart time, interval.
"""

from ._common import (LLAMA3_GPUS, LLAMA3_DAYS, LLAMA3_UNEXPECTED, LLAMA3_PLANNED, LLAMA3_EFFECTIVE_TRAINING,
                      STATE_COLORS)
from .mtbf import (cluster_mtbf, component_mtbf, observed_mtbf, system_mtbf, probability_no_failure,
                   llama3_interruptions, llama3_mtbf)
from .intervals import young_interval, daly_interval, optimal_interval
from .analytic import (expected_waste, expected_goodput, first_order_waste, expected_wall_time, goodput_map,
                       max_restart_for_goodput, max_checkpoint_time)
from .practice import (LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S, LLAMA3_STORAGE_PEAK_BYTES_PER_S,
                       LLAMA3_CHECKPOINT_BYTES_PER_GPU, NCCL_DEFAULT_TIMEOUT,
                       checkpoint_nbytes, checkpoint_write_time, llama3_checkpoint,
                       checkpoint_tiers, restart_time_for, llama3_sdc_mtbf, sdc_rollback,
                       checkpoints_to_keep, sdc_waste, spare_shortfall, spares_needed,
                       elastic_goodput, elastic_training_claims, GoodputSplit, goodput_split, checkpoint_every_steps,
                       recovery_wasted_time, in_memory_recovery_speedup, llama3_step_time, checkpointing_claims)
from .simulation import (TrainingRun, simulate_training, simulate_goodput, SeedSpread, simulate_seeds,
                         compare_strategies, plot_strategies)
from .plots import (plot_mtbf_vs_scale, plot_interruptions, plot_waste_vs_interval, plot_seed_spread,
                    plot_checkpoint_tiers, plot_spares, plot_sdc_waste, plot_elastic,
                    plot_timeline, plot_goodput_map, plot_goodput_split)
from .explore import goodput_explorer

__all__ = ['LLAMA3_GPUS', 'LLAMA3_DAYS', 'LLAMA3_UNEXPECTED', 'LLAMA3_PLANNED', 'LLAMA3_EFFECTIVE_TRAINING',
           'STATE_COLORS', 'cluster_mtbf', 'component_mtbf', 'observed_mtbf', 'system_mtbf',
           'probability_no_failure', 'llama3_interruptions', 'llama3_mtbf', 'young_interval', 'daly_interval',
           'optimal_interval', 'expected_waste', 'expected_goodput', 'first_order_waste',
           'expected_wall_time', 'goodput_map', 'max_restart_for_goodput', 'max_checkpoint_time',
           'LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S', 'LLAMA3_STORAGE_PEAK_BYTES_PER_S',
           'LLAMA3_CHECKPOINT_BYTES_PER_GPU', 'NCCL_DEFAULT_TIMEOUT', 'checkpoint_nbytes',
           'checkpoint_write_time', 'llama3_checkpoint', 'checkpoint_tiers', 'restart_time_for',
           'llama3_sdc_mtbf', 'sdc_rollback', 'checkpoints_to_keep', 'sdc_waste', 'spare_shortfall',
           'spares_needed', 'elastic_goodput', 'elastic_training_claims', 'GoodputSplit', 'goodput_split', 'checkpoint_every_steps',
           'recovery_wasted_time', 'in_memory_recovery_speedup', 'llama3_step_time', 'checkpointing_claims', 'TrainingRun',
           'simulate_training', 'simulate_goodput', 'SeedSpread', 'simulate_seeds', 'compare_strategies',
           'plot_strategies', 'plot_mtbf_vs_scale', 'plot_interruptions', 'plot_waste_vs_interval',
           'plot_seed_spread', 'plot_checkpoint_tiers', 'plot_spares', 'plot_sdc_waste', 'plot_elastic',
           'plot_timeline', 'plot_goodput_map', 'plot_goodput_split', 'goodput_explorer']
