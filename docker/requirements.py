"""Print the pip requirements of one container image, derived from pyproject.toml.

pyproject.toml stays the single list of dependencies. The images differ from a
developer install in two ways:
- no image carries `nvidia-pytriton`: its bundled tritonserver 2.51 has the 2025 CVEs
  (see docs/security.md); the Triton image uses the NGC server in /opt/tritonserver;
- the builder stage adds the `build` extra (torch, onnx, tflite) to the runtime list;
- the GPU Triton image swaps `onnxruntime` for `onnxruntime-gpu[cuda,cudnn]`, the frontend image
  drops onnxruntime altogether, and the load-test image adds locust from the dev extra.

The images run the project from its source tree (PYTHONPATH), not from a wheel: the
package data (tiers.toml, lexicons, bridge parameters, static files) stays where the
code expects it. Stdlib only (tomllib): it runs before anything is installed.

    python3 docker/requirements.py --flavor cpu > requirements.txt
"""

from __future__ import annotations

import argparse
import re
import sys
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavor", choices=FLAVORS, required=True)
    parser.add_argument(
        "--pyproject", type=Path, default=Path(__file__).resolve().parent.parent / "pyproject.toml"
    )
    args = parser.parse_args(argv)
    pyproject = tomllib.loads(args.pyproject.read_text(encoding="utf-8"))
    for requirement in image_requirements(pyproject, args.flavor):
        print(requirement)
    return 0


if __name__ == "__main__":
    sys.exit(main())
