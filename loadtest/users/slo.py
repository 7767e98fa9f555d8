"""SLO gate checked when locust quits: it decides the process exit code.

A run passes only if it saw enough requests, its error ratio is within bounds, and the
95th percentiles of request latency and first-audio latency are under their limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SloGate:
    max_error_ratio: float = 0.01
    max_p95_ms: float | None = None  # None: not gated
    max_first_audio_p95_ms: float | None = None
    # A run that completed nothing proves nothing: it fails rather than passing vacuously.
    min_requests: int = 1


@dataclass(frozen=True)
class Observed:
    requests: int
    failures: int
    p95_ms: float
    first_audio_p95_ms: float

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class GateResult:
    passed: bool
    violations: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def evaluate(gate: SloGate, observed: Observed) -> GateResult:
    violations = []
    if observed.requests < gate.min_requests:
        violations.append(f"requests {observed.requests} < {gate.min_requests}")
    if observed.error_ratio > gate.max_error_ratio:
        violations.append(
            f"error ratio {observed.error_ratio:.3f} > {gate.max_error_ratio:.3f} "
            f"({observed.failures}/{observed.requests})"
        )
    if gate.max_p95_ms is not None and not observed.p95_ms <= gate.max_p95_ms:
        violations.append(f"p95 latency {observed.p95_ms:.0f} ms > {gate.max_p95_ms:.0f} ms")
    if gate.max_first_audio_p95_ms is not None and not (
        observed.first_audio_p95_ms <= gate.max_first_audio_p95_ms
    ):
        violations.append(
            f"first-audio p95 {observed.first_audio_p95_ms:.0f} ms > "
            f"{gate.max_first_audio_p95_ms:.0f} ms"
        )
    return GateResult(passed=not violations, violations=violations)


def describe(gate: SloGate, observed: Observed, result: GateResult) -> str:
    first = (
        "n/a"
        if math.isnan(observed.first_audio_p95_ms)
        else f"{observed.first_audio_p95_ms:.0f} ms"
    )
    status = "PASSED" if result.passed else "FAILED: " + "; ".join(result.violations)
    return (
        f"SLO gate {status} | requests {observed.requests}, errors {observed.failures} "
        f"({observed.error_ratio:.1%}), p95 {observed.p95_ms:.0f} ms, first-audio p95 {first} "
        f"| limits: error ratio <= {gate.max_error_ratio}, p95 <= {gate.max_p95_ms} ms, "
        f"first-audio p95 <= {gate.max_first_audio_p95_ms} ms, requests >= {gate.min_requests}"
    )
