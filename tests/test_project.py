"""The project's own machinery: nbdev settings that later work relies on, the README, the packaging."""
import configparser, json, re, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT

nbformat = pytest.importorskip("nbformat")


def _cfg():
    c = configparser.ConfigParser(delimiters=["="])
    c.read(ROOT / "settings.ini")
    return c["DEFAULT"]


def _nb(tmp_path, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "python3", "language": "python"}}
    p = tmp_path / "t.ipynb"
    nbformat.write(nb, p)
    return p


def test_tst_flags_are_separate_flags():
    from nbdev.config import get_config
    flags = get_config(path=ROOT).tst_flags.split()  # nbdev splits on whitespace
    assert {"notest", "slow", "cuda"} <= set(flags), flags


@pytest.mark.parametrize("force, ok", [((), True), (("slow",), False)])
def test_slow_cells_skipped_unless_flagged(tmp_path, force, ok):
    from nbdev.config import get_config
    from nbdev.test import test_nb
    cell = nbformat.v4.new_code_cell("#| slow\nraise RuntimeError('a slow cell ran')")
    res, _ = test_nb(_nb(tmp_path, [nbformat.v4.new_code_cell("x = 1"), cell]), skip_flags=get_config(path=ROOT).tst_flags.split(),
                     force_flags=list(force), showerr=False)
    assert res is ok


def test_nbdev_clean_keeps_papermill_parameters_tag(tmp_path):
    p = _nb(tmp_path, [nbformat.v4.new_code_cell("N = 1", metadata={"tags": ["parameters"], "scrolled": True})])
    r = subprocess.run([Path(sys.executable).parent / "nbdev_clean", "--fname", str(p)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    meta = json.loads(p.read_text())["cells"][0]["metadata"]
    assert meta == {"tags": ["parameters"]}, meta  # tag kept, everything else stripped


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_command():
    text = (ROOT / "README.md").read_text()
    qs = text.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", qs, re.S).group(1).strip().splitlines()
    assert len(block) == 2, block
    test_cmd = block[1].split("&&", 1)[1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.match(r"(\w+=\S+ )*nbdev_test ", test_cmd) and "pytest tests" in test_cmd, test_cmd
    for part in test_cmd.split("&&"): assert part.strip() in ci, f"CI does not run {part.strip()!r}"


def test_setup_supplies_every_dynamic_field():
    dyn = re.search(r"dynamic\s*=\s*\[(.*?)\]", (ROOT / "pyproject.toml").read_text(), re.S).group(1)
    fields = {f.strip().strip('"') for f in dyn.split(",") if f.strip()}
    setup = (ROOT / "setup.py").read_text()
    kw = {"keywords": "keywords=", "description": "description=", "version": "version=", "dependencies": "install_requires=",
          "optional-dependencies": "extras_require=", "readme": "long_description=", "license": "license=",
          "authors": "author=", "classifiers": "classifiers=", "entry-points": "entry_points=", "scripts": "scripts=",
          "urls": "project_urls="}
    assert fields <= set(kw), fields - set(kw)
    for f in fields: assert kw[f] in setup, f"setup.py does not set {f}"


def test_settings_pins():
    dev = _cfg()["dev_requirements"].split()
    assert "nbdev==2.4.14" in dev and "execnb<0.2" in dev and "ghapi<2" in dev
    assert _cfg()["allowed_cell_metadata_keys"].split(",")[0].strip() == "tags"


# The layers of the package, lowest first: a module imports only its own layer and the layers below.
LAYERS = ["core", "numerics", "data", "models", "train", "evaluation", "bench", "report", "testkit", "cli", "__main__"]


def _imports():
    "Every (importing module, imported m2s_repro module, line) in the package, from the source."
    import ast
    pkg = ROOT / "m2s_repro"
    for f in sorted(pkg.rglob("*.py")):
        if f.name == "_modidx.py": continue
        parts = list(f.relative_to(pkg).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        mod = ["m2s_repro", *(parts[:-1] if is_init else parts)]
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = mod if is_init else mod[:-1]
                base = base[:len(base) - node.level + 1] + ([node.module] if node.module else [])
                names = [".".join(base)] if node.module else [".".join(base + [a.name]) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("m2s_repro"):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("m2s_repro")]
            else: continue
            for n in names: yield ".".join(mod), n, node.lineno


def _layer(mod:str)->str|None:
    p = mod.split(".")
    return p[1] if len(p) > 1 else None  # None: the package itself (its __init__ imports nothing of ours)


def test_no_module_imports_a_higher_layer():
    up = [f"{a} -> {b} (line {ln})" for a, b, ln in _imports()
          if _layer(a) and _layer(b) and LAYERS.index(_layer(b)) > LAYERS.index(_layer(a))]
    assert not up, "imports reaching up a layer:\n" + "\n".join(up)
    layers = {p.name for p in (ROOT / "m2s_repro").iterdir() if (p / "__init__.py").exists()}
    assert layers <= set(LAYERS), f"a subpackage that is not a layer: {layers - set(LAYERS)}"


def test_no_import_cycles():
    import graphlib
    mods = {".".join(["m2s_repro", *p.relative_to(ROOT / "m2s_repro").with_suffix("").parts]).removesuffix(".__init__")
            for p in (ROOT / "m2s_repro").rglob("*.py") if p.name != "_modidx.py"}
    graph = {m: set() for m in mods}
    for a, b, _ in _imports():
        while b not in mods and "." in b: b = b.rsplit(".", 1)[0]  # `from pkg import name` names a module or a symbol
        if b != a: graph[a].add(b)
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_mesorch_does_not_import_m2sformer_parts():
    bad = [b for a, b, _ in _imports() if a == "m2s_repro.models.mesorch" and b.split(".")[-1] in ("m2s_block", "decoder", "m2sformer")]
    assert not bad, bad


def test_subpackage_inits_are_short():
    for f in (ROOT / "m2s_repro").glob("*/__init__.py"):
        assert len(f.read_text().splitlines()) <= 15, f"{f} is long: an __init__ only collects its layer"


def test_package_has_a_docstring():
    """nbdev_export puts `__version__` above the package's docstring unless 00_package exports the line itself."""
    import m2s_repro
    assert isinstance(m2s_repro.__doc__, str) and m2s_repro.__doc__.strip(), m2s_repro.__doc__
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "settings.ini")
    assert m2s_repro.__version__ == cfg["DEFAULT"]["version"]


def test_no_setting_travels_in_the_environment():
    """Settings are arguments (`core.Context`): no module reads or sets an M2S_* variable but M2S_DEVICE / M2S_DEBUG.

    Found from the source text itself (string literals naming M2S_ variables, and every os.environ / os.getenv use),
    not from a list kept in the code under test."""
    import ast, re
    allowed = {"M2S_DEVICE", "M2S_DEBUG"}
    named, env_users = [], []
    for f in (ROOT / "m2s_repro").rglob("*.py"):
        if f.name == "_modidx.py": continue
        src = f.read_text()
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                # a variable's name as a whole string ("M2S_X"), or written as one ("$M2S_X", "M2S_X=1")
                v = node.value
                found = ([v] if re.fullmatch(r"M2S_[A-Z_]+", v) else []) + re.findall(r"\$(M2S_[A-Z_]+)", v) \
                        + re.findall(r"\b(M2S_[A-Z_]+)=", v)
                named += [(f.name, n) for n in found if n not in allowed and f"\n{n} =" not in src]  # not a constant
        env_users += [f"{f.relative_to(ROOT)}:{i + 1}: {line.strip()}" for i, line in enumerate(src.splitlines())
                      if re.search(r"os\.environ|os\.getenv|getenv\(", line)]
    assert not named, f"M2S_ variables named in the package: {named}"
    # what still touches the environment: the device default, debug tracebacks, cuBLAS's determinism switch, and the
    # Hugging Face cache a rehearsal or doctor points timm at, and matplotlib's backend in the table kernels that
    # `reproduce` starts (library settings, not ours)
    for u in env_users:
        assert re.search(r"M2S_DEVICE|M2S_DEBUG|CUBLAS_WORKSPACE_CONFIG|HF_HUB_|MPLBACKEND", u), f"reads the environment: {u}"


def test_evaluation_loads_models_without_the_training_code():
    """Checkpoints belong to the model layer and a run's data to the data layer: evaluation imports neither train nor
    report (it reads a run back from its checkpoint alone)."""
    bad = [f"{a} -> {b} (line {ln})" for a, b, ln in _imports()
           if _layer(a) in ("evaluation", "models", "data") and _layer(b) == "train"]
    assert not bad, bad


def test_study_keeps_to_reporting():
    lines = (ROOT / "m2s_repro" / "report" / "study.py").read_text().splitlines()
    assert len(lines) < 300, f"report/study.py has {len(lines)} lines: training and evaluation live in their layers"


def test_every_timed_phase_is_one_the_profile_reads():
    """The profile accounting (`report.profile`) splits a table's seconds by `core.TABLE_PHASES`: a `timed` block under
    another name, in the package or a table notebook, would fall silently into "the notebooks' own code"."""
    import re
    from m2s_repro.core import TABLE_PHASES
    srcs = [f for f in (ROOT / "m2s_repro").rglob("*.py") if f.name != "core.py"] + sorted((ROOT / "nbs/tables").glob("*.ipynb"))
    used = {(f.name, m) for f in srcs for m in re.findall(r'timed\(\\?"(\w+)\\?"\)', f.read_text())}
    assert {m for _, m in used} >= {"training", "evaluation", "references"}, used  # the search finds the timers
    assert not [u for u in used if u[1] not in TABLE_PHASES], used
