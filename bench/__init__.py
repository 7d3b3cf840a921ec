"""Benchmarks of the portal's hot paths against bare baselines, run by `make bench`."""

from __future__ import annotations
