"""Hostile and odd input through the real command: one line naming the problem, the right exit code, no traceback,
and the user's files untouched.

Most cases call the command's entry point in this process (`call_cli`: the same parser, the same error handling, about
3 s less per call than a new interpreter); the ones about processes (a traceback under M2S_DEBUG, two trains of one
run, a killed run) start `python -m m2s_repro ...` as a user would (`run_cli`). Exit codes: 2 for a wrong command line
(a bad value, an option that does not apply, a missing input), 1 for a job that failed (an output that cannot be
written, nothing left to do), 0 when the work was done.
"""
import json, os, stat
from pathlib import Path
import pytest
from conftest import call_cli, run_cli


def snapshot(folder: Path) -> dict:
    "Every file under `folder` with its bytes: what 'unchanged' means."
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(r, code: int, *fragments: str):
    "Assert a failed command: exit `code`, no traceback, the fragments in its error line."
    err = r.stderr
    assert r.returncode == code, (r.returncode, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    lines = [l for l in err.splitlines() if "error:" in l]
    assert lines, err[-2000:]
    for f in fragments: assert f in lines[-1], (f, lines[-1])


@pytest.fixture(scope="module")
def smoke_ck(module_tmp):
    "A trained smoke checkpoint (one short run shared by the cases that need a model)."
    out = module_tmp / "runs"
    r = call_cli("train", "--recipe", "smoke", "--out", str(out), "--device", "cpu")
    assert r.returncode == 0, r.stderr[-2000:]
    return out / "smoke" / "fold1-seed0" / "best.pth"


@pytest.fixture
def user_folder(tmp_path):
    "A folder holding a user's own file."
    d = tmp_path / "mine"
    d.mkdir()
    (d / "README.md").write_text("my notes\n")
    return d


# -- train -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragments", [
    (["--set", "bs=0"], ["bs=0"]),
    (["--set", "bs=abc"], ["--set bs=abc", "int"]),
    (["--set", "augment=maybe"], ["--set augment=maybe"]),
    (["--set", "nope=1"], ["unknown recipe field"]),
    (["--fold", "99"], ["--fold must be 1..5"]),
    (["--fold", "0"], ["--fold must be 1..5"]),
    (["--epochs", "-1"], ["--epochs"]),
    (["--set", "num_workers=-1"], ["num_workers=-1"]),
    (["--device", "tpu"], ["--device"]),
])
def test_train_rejects_bad_options_before_writing(tmp_path, args, fragments):
    out = tmp_path / "runs"
    r = call_cli("train", "--recipe", "smoke", "--out", str(out), *args)
    one_line_error(r, 2, *fragments)
    assert not out.exists()  # nothing written


def test_train_out_under_a_file(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = call_cli("train", "--recipe", "smoke", "--out", str(f / "runs"), "--device", "cpu")
    one_line_error(r, 1, str(f))
    assert f.read_text() == "x"


def test_device_message_names_the_variable_only_when_set(tmp_path):
    r = call_cli("info", "--device", "cuda")
    one_line_error(r, 2, "--device")
    assert "M2S_DEVICE" not in r.stderr
    r = call_cli("info", env={"M2S_DEVICE": "cuda"})  # info reports the device: it goes through get_device
    one_line_error(r, 2, "$M2S_DEVICE", "unset M2S_DEVICE")


def test_debug_shows_the_traceback(tmp_path):
    r = run_cli("train", "--recipe", "smoke", "--out", str(tmp_path), "--set", "bs=0", env={"M2S_DEBUG": "1"})
    assert r.returncode != 0 and "Traceback" in r.stderr


# -- evaluate and predict --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragments", [
    (["--perturb", "jpeg:500"], ["--perturb", "--dataset"]),
    (["--dataset", "casiav1"], ["--dataset needs --data-root"]),
    (["--n-synth", "0"], ["--n-synth"]),
    (["--bs", "0"], ["--bs"]),
])
def test_evaluate_rejects_options_that_do_not_apply(tmp_path, smoke_ck, args, fragments):
    out = tmp_path / "eval"
    r = call_cli("evaluate", "--checkpoint", str(smoke_ck), "--out", str(out), *args)
    one_line_error(r, 2, *fragments)
    assert not out.exists()


@pytest.mark.parametrize("value, fragment", [("jpeg", "KIND:VALUE"), ("blur:abc", "whole number"),
                                             ("jpeg:500", "1..100"), ("rain:3", "Unknown perturbation")])
def test_evaluate_perturb_values(tmp_path, smoke_ck, value, fragment):
    r = call_cli("evaluate", "--checkpoint", str(smoke_ck), "--data-root", str(tmp_path), "--dataset", "casiav1",
                "--perturb", value, "--out", str(tmp_path / "eval"))
    one_line_error(r, 2, fragment)


def test_evaluate_missing_checkpoint_and_foreign_out(tmp_path, smoke_ck, user_folder):
    one_line_error(call_cli("evaluate", "--checkpoint", str(tmp_path / "nope.pth"), "--out", str(tmp_path / "e")), 2,
                   "nope.pth")
    before = snapshot(user_folder)
    r = call_cli("evaluate", "--checkpoint", str(smoke_ck), "--out", str(user_folder), "--n-synth", "2")
    one_line_error(r, 2, "README.md")
    assert snapshot(user_folder) == before


def test_predict_checkpoint_problems(tmp_path, smoke_ck):
    img = tmp_path / "x.png"
    from PIL import Image
    import numpy as np
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(img)
    out = ["--out", str(tmp_path / "pred")]
    one_line_error(call_cli("predict", str(img), "--checkpoint", str(smoke_ck.parent), *out), 2, "is a folder")
    ck = tmp_path / "newer.pth"
    import torch
    d = torch.load(smoke_ck, weights_only=False)
    torch.save(dict(d, format="m2s_repro/checkpoint/9"), ck)
    one_line_error(call_cli("predict", str(img), "--checkpoint", str(ck), *out), 2, "checkpoint/9")
    assert not (tmp_path / "pred").exists()  # refused before anything was written
    (tmp_path / "bad.png").write_bytes(b"not a png")
    one_line_error(call_cli("predict", str(tmp_path / "bad.png"), "--checkpoint", str(smoke_ck),
                           "--out", str(tmp_path / "p")), 2, "--skip-bad")
    r = call_cli("predict", str(tmp_path / "bad.png"), str(img), "--checkpoint", str(smoke_ck), "--skip-bad",
                "--out", str(tmp_path / "p2"))
    assert r.returncode == 0 and "skipped 1 of 2" in r.stderr, r.stderr[-2000:]
    one_line_error(call_cli("predict", str(img), "--checkpoint", str(smoke_ck), "--out", str(img)), 2, "is a file")


# -- synth, photos, datasets -----------------------------------------------------------------------------------------

def test_synth_replaces_its_own_output_and_refuses_a_users(tmp_path, user_folder):
    s = tmp_path / "s"
    assert call_cli("synth", "--out", str(s), "--n", "3", "--size", "64").returncode == 0
    r = call_cli("synth", "--out", str(s), "--n", "1", "--size", "64", "--domain", "unseen-splice")
    assert r.returncode == 0 and "replacing" in r.stderr
    assert len(list((s / "Tp").iterdir())) == 1 and len(json.loads((s / "pairs.json").read_text())) == 1
    before = snapshot(user_folder)
    one_line_error(call_cli("synth", "--out", str(user_folder), "--n", "1", "--size", "64"), 2, "README.md")
    assert snapshot(user_folder) == before
    one_line_error(call_cli("synth", "--out", str(tmp_path / "t"), "--seed", "-1"), 2, "--seed")


def test_photos_out_without_rebuild(tmp_path):
    one_line_error(call_cli("photos", "--out", str(tmp_path)), 2, "--out applies only with --rebuild")


def test_datasets_options(tmp_path, user_folder):
    root = tmp_path / "fake"
    assert call_cli("datasets", "fake", "--dataset", "casiav1", "--out", str(root)).returncode == 0
    one_line_error(call_cli("datasets", "check", "--data-root", str(root), "--limit", "-1"), 2, "--limit")
    one_line_error(call_cli("datasets", "check", "--data-root", str(root), "--write-json", str(tmp_path)), 2,
                   "is a folder")
    before = snapshot(user_folder)
    one_line_error(call_cli("datasets", "fake", "--dataset", "casiav1", "--out", str(user_folder)), 2, "README.md")
    assert snapshot(user_folder) == before


# -- reproduce -------------------------------------------------------------------------------------------------------

def test_reproduce_never_writes_into_a_users_folder(tmp_path, user_folder):
    before = snapshot(user_folder)
    r = call_cli("reproduce", "--profile", "smoke", "--tables", "main", "--shard", "2/2", "--out", str(user_folder))
    one_line_error(r, 2, "--shard 2/2", "no table")
    r = call_cli("reproduce", "--profile", "smoke", "--tables", "main", "--out", str(user_folder))
    one_line_error(r, 2, "README.md")
    assert snapshot(user_folder) == before


@pytest.mark.parametrize("args, fragments", [
    (["--shard", "abc"], ["--shard expects i/n"]),
    (["--shard", "3/2"], ["1 <= i <= n"]),
    (["--profile", "paper", "--data-root", "/no/such/dir"], ["--data-root", "/no/such/dir"]),
])
def test_reproduce_bad_options(tmp_path, args, fragments):
    r = call_cli("reproduce", "--out", str(tmp_path / "res"), *args)
    one_line_error(r, 2, *fragments)
    assert not (tmp_path / "res").exists()


def test_files_are_written_with_the_usual_permissions(tmp_path):
    out = tmp_path / "s"
    assert call_cli("synth", "--out", str(out), "--n", "1", "--size", "64", env={}).returncode == 0
    from m2s_repro.core import save_json
    f = save_json(tmp_path / "m.json", {"a": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~mask


def test_train_interrupt_says_how_to_resume(run_main, monkeypatch, tmp_path):
    import m2s_repro.train.learner as learner
    def interrupted(*a, **kw): raise KeyboardInterrupt
    monkeypatch.setattr(learner, "train_run", interrupted)
    r = run_main("train", "--recipe", "smoke", "--out", str(tmp_path))
    assert r.returncode == 130
    assert "interrupted; continue with: m2s-repro train --recipe smoke --fold 1" in r.stderr and "--resume" in r.stderr


# -- images past Pillow's decompression-bomb guard (issue 25) --------------------------------------------------------

def bomb_png(path: Path, side: int = 14000) -> Path:
    "A PNG whose header claims side x side pixels (over twice Pillow's default limit): the guard fires on the header."
    import struct, zlib
    def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_decompression_bomb_is_an_unusable_file(tmp_path, smoke_ck):
    from PIL import Image
    import numpy as np
    bomb = bomb_png(tmp_path / "bomb.png")
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(good)
    one_line_error(call_cli("predict", str(bomb), "--checkpoint", str(smoke_ck), "--out", str(tmp_path / "p")), 2,
                   "bomb.png", "too large to decode safely", "MAX_IMAGE_PIXELS")
    r = call_cli("predict", str(bomb), str(good), "--checkpoint", str(smoke_ck), "--skip-bad", "--out", str(tmp_path / "p2"))
    assert r.returncode == 0 and "skipped 1 of 2" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert (tmp_path / "p2" / "good_mask.png").exists() and not (tmp_path / "p2" / "bomb_mask.png").exists()
    # a CASIA v1 tree holding the bomb as a tampered image: listed as a bad file by the header check and the decode
    tree = tmp_path / "CASIA1"
    r = call_cli("datasets", "fake", "--dataset", "casiav1", "--out", str(tree))
    assert r.returncode == 0, r.stderr[-2000:]
    victim = sorted(p for p in tree.rglob("Sp_*") if p.suffix in (".jpg", ".tif"))[0]
    bomb_png(victim)
    for extra in ((), ("--no-decode",)):
        r = call_cli("datasets", "check", "--data-root", str(tree), *extra)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
        assert "too large to decode safely" in r.stdout, r.stdout[-2000:]


def test_predict_never_changes_a_file_it_did_not_write(tmp_path, smoke_ck):
    "IMD2020 names its masks X_mask.png: predict into the data set's folder is refused before anything is written."
    from PIL import Image
    import numpy as np
    d = tmp_path / "imd2020"
    d.mkdir()
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(d / "c8_0.jpg")
    Image.fromarray(np.zeros((40, 50), np.uint8)).save(d / "c8_0_mask.png")
    before = snapshot(d)
    one_line_error(call_cli("predict", str(d / "c8_0.jpg"), "--checkpoint", str(smoke_ck), "--out", str(d)), 2,
                   "holds files this command did not write", "c8_0.jpg")
    assert snapshot(d) == before
    out = tmp_path / "pred"
    for name in ("c8_0.jpg", "c8_0.jpg"):  # again into its own folder: allowed
        r = call_cli("predict", str(d / name), "--checkpoint", str(smoke_ck), "--out", str(out))
        assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["c8_0_mask.png", "c8_0_overlay.png", "c8_0_prob.png",
                                                      "predictions.json"]


def test_reproduce_paper_without_data_root_writes_nothing(tmp_path):
    out = tmp_path / "results"
    one_line_error(call_cli("reproduce", "--profile", "paper", "--out", str(out)), 2,
                   "--profile paper:", "give --data-root", "(or --tables efficiency released)")
    assert not out.exists()


def test_two_trains_on_one_run(tmp_path):
    "Two concurrent trains of one run: exactly one trains, the other exits 1 at once naming the first's process."
    import subprocess, sys, time
    cmd = [sys.executable, "-m", "m2s_repro", "train", "--recipe", "smoke", "--out", str(tmp_path), "--device", "cpu"]
    first = subprocess.Popen(cmd + ["--epochs", "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "smoke" / "fold1-seed0" / ".lock"
    for _ in range(600):  # until the first holds the run (it writes its process id into the lock file)
        if lock.exists() and lock.read_text().startswith("process"): break
        time.sleep(0.1)
    second = run_cli("train", "--recipe", "smoke", "--out", str(tmp_path), "--device", "cpu", "--epochs", "40")
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    one_line_error(second, 1, "is in use by process", str(first.pid))
    history = (tmp_path / "smoke" / "fold1-seed0" / "history.csv").read_text().splitlines()
    assert [l.split(",")[0] for l in history[1:]] == [str(e) for e in range(1, 41)], history


def test_a_killed_run_resumes_at_once(tmp_path):
    "SIGKILL while holding the run's lock: --resume works at once (the kernel dropped the lock)."
    import signal, subprocess, sys, time
    cmd = [sys.executable, "-m", "m2s_repro", "train", "--recipe", "smoke", "--out", str(tmp_path), "--device", "cpu",
           "--epochs", "8"]  # enough to be killed mid-run (after epoch 1); few left to resume
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = tmp_path / "smoke" / "fold1-seed0" / "last.pth"
    for _ in range(1200):
        if last.exists(): break
        time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    assert p.wait() == -signal.SIGKILL  # killed mid-run, not already done
    r = run_cli("train", "--recipe", "smoke", "--out", str(tmp_path), "--device", "cpu", "--epochs", "8", "--resume",
                timeout=600)
    assert r.returncode == 0 and "complete: 8/8 epochs" in r.stdout, r.stderr[-2000:]


def test_an_image_saved_twice_counts_once(tmp_path):
    "CASIA v1 with X.jpg and X.png beside one mask X_gt.png: one record, and datasets check says which was left out."
    import shutil
    tree = tmp_path / "c1"
    assert call_cli("datasets", "fake", "--dataset", "casiav1", "--out", str(tree)).returncode == 0
    before = json.loads(call_cli("datasets", "check", "--data-root", str(tree), "--no-decode", "--json").stdout)[0]
    x = sorted(p for p in tree.rglob("Sp_*") if p.suffix == ".jpg")[0]
    shutil.copy(x, x.with_suffix(".png"))
    r = call_cli("datasets", "check", "--data-root", str(tree), "--no-decode")
    assert r.returncode == 0 and f"{x.stem}.png (twin of {x.name})" in r.stdout, r.stdout[-2000:]
    after = json.loads(call_cli("datasets", "check", "--data-root", str(tree), "--no-decode", "--json").stdout)[0]
    assert after["counts"] == before["counts"]
