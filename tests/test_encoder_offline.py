"""`pretrained=True` without network access must fail fast with an error that says what to do."""
import json, os, subprocess, sys, textwrap
import pytest

CASES = [  # (the call, the weights it would download, the option the message must name)
    ("pvt_encoder('b0', pretrained=True)", "pvt_v2_b0", "weights=PATH"),
    ("build_model('mesorch-small', conv_pretrained=True)", "convnext_atto", "conv_weights=PATH"),
    ("build_model('mesorch-small-resnet-segformer', conv_pretrained=True)", "resnet18", "conv_weights=PATH"),
    ("build_model('mesorch-small-convnext-mae', transformer_pretrained=True)", "vit_tiny_patch16_224",
     "transformer_weights=PATH"),
    ("build_model('mesorch-small-convnext-pvt', transformer_pretrained=True)", "pvt_v2_b0",
     "transformer_weights=PATH"),
]


@pytest.fixture(scope="module")
def offline_messages():
    """Every case's call in one fresh process with the Hugging Face hub offline (the hub reads the setting when it is
    imported): {call: the RuntimeError's message, or 'loaded'}. One process for all: each start imports torch and timm."""
    code = textwrap.dedent("""
        import json, sys
        from m2s_repro.models import build_model
        from m2s_repro.models.encoder import pvt_encoder
        out = {}
        for call in json.loads(sys.argv[1]):
            try: eval(call)
            except RuntimeError as e: out[call] = str(e)
            else: out[call] = "loaded"  # a machine with a cache or network
        print("MSG:" + json.dumps(out))
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # what a machine without network amounts to, without timm's retries
    r = subprocess.run([sys.executable, "-c", code, json.dumps([c for c, _, _ in CASES])], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.split("MSG:", 1)[1])


@pytest.mark.parametrize("call, name, hint", CASES)
def test_pretrained_offline_is_a_clear_error(offline_messages, call, name, hint):
    msg = offline_messages[call]
    if msg.strip() == "loaded": pytest.skip(f"{name} weights are in this machine's cache: the offline error cannot be seen here")
    assert name in msg and hint in msg, msg
