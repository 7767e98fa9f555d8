from dataclasses import dataclass

import numpy as np
import pytest

from mandarin_tts import contract as c
from mandarin_tts.serving.dev_models import write_standins
from mandarin_tts.serving.int8_support import ALLOW_INT8_ENV
from mandarin_tts.serving.ort_session import OrtSettings, make_session
from mandarin_tts.serving.steps import (
    ACOUSTIC_SPEC,
    TF_OUT_DEBUG,
    VOC_OUT_SAMPLE_RATE,
    VOCODER_SPEC,
    OnnxBatchStep,
    StepInputError,
    TextFrontendStep,
    is_pad_safe,
)


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    return write_standins(tmp_path_factory.mktemp("standin"))


@pytest.fixture(scope="module")
def acoustic(standins):
    return OnnxBatchStep(make_session(standins / "acoustic.onnx", OrtSettings()), ACOUSTIC_SPEC)


@pytest.fixture(scope="module")
def vocoder(standins):
    return OnnxBatchStep(make_session(standins / "vocoder.onnx", OrtSettings()), VOCODER_SPEC)


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
        assert audio_result[VOC_OUT_SAMPLE_RATE].tolist() == [[c.OUTPUT_SAMPLE_RATE]]


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


def test_an_id_the_model_rejects_is_isolated_by_rerunning_alone(acoustic):
    # 10_000 passes validation but is outside the stand-in's vocabulary: the padded run
    # fails inside onnxruntime, then each request runs alone.
    batch = [ids_request(4), {c.AC_IN_IDS: np.array([[10_000]], np.int64)}, ids_request(2)]
    results = acoustic.run_batch(batch)
    assert isinstance(results[1], StepInputError)
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


class FakeError(ValueError):
    pass


@dataclass
class FakeResult:
    ids: np.ndarray
    normalized: str
    phonemes: str


class FakeFrontend:
    def encode(self, text):
        if not text.strip():
            raise FakeError("empty text")
        return FakeResult(np.arange(1, len(text) + 1), text, " ".join(text))


def fake_decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FakeError("not UTF-8") from exc


def text_request(raw, **scales):
    request = {c.TTS_IN_TEXT: np.array([[raw]], dtype=object)}
    for name, value in scales.items():
        request[name] = np.array([[value]], np.float32)
    return request


def test_text_step_outputs_ids_scales_and_debug():
    step = TextFrontendStep(FakeFrontend(), fake_decode, FakeError)
    results = step.run_batch(
        [
            text_request("你好".encode(), SPEED=1.5),
            text_request(b""),
            text_request(b"\xff\xfe"),
            text_request(b"ok", PITCH=7.0),
        ]
    )
    ok = results[0]
    assert ok[c.AC_IN_IDS].tolist() == [[1, 2]]
    assert ok[c.AC_IN_SPEED].tolist() == [[1.5]]
    assert ok[c.AC_IN_PITCH].tolist() == [[1.0]]
    assert ok[TF_OUT_DEBUG][0, 0].decode() == "你好"
    assert [str(r) for r in results[1:]] == [
        "empty text",
        "not UTF-8",
        "PITCH must be within [0.5, 2.0], got 7.0",
    ]
    assert all(isinstance(r, StepInputError) for r in results[1:])


def test_split_runs_give_the_same_results_as_one_run(standins):
    session = make_session(standins / "acoustic.onnx", OrtSettings())
    one_run = OnnxBatchStep(session, ACOUSTIC_SPEC, max_pad_ratio=1e9)
    split = OnnxBatchStep(session, ACOUSTIC_SPEC, max_pad_ratio=1.0)
    batch = [ids_request(n) for n in (2, 30, 3, 29, 1)]
    for a, b in zip(one_run.run_batch(batch), split.run_batch(batch), strict=True):
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
    assert is_pad_safe(make_session(standins / "vocoder.onnx", OrtSettings()))
    assert is_pad_safe(make_session(standins / "acoustic.onnx", OrtSettings()))
    assert not is_pad_safe(make_session(standins / "vocoder_int8.onnx", OrtSettings()))


def test_a_model_without_padding_masks_runs_only_equal_lengths_together(standins):
    session = RecordingSession(make_session(standins / "vocoder_int8.onnx", OrtSettings()))
    # The config asks for one padded run; the model's metadata overrules it.
    step = OnnxBatchStep(session, VOCODER_SPEC, max_pad_ratio=1e9)
    lengths = (5, 9, 5, 7, 9, 9)
    results = step.run_batch([mel_request(n) for n in lengths])

    assert sorted(map(sorted, session.runs)) == [[5, 5], [7], [9, 9, 9]]
    for n, result in zip(lengths, results, strict=True):
        assert result[c.VOC_OUT_AUDIO].shape == (1, n * 200)


def test_glue_builds_steps_from_the_rendered_config(standins, monkeypatch):
    import json

    from google.protobuf.json_format import MessageToDict

    from mandarin_tts.serving import triton_glue
    from mandarin_tts.serving.render import tier_configs
    from mandarin_tts.serving.tiers import get_tier

    monkeypatch.setenv(triton_glue.MODELS_DIR_ENV, str(standins))
    monkeypatch.setenv(ALLOW_INT8_ENV, "1")  # whatever this CPU is (int8_support.py)
    config = tier_configs(get_tier("cpu-2"))[c.MODEL_VOCODER]
    # Triton passes the config as JSON with parameters as {"key": {"string_value": ...}}.
    as_json = json.dumps(MessageToDict(config, preserving_proto_field_name=True))
    loaded = triton_glue.load_step({"model_config": as_json, "model_name": "vocoder"})
    assert loaded.input_names == (c.VOC_IN_MEL,)
    # cpu-2 serves the int8 vocoder: its metadata (no padding masks) overrules the
    # config's padding bound.
    assert config.parameters["max_pad_ratio"].string_value == "1.5"
    assert config.parameters["onnx_file"].string_value == "vocoder_int8.onnx"
    assert loaded.step.max_pad_ratio == 1.0
    out = loaded.step.run_batch([{c.VOC_IN_MEL: np.zeros((1, 3, c.N_MELS), np.float32)}])
    assert out[0][c.VOC_OUT_AUDIO].shape == (1, 600)


def test_glue_serves_the_float_vocoder_where_int8_is_unmeasured(standins, monkeypatch, capsys):
    import json

    from google.protobuf.json_format import MessageToDict

    from mandarin_tts.serving import int8_support, triton_glue
    from mandarin_tts.serving.render import tier_configs
    from mandarin_tts.serving.tiers import get_tier

    monkeypatch.setenv(triton_glue.MODELS_DIR_ENV, str(standins))
    monkeypatch.delenv(ALLOW_INT8_ENV, raising=False)
    monkeypatch.setattr(int8_support, "cpu_flags", lambda: frozenset({"avx2"}))
    config = tier_configs(get_tier("cpu-2"))[c.MODEL_VOCODER]
    as_json = json.dumps(MessageToDict(config, preserving_proto_field_name=True))
    loaded = triton_glue.load_step({"model_config": as_json, "model_name": "vocoder"})
    assert is_pad_safe(loaded.step.session)  # the float stand-in, not the int8 one
    assert loaded.step.max_pad_ratio == 1.5
    assert "serving vocoder.onnx instead" in capsys.readouterr().err
