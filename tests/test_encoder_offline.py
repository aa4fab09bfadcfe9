"""`pretrained=True` without network access must fail fast with an error that says what to do."""
import os, subprocess, sys, textwrap
import pytest


def _offline_message(call:str)->str:
    "Run `call` in a fresh process with the Hugging Face hub offline; return the RuntimeError's message (or 'loaded')."
    code = textwrap.dedent(f"""
        from m2s_repro.models import build_model
        from m2s_repro.models.encoder import pvt_encoder
        try:
            {call}
        except RuntimeError as e:
            print('MSG:', e)
        else:
            print('MSG: loaded')  # a machine with a cache or network
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # what a machine without network amounts to, without timm's retries
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.split("MSG:", 1)[1]


@pytest.mark.parametrize("call, name, hint", [
    ("pvt_encoder('b0', pretrained=True)", "pvt_v2_b0", "weights=PATH"),
    ("build_model('mesorch-small', conv_pretrained=True)", "convnext_atto", "conv_weights=PATH"),
    ("build_model('mesorch-small-resnet-segformer', conv_pretrained=True)", "resnet18", "conv_weights=PATH"),
    ("build_model('mesorch-small-convnext-mae', transformer_pretrained=True)", "vit_tiny_patch16_224",
     "transformer_weights=PATH"),
    ("build_model('mesorch-small-convnext-pvt', transformer_pretrained=True)", "pvt_v2_b0",
     "transformer_weights=PATH"),
])
def test_pretrained_offline_is_a_clear_error(call, name, hint):
    msg = _offline_message(call)
    if msg.strip() == "loaded": pytest.skip(f"{name} weights are in this machine's cache: the offline error cannot be seen here")
    assert name in msg and hint in msg, msg
