"""`pretrained=True` without network access must fail fast with an error that says what to do."""
import subprocess, sys, textwrap, os


def test_pretrained_offline_is_a_clear_error():
    code = textwrap.dedent("""
        from m2s_repro.encoder import pvt_encoder
        try:
            pvt_encoder('b0', pretrained=True)
        except RuntimeError as e:
            print('MSG:', e)
        else:
            print('MSG: loaded')  # a machine with a cache or network: nothing to test
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # what a machine without network amounts to, without the retries
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    msg = r.stdout.split("MSG:", 1)[1]
    assert "loaded" in msg or ("pvt_v2_b0" in msg and "weights=PATH" in msg), msg


def test_mesorch_convnext_pretrained_offline_is_a_clear_error():
    code = textwrap.dedent("""
        from m2s_repro.registry import build_model
        try:
            build_model('mesorch-small', conv_pretrained=True)
        except RuntimeError as e:
            print('MSG:', e)
        else:
            print('MSG: loaded')
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    msg = r.stdout.split("MSG:", 1)[1]
    assert "loaded" in msg or ("convnext_atto" in msg and "conv_weights=PATH" in msg), msg
