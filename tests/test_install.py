"""A plain (non-editable) `pip install .` works without the repository, and says so where it needs the clone."""
import os, subprocess, sys, sysconfig
from pathlib import Path
import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    "A fresh venv holding `pip install .` of this checkout; torch and the rest come from the current environment."
    d = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d / "venv")], check=True)
    py = d / "venv" / "bin" / "python"
    target = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    # the current environment's packages as plain path entries: its editable m2s_repro hook (a .pth file) is not run
    Path(target, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", str(ROOT)],
                       capture_output=True, text=True, cwd=d)
    assert r.returncode == 0, r.stderr[-3000:]
    return d, py


def _run(installed, *args, timeout=300):
    d, py = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return subprocess.run([str(d / "venv" / "bin" / "m2s-repro"), *args], capture_output=True, text=True, cwd=d,
                          env=env, timeout=timeout)


def test_the_installed_copy_is_not_the_checkout(installed):
    d, py = installed
    r = subprocess.run([py, "-c", "import m2s_repro; print(m2s_repro.__file__)"], capture_output=True, text=True, cwd=d)
    assert r.returncode == 0 and str(ROOT) not in r.stdout and "site-packages" in r.stdout, r.stdout + r.stderr


def test_installed_commands_work(installed, tmp_path):
    d, _ = installed
    assert _run(installed, "info").returncode == 0
    r = _run(installed, "synth", "--out", str(tmp_path / "s"), "--n", "2", "--size", "64")
    assert r.returncode == 0 and len(list((tmp_path / "s" / "Tp").iterdir())) == 2, r.stderr  # the photos are package data
    assert _run(installed, "datasets", "fake", "--dataset", "casiav1", "--out", str(tmp_path / "c1")).returncode == 0
    r = _run(installed, "efficiency", "--model", "m2sformer-S0", "--size", "64", "--batch", "1", "--runs", "1", "--backbone", "b0")
    assert r.returncode == 0 and "parameters" in r.stdout, r.stderr
    img = next((tmp_path / "s" / "Tp").iterdir())
    r = _run(installed, "predict", str(img), "--checkpoint", str(ROOT / "results" / "checkpoints" / "m2sformer-mini_fold1.pth"),
             "--out", str(tmp_path / "p"), "--device", "cpu")
    assert r.returncode == 0 and len(list((tmp_path / "p").glob("*_mask.png"))) == 1, r.stderr


@pytest.mark.parametrize("args, need", [(("reproduce", "--profile", "smoke", "--tables", "main"), "`reproduce` needs nbs/tables"),
                                        (("predict", "x.jpg"), "results/checkpoints/")])
def test_what_needs_the_clone_says_so(installed, tmp_path, args, need):
    r = _run(installed, *args, "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "run from a clone of the repository" in r.stderr and need in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
