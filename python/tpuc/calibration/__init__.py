"""Calibration: per-tensor int8 thresholds of an fp32 tpu model, measured on sample inputs.

    from tpuc.calibration import calibrate, CalibrationTable
    table = calibrate("model_fp32.mlir", ["a.jpg", "b.jpg"], method="kl", jobs=2)
    table.write("model_cali_table")
    CalibrationTable.read("model_cali_table").threshold("conv1")

Methods: "kl" (KL-divergence search over an absolute-value histogram, 2048 bins, 128 int8
levels), "max" (absolute maximum), "percentile" (e.g. 99.99th percentile of |x|). The command line
front end is `run_calibration.py`; `gen_data_list.py` writes the input lists it reads.
"""

from .calibrator import DEFAULT_PERCENTILE, METHODS, CalibrationError, calibrate
from .inputs import InputError, read_data_list, select_samples
from .model import ModelError, inspect_module, parse_module
from .statistics import ActivationHistograms, ActivationRanges, NonFiniteActivationError
from .table import CalibrationTable, CalibrationTableError, TableEntry
from .thresholds import (
    DEFAULT_HISTOGRAM_BINS,
    DEFAULT_KL_MAX_SATURATION,
    INT8_QUANT_LEVELS,
    kl_divergences,
    kl_threshold,
    max_threshold,
    percentile_threshold,
)

__all__ = [
    "DEFAULT_HISTOGRAM_BINS",
    "DEFAULT_KL_MAX_SATURATION",
    "DEFAULT_PERCENTILE",
    "INT8_QUANT_LEVELS",
    "METHODS",
    "ActivationHistograms",
    "ActivationRanges",
    "CalibrationError",
    "CalibrationTable",
    "CalibrationTableError",
    "InputError",
    "ModelError",
    "NonFiniteActivationError",
    "TableEntry",
    "calibrate",
    "inspect_module",
    "parse_module",
    "kl_divergences",
    "kl_threshold",
    "max_threshold",
    "percentile_threshold",
    "read_data_list",
    "select_samples",
]
