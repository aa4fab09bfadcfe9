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


def call_cli(*args, env=None):
    """Run `m2s-repro ARGS` in this process (no interpreter start-up, about 3 s less a call): the same object as
    `run_cli`. For the error paths, whose checks (exit code, one line, no traceback) do not need a fresh process."""
    import contextlib, io
    from m2s_repro.cli import main
    saved = {k: os.environ.get(k) for k in (env or {})}
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.update(env or {})
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: rc = main([str(a) for a in args])
            except SystemExit as e: rc = e.code if isinstance(e.code, int) else 1  # argparse's usage errors
    finally:
        for k, v in saved.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    return SimpleNamespace(returncode=rc, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def run_main():
    "Run `m2s-repro ARGS` in this process (no interpreter start-up): `call_cli`."
    return call_cli


def pytest_configure(config):
    # `pytest -n N` (pytest-xdist): N workers share the cores, each with its share of threads (set before torch is
    # imported, and inherited by the commands the tests start). N workers of all the cores' threads each would
    # oversubscribe them: two torch processes of two threads on two cores ran ~10x slower here.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // workers))
    # pytest resets warning filters for each test, so the package's one filter (m2s_repro/__init__.py) is repeated here
    config.addinivalue_line("filterwarnings", "ignore:`torch.jit.script` is deprecated:FutureWarning")
    # pytest-xdist's --dist loadfile hands out test files by their number of tests unless told otherwise: the two
    # longest files (test time in CI at eff5a47: test_reproduce ~850 s, test_rehearse ~410 s, the other files ~770 s
    # together) started 14 minutes apart on the same machine. In collection order instead (`LONG_FIRST` first, see
    # below), each worker starts with one of them and the shorter files fill in around them.
    if hasattr(config.option, "loadscopereorder"): config.option.loadscopereorder = False


# Longest first (CI at 175b3b1, seconds of one worker): reproduce 517, rehearse 337, hostile 112, install 64, jobs 64,
# cli 37, distributed 28; the rest take under 25 s each. Handed out longest first, the short files fill in at the end and
# the two workers finish within seconds of each other (in the usual order: test_jobs alone for the last minute).
LONG_FIRST = ("test_reproduce.py", "test_rehearse.py", "test_hostile.py", "test_install.py", "test_jobs.py",
              "test_cli.py", "test_distributed.py")


def pytest_collection_modifyitems(config, items):
    "The longest test files first (`LONG_FIRST`, in that order), the rest in their usual order."
    rank = {n: i for i, n in enumerate(LONG_FIRST)}
    items.sort(key=lambda it: rank.get(it.path.name, len(LONG_FIRST)))
