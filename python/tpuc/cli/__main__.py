"""python -m tpuc.cli: the `tpuc` command."""

from . import console_main

console_main()
