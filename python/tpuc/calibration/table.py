"""Calibration tables: one threshold (and observed range) per tensor, in the vendor text format.

Format written::

    ###
    # file: resnet18_fp32.mlir
    # generated time: 2024-05-01 12:00:00
    # histogram number: 2048
    # sample number: 100
    # method: kl
    ###
    # op_name threshold min max
    input 2.64 -2.11787 2.64
    conv1 11.5 -20.3 18.7

Every line starting with `#` is a comment; `# key: value` lines of the leading comment block are
kept as metadata. A row is `name threshold min max`, or the two-field `name threshold` form
(min/max unknown). Names cannot contain whitespace.

Thresholds are positive, symmetric int8 saturation points: int8 value q represents
q * threshold / 127. min and max are the observed range, used for asymmetric layers.

How `--import-calibration-table` uses a table (the C++ pass applies this, not this module): every
tpu layer takes the row of its `name` (threshold_max = threshold, threshold_min = -threshold; an
asymmetric layer takes min and max). Then `threshold_overwrite` of `tpu.custom_op`s acts on those
symmetric thresholds, through the layer producing the custom op's first operand: first every
`backward` custom op, last in program order first, gives its own threshold to that producer (two
backward ops giving one producer different values is an error); then every `forward` custom op,
in program order, takes its producer's threshold. Calibration therefore writes one row for every
layer, overwritten or not, so a table stays usable whatever the overwrite settings.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

HEADER_KEYS = ("file", "generated time", "histogram number", "sample number")
COLUMNS_LINE = "# op_name threshold min max"


class CalibrationTableError(ValueError):
    """A calibration table is malformed (the message names file:line) or inconsistent."""


@dataclass(frozen=True)
class TableEntry:
    """One row: the threshold and, when known, the observed minimum and maximum."""

    threshold: float
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", float(self.threshold))
        for field in ("min", "max"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, float(value))


class CalibrationTable(Mapping[str, TableEntry]):
    """An ordered mapping tensor name -> TableEntry, plus the header metadata.

    Lookup: `table["conv1"].threshold`, `table.threshold("conv1")` (KeyError naming the tensor if
    absent), `"conv1" in table`, iteration in row order.
    """

    def __init__(
        self,
        entries: Mapping[str, TableEntry] | Iterable[tuple[str, TableEntry]] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self._entries: dict[str, TableEntry] = {}
        items = entries.items() if isinstance(entries, Mapping) else entries
        for name, entry in items:
            self._check_entry(name, entry)
            if name in self._entries:
                raise CalibrationTableError(f"duplicate tensor '{name}' in calibration table")
            self._entries[name] = entry
        self.metadata: dict[str, str] = dict(metadata or {})

    # -- mapping ---------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> TableEntry:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"CalibrationTable({len(self)} tensors)"

    def __eq__(self, other: object) -> bool:
        """Tables are equal when their rows (names, order, values) are; metadata is ignored."""
        if not isinstance(other, CalibrationTable):
            return NotImplemented
        return list(self._entries.items()) == list(other._entries.items())

    __hash__ = None  # type: ignore[assignment]

    def threshold(self, name: str) -> float:
        try:
            return self._entries[name].threshold
        except KeyError:
            raise KeyError(f"tensor '{name}' is not in the calibration table") from None

    def thresholds(self) -> dict[str, float]:
        return {name: entry.threshold for name, entry in self._entries.items()}

    def with_entry(self, name: str, entry: TableEntry) -> CalibrationTable:
        """A copy with `name` set to `entry` (replaced in place, or appended)."""
        self._check_entry(name, entry)
        entries = dict(self._entries)
        entries[name] = entry
        return CalibrationTable(entries, self.metadata)

    # -- combining and checking ------------------------------------------------------------------
    def merge(self, other: CalibrationTable, on_conflict: str = "replace") -> CalibrationTable:
        """A new table with the rows of both; rows only in `other` are appended in its order.

        For a name in both tables, `on_conflict` decides:
        - "replace": other's row wins (apply hand-tuned overrides from a partial table);
        - "keep": this table's row stays (fill in only missing tensors);
        - "max": the wider of both: larger threshold, smaller min, larger max (combine tables
          calibrated on different data sets conservatively);
        - "error": raise CalibrationTableError naming the first conflicting tensor.
        """
        if on_conflict not in ("replace", "keep", "max", "error"):
            raise ValueError(f"unknown merge policy '{on_conflict}' (replace|keep|max|error)")
        merged = dict(self._entries)
        for name, theirs in other._entries.items():
            ours = merged.get(name)
            if ours is None or on_conflict == "replace":
                merged[name] = theirs
            elif on_conflict == "error":
                if ours != theirs:
                    raise CalibrationTableError(f"tensor '{name}' differs between the tables")
            elif on_conflict == "max":
                merged[name] = TableEntry(
                    max(ours.threshold, theirs.threshold),
                    _combine(ours.min, theirs.min, min),
                    _combine(ours.max, theirs.max, max),
                )
        metadata = dict(self.metadata)
        if other.metadata.get("file") != self.metadata.get("file"):
            metadata.pop("file", None)
        return CalibrationTable(merged, metadata)

    def missing(self, names: Iterable[str]) -> list[str]:
        """The names (in the given order) that have no row."""
        return [name for name in names if name not in self._entries]

    def check_complete(self, names: Iterable[str]) -> None:
        """Raises CalibrationTableError listing the tensors of `names` without a row."""
        absent = self.missing(names)
        if absent:
            shown = ", ".join(absent[:10]) + (" ..." if len(absent) > 10 else "")
            raise CalibrationTableError(
                f"calibration table has no threshold for {len(absent)} tensor(s): {shown}"
            )

    # -- text format -----------------------------------------------------------------------------
    def to_text(self) -> str:
        lines = ["###"]
        metadata = dict(self.metadata)
        metadata.setdefault("generated time", datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"))
        ordered = [key for key in HEADER_KEYS if key in metadata]
        ordered += [key for key in metadata if key not in HEADER_KEYS]
        for key in ordered:
            lines.append(f"# {key}: {_single_line(metadata[key])}")
        lines.append("###")
        lines.append(COLUMNS_LINE)
        for name, entry in self._entries.items():
            fields = [name, _number(entry.threshold)]
            if entry.min is not None and entry.max is not None:
                fields += [_number(entry.min), _number(entry.max)]
            lines.append(" ".join(fields))
        return "\n".join(lines) + "\n"

    def write(self, path: str | os.PathLike[str]) -> None:
        """Writes the table; rows with a known range get 4 fields, the others 2."""
        Path(path).write_text(self.to_text())

    @classmethod
    def from_text(cls, text: str, source: str = "<string>") -> CalibrationTable:
        """Parses the table format; errors name `source`:line."""
        entries: dict[str, TableEntry] = {}
        first_line: dict[str, int] = {}
        metadata: dict[str, str] = {}
        in_header = True
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            where = f"{source}:{number}"
            if not line:
                continue
            if line.startswith("#"):
                body = line.lstrip("#").strip()
                if in_header and ":" in body:
                    key, _, value = body.partition(":")
                    metadata[key.strip()] = value.strip()
                continue
            in_header = False
            fields = line.split()
            if len(fields) not in (2, 4):
                raise CalibrationTableError(
                    f"{where}: expected 'name threshold' or 'name threshold min max', "
                    f"got {len(fields)} field(s): '{line}'"
                )
            name = fields[0]
            values = [
                _parse_number(field, where, label)
                for field, label in zip(fields[1:], ("threshold", "min", "max"), strict=False)
            ]
            threshold = values[0]
            if threshold <= 0.0:
                raise CalibrationTableError(
                    f"{where}: threshold {fields[1]} of '{name}' is not positive"
                )
            entry = (
                TableEntry(threshold, *values[1:]) if len(values) == 3 else TableEntry(threshold)
            )
            if entry.min is not None and entry.max is not None and entry.min > entry.max:
                raise CalibrationTableError(
                    f"{where}: min {fields[2]} > max {fields[3]} for '{name}'"
                )
            if name in entries:
                raise CalibrationTableError(
                    f"{where}: duplicate tensor '{name}' (first at line {first_line[name]})"
                )
            entries[name] = entry
            first_line[name] = number
        return cls(entries, metadata)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> CalibrationTable:
        try:
            text = Path(path).read_text()
        except UnicodeDecodeError as error:
            raise CalibrationTableError(f"{path}: not a text file ({error})") from None
        return cls.from_text(text, str(path))

    @staticmethod
    def _check_entry(name: str, entry: TableEntry) -> None:
        if not isinstance(name, str) or not name or any(ch.isspace() for ch in name):
            raise CalibrationTableError(
                f"tensor name {name!r} cannot be written to a calibration table "
                "(empty or contains whitespace)"
            )
        if name.startswith("#"):
            raise CalibrationTableError(f"tensor name '{name}' would read as a comment")
        values = [entry.threshold, entry.min, entry.max]
        if any(v is not None and not math.isfinite(v) for v in values):
            raise CalibrationTableError(f"non-finite value in the row of '{name}': {entry}")
        if entry.threshold <= 0.0:
            raise CalibrationTableError(f"threshold of '{name}' is not positive: {entry.threshold}")
        if (entry.min is None) != (entry.max is None):
            raise CalibrationTableError(f"row of '{name}' needs both min and max, or neither")


def _combine(
    a: float | None, b: float | None, pick: Callable[[float, float], float]
) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return pick(a, b)


def _number(value: float) -> str:
    """Shortest text that reads back to the same double."""
    return repr(float(value))


def _parse_number(field: str, where: str, label: str) -> float:
    try:
        value = float(field)
    except ValueError:
        raise CalibrationTableError(f"{where}: {label} '{field}' is not a number") from None
    if not math.isfinite(value):
        raise CalibrationTableError(f"{where}: {label} '{field}' is not finite")
    return value


def _single_line(value: object) -> str:
    return " ".join(str(value).split())
