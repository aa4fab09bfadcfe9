"""`m2s-repro datasets` as a user runs it on downloads: recognition, exit codes, JSON lists, clear errors."""
import json
import pytest
from m2s_repro.cli import main
from m2s_repro.data.datasets import ADAPTERS
from m2s_repro.data.fake import make_fake_tree


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_fake_layout_is_recognised_and_checked(capsys, tmp_path, name):
    assert main(["datasets", "fake", "--dataset", name, "--out", str(tmp_path / "d")]) == 0
    root = tmp_path / "d" / make_fake_tree(name, tmp_path / "again").get("root", "")
    capsys.readouterr()
    rc = main(["datasets", "check", "--data-root", str(root), "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert [x["dataset"] for x in rep] == [name]
    bad = [p for p in rep[0]["problems"] if p["problem"] in ("missing-mask", "size-mismatch", "unreadable-image", "unreadable-mask")]
    assert rc == (1 if bad else 0), (rc, bad)
    assert bool(bad) == (name in ("casiav2", "imd2020"))  # the two fake trees with planted bad files


def test_write_json_round_trips_through_the_benco_json_adapter(cli, tmp_path):
    cli("datasets", "fake", "--dataset", "columbia", "--out", str(tmp_path / "col"))
    r = cli("datasets", "check", "--data-root", str(tmp_path / "col"), "--write-json", str(tmp_path / "col.json"))
    assert r.returncode == 0, r.stderr
    pairs = json.loads((tmp_path / "col.json").read_text())
    assert len(pairs) == 4 and sum(m == "Negative" for _, m in pairs) == 2
    assert all("col_masks" in m for _, m in pairs if m != "Negative")  # colour edge maps converted to 0/255
    r = cli("datasets", "check", "--data-root", str(tmp_path / "col.json"), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["records"] == 4


def test_unknown_layout_lists_the_known_ones(cli, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.jpg").write_bytes(b"")
    r = cli("datasets", "check", "--data-root", str(tmp_path / "x"))
    assert r.returncode == 2 and "no known data set layout" in r.stderr and "casiav1" in r.stderr and "Traceback" not in r.stderr


def test_list_shows_expected_counts(cli):
    r = cli("datasets", "list")
    assert r.returncode == 0 and "casiav1" in r.stdout and "tampered 920" in r.stdout
