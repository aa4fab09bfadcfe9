"""Every parameterised notebook keeps a `parameters` cell that papermill can read, line by line."""
import json
import pytest
from conftest import ROOT

papermill = pytest.importorskip("papermill")


def _parameterised():
    for p in sorted((ROOT / "nbs").rglob("*.ipynb")):
        cells = json.loads(p.read_text())["cells"]
        if any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells): yield p


@pytest.mark.parametrize("nb", list(_parameterised()), ids=lambda p: p.name)
def test_parameters_cell_is_parseable(nb, caplog):
    cells = json.loads(nb.read_text())["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one parameters cell"
    src = "".join(tagged[0]["source"])
    names = [l.split("=")[0].strip() for l in src.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert all(n.isupper() for n in names), names  # UPPER_CASE literals only
    params = papermill.inspect_notebook(str(nb))
    assert sorted(params) == sorted(names), (sorted(params), names)
    assert "Unable to parse" not in caplog.text, caplog.text


def test_there_are_parameterised_notebooks():
    assert len(list(_parameterised())) >= 2
