"""ModelScope / KAN-TTS Sambert-HiFiGAN voice support: everything but the acoustic model.

Torch-free (serving code may import these):
  tables        UnitTables (KanTtsLinguisticUnit's id tables; from_am_config, to/from_json)
  units         KanttsUnitsFrontend(tables).units(text, speaker, emotion) / .encode(...),
                parse_units, encode_units, EncodedUnits, Unit
  phones        syllable_phones, letter_syllables (pinyin / letters -> PinYin phones)
  voc_config    HifiganConfig, load_hifigan_config, parse_hifigan_config
  voice_folder  read_voice_folder -> VoiceFolder (verify_checkpoints=True imports torch)
  errors        KanttsError and its subclasses
Needs torch (build time):
  hifigan       KanttsHifiganGenerator, load_hifigan(voc config, voc checkpoint)
  hifigan_onnx  export_hifigan_onnx(generator, path)
  checkpoint    read_checkpoint, fold_weight_norm
  tiny_voice    write_random_voice(out_dir, am_yaml, voc_yaml, speakers, tiny)
See docs/kantts_units.md.
"""

from mandarin_tts.kantts.errors import (
    KanttsCheckpointError,
    KanttsError,
    KanttsUnitsError,
    KanttsVocoderConfigError,
    VoiceFolderError,
)

__all__ = [
    "KanttsCheckpointError",
    "KanttsError",
    "KanttsUnitsError",
    "KanttsVocoderConfigError",
    "VoiceFolderError",
]
