"""The GPU check: the CUDA paths this project's CPUs cannot run (autocast, GradScaler, channels-last, cuDNN, NCCL),
on one NVIDIA GPU in at most about 8 minutes. Run through `bash .ci/gpu_check.sh` (which installs what is missing
from wheels carried beside it); writes gpu_check.json and gpu_check.txt into --out.

Steps, each timed and each recorded even when it fails:
1. the device: torch, CUDA, cuDNN, the GPU, bf16;
2. `m2sformer-paper` (256 px) and `mesorch-paper` (512 px) trained for --steps steps on synthetic data from stand-in
   ImageNet weights, in fp32 and with the recipe's mixed precision (fastai's autocast + GradScaler): images/s, peak
   GPU memory, the first steps' losses of the two and their largest relative difference;
3. one forward of each model in fp32 and under autocast from the same weights: the largest difference of the
   probabilities; and channels-last against the default layout;
4. `doctor --measure`'s GPU memory rows for the two recipes;
5. a released-format M2SFormer file (the parity fixture's seeded weights) converted and run on the GPU and on the
   CPU: the largest difference of the probabilities (1e-4), and against the authors' code's stored output;
6. NCCL: a one-process group's all-reduce.
Without CUDA the same script runs steps 2 and 5 on the CPU at a tiny budget and marks the CUDA-only parts skipped,
to show the rest works.
"""
import argparse, json, os, platform, sys, tempfile, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def step(report, name, fn):
    "Run one check; record its result, its seconds and, if it fails, the error."
    t0 = time.perf_counter()
    try: report[name] = dict(status="ok", **fn())
    except Exception as e:  # noqa: BLE001 - a failing check is a result, the others still run
        report[name] = dict(status="FAIL", error=f"{type(e).__name__}: {e}", trace=traceback.format_exc()[-2000:])
    report[name]["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"[gpu-check] {name}: {report[name]['status']} ({report[name]['seconds']} s)", flush=True)


def device_info():
    import torch
    cuda = torch.cuda.is_available()
    return dict(torch=torch.__version__, cuda=torch.version.cuda, cuda_available=cuda, python=platform.python_version(),
                gpu=torch.cuda.get_device_name(0) if cuda else None,
                cudnn=torch.backends.cudnn.version() if cuda else None,
                bf16=torch.cuda.is_bf16_supported() if cuda else None,
                memory_gib=round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1) if cuda else None)


class FirstLosses:
    "A fastai callback keeping the first n training losses."
    def __new__(cls, n):
        from fastai.callback.core import Callback
        class _Keep(Callback):
            order = 90
            def __init__(self): self.losses = []
            def after_batch(self):
                if self.training and len(self.losses) < n: self.losses.append(float(self.loss.detach()))
        return _Keep()


def train_pair(name, steps, device, work):
    "The recipe trained twice from the same seed: fp32, then its mixed precision (on CUDA)."
    import torch
    from m2s_repro.train.recipes import get_recipe
    from m2s_repro.train.learner import train_run
    base = get_recipe(name)
    cuda = device == "cuda"
    bs = base.bs if cuda else 2
    r = base.with_(data="synthetic", train_items=bs * steps, valid_items=bs, epochs=1, warmup_epochs=0, synth_size=base.size,
                   bs=bs, num_workers=min(8, os.cpu_count() or 1) if cuda else 0,
                   size=base.size if cuda or base.model.startswith("mesorch") else 64)  # Mesorch predicts at 512
    out = {}
    for amp in ((False, True) if cuda else (False,)):
        keep = FirstLosses(20)
        if cuda: torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        info = train_run(r.with_(mixed_precision=amp), work / f"{name}-{'amp' if amp else 'fp32'}", fold=1,
                         device=device, quiet=True, extra_cbs=[keep])
        secs = time.perf_counter() - t0
        out["amp" if amp else "fp32"] = dict(
            images_per_s=round(r.train_items / secs, 1), seconds=round(secs, 1), steps=steps, bs=bs, size=r.size,
            peak_memory_mib=round(torch.cuda.max_memory_allocated() / 2**20) if cuda else None,
            first_losses=[round(x, 5) for x in keep.losses], best=info["best_score"], amp_used=info.get("amp"))
    if "amp" in out:
        a, b = out["fp32"]["first_losses"], out["amp"]["first_losses"]
        out["first_losses_max_rel_diff"] = max(abs(x - y) / max(abs(x), 1e-8) for x, y in zip(a, b))
    return out


def forward_checks(device):
    "fp32 vs autocast, and channels-last vs the default layout, for one batch through each paper model."
    import torch
    from m2s_repro.models import build_model
    from m2s_repro.numerics.metrics import prediction_of
    from m2s_repro.train.recipes import get_recipe
    if device != "cuda": return dict(skipped="no CUDA: autocast and channels-last run on CUDA only")
    torch.backends.cudnn.benchmark = True
    out = {}
    for name in ("m2sformer-paper", "mesorch-paper"):
        r = get_recipe(name)
        torch.manual_seed(0)
        m = build_model(r.model, **{**r.model_options, "pretrained": False, "conv_pretrained": False}).cuda().eval()
        x = torch.randn(2, 3, r.size, r.size, device="cuda")
        with torch.no_grad():
            p32 = torch.sigmoid(prediction_of(m(x)).float())
            with torch.autocast("cuda", dtype=torch.float16): p16 = torch.sigmoid(prediction_of(m(x)).float())
            with torch.autocast("cuda", dtype=torch.bfloat16): pbf = torch.sigmoid(prediction_of(m(x)).float())
            mcl = m.to(memory_format=torch.channels_last)
            pcl = torch.sigmoid(prediction_of(mcl(x.to(memory_format=torch.channels_last))).float())
        out[name] = dict(fp16_vs_fp32=float((p16 - p32).abs().max()), bf16_vs_fp32=float((pbf - p32).abs().max()),
                         channels_last_vs_default=float((pcl - p32).abs().max()))
    return out


def doctor_rows(device):
    if device != "cuda": return dict(skipped="no CUDA: doctor --measure times steps on the GPU")
    from m2s_repro.report.doctor import memory_rows
    return dict(rows=memory_rows(["main", "mesorch"], "paper"))


def released_parity(device):
    "The parity fixture's M2SFormer-S3 in the released format: our conversion on this device vs the CPU and the authors."
    import numpy as np, torch
    from m2s_repro.models.released import released_to_model
    from m2s_repro.numerics.metrics import prediction_of
    from m2s_repro.testkit import seeded_images, seeded_released_state
    fix = ROOT / "tests" / "fixtures" / "released"
    sd = seeded_released_state(fix / "m2sformer-S3.keys.tsv")
    _, _, model = released_to_model(sd, text_table=torch.from_numpy(np.load(fix / "text_table.npy")))
    x = seeded_images(0, 2, 256)
    with torch.no_grad():
        cpu = torch.sigmoid(prediction_of(model.cpu().eval()(x)).float())
        dev = torch.sigmoid(prediction_of(model.to(device).eval()(x.to(device))).float()).cpu() if device == "cuda" else cpu
    ref = torch.sigmoid(torch.from_numpy(np.load(fix / "m2sformer-S3.npz")["prediction"]).float())
    res = dict(gpu_vs_cpu=float((dev - cpu).abs().max()), cpu_vs_authors=float((cpu - ref).abs().max()))
    if res["gpu_vs_cpu"] > 1e-4: raise AssertionError(f"GPU and CPU differ by {res['gpu_vs_cpu']:.2e} (> 1e-4)")
    return res


def nccl_check(device):
    import torch, torch.distributed as dist
    if device != "cuda": return dict(skipped="no CUDA")
    store = dist.HashStore()
    dist.init_process_group("nccl", store=store, rank=0, world_size=1)
    try:
        t = torch.ones(4, device="cuda")
        dist.all_reduce(t)
        return dict(all_reduce=t.tolist(), nccl=".".join(map(str, torch.cuda.nccl.version())))
    finally: dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gpu_check", help="folder for gpu_check.json and gpu_check.txt")
    ap.add_argument("--steps", type=int, default=150, help="training steps per recipe and precision (CUDA)")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="m2s_gpu_check_"))
    # stand-in ImageNet weights in a Hugging Face cache, read offline: set before huggingface_hub is imported
    os.environ.update(HF_HUB_CACHE=str(work / "hub"), HF_HUB_OFFLINE="1")
    import torch
    from m2s_repro.report.standins import rehearsal_hub
    rehearsal_hub(work / "hub", ("pvt_v2_b2", "convnext_tiny"))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    report = dict(started=time.strftime("%Y-%m-%d %H:%M:%S"), device=device)
    t0 = time.perf_counter()
    step(report, "device", device_info)
    steps = a.steps if device == "cuda" else 2
    for name in ("m2sformer-paper", "mesorch-paper"):
        step(report, f"train {name}", lambda n=name: train_pair(n, steps, device, work))
    step(report, "forward fp32 vs autocast, channels-last", lambda: forward_checks(device))
    step(report, "doctor --measure", lambda: doctor_rows(device))
    step(report, "released file GPU vs CPU", lambda: released_parity(device))
    step(report, "NCCL", lambda: nccl_check(device))
    report["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1, default=str))
    lines = [f"m2s_repro GPU check, {report['started']}, device {device}, {report['seconds']} s"]
    for k, v in report.items():
        if isinstance(v, dict) and "status" in v:
            detail = v.get("error") or json.dumps({x: y for x, y in v.items() if x not in ("status", "seconds", "trace")},
                                                  default=str)
            lines.append(f"{v['status']:4s} {k} ({v['seconds']} s): {detail[:1500]}")
    (out / "gpu_check.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if any(isinstance(v, dict) and v.get("status") == "FAIL" for v in report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
