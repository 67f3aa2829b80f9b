"""The calibration driver: run the fp32 model over the inputs, gather statistics, pick thresholds.

Two passes over the selected inputs, each spread over `jobs` worker processes:
1. every layer tensor's minimum and maximum (`ActivationRanges`);
2. (kl and percentile only) histograms of absolute values over [0, absmax] (`ActivationHistograms`).
Partial statistics merge exactly, so the table depends only on the model, the inputs and the
options, never on `jobs`.
"""

from __future__ import annotations

import inspect
import itertools
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .adjust import backward_activation_thresholds
from .inputs import Item, describe, load_item, select_samples
from .model import ModelInput, inspect_module, parse_module
from .statistics import ActivationHistograms, ActivationRanges
from .table import CalibrationTable, TableEntry
from .thresholds import (
    DEFAULT_HISTOGRAM_BINS,
    DEFAULT_KL_MAX_SATURATION,
    INT8_QUANT_LEVELS,
    kl_threshold,
    max_threshold,
    percentile_threshold,
)

METHODS = ("kl", "max", "percentile")
INPUT_CACHE_BYTES = 1 << 30
"""Preprocessed inputs kept between the two passes (all processes together), at most."""
DEFAULT_PERCENTILE = 99.99
MAX_HISTOGRAM_BINS = 16384
"""Largest histogram: the KL search costs bins x 128 per tensor."""


class CalibrationError(RuntimeError):
    """Calibration cannot run (missing interpreter, bad options, a failing input...)."""


@dataclass(frozen=True)
class _Job:
    """What a worker needs: the model (.mlir path or MLIR text), its inputs and run options."""

    source: str
    is_path: bool
    inputs: tuple[ModelInput, ...]
    weight_file: str | None
    custom_op_plugins: tuple[str, ...]
    custom_ops: Mapping[str, Callable[..., np.ndarray]] | None


class _ModelRunner:
    """Runs the fp32 interpreter on one input and returns every layer tensor. The module is
    compiled once (tpuc.interpreter.compile) when the interpreter offers it."""

    def __init__(self, job: _Job, threads: int = 1, cache_bytes: int = 0) -> None:
        interpreter = _interpreter()
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None
        self._cache: dict[int, dict[str, np.ndarray]] = {}
        self._cache_room = cache_bytes
        model = Path(job.source) if job.is_path else job.source
        options: dict[str, Any] = {"weight_file": job.weight_file}
        if job.custom_op_plugins:
            options["custom_op_plugins"] = list(job.custom_op_plugins)
        if job.custom_ops:
            options["custom_ops"] = dict(job.custom_ops)
        self.job = job
        self._forward: Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]
        if hasattr(interpreter, "compile"):
            try:
                program = interpreter.compile(model, **options)
            except Exception as error:
                raise CalibrationError(
                    f"the fp32 interpreter cannot run the model: {error}"
                ) from None
            self._forward = lambda feeds: program.run(feeds, dump_all=True)
        else:
            _check_supported(interpreter.run, options)
            self._forward = lambda feeds: interpreter.run(model, feeds, dump_all=True, **options)

    def tensors(self, item: Item, index: int) -> tuple[str, Mapping[str, np.ndarray]]:
        label = describe(item, index)
        feeds = self._cache.get(index)
        if feeds is None:
            feeds = load_item(item, self.job.inputs, label)
            size = sum(array.nbytes for array in feeds.values())
            if size <= self._cache_room:  # kept for the second pass
                self._cache[index] = feeds
                self._cache_room -= size
        try:
            outputs = self._forward(feeds)
        except Exception as error:
            raise CalibrationError(f"{label}: the fp32 interpreter failed: {error}") from None
        return label, outputs


def _interpreter() -> Any:
    try:
        from .. import interpreter
    except ImportError as error:
        raise CalibrationError(
            f"calibration needs the fp32 interpreter (tpuc.interpreter), which is not available: "
            f"{error}"
        ) from None
    return interpreter


def _check_supported(run: Callable[..., Any], options: Mapping[str, Any]) -> None:
    parameters = inspect.signature(run).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    for option in options:
        if option not in parameters:
            raise CalibrationError(f"the fp32 interpreter does not support {option}")


# -- worker processes ------------------------------------------------------------------------------
_WORKER: _ModelRunner | None = None


def _worker_init(job: _Job, threads: int, cache_bytes: int) -> None:
    global _WORKER
    # The interpreter's kernels share the cores with the other workers (unless the user chose).
    os.environ.setdefault("TPUC_INTERPRETER_THREADS", str(threads))
    _WORKER = _ModelRunner(job, threads, cache_bytes)


def _ranges_chunk(
    names: list[str], chunk: list[tuple[int, Item]], runner: _ModelRunner | None = None
) -> ActivationRanges:
    runner = runner or _WORKER
    assert runner is not None
    ranges = ActivationRanges(names)
    for index, item in chunk:
        label, tensors = runner.tensors(item, index)
        ranges.update(tensors, label, runner.pool)
    return ranges


def _histogram_chunk(
    names: list[str],
    absmax: np.ndarray,
    bins: int,
    chunk: list[tuple[int, Item]],
    runner: _ModelRunner | None = None,
) -> ActivationHistograms:
    runner = runner or _WORKER
    assert runner is not None
    histograms = ActivationHistograms(names, absmax, bins)
    for index, item in chunk:
        label, tensors = runner.tensors(item, index)
        histograms.update(tensors, label, runner.pool)
    return histograms


# -- progress --------------------------------------------------------------------------------------
class _Progress:
    """tqdm when installed and wanted, else a plain line per quarter of the work."""

    def __init__(self, total: int, description: str, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.description = description
        self.enabled = enabled
        self._bar: Any = None
        self._next_report = 0.25
        if enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=description, unit="input")
            except ImportError:
                print(f"{description}: {total} input(s)", flush=True)

    def update(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self.enabled and self.done >= self._next_report * self.total:
            print(f"{self.description}: {self.done}/{self.total}", flush=True)
            while self._next_report * self.total <= self.done:
                self._next_report += 0.25

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# -- driver ----------------------------------------------------------------------------------------
def calibrate(
    module_or_path: Any,
    images: Sequence[Item],
    method: str = "kl",
    *,
    input_num: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    percentile: float = DEFAULT_PERCENTILE,
    histogram_bins: int = DEFAULT_HISTOGRAM_BINS,
    weight_file: str | os.PathLike[str] | None = None,
    custom_op_plugin: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    custom_ops: Mapping[str, Callable[..., np.ndarray]] | None = None,
    progress: bool = False,
    activation_backward: bool = True,
    kl_max_saturation: float = DEFAULT_KL_MAX_SATURATION,
) -> CalibrationTable:
    """Calibrates an fp32 tpu module; returns its table (one row per tpu layer, in program order).

    module_or_path: an `ir.Module` or the path of an fp32 .mlir file.
    images: image paths (preprocessed as recorded on the model's `tpu.input`), .npy/.npz paths,
        numpy arrays or dicts input name -> array (see `tpuc.calibration.inputs`).
    method: "kl" (KL-divergence search on 2048-bin histograms of the non-zero |x|, 128 levels),
        "max" (abs max) or "percentile" (the `percentile`-th percentile of |x|).
    input_num / seed: how many of `images` to use; without seed the first ones, with seed a
        seeded random choice (see `select_samples`).
    jobs: worker processes; the table does not depend on it. Workers are spawned (fresh
        interpreters), so a script calling this with jobs > 1 needs the usual
        `if __name__ == "__main__":` guard.
    weight_file: overrides the module's `tpu.weight_file` (which the interpreter reads relative to
        the .mlir file).
    custom_op_plugin: custom-op plugin library (or a list of them) implementing `tpu.custom_op`s;
    custom_ops: Python implementations by operation_name, as `tpuc.interpreter` takes them
        (module-level functions when jobs > 1, since they are sent to the workers).
    progress: show a progress bar (tqdm if installed).
    activation_backward: a requantizing layer whose only user is a relu / clip takes that
        activation's threshold (`adjust.backward_activation_thresholds`; recorded in the table's
        metadata). With False every layer keeps the threshold of its own statistics.
    kl_max_saturation: (kl) the largest fraction of a tensor's non-zero values its threshold
        may saturate (default 0.1%; detectors may want less, e.g. 1e-4).
    """
    if method not in METHODS:
        raise CalibrationError(
            f"unknown calibration method '{method}' (one of {', '.join(METHODS)})"
        )
    if method == "percentile" and not 0.0 < percentile <= 100.0:
        raise CalibrationError(f"percentile must be in (0, 100], got {percentile}")
    if not INT8_QUANT_LEVELS <= histogram_bins <= MAX_HISTOGRAM_BINS:
        raise CalibrationError(
            f"histogram_bins must be in [{INT8_QUANT_LEVELS}, {MAX_HISTOGRAM_BINS}], "
            f"got {histogram_bins}"
        )
    if jobs < 1:
        raise CalibrationError(f"jobs must be at least 1, got {jobs}")
    if not 0.0 <= kl_max_saturation <= 1.0:
        raise CalibrationError(f"kl_max_saturation must be in [0, 1], got {kl_max_saturation}")
    items = list(images)
    selected = select_samples(items, input_num, seed)
    samples = [(index, items[index]) for index in selected]

    is_path = isinstance(module_or_path, str | os.PathLike)
    module = parse_module(module_or_path)
    info = inspect_module(module)
    if custom_op_plugin is None:
        plugins: tuple[str, ...] = ()
    elif isinstance(custom_op_plugin, str | os.PathLike):
        plugins = (os.fspath(custom_op_plugin),)
    else:
        plugins = tuple(os.fspath(p) for p in custom_op_plugin)
    for plugin in plugins:
        if not Path(plugin).is_file():
            raise CalibrationError(f"custom-op plugin '{plugin}' not found")
    job = _Job(
        source=os.fspath(module_or_path) if is_path else str(module),
        is_path=is_path,
        inputs=info.inputs,
        weight_file=None if weight_file is None else os.fspath(weight_file),
        custom_op_plugins=plugins,
        custom_ops=dict(custom_ops) if custom_ops else None,
    )
    names = info.layer_names
    jobs = min(jobs, len(samples))

    with _Executor(job, jobs, samples) as executor:
        ranges = ActivationRanges(names)
        title = "calibration (ranges)" if method == "max" else "calibration pass 1/2 (ranges)"
        for part in executor.map_chunks(_ranges_chunk, (names,), samples, title, progress):
            ranges.merge(part)
        absmax = ranges.absmax()
        histograms: ActivationHistograms | None = None
        if method != "max":
            histograms = ActivationHistograms(names, absmax, histogram_bins)
            for part in executor.map_chunks(
                _histogram_chunk,
                (names, absmax, histogram_bins),
                samples,
                "calibration pass 2/2 (histograms)",
                progress,
            ):
                histograms.merge(part)

    rows = []
    for i, name in enumerate(names):
        if method == "max" or histograms is None:
            threshold = max_threshold(absmax[i])
        elif method == "kl":
            # Exact zeros (ReLU outputs, padding) are representable at any threshold: they say
            # nothing about where to saturate, and their spike in bin 0 would drag KL down.
            threshold = kl_threshold(
                histograms.nonzero_counts(i),
                histograms.bin_width(i),
                max_saturation=kl_max_saturation,
            )
        else:
            threshold = percentile_threshold(
                histograms.counts[i], histograms.bin_width(i), percentile
            )
        low, high = ranges.range_of(name)
        rows.append((name, TableEntry(threshold, low, high)))
    metadata = {
        "file": Path(str(module_or_path)).name if is_path else "<in-memory module>",
        "histogram number": str(histogram_bins if method != "max" else 0),
        "sample number": str(len(samples)),
        "method": method if method != "percentile" else f"percentile {percentile:g}",
    }
    if method == "kl":
        metadata["kl max saturation"] = f"{kl_max_saturation:g}"
    table = CalibrationTable(rows, metadata)
    if activation_backward:
        table, changed = backward_activation_thresholds(table, info)
        metadata["activation backward"] = f"{len(changed)} layers take their relu/clip threshold"
        table = CalibrationTable(dict(table.items()), metadata)
    return table


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class _Executor:
    """Runs chunks of samples in this process (jobs == 1) or in `jobs` spawned worker processes.

    Each worker owns a fixed contiguous share of the samples in both passes, so the inputs it
    decoded and preprocessed in the first pass are still in its cache for the second."""

    def __init__(self, job: _Job, jobs: int, samples: list[tuple[int, Item]]) -> None:
        self.jobs = jobs
        self.job = job
        self.workers: list[ProcessPoolExecutor] = []
        self.runner: _ModelRunner | None = None
        bounds = np.linspace(0, len(samples), jobs + 1).round().astype(int)
        self.shares = [samples[lo:hi] for lo, hi in itertools.pairwise(bounds)]

    def __enter__(self) -> _Executor:
        threads = max(1, _cpu_count() // self.jobs)
        cache_bytes = INPUT_CACHE_BYTES // self.jobs
        if self.jobs == 1:
            self.runner = _ModelRunner(self.job, threads, cache_bytes)
            return self
        _interpreter()  # fail early, before spawning workers
        context = multiprocessing.get_context("spawn")
        for _ in range(self.jobs):
            self.workers.append(
                ProcessPoolExecutor(
                    1,
                    mp_context=context,
                    initializer=_worker_init,
                    initargs=(self.job, threads, cache_bytes),
                )
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.runner is not None and self.runner.pool is not None:
            self.runner.pool.shutdown()
        for worker in self.workers:
            worker.shutdown(wait=True, cancel_futures=True)

    def map_chunks(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        samples: list[tuple[int, Item]],
        description: str,
        progress: bool,
    ) -> Iterator[Any]:
        """function(*args, chunk) over chunks of `samples` (the executor's samples, whose shares
        were fixed at construction); yields the partial results as they complete."""
        bar = _Progress(len(samples), description, progress)
        try:
            if not self.workers:
                for sample in samples:
                    yield function(*args, [sample], self.runner)
                    bar.update(1)
                return
            futures = {}
            for worker, share in zip(self.workers, self.shares, strict=True):
                size = max(1, min(8, math.ceil(len(share) / 4)))
                for start in range(0, len(share), size):
                    chunk = share[start : start + size]
                    futures[worker.submit(function, *args, chunk)] = len(chunk)
            for future in as_completed(futures):
                yield future.result()
                bar.update(futures[future])
        finally:
            bar.close()
