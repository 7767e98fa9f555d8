"""KAN-TTS HiFi-GAN: config variants, checkpoint loading, torch vs ONNX, padding safety.

Parameter counts are KAN-TTS's own (its Generator built from kantts/configs/*.yaml with
weight norm, counted in the reference venv); scripts/verify_kantts_hifigan.py compares the
audio with KAN-TTS's inference.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import yaml

from mandarin_tts.contract import ONNX_META_PAD_SAFE
from mandarin_tts.kantts.checkpoint import fold_weight_norm
from mandarin_tts.kantts.errors import KanttsCheckpointError, KanttsVocoderConfigError
from mandarin_tts.kantts.hifigan import (
    HifiganConfig,
    KanttsHifiganGenerator,
    load_hifigan,
    load_hifigan_config,
    parse_hifigan_config,
)
from mandarin_tts.kantts.hifigan_onnx import export_hifigan_onnx
from mandarin_tts.kantts.tiny_voice import (
    DEFAULT_VOC_PARAMS,
    random_generator_state,
    voc_checkpoint_dict,
)

V1_16K = DEFAULT_VOC_PARAMS  # kantts/configs/hifigan_v1_16k.yaml
V1_24K = {**DEFAULT_VOC_PARAMS, "channels": 512, "upsample_scales": [8, 5, 3, 2],
          "upsample_kernal_sizes": [16, 10, 6, 4],
          "resblock_dilations": [[1, 3, 5]] * 3}  # fmt: skip
NONCAUSAL_16K = {**DEFAULT_VOC_PARAMS, "upsample_kernal_sizes": [20, 11, 4, 4], "causal": False}
V1_8K = {**DEFAULT_VOC_PARAMS, "upsample_scales": [5, 5, 2, 2],
         "upsample_kernal_sizes": [10, 10, 4, 4]}  # fmt: skip
V1_48K = {**DEFAULT_VOC_PARAMS, "in_channels": 128, "channels": 512,
          "upsample_scales": [10, 5, 3, 2, 2], "upsample_kernal_sizes": [20, 10, 6, 4, 4]}  # fmt: skip
NSF_24K = {**V1_24K, "nsf_params": {"nb_harmonics": 7, "sampling_rate": 24000}}


def _doc(params: dict[str, Any], fs: int = 16000) -> dict[str, Any]:
    return {
        "model_type": "hifigan",
        "Model": {"Generator": {"params": copy.deepcopy(params)}, "MultiPeriodDiscriminator": {}},
        "Loss": {"mel_loss": {"params": {"fs": fs}}},
    }


def _tiny(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "channels": 32 if len(params["upsample_scales"]) == 4 else 64}


@pytest.mark.parametrize(
    ("params", "hop", "keys", "numel"),
    [
        (V1_16K, 200, 318, 4_864_546),
        (V1_24K, 240, 246, 14_975_426),
        (NONCAUSAL_16K, 200, 318, 4_872_738),
        (V1_8K, 100, 318, 4_536_866),
        (V1_48K, 600, 396, 19_382_562),
    ],
)
def test_kantts_shapes(params: dict[str, Any], hop: int, keys: int, numel: int) -> None:
    config = parse_hifigan_config(_doc(params))
    assert config.hop == hop and config.sampling_rate == 16000
    state = random_generator_state(config, seed=0)  # KAN-TTS's weight-norm layout
    assert len(state) == keys
    assert sum(v.numel() for v in state.values()) == numel
    assert state["conv_pre.conv1d.weight_g"].shape == (config.channels, 1, 1)
    assert state["transpose_upsamples.0.1.deconv.weight_v"].shape[0] == config.channels


def _write(tmp_path: Path, params: dict[str, Any], name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(_doc(params)), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (NSF_24K, "NSF HiFi-GAN"),
        ({**V1_16K, "nsf_params": {"nb_harmonics": 7, "nsf_norm_type": "global"}}, "'global'"),
        ({**V1_16K, "out_channels": 4}, "multi-band"),
        ({**V1_16K, "nonlinear_activation": "ELU"}, "ELU"),
        ({**V1_16K, "repeat_upsample": False}, "repeat_upsample"),
        ({**V1_16K, "use_snake": True}, "unknown Generator params"),
        ({**V1_16K, "kernel_size": 6}, "odd"),
        ({**V1_16K, "upsample_scales": [10, 5, 2]}, "equal lengths"),
        ({**V1_16K, "upsample_kernal_sizes": [10, 10, 4, 4]}, "too small"),
        ({**V1_16K, "channels": 24}, "halve"),
        ({**V1_16K, "upsample_scales": "10,5"}, "list of positive ints"),
    ],
)
def test_unsupported_variants_name_the_file(
    tmp_path: Path, params: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, params)
    with pytest.raises(KanttsVocoderConfigError, match=message) as err:
        load_hifigan_config(path)
    assert str(path) in str(err.value)


def test_other_model_files(tmp_path: Path) -> None:
    # Missing and unreadable files: tests/unit/test_voice_files.py.
    sambert = tmp_path / "am.yaml"
    sambert.write_text(yaml.safe_dump({"model_type": "sambert"}), encoding="utf-8")
    with pytest.raises(KanttsVocoderConfigError, match="'sambert' is not supported"):
        load_hifigan_config(sambert)
    empty = tmp_path / "empty.yaml"
    empty.write_text(yaml.safe_dump({"Model": {}}), encoding="utf-8")
    with pytest.raises(KanttsVocoderConfigError, match="no Model.Generator.params"):
        load_hifigan_config(empty)


@pytest.mark.filterwarnings("ignore:.*weight_norm.*is deprecated")
def test_weight_norm_folding_matches_torch() -> None:
    torch.manual_seed(0)
    for layer in (torch.nn.Conv1d(6, 4, 3), torch.nn.ConvTranspose1d(6, 4, 5, 2)):
        normed = torch.nn.utils.weight_norm(copy.deepcopy(layer))
        with torch.no_grad():
            normed.weight_g.uniform_(0.5, 2.0)
        state = {f"x.{k}": v for k, v in normed.state_dict().items()}
        folded = fold_weight_norm(state)
        assert set(folded) == {"x.weight", "x.bias"}
        x = torch.randn(1, 6, 9)
        with torch.no_grad():
            expected = normed(x)
            plain = copy.deepcopy(layer)
            plain.weight.copy_(folded["x.weight"])
            assert torch.allclose(plain(x), expected, atol=1e-6)
        parametrized = torch.nn.utils.parametrizations.weight_norm(copy.deepcopy(layer))
        p_state = {f"x.{k}": v for k, v in parametrized.state_dict().items()}
        assert set(fold_weight_norm(p_state)) == {"x.weight", "x.bias"}


def _checkpoint(tmp_path: Path, params: dict[str, Any], seed: int = 0) -> tuple[Path, Path]:
    config_path = _write(tmp_path, params)
    config = load_hifigan_config(config_path)
    ckpt = tmp_path / "checkpoint_1.pth"
    torch.save(voc_checkpoint_dict(random_generator_state(config, seed), 1), ckpt)
    return config_path, ckpt


@pytest.fixture(scope="module", params=["causal", "noncausal"])
def tiny_generator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    params = _tiny(V1_16K if request.param == "causal" else NONCAUSAL_16K)
    tmp = tmp_path_factory.mktemp(request.param)
    config_path, ckpt = _checkpoint(tmp, params)
    generator = load_hifigan(config_path, ckpt)
    onnx_path = export_hifigan_onnx(generator, tmp / "voc.onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return generator, onnx_path, session


def _mels(lengths: list[int], n_mels: int = 80, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, n_mels)).astype(np.float32) for n in lengths]


def test_onnx_equals_torch(tiny_generator) -> None:  # type: ignore[no-untyped-def]
    generator, _, session = tiny_generator
    for mel in _mels([1, 9, 40]):
        audio, lengths = session.run(None, {"mel": mel[None], "mel_lengths": np.array([len(mel)])})
        with torch.no_grad():
            expected = generator(torch.from_numpy(mel).T[None])[0, 0].numpy()
        assert audio.shape == (1, len(mel) * 200) and lengths.tolist() == [len(mel) * 200]
        assert np.abs(audio[0] - expected).max() <= 1e-4
        assert np.abs(expected).max() > 0.05  # not silence: the comparison means something


def test_padded_batch_equals_single(tiny_generator) -> None:  # type: ignore[no-untyped-def]
    _, _, session = tiny_generator
    mels = _mels([31, 4, 17, 31], seed=1)
    batch = np.full((len(mels), 31, 80), 5.0, np.float32)  # loud padding, to be ignored
    for i, mel in enumerate(mels):
        batch[i, : len(mel)] = mel
    lengths = np.array([len(m) for m in mels], np.int64)
    audio, audio_lengths = session.run(None, {"mel": batch, "mel_lengths": lengths})
    assert audio.shape == (4, 31 * 200) and audio_lengths.tolist() == (lengths * 200).tolist()
    for i, mel in enumerate(mels):
        alone, _ = session.run(None, {"mel": mel[None], "mel_lengths": lengths[i : i + 1]})
        n = audio_lengths[i]
        assert np.abs(audio[i, :n] - alone[0]).max() <= 1e-4
        assert not audio[i, n:].any()


def test_onnx_metadata(tiny_generator) -> None:  # type: ignore[no-untyped-def]
    _, onnx_path, session = tiny_generator
    props = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert props[ONNX_META_PAD_SAFE] == "true" and props["hop"] == "200"
    assert props["sample_rate"] == "16000" and props["kantts_voc_config"].endswith("config.yaml")
    assert [i.name for i in session.get_inputs()] == ["mel", "mel_lengths"]
    assert [o.name for o in session.get_outputs()] == ["audio", "audio_lengths"]


def test_causal_generator_ignores_the_future() -> None:
    generator = KanttsHifiganGenerator(parse_hifigan_config(_doc(_tiny(V1_16K)))).eval()
    mel = torch.randn(1, 80, 20)
    later = mel.clone()
    later[..., 12:] = torch.randn(1, 80, 8)
    with torch.no_grad():
        a, b = generator(mel), generator(later)
    assert torch.equal(a[..., : 12 * 200], b[..., : 12 * 200])
    assert not torch.equal(a[..., 12 * 200 :], b[..., 12 * 200 :])


def test_checkpoint_errors(tmp_path: Path) -> None:
    config_path, ckpt = _checkpoint(tmp_path, _tiny(V1_16K))
    data = torch.load(ckpt, weights_only=False)

    def save(obj: Any, name: str) -> Path:
        path = tmp_path / name
        torch.save(obj, path)
        return path

    state = data["model"]["generator"]
    missing = save({"model": {"generator": {k: v for k, v in state.items()
                                            if "conv_post" not in k}}}, "missing.pth")  # fmt: skip
    with pytest.raises(KanttsCheckpointError, match=r"missing.pth.*missing keys \(2\): conv_post"):
        load_hifigan(config_path, missing)
    extra = save({"model": {"generator": {**state, "source_module.ffn.0.bias": torch.zeros(1)}}},
                 "nsf.pth")  # fmt: skip
    with pytest.raises(KanttsCheckpointError, match="NSF vocoder"):
        load_hifigan(config_path, extra)
    wider = _write(tmp_path, {**_tiny(V1_16K), "channels": 64}, "wider.yaml")
    with pytest.raises(
        KanttsCheckpointError, match=r"do not match .*wider.yaml: other shapes \(211\)"
    ):
        load_hifigan(wider, ckpt)
    with pytest.raises(KanttsCheckpointError, match=r"no 'generator' entry at \['model'\]"):
        load_hifigan(config_path, save({"model": state}, "am_like.pth"))
    with pytest.raises(KanttsCheckpointError, match="not found"):
        load_hifigan(config_path, tmp_path / "checkpoint_9.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(KanttsCheckpointError, match="garbage.pth: not a readable torch"):
        load_hifigan(config_path, garbage)
    with pytest.raises(KanttsCheckpointError, match="is a dict"):
        load_hifigan(config_path, save([1, 2], "list.pth"))


def test_plain_weight_checkpoint_loads(tmp_path: Path) -> None:
    """A checkpoint saved after remove_weight_norm() (plain `.weight`) loads the same."""
    config_path, ckpt = _checkpoint(tmp_path, _tiny(V1_16K))
    generator = load_hifigan(config_path, ckpt)
    plain = tmp_path / "plain.pth"
    torch.save({"model": {"generator": generator.state_dict()}}, plain)
    again = load_hifigan(config_path, plain)
    mel = torch.randn(1, 80, 6)
    with torch.no_grad():
        assert torch.equal(generator(mel), again(mel))


def test_config_defaults_match_kantts_16k() -> None:
    assert parse_hifigan_config(_doc(V1_16K)) == HifiganConfig(sampling_rate=16000)
