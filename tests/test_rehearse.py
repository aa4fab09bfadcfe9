"""The CI cut-down of the paper profile's rehearsal (`reproduce --profile paper --rehearse --quick`).

One table per training scheme (CASIAv2 folds, the DIS25k split, Protocol-CAT) runs end to end through the real
command: fake trees of every data set in their release layouts, read by their own readers; the papers' models at
full size; the plan and the estimate printed first. A reader that breaks, a recipe that cannot be built at full
size, a table notebook that cannot take the paper parameters: each makes this test fail.
"""
import json, os, subprocess, sys
from pathlib import Path
import pandas as pd, pytest


@pytest.fixture(scope="module")
def rehearsal(module_tmp):
    d = module_tmp
    env = dict(os.environ, M2S_DEVICE="cpu")
    r = subprocess.run([sys.executable, "-m", "m2s_repro", "reproduce", "--profile", "paper", "--rehearse", "--quick",
                        "--out", str(d / "results"), "--runs", str(d / "runs")], cwd=d, env=env,
                       capture_output=True, text=True, timeout=1200)
    return d, r


def test_every_table_of_the_cut_down_completes(rehearsal):
    d, r = rehearsal
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    status = json.loads((d / "results" / "_status.json").read_text())
    assert {t: s["status"] for t, s in status.items()} == {"main": "ok", "dis25k": "ok", "mesorch": "ok"}
    assert all(s.get("rehearsal") for s in status.values())


def test_the_plan_comes_first_and_counts_the_paper_budget(rehearsal):
    d, r = rehearsal
    err = r.stderr
    assert "PLAN" in err and err.index("PLAN") < err.index("[1/3] main"), "the plan is printed before training"
    assert "PLAN FAILED" not in err
    plan = pd.read_csv(d / "results" / "_plan.csv").set_index("table")
    assert set(plan.index) == {"main", "dis25k", "mesorch"}
    # the real profile: the paper recipes' epochs, five folds, Protocol-CAT's 7 x 1,840 draws per epoch
    assert plan.loc["main", "epochs_paper"] == 100 and plan.loc["main", "runs_paper"] == 5
    assert plan.loc["mesorch", "epochs_paper"] == 150 and plan.loc["mesorch", "images_per_epoch_paper"] == 7 * 1840
    assert (plan.hours_paper > 0).all()


def test_the_runs_are_the_papers_models_on_each_schemes_own_data(rehearsal):
    d, _ = rehearsal
    runs = d / "runs" / "rehearsal" / "runs" / "paper"
    meta = {p.parent.parent.parent.name: json.loads(p.read_text()) for p in runs.glob("*/*/*/run.json")}
    assert set(meta) == {"casiav2", "dis25k", "protocol-cat"}
    assert meta["casiav2"]["data"]["dataset"] == "casiav2" and meta["dis25k"]["data"]["dataset"] == "dis25k"
    assert meta["protocol-cat"]["data"]["kind"] == "protocol-cat" and len(meta["protocol-cat"]["data"]["sets"]) == 7
    assert meta["casiav2"]["recipe"]["size"] == 256 and meta["protocol-cat"]["recipe"]["size"] == 512


def test_every_output_says_rehearsal(rehearsal):
    d, _ = rehearsal
    index = (d / "results" / "README.md").read_text()
    assert "Rehearsal: numbers mean nothing" in index and index.count("ok (rehearsal)") == 3
    for t in ("main", "dis25k", "mesorch"):
        m = json.loads((d / "results" / t / "metrics.json").read_text())
        assert m["rehearsal"] is True and m["comparable_with_paper"] is False
        assert (d / "results" / t / "table.md").read_text().startswith("**Rehearsal: numbers mean nothing.**")
