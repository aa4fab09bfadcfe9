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
    # the same seed reproduces every number exactly (CPU): retrain the main table's runs from scratch
    first = json.loads((out / "main" / "metrics.json").read_text())["values"]
    r2 = run_cli("reproduce", "--profile", "smoke", "--tables", "main", "--out", str(tmp_path / "again"), "--runs", str(tmp_path / "runs2"), timeout=600)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert json.loads((tmp_path / "again" / "main" / "metrics.json").read_text())["values"] == first
