from pathlib import Path

import pytest
from tritonclient.grpc import model_config_pb2 as mc

from mandarin_tts import contract as c
from mandarin_tts.serving import render as r
from mandarin_tts.serving.tiers import load_tiers

TIERS = load_tiers()
MODELS = (c.MODEL_TEXT_FRONTEND, c.MODEL_ACOUSTIC, c.MODEL_VOCODER, c.MODEL_ENSEMBLE)


@pytest.mark.parametrize("tier_name", sorted(TIERS))
def test_every_tier_renders_a_valid_complete_repository(tmp_path, tier_name):
    tier = TIERS[tier_name]
    repo = r.render(tier, tmp_path / tier_name)
    configs = r.load_repository(repo)  # parsed back with Triton's protobuf schema
    assert set(configs) == set(MODELS)
    r.validate(configs)
    for name in MODELS[:3]:
        config, m = configs[name], tier.models[name]
        assert (repo / name / "1" / "model.py").read_text() == r.MODEL_PY.read_text()
        assert config.backend == "python"
        assert config.max_batch_size == m.max_batch_size
        assert config.instance_group[0].count == m.instances
        expected_kind = "KIND_GPU" if m.kind == "gpu" else "KIND_CPU"
        assert mc.ModelInstanceGroup.Kind.Name(config.instance_group[0].kind) == expected_kind
        policy = config.dynamic_batching.default_queue_policy
        assert policy.timeout_action == mc.ModelQueuePolicy.REJECT
        assert policy.max_queue_size == m.max_queue_size
        assert policy.default_timeout_microseconds == m.queue_timeout_us
        assert config.dynamic_batching.max_queue_delay_microseconds == m.max_queue_delay_us
    for name in (c.MODEL_ACOUSTIC, c.MODEL_VOCODER):
        params = {k: v.string_value for k, v in configs[name].parameters.items()}
        m = tier.models[name]
        assert params["provider"] == m.provider
        assert params["fp16"] == str(m.fp16).lower()
        assert params["intra_op_threads"] == str(m.intra_op_threads)
        assert params["onnx_file"].endswith(".onnx")
    ensemble = configs[c.MODEL_ENSEMBLE]
    assert ensemble.platform == "ensemble"
    # Cached by the whole request (its LEXICON_VERSION included), never inside the ensemble.
    assert ensemble.response_cache.enable
    assert not any(configs[m].response_cache.enable for m in MODELS[:3])
    assert c.TTS_IN_LEXICON_VERSION in {i.name for i in ensemble.input}
    text_step = ensemble.ensemble_scheduling.step[0]
    assert text_step.input_map[c.TTS_IN_LEXICON_VERSION] == c.TTS_IN_LEXICON_VERSION
    assert ensemble.max_batch_size == min(m.max_batch_size for m in tier.models.values())
    assert [s.model_name for s in ensemble.ensemble_scheduling.step] == list(MODELS[:3])


def test_committed_repository_is_the_cpu2_render(tmp_path):
    fresh = r.render(TIERS[r.COMMITTED_TIER], tmp_path / "repo")
    committed = r.COMMITTED_REPOSITORY

    def files(root):
        return sorted(
            p.relative_to(root)
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )

    assert files(committed) == files(fresh)
    for rel in files(fresh):
        assert (committed / rel).read_bytes() == (fresh / rel).read_bytes(), rel


def test_serving_renders_into_the_cache_never_the_committed_tree():
    # Installed voices differ per machine: the served render must not touch git's tree.
    for tier in ("cpu-2", "gpu-t4"):
        assert r.repository_for(TIERS[tier]) != r.COMMITTED_REPOSITORY


def sambert_voice(name="kefu", rate=24_000):
    from dataclasses import replace

    from mandarin_tts.build.bundled_voice import bundled_manifest
    from mandarin_tts.voices.manifest import FAMILY_SAMBERT, FRONTEND_KANTTS, REQUIRED_FILES

    return replace(
        bundled_manifest(Path(".")),
        name=name,
        family=FAMILY_SAMBERT,
        text_frontend=FRONTEND_KANTTS,
        sample_rate=rate,
        files={role: f"{role}.onnx" for role in REQUIRED_FILES[FAMILY_SAMBERT]},
        speakers=("F7", "M1"),
        default_speaker="F7",
        emotions=("neutral", "happy"),
        controls=("speed",),
    )


@pytest.mark.parametrize("tier_name", sorted(TIERS))
def test_every_voice_gets_its_own_ensemble_on_every_tier(tmp_path, tier_name):
    from mandarin_tts.build.bundled_voice import bundled_manifest

    voices = [bundled_manifest(Path(".")), sambert_voice()]
    repo = r.render(TIERS[tier_name], tmp_path / "repo", voices)
    configs = r.load_repository(repo)
    r.validate(configs)
    prefixed = ("kefu_text_frontend", "kefu_acoustic", "kefu_vocoder", "tts_kefu")
    assert set(configs) == set(MODELS) | set(prefixed)
    steps = [s.model_name for s in configs["tts_kefu"].ensemble_scheduling.step]
    assert steps == list(prefixed[:3])
    acoustic_inputs = {t.name: list(t.dims) for t in configs["kefu_acoustic"].input}
    assert acoustic_inputs[c.AC_IN_UNITS] == [-1, c.UNIT_FEATURES]
    assert c.AC_IN_SPEAKER_IDS in acoustic_inputs and c.AC_IN_EMOTION_IDS in acoustic_inputs
    for name in prefixed[:3]:
        assert configs[name].parameters["voice"].string_value == "kefu"
    # The tier's int8 file belongs to the bundled voice only.
    assert configs["kefu_vocoder"].parameters["onnx_file"].string_value == "vocoder.onnx"
    public = {t.name for t in configs["tts_kefu"].input}
    assert public == {t.name for t in configs[c.MODEL_ENSEMBLE].input}
    assert {c.TTS_IN_SPEAKER, c.TTS_IN_EMOTION} <= public
    # A voice that is no longer installed leaves the repository at the next render.
    r.render(TIERS[tier_name], repo, [bundled_manifest(Path("."))])
    assert set(r.load_repository(repo)) == set(MODELS)


def _configs():
    return r.tier_configs(TIERS["cpu-2"])


def _step(configs, model):
    return next(s for s in configs["tts"].ensemble_scheduling.step if s.model_name == model)


def test_wiring_catches_a_wrong_dtype():
    configs = _configs()
    configs[c.MODEL_ACOUSTIC].input[0].data_type = mc.TYPE_INT32
    with pytest.raises(r.RenderError, match="wants TYPE_INT32"):
        r.validate(configs)


def test_wiring_catches_wrong_dims():
    configs = _configs()
    del configs[c.MODEL_VOCODER].input[0].dims[:]
    configs[c.MODEL_VOCODER].input[0].dims.extend([-1, 81])
    with pytest.raises(r.RenderError, match="gets TYPE_FP32"):
        r.validate(configs)


def test_wiring_catches_a_misspelt_tensor():
    configs = _configs()
    step = _step(configs, c.MODEL_VOCODER)
    step.input_map["mel"] = "_mels"
    with pytest.raises(r.RenderError, match="produced by nobody"):
        r.validate(configs)


def test_wiring_catches_an_unmapped_required_input():
    configs = _configs()
    del _step(configs, c.MODEL_ACOUSTIC).input_map[c.AC_IN_IDS]
    with pytest.raises(r.RenderError, match="required input"):
        r.validate(configs)


def test_wiring_catches_a_missing_ensemble_output():
    configs = _configs()
    del _step(configs, c.MODEL_VOCODER).output_map["sample_rate"]
    with pytest.raises(r.RenderError, match="produced by no step"):
        r.validate(configs)


def test_wiring_catches_an_ensemble_batch_larger_than_a_step():
    configs = _configs()
    configs[c.MODEL_ENSEMBLE].max_batch_size = 1000
    with pytest.raises(r.RenderError, match="max_batch_size"):
        r.validate(configs)


def test_unbounded_queue_is_rejected():
    configs = _configs()
    configs[c.MODEL_VOCODER].dynamic_batching.default_queue_policy.max_queue_size = 0
    with pytest.raises(r.RenderError, match="bounded"):
        r.validate(configs)


def test_variable_length_inputs_must_be_ragged():
    configs = _configs()
    configs[c.MODEL_ACOUSTIC].input[0].allow_ragged_batch = False
    with pytest.raises(r.RenderError, match="ragged"):
        r.validate(configs)


def test_render_cli_lists_and_renders(tmp_path, capsys):
    assert r.main(["--list"]) == 0
    assert "gpu-h100" in capsys.readouterr().out
    assert r.main(["--tier", "cpu-16", "--out", str(tmp_path / "x")]) == 0
    assert (tmp_path / "x" / "tts" / "config.pbtxt").exists()


def test_the_tier_onnx_file_reaches_the_vocoder_config(tmp_path):
    from dataclasses import replace

    from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_INT8_ONNX

    tier = TIERS["cpu-2"]
    models = {
        **tier.models,
        "vocoder": replace(tier.models["vocoder"], onnx_file="vocoder_int8.onnx"),
    }
    configs = r.tier_configs(replace(tier, models=models))

    def onnx_file(name):
        return configs[name].parameters["onnx_file"].string_value

    assert onnx_file(c.MODEL_VOCODER) == VOCODER_INT8_ONNX.name
    assert onnx_file(c.MODEL_ACOUSTIC) == ACOUSTIC_ONNX.name
    assert "onnx_file" not in configs[c.MODEL_TEXT_FRONTEND].parameters


def test_a_tier_without_cache_memory_caches_nothing() -> None:
    tier = r.without_response_cache(TIERS[r.COMMITTED_TIER])
    assert tier.cache_mb == 0
    assert not any(cfg.response_cache.enable for cfg in r.tier_configs(tier).values())
