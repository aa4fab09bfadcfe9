"""Runs as scheduler jobs (submitit's LocalExecutor: real separate processes): a job pre-empted mid-run is requeued and
its run equals an uninterrupted one."""
import os, signal, sys, threading, time
from pathlib import Path
import cloudpickle, pytest
from m2s_repro.core import Context
from m2s_repro.models.checkpoint import load_checkpoint, weight_differences
from m2s_repro.train.jobs import RunJob, make_executor
from m2s_repro.train.runs import runs_of, train_one
from m2s_repro.train.track import run_info

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the job process cannot import this test module


class PreemptedOnce(RunJob):
    "The run's job, which the first time receives the scheduler's pre-emption signal just after its first epoch."
    def __call__(self):
        marker = Path(self.runs) / "signalled"
        if not marker.exists():
            last = Path(self.runs) / self.run.folder / "last.pth"
            def signal_after_first_epoch():
                while not last.exists(): time.sleep(.01)
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGUSR2)  # what SLURM sends before it pre-empts or times out a job
            threading.Thread(target=signal_after_first_epoch, daemon=True).start()
        return super().__call__()


def test_a_preempted_job_is_requeued_and_resumes_exactly(tmp_path):
    run = runs_of(["smoke"], [1])[0]
    ctx = Context(device="cpu")
    job = make_executor("local", tmp_path / "jobs").submit(PreemptedOnce(run, str(tmp_path / "runs"), None, ctx))
    summary = job.result()  # waits; raises if the job failed
    log = Path(job.paths.stderr).read_text()
    assert "pre-empted; requeued" in log, log[-3000:]
    first_pid = int((tmp_path / "runs" / "signalled").read_text())
    assert summary["status"] == "complete" and run_info(tmp_path / "runs" / run.folder)["state"] == "complete"
    assert first_pid != os.getpid()
    hist = (tmp_path / "runs" / run.folder / "history.csv").read_text().splitlines()
    assert [l.split(",")[0] for l in hist[1:]] == ["1", "2"], hist  # epoch 2 logged once, by the requeued process
    train_one(run, tmp_path / "here", ctx=ctx, progress=None)  # the same run, uninterrupted, in this process
    a, b = (load_checkpoint(tmp_path / d / run.folder / "last.pth")["model"] for d in ("runs", "here"))
    assert weight_differences(a, b) == []


def test_a_job_of_several_gpus_trains_its_run_data_parallel(tmp_path):
    "Mesorch's paper recipe asks for 4 GPUs: its job starts torchrun, whose processes train one run (here 2, on CPU)."
    run = runs_of(["smoke"], [1])[0]
    summary = RunJob(run, str(tmp_path / "runs"), None, Context(device="cpu"), gpus=2)()
    rd = tmp_path / "runs" / run.folder
    assert summary["status"] == "complete" and (tmp_path / "runs" / "_jobs" / "smoke+fold1-seed0.json").is_file()
    hist = (rd / "history.csv").read_text().splitlines()
    assert [l.split(",")[0] for l in hist[1:]] == ["1", "2"], hist  # written once, by rank 0
