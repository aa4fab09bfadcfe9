"""The committed mini-profile results carry evidence: every trained row clears the positional prior by a margin.

These tests read `results/`, the numbers the repository publishes, not a fresh run: they fail when someone
commits tables whose models do not look at the image (the state the first mini profile was in).
"""
import json
from pathlib import Path
import pytest

RESULTS = Path(__file__).resolve().parents[1] / "results"
ALL, FIXED = "all tampered (reference)", "fixed mask (reference)"
MARGIN = 10.  # points above the fixed-mask reference, on the seen set and on the unseen average
REFS_AGREE = 3.  # points: the fixed mask may beat 'all tampered' by at most this on any set
EVIDENCE_TABLES = {"main": "dsc", "start": "dsc", "ablation_s": "dsc", "dga": "dsc", "code_vs_paper": "dsc",
                   "mesorch": "f1", "mesorch_t8": "f1", "mesorch_t5": "f1"}
# rows that are the table's control, not a claim about the architecture: the start table's scratch rows are
# there to show what training without the ImageNet start gives
CONTROLS = {"start": ("m2sformer-mini-scratch", "m2sformer-mini-pvt", "m2sformer-mini-pvt-3x"),
            "mesorch_t5": ("mesorch-mini-scratch",)}  # the ResNet rows' control: the ConvNeXt row from scratch
# rows (by the table's own labels) trained with a plain-BCE loss: that they collapse or learn slowly at the CPU
# budget is the finding their table explains, not a claim about the architecture
PLAIN_BCE = {"mesorch": ("full, released loss", "full, released loss and lr"), "code_vs_paper": ("loss", "all")}
# NOT MET, and said so in the table: Mesorch's Transformer-only row has no ImageNet start offline (MiT-B0 from
# scratch) and stays near the references, like the start table's scratch rows. Listed here so that every other row
# is held to the margin; a start for MiT-B0 (e.g. pre-trained once on the synthetic benchmark) would remove it.
NO_OFFLINE_START = {"mesorch": ("transformer",),
                    # Table 5's CPU ResNet-18 has no offline ImageNet weights: its rows start from scratch
                    "mesorch_t5": ("ResNet+MAE", "ResNet+PVT", "ResNet+SegFormer", "ResNet+Swin")}


def _metrics(table):
    f = RESULTS / table / "metrics.json"
    if not f.is_file(): pytest.fail(f"{f} is missing: regenerate with `m2s-repro reproduce --profile mini`")
    m = json.loads(f.read_text())
    if m["profile"] != "mini": pytest.skip(f"results/{table} holds profile {m['profile']!r}, not mini")
    return m


def _values(m, metric):
    return {(r["variant"], r["dataset"]): r[f"{metric}_mean"] for r in m["values"]}


@pytest.mark.parametrize("table", EVIDENCE_TABLES)
def test_trained_rows_beat_the_positional_prior(table):
    m = _metrics(table)
    metric = EVIDENCE_TABLES[table]
    v = _values(m, metric)
    specs = m.get("specs", {})
    exempt = ({specs[k] for k in PLAIN_BCE.get(table, ()) + NO_OFFLINE_START.get(table, ()) if k in specs}
              | set(CONTROLS.get(table, ())))
    rows = {var for var, _ in v if var not in (ALL, FIXED) and var not in exempt}
    assert rows, f"{table}: no trained rows"
    short = [(var, ds, round(v[var, ds] - v[FIXED, ds], 1)) for var in sorted(rows) for ds in ("seen", "unseen avg")
             if v[var, ds] - v[FIXED, ds] < MARGIN]
    assert not short, f"{table}: rows less than {MARGIN} {metric} points above the fixed mask: {short}"


@pytest.mark.parametrize("table", EVIDENCE_TABLES)
def test_the_fixed_mask_is_no_better_than_all_tampered(table):
    m = _metrics(table)
    v = _values(m, EVIDENCE_TABLES[table])
    sets = {ds for var, ds in v if var == FIXED}
    gaps = {ds: round(v[FIXED, ds] - v[ALL, ds], 2) for ds in sets}
    assert all(g <= REFS_AGREE for g in gaps.values()), f"{table}: fixed mask minus all tampered: {gaps}"


@pytest.mark.parametrize("table", PLAIN_BCE)
def test_only_plain_bce_rows_may_collapse(table):
    "A collapse is a finding only where the table explains it: rows trained with a plain-BCE loss."
    m = _metrics(table)
    allowed = {m["specs"][k] for k in PLAIN_BCE[table] if k in m["specs"]}
    assert set(m["collapsed"]) <= allowed, m["collapsed"]


def test_tables_state_the_rerun_spread():
    spread = _metrics("rerun")["spread"]
    assert 0 <= spread < MARGIN, spread  # a margin of MARGIN points means something only above the spread
    for table in EVIDENCE_TABLES:
        assert "Rerun spread" in (RESULTS / table / "table.md").read_text(), table
    # every table cites the spread of the committed rerun table, not of an earlier one
    cited = {t.name: json.loads((t / "metrics.json").read_text()).get("rerun_spread") for t in RESULTS.iterdir()
             if (t / "metrics.json").is_file() and t.name != "rerun"}
    assert {t: s for t, s in cited.items() if s is not None and s != spread} == {}, spread


def test_protocols_table_obeys_the_orderings_every_protocol_implies():
    """Relations that hold whatever the model, checked on the committed numbers: a best threshold is at least the
    fixed one, permute at least plain, and counting authentic images (F1 0 under BenCo's formula) cannot raise F1."""
    m = _metrics("protocols")
    v = {(r["model"], r["dataset"], r["protocol"], r["metric"]): r["value"] for r in m["values"]}
    keys = {(a, b) for a, b, _, _ in v}
    assert keys, "no values"
    for model, ds in keys:
        f1 = {p: v[model, ds, p, "f1"] for (a, b, p, k) in v if (a, b, k) == (model, ds, "f1")}
        assert len(f1) >= 18, sorted(f1)
        eps = 1e-9
        assert f1["benco-best-image"] + eps >= f1["benco-best-set"] >= f1["benco"] - eps, f1
        assert f1["benco-permute"] >= f1["benco"] - eps, f1
        assert f1["benco-authentic"] <= f1["benco"] + eps, f1
        assert all(0 <= x <= 1 for x in f1.values()), f1


def test_the_rerun_reference_is_what_the_command_line_trains():
    "The rerun table's control: its reference retrained by `m2s-repro train` in a fresh process, weights bit-identical."
    m = _metrics("rerun")
    assert m["identical"].get("no change") is True, m["identical"]
    moves = m["moves"]
    assert moves and all(r["no change"] == 0 for r in moves), moves
