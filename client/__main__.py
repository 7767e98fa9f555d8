"""python -m client [TEXT | - | --file FILE] [-o out.wav | -o -] [--via frontend|http|grpc]
[--ws] [--url URL] [--api-key KEY] [--format FMT] [--sample-rate HZ] [--voice NAME]
[--speaker NAME] [--emotion NAME];  python -m client --list-voices

TEXT `-` (or --file -) reads the text from stdin; `-o -` writes the audio to stdout as it
arrives. --ws streams the text through the WebSocket route (from stdin: as it is typed or
piped, e.g. from an LLM). The API key may also come from the TTS_API_KEY variable."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from client import frontend_client, triton_direct
from client.frontend_client import FORMATS, SAMPLE_RATES, STREAMED_FORMATS
from client.wav import fix_wav_sizes

API_KEY_ENV = "TTS_API_KEY"
DEFAULT_URLS = {
    "frontend": "http://127.0.0.1:8080",
    "http": "127.0.0.1:8000",
    "grpc": "127.0.0.1:8001",
}
STDIO = "-"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m client", description="Mandarin TTS client")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("text", nargs="?", help="text to speak; - reads it from stdin")
    source.add_argument("-f", "--file", help="UTF-8 text file to speak; - is stdin")
    source.add_argument(
        "--list-voices", action="store_true", help="print the frontend's GET /v1/voices and exit"
    )
    parser.add_argument(
        "-o", "--output", default="speech.wav", help="audio file; - writes to stdout"
    )
    parser.add_argument(
        "--via",
        choices=sorted(DEFAULT_URLS),
        default="frontend",
        help="the HTTP frontend (default), or Triton directly over http or grpc",
    )
    parser.add_argument(
        "--ws", action="store_true", help="stream the text through the frontend's WebSocket"
    )
    parser.add_argument(
        "--url", help="default: " + ", ".join(f"{k}={v}" for k, v in DEFAULT_URLS.items())
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(API_KEY_ENV) or None,
        help=f"the frontend's API key (default: ${API_KEY_ENV})",
    )
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--voice", help="an installed voice (default: the server's default)")
    parser.add_argument("--speaker", help="a speaker of the voice (default: its default)")
    parser.add_argument("--emotion", help="an emotion of the voice (default: its default)")
    parser.add_argument("--format", choices=FORMATS, default="wav")
    parser.add_argument(
        "--sample-rate",
        type=int,
        choices=SAMPLE_RATES,
        metavar="HZ",
        help=f"delivered rate, one of {', '.join(map(str, SAMPLE_RATES))} (default: the "
        "voice's; 8000 for mulaw/alaw)",
    )
    parser.add_argument(
        "--lexicon",
        metavar="FILE",
        help="readings for this request: one 'word toned-pinyin' per line, # comments "
        "(sent as /v1/tts `lexicon`); SSML needs no option: text starting with <speak is SSML",
    )
    parser.add_argument(
        "--timestamps",
        metavar="FILE",
        help="write per-character times (JSON: segments, sentences) to FILE (POST /v1/tts)",
    )
    parser.add_argument(
        "--subtitles",
        metavar="FILE",
        help="write sentence subtitles to FILE, SubRip or WebVTT by its suffix (.srt, .vtt)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    if args.ws and args.via != "frontend":
        parser.error("--ws talks to the frontend; leave --via out")
    if args.ws and args.format not in STREAMED_FORMATS:
        parser.error(f"--ws streams {', '.join(sorted(STREAMED_FORMATS))}, not {args.format}")
    return args


def read_lexicon(path: str) -> dict[str, str]:
    """A lexicon file ('word pinyin ...' per line, '#' comments) as /v1/tts's `lexicon`;
    a line without a reading raises ValueError naming it (the server checks the readings)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, reading = line.partition(" ") if " " in line else line.partition("\t")
        if not reading.strip():
            raise ValueError(f"{path}:{number}: expected 'word toned-pinyin', got {line!r}")
        entries[word.strip()] = " ".join(reading.split())
    return entries


def _read_text(args: argparse.Namespace) -> str | None:
    """The text to speak; None for --ws from stdin (read as it arrives)."""
    name = args.file if args.file is not None else args.text
    if name == STDIO:
        return None if args.ws else sys.stdin.read()
    if args.file is not None:
        return Path(args.file).read_text(encoding="utf-8")
    return str(args.text)


class _Sink:
    """Audio bytes to stdout as they arrive (a player can start at once), or kept for a file
    that is written once complete, with its WAV sizes filled in."""

    def __init__(self, to_stdout: bool) -> None:
        self.to_stdout = to_stdout
        self.parts: list[bytes] = []
        self.size = 0

    def __call__(self, data: bytes) -> None:
        self.size += len(data)
        if self.to_stdout:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            self.parts.append(data)

    def save(self, path: str) -> None:
        Path(path).write_bytes(fix_wav_sizes(b"".join(self.parts)))


def subtitle_format(path: str) -> str | None:
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in ("srt", "vtt") else None


def write_timings(answer: dict[str, Any], timestamps: str | None, subtitles: str | None) -> None:
    """The JSON answer's timings to `timestamps`, its subtitle text to `subtitles`."""
    if timestamps:
        timings = {k: v for k, v in answer.items() if k not in ("subtitles", "subtitles_format")}
        Path(timestamps).write_text(json.dumps(timings, ensure_ascii=False, indent=1), "utf-8")
    if subtitles:
        Path(subtitles).write_text(answer["subtitles"], encoding="utf-8")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.url or DEFAULT_URLS[args.via]
    if args.list_voices:
        try:
            voices = frontend_client.list_voices(url, api_key=args.api_key)
        except Exception as error:  # one line, non-zero exit
            return _fail(str(error))
        print(json.dumps(voices, ensure_ascii=False, indent=2))
        return 0
    try:
        text = _read_text(args)
    except OSError as error:
        return _fail(f"cannot read the text: {error}")
    if text is not None and not text.strip():
        return _fail("the text is empty")
    try:
        lexicon = read_lexicon(args.lexicon) if args.lexicon else None
    except (OSError, ValueError) as error:
        return _fail(f"cannot read the lexicon: {error}")
    if lexicon and (args.ws or args.via != "frontend"):
        return _fail("--lexicon is sent to POST /v1/tts: leave --ws and --via out")
    subtitles = subtitle_format(args.subtitles) if args.subtitles else None
    if args.subtitles and subtitles is None:
        return _fail("--subtitles FILE must end in .srt or .vtt")
    timed = bool(args.timestamps or args.subtitles)
    if timed and (args.ws or args.via != "frontend"):
        return _fail("--timestamps/--subtitles use POST /v1/tts: leave --ws and --via out")
    sink = _Sink(to_stdout=args.output == STDIO)
    long_text = text is None or len(text) > 100 or args.file is not None
    options: dict[str, Any] = {
        "speed": args.speed,
        "voice": args.voice,
        "speaker": args.speaker,
        "emotion": args.emotion,
        "show_progress": not args.no_progress and long_text,
    }
    start = time.monotonic()
    try:
        if args.ws:
            from client import ws_client

            config = {"format": args.format, "sample_rate": args.sample_rate, **options}
            del config["show_progress"]
            result = ws_client.speak_text(
                None if text is None else [text],
                url,
                sink,
                config=config,
                api_key=args.api_key,
                expected_chars=len(text or ""),
                show_progress=options["show_progress"],
            )
            detail = f", first audio {result.first_audio_s or 0:.2f} s"
        elif timed:
            audio, answer = frontend_client.synthesize_timed(
                text or "",
                url,
                subtitles=subtitles,
                api_key=args.api_key,
                format=args.format,
                sample_rate=args.sample_rate,
                lexicon=lexicon,
                speed=args.speed,
                voice=args.voice,
                speaker=args.speaker,
                emotion=args.emotion,
            )
            sink(audio)
            write_timings(answer, args.timestamps, args.subtitles)
            detail = f", {len(answer['segments'])} timed characters"
        elif args.via == "frontend":
            for block in frontend_client.stream(
                text or "",
                url,
                audio_format=args.format,
                sample_rate=args.sample_rate,
                api_key=args.api_key,
                lexicon=lexicon,
                **options,
            ):
                sink(block)
            detail = ""
        else:
            audio = triton_direct.synthesize(
                text or "",
                url,
                args.via,
                audio_format=args.format,
                sample_rate=args.sample_rate,
                **options,
            )
            sink(audio)
            detail = ""
    except BrokenPipeError:  # the reader of stdout went away (a player closed)
        return 1
    except Exception as error:  # report any failure as one line, exit non-zero
        return _fail(str(error))
    if not sink.to_stdout:
        sink.save(args.output)
    target = "stdout" if sink.to_stdout else args.output
    print(
        f"wrote {target} ({sink.size} bytes) in {time.monotonic() - start:.2f} s{detail}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
