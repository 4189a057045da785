"""Chapter 04 — utilization: why a cluster sits at 40 %, and what wins some of it back.

Five models, one module each, each with an analytic twin its simulation is tested against:

- :mod:`.mfu` — MFU and HFU from throughput, as papers report them (PaLM, Appendix B);
- :mod:`.pipeline` — loader workers feeding a GPU (simpy); twin min(1, n · step / load);
- :mod:`.stragglers` — a synchronous step waits for the slowest worker; twin: expected order statistics;
- :mod:`.inference` — prefill vs decode, TTFT and TPOT, the batch the KV cache lets fit in HBM;
- :mod:`.serving` — the decode roofline, queueing formulas, a batching server with prefill and a KV limit (simpy);
- :mod:`.budget` — the MFU loss budget: a waterfall from peak to Llama 3 405B's published MFU;
- :mod:`.scheduler` — FIFO vs EASY backfilling on a job trace (simpy); twin: M/M/c (Erlang C).

SI units everywhere (s, bytes, FLOP, FLOP/s, requests/s); utilizations are fractions (0.4 = 40 %).
Every simpy result has ``.timeline``, a :class:`labkit.core.timeline.Timeline` of the GPU's busy and
idle intervals (chapter 06 prices it in joules), and ``n_events``. simpy and pyplot are imported
inside the functions that need them, so importing this package stays fast.
"""

from ..core.roofline import decode_step_time, ridge_point
from .budget import (FLASH_ATTENTION_EFFICIENCY, KORTHIKANTI_LAYER, KORTHIKANTI_LAYER_TIMES, LLAMA3_405B, LLAMA3_TABLE4,
                     LOSSES, MEGATRON_A100_RUNS, megatron_layer_comparison,
                     WATERFALL_ASSUMPTIONS, megatron_comparison, megatron_model_flops,
                     AchievedStep, Waterfall, achieved_step_time, flash_attention_efficiency, llama3_waterfalls,
                     mfu_waterfall, nonmatmul_bytes_per_token, plot_mfu_waterfall, LLAMA31_SHAPES, NVIDIA_H100_RUNS,
                     nvidia_h100_comparison, plot_step_time_validation)
from .cloud import (ScalingTradeoff, load_cloud_scaling, plot_cloud_scaling, published_tradeoff, rental_cost,
                    scaling_tradeoff)
from .inference import (LLAMA2_7B, VLLM_MEMORY_FRACTION, critical_batch_size, generation_latency,
                        kv_bytes_per_token, kv_capacity_batch, load_serving_measurements, plot_kv_capacity,
                        plot_serving_validation, prefill_time, roofline_vs_measured, time_per_output_token)
from .mfu import hfu, load_published_mfu, mfu, model_flops_per_token, plot_published_mfu
from .pipeline import (InputPipelineResult, input_pipeline_utilization, loaders_needed, plot_gpu_timeline,
                       plot_loader_sweep, simulate_input_pipeline)
from .scheduler import JobTrace, SchedulerResult, make_job_trace, plot_scheduler, simulate_scheduler
from .serving import (ServingResult, decode_utilization, md1_wait, mg1_wait, mm1_wait, mmc_wait,
                      plot_decode_roofline, plot_serving_snapshot, plot_serving_tradeoff, serving_explorer,
                      serving_sweep, simulate_serving)
from .stragglers import (StragglerResult, expected_step_time, plot_straggler_scaling, simulate_stragglers,
                         slow_node_slowdown, straggler_efficiency)

__all__ = [
    # core ideas this chapter teaches (re-exported, not copied)
    "ridge_point", "decode_step_time",
    # cloud elasticity
    "rental_cost", "scaling_tradeoff", "ScalingTradeoff", "published_tradeoff", "load_cloud_scaling",
    "plot_cloud_scaling",
    # mfu
    "model_flops_per_token", "mfu", "hfu", "load_published_mfu", "plot_published_mfu",
    # pipeline
    "input_pipeline_utilization", "loaders_needed", "simulate_input_pipeline", "InputPipelineResult",
    "plot_gpu_timeline", "plot_loader_sweep",
    # stragglers
    "expected_step_time", "straggler_efficiency", "simulate_stragglers", "StragglerResult",
    "plot_straggler_scaling", "slow_node_slowdown",
    # budget: the MFU waterfall
    "LLAMA3_405B", "LLAMA3_TABLE4", "WATERFALL_ASSUMPTIONS", "nonmatmul_bytes_per_token", "Waterfall",
    "mfu_waterfall", "llama3_waterfalls", "plot_mfu_waterfall", "achieved_step_time", "AchievedStep", "LOSSES",
    "MEGATRON_A100_RUNS", "megatron_model_flops", "megatron_comparison", "KORTHIKANTI_LAYER",
    "KORTHIKANTI_LAYER_TIMES", "megatron_layer_comparison", "LLAMA31_SHAPES", "NVIDIA_H100_RUNS",
    "nvidia_h100_comparison", "plot_step_time_validation",
    "FLASH_ATTENTION_EFFICIENCY", "flash_attention_efficiency",
    # serving
    "decode_utilization", "plot_decode_roofline", "mm1_wait", "md1_wait", "mg1_wait", "mmc_wait",
    "simulate_serving", "ServingResult", "serving_sweep", "plot_serving_tradeoff", "plot_serving_snapshot",
    "serving_explorer",
    # inference: prefill and decode, KV capacity
    "LLAMA2_7B", "VLLM_MEMORY_FRACTION", "kv_bytes_per_token", "critical_batch_size", "prefill_time",
    "time_per_output_token", "kv_capacity_batch", "generation_latency", "load_serving_measurements",
    "roofline_vs_measured", "plot_serving_validation", "plot_kv_capacity",
    # scheduler
    "make_job_trace", "JobTrace", "simulate_scheduler", "SchedulerResult", "plot_scheduler",
]
