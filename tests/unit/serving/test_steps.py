import json
from types import SimpleNamespace

import numpy as np
import pytest
from google.protobuf.json_format import MessageToDict

from mandarin_tts import contract as c
from mandarin_tts.pipeline.fastspeech2 import FastSpeech2Acoustic
from mandarin_tts.pipeline.ragged import is_pad_safe
from mandarin_tts.pipeline.vocoders import OnnxVocoder
from mandarin_tts.serving import int8_support, triton_glue
from mandarin_tts.serving.dev_models import write_standins
from mandarin_tts.serving.int8_support import ALLOW_INT8_ENV
from mandarin_tts.serving.ort_session import OrtSettings, make_session
from mandarin_tts.serving.render import tier_configs
from mandarin_tts.serving.steps import (
    AcousticStep,
    StepInputError,
    StepInternalError,
    TextFrontendStep,
    VocoderStep,
)
from mandarin_tts.serving.tiers import get_tier
from mandarin_tts.voices.manifest import FAMILY_FASTSPEECH2
from mandarin_tts.voices.registry import MODELS_DIR_ENV, load_voice
from mandarin_tts.voices.text_frontends import EncodedText, VoiceInputError


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    return write_standins(tmp_path_factory.mktemp("standin"))


@pytest.fixture
def standin_voice(standins, monkeypatch):
    monkeypatch.setenv(MODELS_DIR_ENV, str(standins))
    return load_voice("baker")


def session(path):
    return make_session(path, OrtSettings())


@pytest.fixture(scope="module")
def acoustic(standins):
    model = FastSpeech2Acoustic(session(standins / "acoustic.onnx"))
    return AcousticStep.for_family(model, FAMILY_FASTSPEECH2)


@pytest.fixture(scope="module")
def vocoder(standins):
    return VocoderStep(OnnxVocoder(session(standins / "vocoder.onnx"), c.OUTPUT_SAMPLE_RATE))


def ids_request(n, pitch=1.0):
    return {
        c.AC_IN_IDS: (np.arange(n, dtype=np.int64) % 200 + 1).reshape(1, -1),
        c.AC_IN_SPEED: np.array([[1.0]], np.float32),
        c.AC_IN_PITCH: np.array([[pitch]], np.float32),
        c.AC_IN_ENERGY: None,  # optional: defaults to 1.0
    }


def test_batched_results_equal_single_runs(acoustic, vocoder):
    batch = [ids_request(n, pitch=p) for n, p in ((3, 1.0), (17, 1.5), (1, 0.5), (9, 2.0))]
    together = acoustic.run_batch(batch)
    for request, result in zip(batch, together, strict=True):
        alone = acoustic.run_batch([request])[0]
        np.testing.assert_array_equal(result[c.AC_OUT_MEL], alone[c.AC_OUT_MEL])
        assert result[c.AC_OUT_MEL].shape[0] == 1
    audio = vocoder.run_batch([{c.VOC_IN_MEL: r[c.AC_OUT_MEL]} for r in together])
    for mel_result, audio_result in zip(together, audio, strict=True):
        frames = mel_result[c.AC_OUT_MEL].shape[1]
        assert audio_result[c.VOC_OUT_AUDIO].shape == (1, frames * 200)
        assert audio_result[c.VOC_OUT_SAMPLE_RATE].tolist() == [[c.OUTPUT_SAMPLE_RATE]]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({c.AC_IN_IDS: np.array([[3, -1]], np.int64)}, "non-negative"),
        ({c.AC_IN_IDS: np.zeros((1, 0), np.int64)}, "length"),
        ({c.AC_IN_IDS: np.ones((1, c.AC_MAX_SYMBOLS + 1), np.int64)}, "length"),
        ({c.AC_IN_IDS: np.ones((2, 3), np.int64)}, "shape"),
        ({c.AC_IN_IDS: np.ones((1, 3), np.int64), c.AC_IN_SPEED: np.array([[9.0]])}, "speed"),
        ({c.AC_IN_IDS: np.ones((1, 3), np.int64), c.AC_IN_PITCH: np.array([[np.nan]])}, "pitch"),
        ({}, "missing"),
    ],
)
def test_a_bad_request_fails_alone(acoustic, bad, message):
    batch = [ids_request(4), bad, ids_request(6)]
    results = acoustic.run_batch(batch)
    assert isinstance(results[1], StepInputError)
    assert message in str(results[1])
    assert results[0][c.AC_OUT_MEL].shape == (1, 16, c.N_MELS)
    assert results[2][c.AC_OUT_MEL].shape == (1, 24, c.N_MELS)


def test_a_model_failure_is_internal_and_isolated_by_rerunning_alone(acoustic):
    # 10_000 passes validation but is outside the stand-in's vocabulary: the padded run
    # fails inside onnxruntime, then each request runs alone. The failure is the server's
    # (INTERNAL), not the client's (INVALID_ARG).
    batch = [ids_request(4), {c.AC_IN_IDS: np.array([[10_000]], np.int64)}, ids_request(2)]
    results = acoustic.run_batch(batch)
    assert isinstance(results[1], StepInternalError)
    assert not isinstance(results[1], StepInputError)
    assert results[0][c.AC_OUT_MEL].shape == (1, 16, c.N_MELS)
    assert results[2][c.AC_OUT_MEL].shape == (1, 8, c.N_MELS)


def test_vocoder_rejects_wrong_mel_width_and_nan(vocoder):
    good = {c.VOC_IN_MEL: np.zeros((1, 5, c.N_MELS), np.float32)}
    nan = np.zeros((1, 5, c.N_MELS), np.float32)
    nan[0, 2, 3] = np.nan
    results = vocoder.run_batch(
        [good, {c.VOC_IN_MEL: np.zeros((1, 5, 79), np.float32)}, {c.VOC_IN_MEL: nan}]
    )
    assert results[0][c.VOC_OUT_AUDIO].shape == (1, 1000)
    assert isinstance(results[1], StepInputError)
    assert isinstance(results[2], StepInputError)


class FakeFrontend:
    """Ids 1..len(text); 'boom' raises an unexpected error, '' a client error."""

    max_units = 256

    def encode(self, text, speaker, emotion):
        if text == "boom":
            raise KeyError("a bug in the frontend")
        if not text.strip():
            raise VoiceInputError("empty text")
        ids = np.arange(1, len(text) + 1)
        return EncodedText({c.AC_IN_IDS: ids}, ids.size, text, f"{speaker}/{emotion}")


def text_request(raw, **extra):
    request = {c.TTS_IN_TEXT: np.array([[raw]], dtype=object)}
    for name, value in extra.items():
        dtype = object if isinstance(value, bytes) else np.float32
        request[name] = np.array([[value]], dtype=dtype)
    return request


def test_text_step_outputs_ids_scales_debug_and_isolates_every_failure(standin_voice):
    step = TextFrontendStep(standin_voice, FakeFrontend())
    results = step.run_batch(
        [
            text_request("你好".encode(), SPEED=1.5),
            text_request(b""),
            text_request(b"\xff\xfe"),
            text_request(b"ok", PITCH=7.0),
            text_request(b"boom"),
            text_request(b"ok", SPEAKER=b"nobody"),
            text_request(b"ok", EMOTION=b"neutral", SPEAKER=b"baker"),
        ]
    )
    ok = results[0]
    assert ok[c.AC_IN_IDS].tolist() == [[1, 2]]
    assert ok[c.AC_IN_SPEED].tolist() == [[1.5]]
    assert ok[c.AC_IN_PITCH].tolist() == [[1.0]]
    assert ok[c.TF_OUT_DEBUG][0, 0].decode() == "你好"
    assert ok[c.TF_OUT_DEBUG][0, 1].decode() == "baker/neutral"  # the voice's defaults
    assert str(results[1]) == "empty text"
    assert "not valid UTF-8" in str(results[2])
    assert str(results[3]) == "PITCH must be within [0.5, 2.0], got 7.0"
    assert all(isinstance(r, StepInputError) for r in results[1:4])
    assert isinstance(results[4], StepInternalError)  # a bug is not the client's fault
    assert isinstance(results[5], StepInputError)
    assert "no speaker 'nobody'; choose one of: baker" in str(results[5])
    assert results[6][c.AC_IN_IDS].shape == (1, 2)


def test_text_step_refuses_a_control_the_voice_lacks(standin_voice):
    from dataclasses import replace

    speed_only = replace(standin_voice, controls=("speed",))
    results = TextFrontendStep(speed_only, FakeFrontend()).run_batch(
        [text_request(b"ok", PITCH=1.2), text_request(b"ok", SPEED=1.2, PITCH=1.0)]
    )
    assert isinstance(results[0], StepInputError)
    assert "has no pitch control; it supports: speed" in str(results[0])
    assert results[1][c.AC_IN_SPEED].tolist() == [[pytest.approx(1.2)]]


def test_split_runs_give_the_same_results_as_one_run(standins):
    one_run = FastSpeech2Acoustic(session(standins / "acoustic.onnx"), max_pad_ratio=1e9)
    split = FastSpeech2Acoustic(session(standins / "acoustic.onnx"), max_pad_ratio=1.0)
    step_a = AcousticStep.for_family(one_run, FAMILY_FASTSPEECH2)
    step_b = AcousticStep.for_family(split, FAMILY_FASTSPEECH2)
    batch = [ids_request(n) for n in (2, 30, 3, 29, 1)]
    for a, b in zip(step_a.run_batch(batch), step_b.run_batch(batch), strict=True):
        np.testing.assert_array_equal(a[c.AC_OUT_MEL], b[c.AC_OUT_MEL])


def mel_request(frames):
    return {c.VOC_IN_MEL: np.full((1, frames, c.N_MELS), 0.1, np.float32)}


class RecordingSession:
    """A real session that also records the mel lengths of every run it is given."""

    def __init__(self, session):
        self.session = session
        self.runs: list[list[int]] = []

    def get_modelmeta(self):
        return self.session.get_modelmeta()

    def run(self, outputs, feeds):
        self.runs.append(feeds[c.VOC_IN_MEL_LENGTHS].tolist())
        return self.session.run(outputs, feeds)


def test_only_the_int8_vocoder_says_it_is_not_padding_safe(standins):
    assert is_pad_safe(session(standins / "vocoder.onnx"))
    assert is_pad_safe(session(standins / "acoustic.onnx"))
    assert not is_pad_safe(session(standins / "vocoder_int8.onnx"))


def test_a_model_without_padding_masks_runs_only_equal_lengths_together(standins):
    recording = RecordingSession(session(standins / "vocoder_int8.onnx"))
    # The config asks for one padded run; the model's metadata overrules it.
    step = VocoderStep(OnnxVocoder(recording, c.OUTPUT_SAMPLE_RATE, max_pad_ratio=1e9))
    lengths = (5, 9, 5, 7, 9, 9)
    results = step.run_batch([mel_request(n) for n in lengths])

    assert sorted(map(sorted, recording.runs)) == [[5, 5], [7], [9, 9, 9]]
    for n, result in zip(lengths, results, strict=True):
        assert result[c.VOC_OUT_AUDIO].shape == (1, n * 200)


def load_rendered(step_name):
    config = tier_configs(get_tier("cpu-2"))[step_name]
    # Triton passes the config as JSON with parameters as {"key": {"string_value": ...}}.
    as_json = json.dumps(MessageToDict(config, preserving_proto_field_name=True))
    return config, triton_glue.load_step({"model_config": as_json, "model_name": step_name})


def test_glue_builds_steps_from_the_rendered_config(standin_voice, monkeypatch):
    monkeypatch.setenv(ALLOW_INT8_ENV, "1")  # whatever this CPU is (int8_support.py)
    config, loaded = load_rendered(c.MODEL_VOCODER)
    assert loaded.input_names == (c.VOC_IN_MEL,)
    # cpu-2 serves the int8 vocoder: its metadata (no padding masks) overrules the
    # config's padding bound.
    assert config.parameters["max_pad_ratio"].string_value == "1.5"
    assert config.parameters["onnx_file"].string_value == "vocoder_int8.onnx"
    assert config.parameters["voice"].string_value == "baker"
    assert loaded.step.vocoder.model.max_pad_ratio == 1.0
    out = loaded.step.run_batch([{c.VOC_IN_MEL: np.zeros((1, 3, c.N_MELS), np.float32)}])
    assert out[0][c.VOC_OUT_AUDIO].shape == (1, 600)
    _, text = load_rendered(c.MODEL_TEXT_FRONTEND)
    assert c.TTS_IN_SPEAKER in text.input_names and c.TTS_IN_EMOTION in text.input_names


def test_glue_serves_the_float_vocoder_where_int8_is_unmeasured(standin_voice, monkeypatch, capsys):
    monkeypatch.delenv(ALLOW_INT8_ENV, raising=False)
    monkeypatch.setattr(int8_support, "platform", SimpleNamespace(machine=lambda: "aarch64"))
    monkeypatch.setattr(int8_support, "cpu_flags", lambda: frozenset({"asimd"}))
    _, loaded = load_rendered(c.MODEL_VOCODER)
    assert is_pad_safe(loaded.step.vocoder.model.session)  # the float stand-in
    assert loaded.step.vocoder.model.max_pad_ratio == 1.5
    assert "serving vocoder.onnx instead" in capsys.readouterr().err


def test_glue_serves_the_7_bit_int8_vocoder_on_avx2_without_vnni(
    standin_voice, monkeypatch, capsys
):
    monkeypatch.delenv(ALLOW_INT8_ENV, raising=False)
    monkeypatch.setattr(int8_support, "platform", SimpleNamespace(machine=lambda: "x86_64"))
    monkeypatch.setattr(int8_support, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    _, loaded = load_rendered(c.MODEL_VOCODER)
    assert not is_pad_safe(loaded.step.vocoder.model.session)  # an int8 stand-in
    assert loaded.step.vocoder.model.max_pad_ratio == 1.0
    assert "serving vocoder_int8_avx2.onnx instead" in capsys.readouterr().err


def test_mel_of_one_sentence_is_its_batch_result(standins):
    from mandarin_tts.pipeline import AcousticRequest

    model = FastSpeech2Acoustic(session(standins / "acoustic.onnx"))
    ids = np.arange(1, 12, dtype=np.int64)
    (batched,) = model.run_batch([AcousticRequest({c.AC_IN_IDS: ids})])
    mel = model.mel(ids.reshape(1, -1))  # any shape of ids: one sentence
    assert mel.ndim == 2 and mel.shape[1] == c.N_MELS
    np.testing.assert_array_equal(mel, batched)


def test_text_step_emits_the_symbol_to_character_map() -> None:
    from mandarin_tts.serving.steps import TextFrontendStep
    from mandarin_tts.voices.registry import load_voice

    step = TextFrontendStep.for_voice(load_voice("baker"))
    (out,) = step.run_batch([{c.TTS_IN_TEXT: np.array([["曾先生".encode()]], dtype=object)}])
    assert not isinstance(out, Exception)
    chars = [x.decode() for x in out[c.TTS_OUT_CHARS][0]]
    assert chars == ["曾", "先", "生"]
    assert out[c.TTS_OUT_SYMBOL_CHARS].shape == out[c.AC_IN_IDS].shape
    assert set(out[c.TTS_OUT_SYMBOL_CHARS][0].tolist()) == {-1, 0, 1, 2}


def test_acoustic_step_returns_each_items_durations(acoustic) -> None:
    from mandarin_tts.serving.dev_models import FRAMES_PER_SYMBOL

    batch = [{c.AC_IN_IDS: np.array([[1, 2, 3]], np.int64)}, {c.AC_IN_IDS: np.array([[4]])}]
    first, second = acoustic.run_batch(batch)
    assert first[c.AC_OUT_DURATIONS].tolist() == [[FRAMES_PER_SYMBOL] * 3]
    assert second[c.AC_OUT_DURATIONS].tolist() == [[FRAMES_PER_SYMBOL]]
    assert first[c.AC_OUT_MEL].shape[1] == first[c.AC_OUT_DURATIONS].sum()
