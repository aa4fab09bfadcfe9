"""The docs: Quarto's configuration for the published site, and the offline nbconvert build of the same pages."""
import pytest
from conftest import ROOT

yaml = pytest.importorskip("yaml")
pytest.importorskip("nbconvert")
docs = pytest.importorskip("m2s_repro.docs")
NBS = ROOT / "nbs"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, docs.build_offline_docs(out, NBS)


def test_every_notebook_has_a_page(site):
    out, res = site
    want = sorted(docs.html_name(n) for n in docs.docs_nbs(NBS))
    assert sorted(res["pages"]) == want
    assert "index.html" in want and "42_docs.html" in want
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
    for name in ("00_core.html", "07c_splits.html"):  # no directive lines (other pages mention `#| slow` in prose)
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
    assert text == docs.sidebar_yml(NBS), "nbs/sidebar.yml is stale: run m2s_repro.docs.write_sidebar()"

    def flat(cs): return [x for c in cs for x in ([c] if isinstance(c, str) else flat(c["contents"]))]
    listed = flat(yaml.safe_load(text)["website"]["sidebar"]["contents"])
    assert sorted(listed) == sorted(docs.docs_nbs(NBS))


def test_quarto_config():
    q = yaml.safe_load((NBS / "_quarto.yml").read_text())
    assert q["project"]["type"] == "website" and set(q["metadata-files"]) == {"nbdev.yml", "sidebar.yml"}
    assert (NBS / q["format"]["html"]["css"]).exists()
    n = yaml.safe_load((NBS / "nbdev.yml").read_text())
    assert n["project"]["output-dir"] == "_docs" and n["website"]["title"] == "m2s_repro"
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yaml").read_text())
    steps = [s.get("uses", "") for job in wf["jobs"].values() for s in job["steps"]]
    assert any(s.startswith("fastai/workflows/quarto-ghp@") for s in steps)
