"""python -m client [TEXT | --file FILE] -o out.wav [--via frontend|http|grpc] [--url URL]
[--voice NAME] [--speaker NAME] [--emotion NAME];  python -m client --list-voices"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from client import frontend_client, triton_direct

DEFAULT_URLS = {
    "frontend": "http://127.0.0.1:8080",
    "http": "127.0.0.1:8000",
    "grpc": "127.0.0.1:8001",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m client", description="Mandarin TTS client")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("text", nargs="?", help="text to speak")
    source.add_argument("-f", "--file", type=Path, help="UTF-8 text file to speak")
    source.add_argument(
        "--list-voices", action="store_true", help="print the frontend's GET /v1/voices and exit"
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("speech.wav"))
    parser.add_argument(
        "--via",
        choices=sorted(DEFAULT_URLS),
        default="frontend",
        help="the HTTP frontend (default), or Triton directly over http or grpc",
    )
    parser.add_argument(
        "--url", help="default: " + ", ".join(f"{k}={v}" for k, v in DEFAULT_URLS.items())
    )
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--voice", help="an installed voice (default: the server's default)")
    parser.add_argument("--speaker", help="a speaker of the voice (default: its default)")
    parser.add_argument("--emotion", help="an emotion of the voice (default: its default)")
    parser.add_argument("--format", choices=["wav", "flac", "ogg"], default="wav")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.url or DEFAULT_URLS[args.via]
    if args.list_voices:
        try:
            print(json.dumps(frontend_client.list_voices(url), ensure_ascii=False, indent=2))
        except Exception as error:  # one line, non-zero exit
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    text = args.file.read_text(encoding="utf-8") if args.file else args.text
    # The same options either way; the bar is worth showing for long input on a terminal.
    options: dict[str, Any] = {
        "speed": args.speed,
        "audio_format": args.format,
        "voice": args.voice,
        "speaker": args.speaker,
        "emotion": args.emotion,
        "show_progress": not args.no_progress and (len(text) > 100 or args.file is not None),
    }
    start = time.monotonic()
    try:
        if args.via == "frontend":
            audio = frontend_client.synthesize(text, url, **options)
        else:
            audio = triton_direct.synthesize(text, url, args.via, **options)
    except Exception as error:  # report any failure as one line, exit non-zero
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.output.write_bytes(audio)
    print(
        f"wrote {args.output} ({len(audio)} bytes) in {time.monotonic() - start:.2f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
