"""Print the pip requirements of one container image, pinned by requirements/lock.txt.

pyproject.toml names each image's direct dependencies; requirements/lock.txt (pip-compile,
sha256 hashes) fixes their versions and those of everything they pull in. For a flavor this
prints the flavor's direct dependencies plus their closure in the lock (followed through the
lock's `# via` annotations), one `name==version --hash=...` line each, so `pip install -r`
installs exactly the locked files and fails if the image needs anything the lock lacks.
The images differ from a developer install in these ways:
- no image carries the `nvidia-pytriton` files: its bundled tritonserver 2.51 has the 2025
  CVEs (see docs/security.md); the Triton image uses the NGC server in /opt/tritonserver;
- the builder stage adds the `build` extra (torch, onnx, tflite) to the runtime list;
- the GPU Triton image swaps `onnxruntime` for `onnxruntime-gpu[cuda,cudnn]` at the locked
  onnxruntime version (its CUDA wheels are not in the lock, so that list has no hashes),
  the frontend image drops onnxruntime altogether, and the load-test image adds locust
  from the dev extra.

The images run the project from its source tree (PYTHONPATH), not from a wheel: the
package data (tiers.toml, lexicons, bridge parameters, static files) stays where the
code expects it. Stdlib only (tomllib): it runs before anything is installed.

    python3 docker/requirements.py --flavor cpu --lock requirements/lock.txt > requirements.txt
    python3 docker/requirements.py --flavor cpu --no-lock     # the unpinned direct list
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib

FLAVORS = ("models", "cpu", "gpu", "frontend", "loadtest")

# Never installed in an image (the NGC container has the server itself).
EXCLUDED_EVERYWHERE = frozenset({"nvidia-pytriton"})
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement: str) -> str:
    """The normalized project name of a PEP 508 requirement string."""
    match = _NAME.match(requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def image_requirements(pyproject: dict, flavor: str) -> list[str]:
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}; expected one of {FLAVORS}")
    project = pyproject["project"]
    runtime = [r for r in project["dependencies"] if requirement_name(r) not in EXCLUDED_EVERYWHERE]
    if flavor == "cpu":
        return runtime
    if flavor == "models":  # the builder stage: build the ONNX files, render a repository
        return runtime + list(project["optional-dependencies"]["build"])
    if flavor == "gpu":
        # The extras bring CUDA 12 / cuDNN 9 user-space libraries as wheels, so the
        # package works whatever CUDA release the NGC image itself carries.
        return [
            r.replace("onnxruntime", "onnxruntime-gpu[cuda,cudnn]", 1)
            if requirement_name(r) == "onnxruntime"
            else r
            for r in runtime
        ]
    without_ort = [r for r in runtime if requirement_name(r) != "onnxruntime"]
    if flavor == "frontend":
        return without_ort
    dev = project["optional-dependencies"]["dev"]
    return without_ort + [r for r in dev if requirement_name(r) == "locust"]


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    hashes: tuple[str, ...]
    parents: frozenset[str]  # `# via` names: what pulled it in


def parse_lock(text: str) -> dict[str, Locked]:
    """{normalized name: entry} of a pip-compile lock written with --generate-hashes."""
    entries: dict[str, Locked] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        pin = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", block)
        if not pin:
            continue
        name = requirement_name(pin.group(1))
        via = re.findall(r"#\s+(?:via\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*$", block, re.MULTILINE)
        entries[name] = Locked(
            name=name,
            version=pin.group(2),
            hashes=tuple(re.findall(r"--hash=(\S+)", block)),
            parents=frozenset(requirement_name(v) for v in via if v != "via"),
        )
    return entries


def locked_closure(direct: list[str], lock: dict[str, Locked]) -> list[Locked]:
    """The lock entries for `direct` and, transitively, everything they pulled in."""
    roots = {requirement_name(r) for r in direct}
    missing = sorted(roots - lock.keys())
    if missing:
        raise ValueError(f"not in the lock (run `make lock`): {', '.join(missing)}")
    included = set(roots)
    grew = True
    while grew:
        grew = False
        for entry in lock.values():
            if entry.name not in included and entry.parents & included:
                included.add(entry.name)
                grew = True
    return [lock[name] for name in sorted(included)]


def locked_requirements(pyproject: dict, flavor: str, lock_text: str) -> list[str]:
    direct = image_requirements(pyproject, flavor)
    lock = parse_lock(lock_text)
    # A direct requirement's environment marker (tomli on Python 3.10) travels with its pin.
    markers = {requirement_name(r): r.split(";", 1)[1].strip() for r in direct if ";" in r}

    def pin(entry: Locked, name: str, hashes: bool) -> str:
        marker = f"; {markers[entry.name]}" if entry.name in markers else ""
        hash_options = [f"--hash={h}" for h in entry.hashes] if hashes else []
        return " ".join([f"{name}=={entry.version}{marker}", *hash_options])

    if flavor == "gpu":  # onnxruntime-gpu and its CUDA wheels: pinned, not hashed
        roots = [r for r in direct if requirement_name(r) != "onnxruntime-gpu"] + ["onnxruntime"]
        return [
            pin(e, "onnxruntime-gpu[cuda,cudnn]" if e.name == "onnxruntime" else e.name, False)
            for e in locked_closure(roots, lock)
        ]
    return [pin(e, e.name, True) for e in locked_closure(direct, lock)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavor", choices=FLAVORS, required=True)
    parser.add_argument(
        "--pyproject", type=Path, default=Path(__file__).resolve().parent.parent / "pyproject.toml"
    )
    parser.add_argument("--lock", type=Path, help="default: requirements/lock.txt beside pyproject")
    parser.add_argument("--no-lock", action="store_true", help="direct requirements, unpinned")
    args = parser.parse_args(argv)
    pyproject = tomllib.loads(args.pyproject.read_text(encoding="utf-8"))
    if args.no_lock:
        lines = image_requirements(pyproject, args.flavor)
    else:
        lock = args.lock or args.pyproject.parent / "requirements" / "lock.txt"
        lines = locked_requirements(pyproject, args.flavor, lock.read_text(encoding="utf-8"))
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
