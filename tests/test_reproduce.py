"""`m2s-repro reproduce --profile smoke`: every table notebook end to end through papermill, the index, and an exact rerun."""
import json
from conftest import run_cli


def test_smoke_profile_runs_every_table(tmp_path):
    out, runs = tmp_path / "results", tmp_path / "runs"
    r = run_cli("reproduce", "--profile", "smoke", "--out", str(out), "--runs", str(runs), timeout=1200)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    from m2s_repro.report.plan import TABLES, plan
    ran = [t for t, s in TABLES.items() if s.has("smoke")]
    assert set(ran) >= {"main", "ablation_s", "dga", "code_vs_paper", "mesorch", "robustness", "efficiency"}
    for t in ran:
        m = json.loads((out / t / "metrics.json").read_text())
        assert m["parameters"].get("PROFILE", m.get("profile")) == "smoke", t
        assert m["provenance"]["git"]["sha"], t
        assert (out / t / TABLES[t].notebook).exists() and list((out / t).glob("fig_*.png")), t
        if t != "efficiency": assert "mean nothing" in (out / t / "table.md").read_text(), t
    idx = (out / "README.md").read_text()
    assert all(f"## {t}" in idx for t in TABLES)
    assert "| [dis25k](#dis25k) | n/a |" in idx and "--profile paper" in idx
    # shared runs are trained once: the released smoke model serves main's M2SFormer, S3, simple DC and "released"
    trained = {p.name for p in (runs / "smoke").iterdir()}
    assert {"baseline-smoke", "mesorch-smoke", "smoke", "smoke@m2sformer-S0", "smoke@m2sformer-paper"} <= trained, trained
    assert not any(n.endswith(("@m2sformer-S3", "@m2sformer-simpleDC")) for n in trained), trained
    # the plan names every run the tables made, and only those: it is the one definition of what a table trains
    made = {p.parent.relative_to(runs).as_posix() for p in runs.rglob("run.json")}
    planned = plan("smoke", runs=runs)
    assert set(planned.folder) == made, set(planned.folder) ^ made
    assert set(planned.state) == {"complete"}
    # every run has TensorBoard event files, which TensorBoard's own reader reads back as history.csv says
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
    # the same seed reproduces every number exactly (CPU): the runs of one table per model family (M2SFormer and the
    # baseline in main, Mesorch and its variants in mesorch) retrained from scratch, each as a separate job process
    # (submitit's local executor), give those tables' values and those runs' best scores again
    again = ["main", "mesorch"]
    r2 = run_cli("reproduce", "--profile", "smoke", "--tables", *again, "--executor", "local",
                 "--out", str(tmp_path / "again"), "--runs", str(tmp_path / "runs2"), timeout=1200)
    assert r2.returncode == 0, r2.stderr[-3000:]
    for t in again:
        first = json.loads((out / t / "metrics.json").read_text())["values"]
        assert json.loads((tmp_path / "again" / t / "metrics.json").read_text())["values"] == first, t
    retrained = {p.parent.relative_to(tmp_path / "runs2").as_posix() for p in (tmp_path / "runs2").rglob("run.json")}
    assert retrained == set(plan("smoke", tables=again, runs=runs).folder), retrained
    assert {"baseline-smoke", "mesorch-smoke", "smoke"} <= {f.split("/")[1] for f in retrained}, retrained
    jobs = [p for p in (tmp_path / "runs2" / "_jobs").rglob("*_log.err")]
    assert len(jobs) == len(retrained), (len(jobs), len(retrained))  # one job per run
    for f in retrained:
        a, b = (json.loads((r / f / "run.json").read_text()) for r in (runs, tmp_path / "runs2"))
        assert (a["best_score"], a["epochs_done"]) == (b["best_score"], b["epochs_done"]), f
