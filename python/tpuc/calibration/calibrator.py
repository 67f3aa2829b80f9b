"""The calibration driver: run the fp32 model over the inputs, gather statistics, pick thresholds.

Two passes over the selected inputs, each spread over `jobs` worker processes:
1. every layer tensor's minimum and maximum (`ActivationRanges`);
2. (kl and percentile only) histograms of absolute values over [0, absmax] (`ActivationHistograms`).
Partial statistics merge exactly, so the table depends only on the model, the inputs and the
options, never on `jobs`.
"""

from __future__ import annotations

import inspect
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .inputs import Item, describe, load_item, select_samples
from .model import ModelInfo, inspect_module, parse_module
from .statistics import ActivationHistograms, ActivationRanges
from .table import CalibrationTable, TableEntry
from .thresholds import (
    DEFAULT_HISTOGRAM_BINS,
    INT8_QUANT_LEVELS,
    kl_threshold,
    max_threshold,
    percentile_threshold,
)

METHODS = ("kl", "max", "percentile")
DEFAULT_PERCENTILE = 99.99


class CalibrationError(RuntimeError):
    """Calibration cannot run (missing interpreter, bad options, a failing input...)."""


@dataclass(frozen=True)
class _Job:
    """What a worker needs to rebuild the model: the .mlir path or the module text."""

    model_path: str | None
    model_text: str | None
    weight_file: str | None
    custom_op_plugin: str | None


class _ModelRunner:
    """Runs the fp32 interpreter on one input and returns every layer tensor."""

    def __init__(self, job: _Job, module: Any = None) -> None:
        self.interpreter_run = _interpreter_run(job.custom_op_plugin)
        if module is None:
            if job.model_path is not None:
                module = parse_module(job.model_path)
            else:
                from ..ir import Context, Module

                module = Module.parse(job.model_text or "", Context())
        self.module = module
        self.info: ModelInfo = inspect_module(module)
        self.job = job

    def tensors(self, item: Item, index: int) -> tuple[str, Mapping[str, np.ndarray]]:
        label = describe(item, index)
        feeds = load_item(item, self.info.inputs, label)
        kwargs: dict[str, Any] = {"dump_all": True, "weight_file": self.job.weight_file}
        if self.job.custom_op_plugin is not None:
            kwargs["custom_op_plugin"] = self.job.custom_op_plugin
        try:
            outputs = self.interpreter_run(self.module, feeds, **kwargs)
        except Exception as error:
            raise CalibrationError(f"{label}: the fp32 interpreter failed: {error}") from error
        return label, outputs


def _interpreter_run(custom_op_plugin: str | None) -> Callable[..., Mapping[str, np.ndarray]]:
    try:
        from .. import interpreter
    except ImportError as error:
        raise CalibrationError(
            f"calibration needs the fp32 interpreter (tpuc.interpreter), which is not available: "
            f"{error}"
        ) from None
    run = interpreter.run
    if custom_op_plugin is not None:
        parameters = inspect.signature(run).parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        if "custom_op_plugin" not in parameters and not takes_kwargs:
            raise CalibrationError(
                "the fp32 interpreter does not support custom-op plugins (custom_op_plugin)"
            )
    return run


# -- worker processes ------------------------------------------------------------------------------
_WORKER: _ModelRunner | None = None


def _worker_init(job: _Job) -> None:
    global _WORKER
    _WORKER = _ModelRunner(job)


def _ranges_chunk(
    names: list[str], chunk: list[tuple[int, Item]], runner: _ModelRunner | None = None
) -> ActivationRanges:
    runner = runner or _WORKER
    assert runner is not None
    ranges = ActivationRanges(names)
    for index, item in chunk:
        label, tensors = runner.tensors(item, index)
        ranges.update(tensors, label)
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
        histograms.update(tensors, label)
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
    custom_op_plugin: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> CalibrationTable:
    """Calibrates an fp32 tpu module; returns its table (one row per tpu layer, in program order).

    module_or_path: an `ir.Module` or the path of an fp32 .mlir file.
    images: image paths (preprocessed as recorded on the model's `tpu.input`), .npy/.npz paths,
        numpy arrays or dicts input name -> array (see `tpuc.calibration.inputs`).
    method: "kl" (KL-divergence search on 2048-bin histograms, 128 levels), "max" (abs max) or
        "percentile" (the `percentile`-th percentile of |x|).
    input_num / seed: how many of `images` to use; without seed the first ones, with seed a
        seeded random choice (see `select_samples`).
    jobs: worker processes; the table does not depend on it. Workers are spawned (fresh
        interpreters), so a script calling this with jobs > 1 needs the usual
        `if __name__ == "__main__":` guard.
    weight_file: overrides the module's `tpu.weight_file`; custom_op_plugin: plugin library.
    progress: show a progress bar (tqdm if installed).
    """
    if method not in METHODS:
        raise CalibrationError(
            f"unknown calibration method '{method}' (one of {', '.join(METHODS)})"
        )
    if method == "percentile" and not 0.0 < percentile <= 100.0:
        raise CalibrationError(f"percentile must be in (0, 100], got {percentile}")
    if histogram_bins < INT8_QUANT_LEVELS:
        raise CalibrationError(
            f"histogram_bins must be at least {INT8_QUANT_LEVELS}, got {histogram_bins}"
        )
    if jobs < 1:
        raise CalibrationError(f"jobs must be at least 1, got {jobs}")
    items = list(images)
    selected = select_samples(items, input_num, seed)
    samples = [(index, items[index]) for index in selected]

    is_path = isinstance(module_or_path, str | os.PathLike)
    module = parse_module(module_or_path)
    job = _Job(
        model_path=str(module_or_path) if is_path else None,
        model_text=None if is_path else str(module),
        weight_file=None if weight_file is None else str(weight_file),
        custom_op_plugin=None if custom_op_plugin is None else str(custom_op_plugin),
    )
    names = inspect_module(module).layer_names
    jobs = min(jobs, len(samples))

    with _Executor(job, module, jobs) as executor:
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
            threshold = kl_threshold(histograms.counts[i], histograms.bin_width(i))
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
    return CalibrationTable(rows, metadata)


class _Executor:
    """Runs chunks of samples in this process (jobs == 1) or in a spawned process pool."""

    def __init__(self, job: _Job, module: Any, jobs: int) -> None:
        self.jobs = jobs
        self.job = job
        self.module = module
        self.pool: ProcessPoolExecutor | None = None
        self.runner: _ModelRunner | None = None

    def __enter__(self) -> _Executor:
        if self.jobs == 1:
            self.runner = _ModelRunner(self.job, self.module)
        else:
            _interpreter_run(self.job.custom_op_plugin)  # fail early, before spawning workers
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(
                self.jobs, mp_context=context, initializer=_worker_init, initargs=(self.job,)
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def map_chunks(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        samples: list[tuple[int, Item]],
        description: str,
        progress: bool,
    ) -> Iterator[Any]:
        bar = _Progress(len(samples), description, progress)
        try:
            if self.pool is None:
                for sample in samples:
                    yield function(*args, [sample], self.runner)
                    bar.update(1)
                return
            size = max(1, min(16, math.ceil(len(samples) / (self.jobs * 4))))
            chunks = [samples[i : i + size] for i in range(0, len(samples), size)]
            futures = {self.pool.submit(function, *args, chunk): len(chunk) for chunk in chunks}
            for future in as_completed(futures):
                yield future.result()
                bar.update(futures[future])
        finally:
            bar.close()
