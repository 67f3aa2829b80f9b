"""Site initialization of the tpuc MLIR package: every Context knows the tpu dialect."""

from ._tpuc import register_dialects, register_passes

register_passes()

__all__ = ["register_dialects"]
