"""`m2s-repro convert`, and `predict` / `evaluate` on the authors' released files, through the real command (its
entry point, called in this process: `call_cli`).

The released files are made from the parity fixtures (`tests/fixtures/released`): the seeded weights in the
released naming and format, whose outputs under the authors' code are stored there. So `predict` must write the
released model's probability map, to the PNG's 1/255.
"""
import argparse, contextlib
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
from m2s_repro.testkit import seeded_photos, seeded_released_state
from conftest import call_cli

FIX = Path(__file__).parent / "fixtures" / "released"


def released_state(name): return seeded_released_state(FIX / f"{name}.keys.tsv")


def run(*args, cwd):
    "`m2s-repro ARGS` in folder `cwd`, on the CPU: the command's entry point in this process (`call_cli`)."
    with contextlib.chdir(cwd): return call_cli(*args, env=dict(M2S_DEVICE="cpu"))


@pytest.fixture(scope="module")
def files(module_tmp):
    d = module_tmp
    torch.save({"model_state_dict": released_state("m2sformer-S3"), "current_epoch": 100},
               d / "model_weight_EPOCH100_fold2.pth.tar")
    torch.save({"model": released_state("mesorch-p"), "epoch": 118, "args": argparse.Namespace(lr=1e-4)},
               d / "mesorch_p-118.pth")
    np.save(d / "easy_hard.npy", np.load(FIX / "text_table.npy"))
    return d


def prob_png(folder, stem):
    return np.asarray(Image.open(Path(folder) / f"{stem}_prob.png")).astype(int)


def test_convert_then_predict_gives_the_released_map(files):
    r = run("convert", "model_weight_EPOCH100_fold2.pth.tar", "m2s.pth", "--text-table", "easy_hard.npy", cwd=files)
    assert r.returncode == 0, r.stderr
    assert "m2sformer" in r.stderr and "fold 2" in r.stderr
    photos = seeded_photos(0, 2, 256).numpy()  # the fixture's input: image 0 judged hard, image 1 easy
    for i in range(2): Image.fromarray(photos[i]).save(files / f"noise{i}.png")
    r = run("predict", "noise0.png", "noise1.png", "--checkpoint", "m2s.pth", "--out", "pred", cwd=files)
    assert r.returncode == 0, r.stderr
    assert "DGA: hard" in r.stdout and "DGA: easy" in r.stdout
    ref = torch.sigmoid(torch.from_numpy(np.load(FIX / "m2sformer-S3.npz")["prediction"]))[:, 0].numpy()
    for i in range(2):
        d = np.abs(prob_png(files / "pred", f"noise{i}") - np.round(ref[i] * 255))
        assert d.max() <= 1, d.max()


def test_predict_takes_a_released_mesorch_file_directly(files):
    Image.fromarray(seeded_photos(0, 1, 512).numpy()[0]).save(files / "big.png")
    r = run("predict", "big.png", "--checkpoint", "mesorch_p-118.pth", "--out", "pred_p", cwd=files)
    assert r.returncode == 0, r.stderr
    ref = torch.sigmoid(torch.from_numpy(np.load(FIX / "mesorch-p.npz")["logits"]))[0, 0].numpy()
    d = np.abs(prob_png(files / "pred_p", "big") - np.round(ref * 255))
    assert d.max() <= 1, d.max()


def test_round_trip_through_the_command(files):
    assert run("convert", "mesorch_p-118.pth", "p.pth", cwd=files).returncode == 0
    r = run("convert", "p.pth", "back.pth", "--to", "released", cwd=files)
    assert r.returncode == 0, r.stderr
    back, orig = torch.load(files / "back.pth")["model"], released_state("mesorch-p")
    assert sorted(back) == sorted(orig)
    assert all(torch.equal(back[k], orig[k]) for k in orig)


def test_faults_exit_1_with_the_problem_named(files):
    src = (files / "mesorch_p-118.pth").read_bytes()
    (files / "cut.pth").write_bytes(src[:len(src) // 3])
    r = run("convert", "cut.pth", "x.pth", cwd=files)
    assert (r.returncode, "truncated or corrupted" in r.stderr) == (1, True), r.stderr
    r = run("convert", "mesorch_p-118.pth", "x.pth", "--model", "m2sformer", cwd=files)
    assert (r.returncode, "released 'mesorch-p' checkpoint, not 'm2sformer'" in r.stderr) == (1, True), r.stderr
    sd = released_state("mesorch-p")
    sd["segformer.block2.1.mlp.fc1.weights"] = sd.pop("segformer.block2.1.mlp.fc1.weight")
    torch.save({"model": sd}, files / "renamed.pth")
    r = run("convert", "renamed.pth", "x.pth", cwd=files)
    assert r.returncode == 1, r.stderr
    assert "missing from the file: transformer.body.stages.1.blocks.1.mlp.fc1.weight" in r.stderr
    assert "left over in the file: transformer.body.stages.1.blocks.1.mlp.fc1.weights" in r.stderr
    assert "Traceback" not in r.stderr and not (files / "x.pth").exists()
    r = run("evaluate", "--checkpoint", "mesorch_p-118.pth", cwd=files)
    assert (r.returncode, "evaluate it on a data set with --dataset" in r.stderr) == (2, True), r.stderr


def test_m2sformer_without_its_word_vectors_is_refused(files):
    try: import bpemb  # noqa: F401
    except ImportError: pass
    else: pytest.skip("bpemb is installed here: the vectors would come from it")
    r = run("convert", "model_weight_EPOCH100_fold2.pth.tar", "y.pth", cwd=files)
    assert (r.returncode, "--text-table" in r.stderr) == (1, True), r.stderr
