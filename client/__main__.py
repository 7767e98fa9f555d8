"""python -m client [TEXT | --file FILE] -o out.wav [--via frontend|http|grpc] [--url URL]"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

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
    parser.add_argument("--format", choices=["wav", "flac", "ogg"], default="wav")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    text = args.file.read_text(encoding="utf-8") if args.file else args.text
    url = args.url or DEFAULT_URLS[args.via]
    # The bar is worth showing for long input on a terminal.
    show = not args.no_progress and (len(text) > 100 or args.file is not None)
    start = time.monotonic()
    try:
        if args.via == "frontend":
            audio = frontend_client.synthesize(
                text, url, speed=args.speed, audio_format=args.format, show_progress=show
            )
        else:
            audio = triton_direct.synthesize(
                text, url, args.via, speed=args.speed, audio_format=args.format, show_progress=show
            )
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
