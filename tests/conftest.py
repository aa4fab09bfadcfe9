"""Shared helpers for the command-line and integration tests (the notebooks test the library itself)."""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, env=None, timeout=120):
    "Run `m2s-repro ARGS` in a subprocess, returning the CompletedProcess (never raises on exit codes)."
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "m2s_repro", *args], capture_output=True, text=True,
                          env=e, timeout=timeout, cwd=ROOT)


@pytest.fixture
def cli():
    return run_cli
