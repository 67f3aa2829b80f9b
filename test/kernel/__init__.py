"""Tests of the CV183x kernel emitter (runtime/kernel); a package so that its conftest and
helpers do not collide with other test folders."""
