"""The docs: Quarto's configuration for the published site, and the offline nbconvert build of the same pages."""
import pytest
from conftest import ROOT

yaml = pytest.importorskip("yaml")
pytest.importorskip("nbconvert")
docs = pytest.importorskip("m2s_repro.report.docs")
NBS = ROOT / "nbs"


@pytest.fixture(scope="module")
def site(module_tmp):
    out = module_tmp / "site"
    out.mkdir()
    return out, docs.build_offline_docs(out, NBS)


def test_every_notebook_has_a_page(site):
    out, res = site
    want = sorted(docs.html_name(n) for n in docs.docs_nbs(NBS))
    assert sorted(res["pages"]) == want
    assert "index.html" in want and "report/42_docs.html" in want and "data/07c_splits.html" in want
    for p in want: assert (out / p).stat().st_size > 1000, p


def test_no_broken_internal_links(site):
    out, res = site
    assert res["broken"] == []
    assert docs.check_links(out) == []


def test_pages_have_sidebar_toc_and_no_hidden_cells(site):
    out, res = site
    index = (out / "index.html").read_text()
    for section, nbs in docs.sidebar_sections(NBS).items():
        assert f'<p class="m2s-section">{section}</p>' in index, section
        for n in nbs: assert f'href="{docs.html_name(n)}"' in index, n
    assert '<nav class="m2s-toc">' in index and 'href="#Status"' in index
    for name in ("00_core.html", "data/07c_splits.html"):  # no directive lines (other pages mention `#| slow` in prose)
        assert "#|" not in (out / name).read_text(), name
    for name in res["pages"]:  # `#| hide` cells: test imports and the closing nbdev_export
        page = (out / name).read_text()
        assert "from fastcore.test import" not in page and "nbdev.nbdev_export" not in page, name
        assert f'href="{name.rsplit("/", 1)[-1]}" class="active"' in page or name == "index.html", name


def test_check_links_finds_a_missing_page_and_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<p id="here"></p><a href="#here">ok</a><a href="b.html">no page</a><a href="a.html#gone">no anchor</a>')
    assert docs.check_links(tmp_path) == [("a.html", "b.html"), ("a.html", "a.html#gone")]


def test_sidebar_yml_lists_every_notebook_and_is_current():
    text = (NBS / "sidebar.yml").read_text()
    assert text == docs.sidebar_yml(NBS), "nbs/sidebar.yml is stale: run m2s_repro.report.docs.write_sidebar()"

    def flat(cs): return [x for c in cs for x in ([c] if isinstance(c, str) else flat(c["contents"]))]
    contents = yaml.safe_load(text)["website"]["sidebar"]["contents"]
    rels = [p.relative_to(NBS).as_posix() for p in NBS.rglob("*.ipynb")]
    on_disk = sorted(r for r in rels if not any(part[0] in "_." for part in r.split("/")))
    assert sorted(flat(contents)) == on_disk
    # one section per folder, in the order of the package's layers (written out here, not taken from the code under test)
    folders = {"Package": "", "Numerics": "numerics/", "Data": "data/", "Models": "models/", "Training": "train/",
               "Benchmarks": "bench/", "Evaluation": "evaluation/", "Reporting": "report/", "Paper tables": "tables/"}
    assert contents[0] == "index.ipynb" and [c["section"] for c in contents[1:]] == list(folders)
    for c in contents[1:]:
        for n in c["contents"]: assert n.rsplit("/", 1)[0] + "/" == folders[c["section"]] if "/" in n else folders[c["section"]] == "", n


def test_quarto_config():
    q = yaml.safe_load((NBS / "_quarto.yml").read_text())
    assert q["project"]["type"] == "website" and set(q["metadata-files"]) == {"nbdev.yml", "sidebar.yml"}
    assert (NBS / q["format"]["html"]["css"]).exists()
    n = yaml.safe_load((NBS / "nbdev.yml").read_text())
    assert n["project"]["output-dir"] == "_docs" and n["website"]["title"] == "m2s_repro"
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yaml").read_text())
    steps = [s.get("uses", "") for job in wf["jobs"].values() for s in job["steps"]]
    assert any(s.startswith("fastai/workflows/quarto-ghp@") for s in steps)


@pytest.mark.skipif(docs.chromium() is None, reason="no chromium binary on PATH (apt-get install chromium): the screenshot is not checked")
def test_screenshot_shows_sidebar_and_toc(site, tmp_path):
    import numpy as np
    from PIL import Image
    out, _ = site
    for page in ("index.html", "data/07c_splits.html"):
        im = np.asarray(Image.open(docs.screenshot(out / page, tmp_path / "shot.png")).convert("RGB")).astype(int)
        assert im.shape == (900, 1400, 3)

        def strip(x0, x1, bg):  # share of the strip in colour `bg`, and how many pixel rows of it hold text
            s = im[:, x0:x1]
            return (np.abs(s - bg).sum(-1) < 6).mean(), (s.sum(-1) < 500).any(1).sum()
        side_bg, side_rows = strip(0, 255, (0xee, 0xf2, 0xf7))
        toc_bg, toc_rows = strip(1400 - 225, 1400, (0xfa, 0xfb, 0xfc))
        assert side_bg > .6 and side_rows > 200, f"no sidebar on the screenshot of {page}"
        assert toc_bg > .6 and toc_rows > 30, f"no table of contents on the screenshot of {page}"


def test_table_pages_show_the_committed_numbers(site):
    """A reader browsing the site sees each table's committed run: its header (profile, commit) and its figures."""
    import json
    out, _ = site
    for t in ("main", "ablation_s", "mesorch"):
        m = json.loads((ROOT / "results" / t / "metrics.json").read_text())
        page = {"main": "tables/90_main.html", "ablation_s": "tables/92_ablation_s.html",
                "mesorch": "tables/97_mesorch.html"}[t]
        text = (out / page).read_text()
        assert f"Committed results of the {t} table" in text, page
        assert m["provenance"]["git"]["sha"][:10] in text, page
        assert "<img" in text, page  # the run's figures, not an empty page
