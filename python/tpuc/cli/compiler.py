"""`tpuc compile`: ONNX model -> checked, calibrated, quantized INT8 model -> .cvimodel.

Stages, each keeping its files in the work folder under the vendor guide's names
(`<name>` is the model name, the ONNX file's stem by default):

1. convert      ONNX -> `<name>.mlir` + `<name>_weights.npz` (tpuc.frontend), preprocessing
                recorded on `tpu.input`.
2. optimize     `tpuc-opt --assign-layer-id --convert-bn-to-scale --canonicalize
                --eltwise-early-stride --print-tpu-op-info` -> `<name>_opt_fp32.mlir`,
                `<name>_op_info.csv`.
3. fp32 check   the test input (`<name>_in_fp32.npz`) through onnxruntime (`<name>_blobs.npz`)
                and the fp32 interpreter (`<name>_tensor_all_fp32.npz`), compared layer by layer
                (`<name>_fp32_compare.csv`).
4. calibrate    `cali_list.txt` -> `<name>_calibration_table` (tpuc.calibration).
5. quantize     `tpuc-opt --import-calibration-table --assign-chip-name --tpu-quant
                --print-tpu-op-info` -> `<name>_quant_int8.mlir`, `<name>_op_info_int8.csv`.
6. int8 check   the INT8 interpreter (`<name>_tensor_all_int8.npz`) against the fp32 dump,
                every INT8 layer dequantized with its threshold (`<name>_int8_compare.csv`).
7. backend      the guide's `tpuc-opt --tpu-lower ... --assign-weight-address
                --assign-neuron-address --divide-ops-to-func` line (docs/backend.md) ->
                `<name>_int8_tg_func.mlir`, `<name>_weight_map.csv`, `<name>_neuron_map.csv`,
                `weight.bin`; the passes' remarks in `<name>_backend.log`.
8. translate    `tpuc-translate --mlir-to-cvimodel` -> the .cvimodel.
9. simulate     the cvimodel on the CV183x simulator with the test input: `<name>_profile.json`
                (cycle model), `<name>_trace.json` (Perfetto), `<name>_out_cvimodel.npz`; its
                outputs must match the INT8 interpreter's (cosine >= 0.99).

A check stops the compilation at the first layer below its tolerance (name, metric, value,
threshold). A stage this build cannot run raises `StageUnavailable` naming it; the files of the
stages before it stay in the work folder. `tpuc_compile.json` in the work folder records the
paths, the preprocessing, the stage times and the per-layer metrics (read by `tpuc run` and
`tpuc report`).
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    MANIFEST,
    CliError,
    CompileError,
    StageUnavailable,
    has_flag,
    run_tool,
    write_manifest,
)

FP32_TOLERANCE = (0.999, 0.999, 0.99)
INT8_TOLERANCE = (0.90, 0.90, 0.50)
INPUT_SUFFIXES = (
    ".jpg",
    ".jpeg",
    ".png",
    ".bmp",
    ".ppm",
    ".pgm",
    ".tif",
    ".tiff",
    ".webp",
    ".npy",
    ".npz",
)
IMAGENET = {
    "mean": (123.675, 116.28, 103.53),
    "std": (58.395, 57.12, 57.375),
    "raw_scale": 255.0,
    "resize": 256,
    "channel_order": "rgb",
}
"""`--preprocess imagenet`: torchvision's ImageNet normalisation, shorter side resized to 256
(then the centre crop of the network input)."""
STAGES = (
    "convert",
    "optimize",
    "fp32 check",
    "calibrate",
    "quantize",
    "int8 check",
    "backend",
    "translate",
    "simulate",
)
SIMULATOR_COSINE = 0.99
"""The cvimodel's outputs on the simulator against the INT8 interpreter's, at least (the same
INT8 arithmetic; the final dequantization may round differently)."""
BACKEND_PASSES = ("--tpu-lower", "--assign-weight-address", "--assign-neuron-address")
"""Passes the backend stage needs from tpuc-opt (the guide's lowering and memory assignment)."""


@dataclass
class LayerMetric:
    name: str
    verdict: str
    cosine: float | None
    correlation: float | None
    euclidean: float | None
    sqnr_db: float | None
    note: str = ""
    op: str = ""


@dataclass
class CheckResult:
    """A per-layer comparison: the metrics of every compared layer, in graph order."""

    what: str
    tolerance: tuple[float, float, float]
    layers: list[LayerMetric]
    csv: Path | None = None

    @property
    def passed(self) -> bool:
        return bool(self.layers) and all(m.verdict != "NOT SIMILAR" for m in self.layers)

    def minimum(self, metric: str) -> float | None:
        values = [getattr(m, metric) for m in self.layers if getattr(m, metric) is not None]
        return min(values) if values else None

    def first_failure(self) -> LayerMetric | None:
        return next((m for m in self.layers if m.verdict == "NOT SIMILAR"), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "tolerance": list(self.tolerance),
            "passed": self.passed,
            "csv": self.csv.name if self.csv else None,
            "layers": [m.__dict__ for m in self.layers],
        }


@dataclass
class StageRecord:
    name: str
    status: str  # "done", "failed", "unavailable"
    seconds: float
    message: str = ""


@dataclass
class CompileResult:
    """What `tpuc.compile` made: the files (by role), the checks and the stage log."""

    name: str
    workdir: Path
    chip: str
    files: dict[str, Path] = field(default_factory=dict)
    preprocess: dict[str, dict[str, Any]] = field(default_factory=dict)
    fp32_check: CheckResult | None = None
    int8_check: CheckResult | None = None
    stages: list[StageRecord] = field(default_factory=list)
    custom_op_plugins: list[str] = field(default_factory=list)
    simulation: dict[str, Any] | None = None

    @property
    def cvimodel(self) -> Path | None:
        return self.files.get("cvimodel")

    @property
    def complete(self) -> bool:
        return self.cvimodel is not None and self.cvimodel.is_file()

    def run(self, inputs: Any, *, profile: bool = True) -> Any:
        """Runs the compiled cvimodel on the CV183x simulator. `inputs`: an image path, an
        .npz/.npy path, an array or a dict name -> array; images are preprocessed as recorded.
        Returns a `tpuc.cli.run.RunResult` (outputs, cycles, latency)."""
        from .run import run_model

        if not self.complete:
            missing = next((s for s in self.stages if s.status != "done"), None)
            why = f" (stage '{missing.name}': {missing.message})" if missing else ""
            raise CliError(f"{self.name} has no cvimodel yet{why}")
        return run_model(self.cvimodel, inputs, workdir=self.workdir, profile=profile)

    def interpret(self, inputs: Any, *, precision: str = "int8") -> dict[str, np.ndarray]:
        """Runs the fp32 (`<name>_opt_fp32.mlir`) or INT8 (`<name>_quant_int8.mlir`) module on
        the interpreter; outputs dequantized to float."""
        from .. import interpreter

        key = {"fp32": "opt_fp32_mlir", "int8": "quant_int8_mlir"}.get(precision)
        if key is None or key not in self.files:
            raise CliError(f"no {precision} module in {self.workdir}")
        feeds = load_feeds(self.files["opt_fp32_mlir"], inputs)
        outputs = interpreter.run(self.files[key], feeds, custom_op_plugins=self.custom_op_plugins)
        return dequantize_outputs(outputs)

    def summary(self) -> str:
        lines = [f"{self.name}: work folder {self.workdir}"]
        for stage in self.stages:
            line = f"  {stage.name:<11} {stage.status:<11} {stage.seconds:7.1f} s"
            if stage.message:
                line += f"  {stage.message}"
            lines.append(line)
        for check in (self.fp32_check, self.int8_check):
            if check is not None and check.layers:
                lines.append(
                    f"  {check.what}: {len(check.layers)} layers, min cosine "
                    f"{_fmt(check.minimum('cosine'))}, min euclidean "
                    f"{_fmt(check.minimum('euclidean'))} (tolerance "
                    f"{','.join(str(t) for t in check.tolerance)})"
                )
        if self.cvimodel:
            lines.append(f"  cvimodel: {self.cvimodel}")
        return "\n".join(lines)

    def manifest(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "chip": self.chip,
            "files": {k: _relative(v, self.workdir) for k, v in self.files.items()},
            "preprocess": self.preprocess,
            "custom_op_plugins": self.custom_op_plugins,
            "stages": [s.__dict__ for s in self.stages],
            "fp32_check": self.fp32_check.to_json() if self.fp32_check else None,
            "int8_check": self.int8_check.to_json() if self.int8_check else None,
            "simulation": self.simulation,
        }


def _relative(path: Path, folder: Path) -> str:
    """`path` relative to `folder` when inside it (the manifest survives moving the folder)."""
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.6f}"


# -- inputs ----------------------------------------------------------------------------------------
def calibration_inputs(folder: str | os.PathLike[str]) -> list[Path]:
    """Image / .npy / .npz files under `folder` (recursive, sorted by relative path)."""
    root = Path(folder)
    if not root.exists():
        raise CliError(f"calibration images folder '{root}' does not exist")
    if not root.is_dir():
        raise CliError(f"calibration images '{root}' is not a folder")
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES]
    if not files:
        raise CliError(
            f"calibration images folder '{root}' holds no input file (looked for "
            f"{', '.join(INPUT_SUFFIXES)}, recursively)"
        )
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def load_feeds(fp32_mlir: str | Path, item: Any) -> dict[str, np.ndarray]:
    """The model's input arrays for an image / .npz / .npy path, an array or a dict, with the
    preprocessing recorded on the module's `tpu.input`s."""
    from ..calibration import InputError, inspect_module, parse_module
    from ..calibration.inputs import load_item

    inputs = inspect_module(parse_module(Path(fp32_mlir))).inputs
    try:
        return load_item(
            item if not isinstance(item, Path) else str(item),
            inputs,
            str(item) if isinstance(item, str | Path) else "input",
        )
    except InputError as error:
        raise CliError(str(error)) from None


def dequantize_outputs(outputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Interpreter outputs as float: int8 codes with their recorded `<name>_scale` step."""
    from ..tools.npz_compare import int8_dump_thresholds

    thresholds, scale_names = int8_dump_thresholds(outputs)
    result = {}
    for name, value in outputs.items():
        if name in scale_names:
            continue
        if name in thresholds:
            value = np.asarray(value, np.float32) * np.float32(thresholds[name] / 127.0)
        result[name] = np.asarray(value, np.float32)
    return result


def build_preprocess(preset: str | None, overrides: Mapping[str, Any]) -> Any:
    """A `tpuc.frontend.Preprocess` from a preset ("imagenet", "none") and explicit fields."""
    from ..frontend import Preprocess

    if preset not in (None, "none", "imagenet"):
        raise CliError(f"unknown --preprocess preset '{preset}' (imagenet or none)")
    values: dict[str, Any] = dict(IMAGENET) if preset == "imagenet" else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    if not values:
        return None
    try:
        return Preprocess(**values)
    except (TypeError, ValueError) as error:
        raise CliError(f"preprocessing: {error}") from None


# -- the pipeline ----------------------------------------------------------------------------------
class _Stages:
    """Runs named stages with timing, a tqdm bar over them and the manifest kept up to date."""

    def __init__(self, result: CompileResult, progress: bool) -> None:
        self.result = result
        self.bar: Any = None
        if progress:
            try:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=len(STAGES),
                    desc=result.name,
                    unit="stage",
                    bar_format="{desc}: {n_fmt}/{total_fmt} stages |{bar}| {elapsed} {postfix}",
                )
            except ImportError:
                self.bar = None
        self.progress = progress

    def run(self, name: str, fn: Callable[[], str | None]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name)
        elif self.progress:
            print(f"[{STAGES.index(name) + 1}/{len(STAGES)}] {name} ...", flush=True)
        start = time.perf_counter()
        try:
            message = fn() or ""
        except StageUnavailable as error:
            self._record(name, "unavailable", start, str(error))
            error.result = self.result
            raise
        except CompileError as error:
            self._record(name, "failed", start, str(error).splitlines()[0])
            error.result = self.result
            raise
        except CliError as error:
            self._record(name, "failed", start, str(error).splitlines()[0])
            raise CompileError(str(error), self.result) from None
        self._record(name, "done", start, message)
        if self.bar is not None:
            self.bar.update(1)

    def _record(self, name: str, status: str, start: float, message: str) -> None:
        self.result.stages.append(
            StageRecord(name, status, round(time.perf_counter() - start, 3), message)
        )
        write_manifest(self.result.workdir, self.result.manifest())

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_report(
    report: Any, what: str, tolerance: Sequence[float], path: Path, kinds: Mapping[str, str]
) -> CheckResult:
    layers = []
    for r in report.results:
        m = r.metrics
        layers.append(
            LayerMetric(
                r.name,
                r.verdict,
                m.cosine if m else None,
                m.correlation if m else None,
                m.euclidean if m else None,
                m.sqnr_db if m else None,
                r.note,
                kinds.get(r.name, ""),
            )
        )
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["name", "op", "verdict", "cosine", "correlation", "euclidean", "sqnr_db", "note"]
        )
        for m in layers:
            writer.writerow(
                [
                    m.name,
                    m.op,
                    m.verdict,
                    m.cosine,
                    m.correlation,
                    m.euclidean,
                    m.sqnr_db,
                    m.note,
                ]
            )
    return CheckResult(what, tuple(float(t) for t in tolerance), layers, path)  # type: ignore[arg-type]


def _failure_message(check: CheckResult, kinds: Mapping[str, str], hint: str) -> str:
    bad = check.first_failure()
    assert bad is not None
    kind = f" ({kinds[bad.name]})" if bad.name in kinds else ""
    if bad.cosine is None:
        detail = bad.note or "not comparable"
    else:
        names = ("cosine", "correlation", "euclidean")
        below = [
            f"{n} {getattr(bad, n):.6f} < {t}"
            for n, t in zip(names, check.tolerance, strict=True)
            if getattr(bad, n) < t
        ]
        detail = ", ".join(below) or bad.note
    failing = sum(1 for m in check.layers if m.verdict == "NOT SIMILAR")
    return (
        f"{check.what} failed at layer '{bad.name}'{kind}: {detail} (tolerance "
        f"cos,corr,euclid = {','.join(str(t) for t in check.tolerance)}); {failing} of "
        f"{len(check.layers)} layers below tolerance, see {check.csv}. {hint}"
    )


def _layer_kinds(mlir: Path) -> dict[str, str]:
    import re

    pattern = re.compile(r'=\s*"?tpu\.(\w+)"?[^\n]*?\bname\s*=\s*"([^"]*)"')
    return {name: kind for kind, name in pattern.findall(mlir.read_text())}


def compile(
    model: str | os.PathLike[str],
    calibration_images: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    workdir: str | os.PathLike[str] | None = None,
    chip: str = "cv183x",
    input_shapes: Sequence[Sequence[int]] | None = None,
    input_num: int = 0,
    preprocess: Any = None,
    test_input: Any = None,
    method: str = "kl",
    tolerance_fp32: Sequence[float] = FP32_TOLERANCE,
    tolerance_int8: Sequence[float] = INT8_TOLERANCE,
    custom_op_plugin: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    custom_runtime_lib: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    converter: Any = None,
    output_range: bool = False,
    jobs: int = 1,
    progress: bool = False,
) -> CompileResult:
    """Compiles an ONNX model for the CV183x (see the module documentation for the stages).

    calibration_images: a folder of images (preprocessed as `preprocess` says, a
        `tpuc.frontend.Preprocess`) or .npy/.npz input files; `input_num` of them (0: all).
    test_input: the input of the fp32 and INT8 checks (default: the first calibration input).
    custom_op_plugin: custom-op plugin libraries (interpreter, calibration, passes);
    custom_runtime_lib: runtime libraries of CPU custom ops embedded in the cvimodel.
    converter: an OnnxConverter subclass registering custom-op handlers.
    output_range: give the model's outputs the threshold of their whole calibration range
        (absolute max) instead of the method's: a classifier's largest scores then keep their
        order in INT8 instead of saturating together.
    Raises CompileError (a failing stage or check; `.result` has what was done) or
    StageUnavailable (a stage this build cannot run yet).
    """
    model_path = Path(model)
    if not model_path.is_file():
        raise CliError(f"model file '{model_path}' does not exist")
    name = name or model_path.stem
    plugins = _paths(custom_op_plugin, "custom-op plugin")
    runtime_libs = _paths(custom_runtime_lib, "custom runtime library")
    images = calibration_inputs(calibration_images)
    if input_num < 0:
        raise CliError(f"--input-num must be >= 0, got {input_num}")
    if input_num:
        images = images[:input_num]
    if chip != "cv183x":
        raise CliError(f"chip '{chip}' is not supported (only cv183x)")
    work = Path(workdir) if workdir is not None else Path(f"{name}_workdir")
    work.mkdir(parents=True, exist_ok=True)
    work = work.resolve()
    result = CompileResult(name, work, chip, custom_op_plugins=[str(p) for p in plugins])
    files = result.files
    files["onnx"] = model_path.resolve()
    out = Path(output) if output is not None else work / f"{name}.cvimodel"
    stages = _Stages(result, progress)
    kinds: dict[str, str] = {}
    state: dict[str, Any] = {}

    def plugin_flags() -> list[str]:
        """--custom-op-plugin for tpuc-opt when it takes it (custom ops quantized by plugins)."""
        if not plugins:
            return []
        if not has_flag("tpuc-opt", "--custom-op-plugin"):
            raise StageUnavailable(
                "custom-op plugins are not available: this tpuc-opt has no --custom-op-plugin flag"
            )
        return [f"--custom-op-plugin={p}" for p in plugins]

    def convert() -> str:
        from ..frontend import ConversionError, OnnxConverter, preprocess_of

        cls = converter or OnnxConverter
        mlir = work / f"{name}.mlir"
        try:
            conv = cls(
                name, str(model_path), str(mlir), input_shapes=input_shapes, preprocess=preprocess
            )
            conv.run()
        except ConversionError as error:
            raise CompileError(f"cannot convert {model_path}: {error}") from None
        except Exception as error:  # onnx parser / checker errors on a bad model file
            raise CompileError(
                f"cannot read {model_path} as an ONNX model: {type(error).__name__}: {error}"
            ) from None
        state["converter"] = conv
        files["mlir"] = mlir
        files["weights"] = Path(conv.weight_file)
        result.preprocess = {k: v.to_dict() for k, v in preprocess_of(mlir).items()}
        return f"{len(conv.model.graph.node)} ONNX nodes"

    def optimize() -> str:
        opt = work / f"{name}_opt_fp32.mlir"
        op_info = work / f"{name}_op_info.csv"
        run_tool(
            "tpuc-opt",
            [
                files["mlir"],
                "--assign-layer-id",
                "--convert-bn-to-scale",
                "--canonicalize",
                "--eltwise-early-stride",
                "--print-tpu-op-info",
                "--tpu-op-info-filename",
                op_info,
                "-o",
                opt,
            ],
            "fp32 optimization",
        )
        files["opt_fp32_mlir"], files["op_info"] = opt, op_info
        kinds.update(_layer_kinds(opt))
        return f"{sum(1 for _ in op_info.open())} layers"

    def fp32_check() -> str:
        from .. import interpreter
        from ..frontend.onnx_reference import run_onnx_inference
        from ..tools.npz_compare import compare_npz, read_op_info

        item = test_input if test_input is not None else images[0]
        feeds = load_feeds(files["opt_fp32_mlir"], item)
        state["feeds"] = feeds
        files["in_fp32"] = work / f"{name}_in_fp32.npz"
        np.savez(files["in_fp32"], **feeds)
        reference = run_onnx_inference(state["converter"].model, feeds)
        files["blobs"] = work / f"{name}_blobs.npz"
        np.savez(files["blobs"], **reference)
        try:
            ours = interpreter.run(
                files["opt_fp32_mlir"], feeds, dump_all=True, custom_op_plugins=plugins
            )
        except interpreter.InterpreterError as error:
            raise CompileError(f"the fp32 interpreter cannot run {name}: {error}") from None
        files["tensor_all_fp32"] = work / f"{name}_tensor_all_fp32.npz"
        np.savez(files["tensor_all_fp32"], **ours)
        state["fp32_dump"] = ours
        order = [i.name for i in read_op_info(files["op_info"])]
        report = compare_npz(ours, reference, names=order, tolerance=tolerance_fp32)
        files["fp32_compare"] = work / f"{name}_fp32_compare.csv"
        check = _check_report(
            report,
            "fp32 check (interpreter vs onnxruntime)",
            tolerance_fp32,
            files["fp32_compare"],
            kinds,
        )
        result.fp32_check = check
        if not check.layers:
            raise CompileError(
                "fp32 check: no tensor in common between the interpreter and "
                "onnxruntime (names differ)"
            )
        if not check.passed:
            raise CompileError(
                _failure_message(
                    check, kinds, "The conversion of this layer differs from onnxruntime."
                )
            )
        return f"{len(check.layers)} layers, min cosine {_fmt(check.minimum('cosine'))}"

    def calibrate() -> str:
        from ..calibration import (
            CalibrationError,
            InputError,
            ModelError,
            NonFiniteActivationError,
        )
        from ..calibration import calibrate as run_calibration

        files["cali_list"] = work / "cali_list.txt"
        files["cali_list"].write_text("".join(f"{p.resolve()}\n" for p in images))
        try:
            table = run_calibration(
                files["opt_fp32_mlir"],
                [str(p) for p in images],
                method,
                jobs=jobs,
                custom_op_plugin=[str(p) for p in plugins] or None,
                progress=progress,
            )
        except (CalibrationError, InputError, ModelError, NonFiniteActivationError) as error:
            raise CompileError(f"calibration failed: {error}") from None
        note = ""
        if output_range:
            from .. import interpreter
            from ..calibration import TableEntry

            outputs = interpreter.run(
                files["opt_fp32_mlir"], state["feeds"], custom_op_plugins=plugins
            )
            widened = []
            for out_name in outputs:
                entry = table.get(out_name)
                if entry is None or entry.min is None or entry.max is None:
                    continue
                absmax = max(abs(entry.min), abs(entry.max))
                if absmax > entry.threshold:
                    table = table.with_entry(out_name, TableEntry(absmax, entry.min, entry.max))
                    widened.append(f"{out_name} {entry.threshold:.4g} -> {absmax:.4g}")
            if widened:
                note = "; output thresholds widened to their range: " + ", ".join(widened)
        files["calibration_table"] = work / f"{name}_calibration_table"
        table.write(files["calibration_table"])
        return f"{len(table)} thresholds from {len(images)} inputs ({method}){note}"

    def quantize() -> str:
        if not has_flag("tpuc-opt", "--tpu-quant"):
            raise StageUnavailable(
                "stage 'quantize' is not available: this tpuc-opt has no --tpu-quant pass"
            )
        quant = work / f"{name}_quant_int8.mlir"
        op_info = work / f"{name}_op_info_int8.csv"
        run_tool(
            "tpuc-opt",
            [
                files["opt_fp32_mlir"],
                "--import-calibration-table",
                "--calibration-table",
                files["calibration_table"],
                "--assign-chip-name",
                "--chipname",
                chip,
                "--tpu-quant",
                "--print-tpu-op-info",
                "--tpu-op-info-filename",
                op_info,
                *plugin_flags(),
                "-o",
                quant,
            ],
            "quantization",
        )
        files["quant_int8_mlir"], files["op_info_int8"] = quant, op_info
        modes = [row.split(",")[2] for row in op_info.read_text().splitlines() if row]
        return ", ".join(f"{m} {modes.count(m)}" for m in sorted(set(modes)))

    def int8_check() -> str:
        from .. import interpreter
        from ..tools.npz_compare import (
            compare_npz,
            int8_code_problem,
            int8_dump_thresholds,
            read_op_info,
        )

        infos = read_op_info(files["op_info_int8"])
        int8_layers = [i.name for i in infos if i.quant.upper() == "INT8"]
        try:
            dump = interpreter.run(
                files["quant_int8_mlir"], state["feeds"], dump_all=True, custom_op_plugins=plugins
            )
        except interpreter.InterpreterError as error:
            raise StageUnavailable(
                f"stage 'int8 check' is not available: the interpreter cannot run the INT8 "
                f"module ({error})"
            ) from None
        not_codes = [(n, int8_code_problem(np.asarray(dump[n]))) for n in int8_layers if n in dump]
        not_codes = [(n, p) for n, p in not_codes if p is not None]
        if not_codes:
            raise StageUnavailable(
                f"stage 'int8 check' is not available: this interpreter does not execute INT8 "
                f"layers ('{not_codes[0][0]}' {not_codes[0][1]})"
            )
        files["tensor_all_int8"] = work / f"{name}_tensor_all_int8.npz"
        np.savez(files["tensor_all_int8"], **dump)
        recorded, scale_names = int8_dump_thresholds(dump, state["fp32_dump"])
        thresholds = {i.name: i.threshold for i in infos if i.threshold is not None}
        thresholds.update(recorded)
        report = compare_npz(
            dump,
            state["fp32_dump"],
            names=[i.name for i in infos],
            thresholds=thresholds,
            tolerance=tolerance_int8,
            excepts=scale_names,
            dequant=set(int8_layers) | set(recorded),
        )
        files["int8_compare"] = work / f"{name}_int8_compare.csv"
        check = _check_report(
            report,
            "int8 check (INT8 vs fp32 interpreter)",
            tolerance_int8,
            files["int8_compare"],
            kinds,
        )
        result.int8_check = check
        if not check.layers:
            raise CompileError("int8 check: no layer in common between the INT8 and fp32 dumps")
        if not check.passed:
            raise CompileError(
                _failure_message(
                    check,
                    kinds,
                    "Try more or more varied calibration images, or another --calibration-method.",
                )
            )
        return f"{len(check.layers)} layers, min cosine {_fmt(check.minimum('cosine'))}"

    def backend() -> str:
        missing = [p for p in BACKEND_PASSES if not has_flag("tpuc-opt", p)]
        if missing:
            raise StageUnavailable(
                f"stage 'backend' is not available: this tpuc-opt has no {', '.join(missing)} "
                f"pass (the INT8 module is {files['quant_int8_mlir']})"
            )
        tg = work / f"{name}_int8_tg_func.mlir"
        files["weight_map"] = work / f"{name}_weight_map.csv"
        files["neuron_map"] = work / f"{name}_neuron_map.csv"
        files["weight_bin"] = work / "weight.bin"
        run_tool(
            "tpuc-opt",
            [
                files["quant_int8_mlir"],
                "--tpu-lower",
                "--reorder-op",
                "--eltwise-early-stride",
                "--tg-fuse-leakyrelu",
                "--conv-ic-alignment",
                "--group-ops",
                "--dce",
                "--deep-fusion-group-slice",
                "--deep-fusion-opt",
                "--tg-op-tile",
                "--compress-activation",
                "--compress-weight",
                "--assign-weight-address",
                "--tpu-weight-address-align=16",
                f"--tpu-weight-map-filename={files['weight_map']}",
                f"--tpu-weight-bin-filename={files['weight_bin']}",
                "--assign-neuron-address",
                "--tpu-neuron-memory-reuse",
                "--tpu-neuron-address-align=64",
                f"--tpu-neuron-map-filename={files['neuron_map']}",
                "--divide-ops-to-func",
                *plugin_flags(),
                "-o",
                tg,
            ],
            "the backend passes",
            log=work / f"{name}_backend.log",
        )
        files["backend_log"] = work / f"{name}_backend.log"
        files["int8_tg_func_mlir"] = tg
        return f"weights {files['weight_bin'].stat().st_size} bytes"

    def translate() -> str:
        if not has_flag("tpuc-translate", "--mlir-to-cvimodel"):
            raise StageUnavailable(
                "stage 'translate' is not available: this tpuc-translate "
                "has no --mlir-to-cvimodel translation"
            )
        args = [
            files["int8_tg_func_mlir"],
            "--mlir-to-cvimodel",
            "--weight-file",
            files["weight_bin"],
            "-o",
            out,
        ]
        args += [f"--custom-op-plugin={p}" for p in plugins]
        args += [f"--custom-runtime-lib={lib}" for lib in runtime_libs]
        run_tool("tpuc-translate", args, "translation to cvimodel")
        files["cvimodel"] = out.resolve()
        return f"{out.stat().st_size} bytes"

    def simulate() -> str:
        from .. import interpreter
        from ..tools.npz_compare import similarity
        from .run import run_model

        run = run_model(
            out,
            state["feeds"],
            profile=True,
            profile_json=work / f"{name}_profile.json",
            trace_json=work / f"{name}_trace.json",
        )
        files["profile"], files["trace"] = run.files["profile"], run.files["trace"]
        files["out_cvimodel"] = work / f"{name}_out_cvimodel.npz"
        np.savez(files["out_cvimodel"], **run.outputs)
        expected = dequantize_outputs(
            interpreter.run(files["quant_int8_mlir"], state["feeds"], custom_op_plugins=plugins)
        )
        ours, theirs = list(run.outputs.items()), list(expected.items())
        if len(ours) != len(theirs):
            raise CompileError(
                f"the cvimodel has {len(ours)} outputs, the INT8 module {len(theirs)}"
            )
        worst = 1.0
        for (name_a, a), (name_b, b) in zip(ours, theirs, strict=True):
            if a.size != b.size:
                raise CompileError(
                    f"cvimodel output '{name_a}' has shape {list(a.shape)}, "
                    f"the INT8 module's '{name_b}' {list(b.shape)}"
                )
            cosine = similarity(a, b).cosine
            worst = min(worst, cosine)
            if cosine < SIMULATOR_COSINE:
                raise CompileError(
                    f"the cvimodel on the simulator differs from the INT8 interpreter: output "
                    f"'{name_a}' cosine {cosine:.6f} < {SIMULATOR_COSINE} (see "
                    f"{files['out_cvimodel']})"
                )
        result.simulation = {
            "cycles": run.cycles,
            "latency_ms": run.latency_ms,
            "output_cosine_vs_int8_interpreter": worst,
        }
        return (
            f"{run.cycles} cycles = {run.latency_ms:.3f} ms at 650 MHz; outputs vs INT8 "
            f"interpreter cosine {worst:.6f}"
        )

    try:
        for stage_name, fn in zip(
            STAGES,
            (
                convert,
                optimize,
                fp32_check,
                calibrate,
                quantize,
                int8_check,
                backend,
                translate,
                simulate,
            ),
            strict=True,
        ):
            stages.run(stage_name, fn)
    finally:
        stages.close()
    return result


def _paths(value: Any, what: str) -> list[Path]:
    if value is None:
        return []
    items = [value] if isinstance(value, str | os.PathLike) else list(value)
    paths = [Path(v) for v in items]
    for path in paths:
        if not path.is_file():
            raise CliError(f"{what} '{path}' does not exist")
    return paths


def load_result(workdir: str | os.PathLike[str]) -> CompileResult:
    """The CompileResult recorded in a work folder's tpuc_compile.json."""
    from .common import read_manifest

    data = read_manifest(workdir)
    if data is None:
        raise CliError(f"'{workdir}' has no {MANIFEST} (not a tpuc compile work folder)")
    result = CompileResult(data["name"], Path(workdir).resolve(), data.get("chip", "cv183x"))
    result.files = {k: result.workdir / v for k, v in data.get("files", {}).items()}
    result.preprocess = data.get("preprocess", {})
    result.custom_op_plugins = data.get("custom_op_plugins", [])
    result.simulation = data.get("simulation")
    result.stages = [StageRecord(**s) for s in data.get("stages", [])]
    for key in ("fp32_check", "int8_check"):
        raw = data.get(key)
        if raw:
            check = CheckResult(
                raw["what"],
                tuple(raw["tolerance"]),
                [LayerMetric(**m) for m in raw["layers"]],
                result.workdir / raw["csv"] if raw.get("csv") else None,
            )
            setattr(result, key, check)
    return result
