import copy
import sys

import pytest

from mandarin_tts.serving.tiers import (
    STEP_MODELS,
    TierError,
    load_tiers,
    parse_tiers,
    pick_tier,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from mandarin_tts.serving.tiers import TIERS_FILE

REQUIRED = ("cpu-2", "cpu-16", "cpu-64", "gpu-t4", "gpu-l4", "gpu-a100", "gpu-h100")


@pytest.fixture(scope="module")
def raw():
    return tomllib.loads(TIERS_FILE.read_text())


def test_all_required_tiers_are_defined_with_every_model():
    tiers = load_tiers()
    assert set(REQUIRED) <= set(tiers)
    for tier in tiers.values():
        assert set(tier.models) == set(STEP_MODELS)


def test_cpu_tiers_fit_their_cores_and_gpu_tiers_use_the_gpu():
    for tier in load_tiers().values():
        if tier.cores:
            # Some oversubscription pays (threads do not spin when idle): on cpu-2, two
            # vocoder instances x 2 threads measured best at concurrency 1 and 8
            # (docs/tuning.md). Beyond 3 threads per core is a mistake.
            assert tier.cpu_threads <= tier.cores * 3, tier.name
            assert all(m.kind == "cpu" and m.provider == "cpu" for m in tier.models.values())
        else:
            assert tier.models["acoustic"].kind == "gpu"
            assert tier.models["vocoder"].provider == "tensorrt"
            assert tier.models["vocoder"].fp16


@pytest.mark.parametrize(
    ("cores", "gpus", "expected"),
    [
        (2, [], "cpu-2"),
        (1, [], "cpu-2"),
        (8, [], "cpu-2"),
        (16, [], "cpu-16"),
        (32, [], "cpu-16"),
        (96, [], "cpu-64"),
        (8, ["Tesla T4"], "gpu-t4"),
        (16, ["NVIDIA L4"], "gpu-l4"),
        (32, ["NVIDIA A100-SXM4-80GB"], "gpu-a100"),
        (32, ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"], "gpu-h100"),
        (4, ["NVIDIA GeForce RTX 4090"], "cpu-2"),  # unknown GPU: fall back to CPU sizing
    ],
)
def test_pick_tier(cores, gpus, expected):
    assert pick_tier(load_tiers(), cores, gpus).name == expected


def test_default_tier_honours_the_environment(monkeypatch):
    from mandarin_tts.serving.tiers import default_tier

    monkeypatch.setenv("MANDARIN_TTS_TIER", "gpu-l4")
    assert default_tier().name == "gpu-l4"


def _with(raw, tier, model, **changes):
    data = copy.deepcopy(raw)
    data["tiers"][tier]["models"][model].update(changes)
    return data


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "tpu"},
        {"provider": "cuda"},  # cpu-2 is kind cpu
        {"fp16": True},  # fp16 without TensorRT
        {"max_queue_size": 0},
        {"queue_timeout_us": 0},
        {"instances": 0},
        {"max_queue_size": 4},  # smaller than a batch
        {"typo_key": 1},
    ],
)
def test_invalid_settings_are_rejected(raw, changes):
    with pytest.raises(TierError):
        parse_tiers(_with(raw, "cpu-2", "acoustic", **changes))


def test_a_tier_missing_a_model_is_rejected(raw):
    data = copy.deepcopy(raw)
    del data["tiers"]["cpu-16"]["models"]["vocoder"]
    with pytest.raises(TierError, match="models"):
        parse_tiers(data)


# --- onnx_file: which built ONNX file a step serves ------------------------------------


def test_onnx_file_defaults_to_the_float_models(raw):
    from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_ONNX

    for tier in parse_tiers(raw).values():
        if "onnx_file" in str(raw["tiers"][tier.name]):
            continue  # the tier chose a file explicitly
        assert tier.models["acoustic"].onnx_file == ACOUSTIC_ONNX.name
        assert tier.models["vocoder"].onnx_file == VOCODER_ONNX.name
        assert tier.models["text_frontend"].onnx_file is None


def test_onnx_file_can_pick_the_int8_vocoder(raw):
    from mandarin_tts.paths import VOCODER_INT8_ONNX

    tiers = parse_tiers(_with(raw, "cpu-2", "vocoder", onnx_file=VOCODER_INT8_ONNX.name))
    assert tiers["cpu-2"].models["vocoder"].onnx_file == VOCODER_INT8_ONNX.name


@pytest.mark.parametrize(
    ("model", "onnx_file"),
    [
        ("acoustic", "vocoder_int8.onnx"),  # a real file, but not an acoustic model
        ("vocoder", "vocoder_fp16.onnx"),  # no such build output
        ("vocoder", "../vocoder.onnx"),
        ("text_frontend", "vocoder.onnx"),  # runs no ONNX model
    ],
)
def test_onnx_file_is_validated_per_model(raw, model, onnx_file):
    with pytest.raises(TierError, match="onnx_file"):
        parse_tiers(_with(raw, "cpu-2", model, onnx_file=onnx_file))


def test_replaced_onnx_file_is_checked_by_validate():
    from dataclasses import replace

    vocoder = load_tiers()["cpu-2"].models["vocoder"]
    with pytest.raises(TierError, match="onnx_file"):
        replace(vocoder, onnx_file="other.onnx").validate("candidate")


# --- busy_intra_op_threads: fewer threads while another vocoder instance runs ----------


@pytest.mark.parametrize(
    ("model", "changes", "match"),
    [
        ("acoustic", {"busy_intra_op_threads": 1, "intra_op_threads": 2}, "vocoder setting"),
        ("vocoder", {"busy_intra_op_threads": 2, "intra_op_threads": 2}, "1..intra_op"),
        ("vocoder", {"busy_intra_op_threads": 1, "intra_op_threads": 2, "instances": 1}, ">= 2"),
    ],
)
def test_busy_threads_are_validated(raw, model, changes, match):
    with pytest.raises(TierError, match=match):
        parse_tiers(_with(raw, "cpu-2", model, **changes))


def test_busy_threads_reach_the_rendered_vocoder_config(raw):
    from mandarin_tts import contract as c
    from mandarin_tts.serving.render import tier_configs

    changes = {"busy_intra_op_threads": 1, "intra_op_threads": 2, "instances": 2}
    configs = tier_configs(parse_tiers(_with(raw, "cpu-2", "vocoder", **changes))["cpu-2"])
    assert configs[c.MODEL_VOCODER].parameters["busy_intra_op_threads"].string_value == "1"
    assert "busy_intra_op_threads" not in configs[c.MODEL_ACOUSTIC].parameters
