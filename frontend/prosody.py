"""Per-chunk prosody: multipliers SSML `prosody`/`emphasis` put on the request's own values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prosody:
    speed: float = 1.0  # times the request's speed (> 1 is faster)
    pitch: float = 1.0  # times the request's pitch
    volume: float = 1.0  # times the request's volume (a gain on the audio)

    @property
    def is_neutral(self) -> bool:
        return self.speed == 1.0 and self.pitch == 1.0 and self.volume == 1.0

    def times(self, other: Prosody) -> Prosody:
        """Nested spans multiply."""
        return Prosody(
            self.speed * other.speed, self.pitch * other.pitch, self.volume * other.volume
        )


NEUTRAL = Prosody()
