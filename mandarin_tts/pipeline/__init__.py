"""The one text -> units -> mel -> audio chain, over a voice.

    pipeline = VoicePipeline.load(load_voice("baker"))
    audio = pipeline.synthesize("您好。", speed=1.1)

The Triton steps, the benchmarks' in-process and Flask systems, bridge fitting and int8
calibration all run their models through these classes.
"""

from mandarin_tts.pipeline.components import AcousticRequest, ItemResult, SynthesisFailed
from mandarin_tts.pipeline.voice_pipeline import VoicePipeline

__all__ = ["AcousticRequest", "ItemResult", "SynthesisFailed", "VoicePipeline"]
