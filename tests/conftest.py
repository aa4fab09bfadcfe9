"""Shared helpers for the command-line and integration tests (the notebooks test the library itself)."""
import os, shutil, subprocess, sys
from types import SimpleNamespace
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory, request):
    """A folder for files that one test module's tests share, removed when the module is done: its checkpoints
    (a paper-size Mesorch run keeps 0.7 GB) would otherwise stay until the session ends. Each test's own `tmp_path`
    goes when the test passes (`tmp_path_retention_policy` in pyproject.toml)."""
    d = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2])
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_cli(*args, env=None, timeout=120):
    "Run `m2s-repro ARGS` in a subprocess, returning the CompletedProcess (never raises on exit codes)."
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "m2s_repro", *args], capture_output=True, text=True,
                          env=e, timeout=timeout, cwd=ROOT)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def run_main(capsys, monkeypatch):
    "Run `m2s-repro ARGS` in this process (no interpreter start-up): an object with returncode, stdout and stderr."
    from m2s_repro.cli import main

    def run(*args, env=None):
        for k, v in (env or {}).items(): monkeypatch.setenv(k, v)
        capsys.readouterr()
        rc = main(list(args))
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=rc, stdout=out, stderr=err)
    return run


def pytest_configure(config):
    # pytest resets warning filters for each test, so the package's one filter (m2s_repro/__init__.py) is repeated here
    config.addinivalue_line("filterwarnings", "ignore:`torch.jit.script` is deprecated:FutureWarning")
