"""`m2s-repro reproduce --profile smoke`: every table notebook end to end through papermill, the index, and an exact rerun.

The smoke profile runs once for the module (`smoke`); each table notebook is then one test. These runs are also the
table notebooks' own test: `nbs/tables/.notest` keeps `nbdev_test` from executing them a second time with the same
parameters (papermill runs every cell, so a failing assertion in a notebook fails its table here).
"""
import json
import pytest
from conftest import run_cli
from m2s_repro.report.plan import TABLES, plan

SMOKE_TABLES = [t for t, s in TABLES.items() if s.has("smoke")]


@pytest.fixture(scope="module")
def smoke(module_tmp):
    out, runs = module_tmp / "results", module_tmp / "runs"
    r = run_cli("reproduce", "--profile", "smoke", "--out", str(out), "--runs", str(runs), timeout=1200)
    return out, runs, r


def test_the_smoke_profile_runs_every_table(smoke):
    out, _, r = smoke
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert set(SMOKE_TABLES) >= {"main", "ablation_s", "dga", "code_vs_paper", "mesorch", "robustness", "efficiency"}
    status = json.loads((out / "_status.json").read_text())
    assert {t: s["status"] for t, s in status.items()} == {t: "ok" for t in SMOKE_TABLES}, status


@pytest.mark.parametrize("table", SMOKE_TABLES)
def test_table_notebook(smoke, table):
    "One table notebook run by papermill under the smoke profile: its outputs, labelled as meaning nothing."
    out, _, _ = smoke
    status = json.loads((out / "_status.json").read_text())[table]
    assert status["status"] == "ok", status
    m = json.loads((out / table / "metrics.json").read_text())
    assert m["parameters"].get("PROFILE", m.get("profile")) == "smoke", m["parameters"]
    assert m["provenance"]["git"]["sha"]
    assert (out / table / TABLES[table].notebook).exists() and list((out / table).glob("fig_*.png"))
    if table != "efficiency": assert "mean nothing" in (out / table / "table.md").read_text()


def test_the_index_names_every_table(smoke):
    out, _, _ = smoke
    idx = (out / "README.md").read_text()
    assert all(f"## {t}" in idx for t in TABLES)
    assert "| [dis25k](#dis25k) | n/a |" in idx and "--profile paper" in idx


def test_shared_runs_are_trained_once_and_the_plan_names_them(smoke):
    _, runs, _ = smoke
    # the released smoke model serves main's M2SFormer, S3, simple DC and "released"
    trained = {p.name for p in (runs / "smoke").iterdir()}
    assert {"baseline-smoke", "mesorch-smoke", "smoke", "smoke@m2sformer-S0", "smoke@m2sformer-paper"} <= trained, trained
    assert not any(n.endswith(("@m2sformer-S3", "@m2sformer-simpleDC")) for n in trained), trained
    # the plan names every run the tables made, and only those: it is the one definition of what a table trains
    made = {p.parent.relative_to(runs).as_posix() for p in runs.rglob("run.json")}
    planned = plan("smoke", runs=runs)
    assert set(planned.folder) == made, set(planned.folder) ^ made
    assert set(planned.state) == {"complete"}


def test_every_run_has_tensorboard_events_as_its_history_says(smoke):
    _, runs, _ = smoke
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    import pandas as pd
    for rd in sorted(runs.rglob("run.json")):
        ea = EventAccumulator(str(rd.parent))
        ea.Reload()
        h = pd.read_csv(rd.parent / "history.csv")
        assert [e.step for e in ea.Scalars("loss/train")] == h.epoch.tolist(), rd
        tb = [e.value for e in ea.Scalars("loss/train")]  # float32 there, 6 significant digits in history.csv
        assert all(abs(a - b) <= 1e-5 * max(abs(b), 1e-3) for a, b in zip(tb, h.train_loss)), (rd, tb, h.train_loss)
        assert ea.Tags()["images"], rd


def test_the_same_seed_retrains_the_same_weights_through_jobs(smoke, tmp_path):
    """The runs of the robustness table (one M2SFormer, one Mesorch: both model families) retrained from scratch, each
    as a separate job process (submitit's local executor), have the smoke profile's weights exactly, tensor by tensor
    (CPU), and the table's values again."""
    from m2s_repro.models.checkpoint import load_checkpoint, weight_differences
    out, runs, _ = smoke
    r2 = run_cli("reproduce", "--profile", "smoke", "--tables", "robustness", "--executor", "local",
                 "--out", str(tmp_path / "again"), "--runs", str(tmp_path / "runs2"), timeout=1200)
    assert r2.returncode == 0, r2.stderr[-3000:]
    first = json.loads((out / "robustness" / "metrics.json").read_text())["values"]
    assert json.loads((tmp_path / "again" / "robustness" / "metrics.json").read_text())["values"] == first
    retrained = {p.parent.relative_to(tmp_path / "runs2").as_posix() for p in (tmp_path / "runs2").rglob("run.json")}
    assert retrained == set(plan("smoke", tables=["robustness"], runs=runs).folder), retrained
    assert {f.split("/")[1] for f in retrained} == {"smoke", "mesorch-smoke"}, retrained
    jobs = [p for p in (tmp_path / "runs2" / "_jobs").rglob("*_log.err")]
    assert len(jobs) == len(retrained), (len(jobs), len(retrained))  # one job per run
    for f in retrained:
        for ck in ("best.pth", "last.pth"):
            a, b = (load_checkpoint(r / f / ck)["model"] for r in (runs, tmp_path / "runs2"))
            assert weight_differences(a, b) == [], (f, ck)


def test_a_fresh_process_retrains_the_rerun_reference_bit_for_bit(smoke):
    """The rerun table's control row: its reference, trained inside the notebook's kernel, and the same run trained
    by `m2s-repro train` in a fresh process have identical weights, so each setting's move is the setting's alone."""
    out, _, _ = smoke
    m = json.loads((out / "rerun" / "metrics.json").read_text())
    assert set(m["identical"]) == {"no change", "1 thread", "AVX2 kernels", "contiguous memory"}, m["identical"]
    assert m["identical"]["no change"] is True, m["identical"]
