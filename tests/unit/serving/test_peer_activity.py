"""PeerActivity: an instance sees another one's run through its lock file, in real
processes (flock is per open file, so a second process is the honest test)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mandarin_tts import contract as c
from mandarin_tts.pipeline.vocoders import OnnxVocoder, SharedCores
from mandarin_tts.serving.peer_activity import PeerActivity, peers_directory


class Release:
    """Ends the other process's run (a pipe, which a killed process cannot wedge)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def set(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("release")


def _hold_run(directory: Path, conn: Any) -> None:
    peer = PeerActivity(directory, "vocoder_0_1")
    with peer.running():
        conn.send("started")
        conn.poll(30)


@pytest.fixture
def other_process_running(tmp_path: Path):
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_hold_run, args=(tmp_path, theirs))
    proc.start()
    assert ours.poll(60) and ours.recv() == "started"
    release = Release(ours)
    yield proc, release
    release.set()
    proc.join(10)
    if proc.is_alive():
        proc.kill()


def test_an_idle_directory_has_no_running_peers(tmp_path: Path) -> None:
    me = PeerActivity(tmp_path, "vocoder_0_0")
    PeerActivity(tmp_path, "vocoder_0_1")  # a peer that exists but is not running
    assert not me.others_running()
    with me.running() as others:
        assert not others  # its own lock is not a peer


def test_a_peer_process_holding_a_run_is_seen_until_it_ends(
    tmp_path: Path, other_process_running: Any
) -> None:
    proc, release = other_process_running
    me = PeerActivity(tmp_path, "vocoder_0_0")
    assert me.others_running()
    with me.running() as others:
        assert others
    release.set()
    proc.join(10)
    assert not me.others_running()


def test_a_killed_peer_does_not_look_busy(tmp_path: Path, other_process_running: Any) -> None:
    proc, _ = other_process_running
    me = PeerActivity(tmp_path, "vocoder_0_0")
    assert me.others_running()
    proc.kill()
    proc.join(10)
    assert not me.others_running()


def test_each_model_directory_gets_its_own_peers_directory(tmp_path: Path) -> None:
    a = peers_directory("/repo/vocoder", tmp_path)
    assert a == peers_directory("/repo/vocoder", tmp_path)
    assert a != peers_directory("/repo/other_vocoder", tmp_path)
    assert a != peers_directory("/other_repo/vocoder", tmp_path)


class FakeSession:
    """An onnxruntime-like vocoder session that says which session ran (by its gain)."""

    def __init__(self, gain: float) -> None:
        self.gain = gain

    def get_modelmeta(self) -> Any:
        class Meta:
            custom_metadata_map: dict[str, str] = {}

        return Meta()

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        mel = feeds[c.VOC_IN_MEL]
        lengths = feeds[c.VOC_IN_MEL_LENGTHS]
        audio = np.full((mel.shape[0], mel.shape[1] * 4), self.gain, np.float32)
        return [audio, (lengths * 4).astype(np.int64)]


def test_the_vocoder_runs_narrow_only_while_a_peer_runs(
    tmp_path: Path, other_process_running: Any
) -> None:
    proc, release = other_process_running
    vocoder = OnnxVocoder(
        FakeSession(1.0), 16000, shared=SharedCores(FakeSession(2.0), PeerActivity(tmp_path, "v0"))
    )
    mel = np.zeros((5, c.N_MELS), np.float32)
    (busy,) = vocoder.run_batch([mel])
    release.set()
    proc.join(10)
    (alone,) = vocoder.run_batch([mel])
    assert isinstance(busy, np.ndarray) and isinstance(alone, np.ndarray)
    assert busy[0] == 2.0 and alone[0] == 1.0
    assert (vocoder.narrow_runs, vocoder.wide_runs) == (1, 1)
