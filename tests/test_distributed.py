"""The data-parallel training path on CPU: two processes (gloo) through torchrun, as on a multi-GPU machine."""
import shutil, subprocess, csv
import pytest


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not installed")
def test_two_process_training_on_cpu(tmp_path):
    exe = shutil.which("m2s-repro")
    assert exe, "the m2s-repro console script is not installed"
    r = subprocess.run(["torchrun", "--nproc_per_node", "2", "--master_port", "29611", exe, "train", "--recipe", "smoke",
                        "--distributed", "--device", "cpu", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rd = tmp_path / "smoke" / "fold1-seed0"
    rows = list(csv.DictReader(open(rd / "history.csv")))
    assert [row["epoch"] for row in rows] == ["1", "2"]  # written once, by rank 0
    assert (rd / "last.pth").exists() and (rd / "best.pth").exists()
    assert "complete: 2/2 epochs" in r.stdout and "stopped" not in r.stdout  # (the two ranks' lines may interleave with the progress bar)
