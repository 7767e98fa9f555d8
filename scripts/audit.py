"""`make audit`: pip-audit over the locked runtime dependencies, with a verdict for CI.

The audited set is everything an image installs (docker/requirements.py, flavors `models`
and `loadtest`: the runtime dependencies, the build stage's torch/onnx/tflite, locust), at
the versions and hashes of requirements/lock.txt, plus the nvidia-pytriton wheel whose
tritonserver the launcher runs and the numpy overlay of its Python-backend stubs
(requirements/stub.lock). Verdict:
- a vulnerability with a fixed version fails (bump the pin: `make lock`);
- one without a fix fails too unless its ID is in requirements/audit-ignore.txt, which
  lists exactly the findings that docs/security.md documents with their mitigation;
- a package the vulnerability service could not look up (e.g. a PyPI mirror without the
  per-version JSON API) is looked up once more in PyPI's per-project JSON, whose
  `vulnerabilities` are those of the newest release: that settles every pin that is its
  package's newest release. What is still unknown makes the audit incomplete: a warning,
  or a failure with MANDARIN_TTS_AUDIT_STRICT=1.

    python scripts/audit.py [--report pip-audit.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IGNORE_FILE = ROOT / "requirements" / "audit-ignore.txt"
# numpy 1 for the pip tritonserver's Python-backend stubs (mandarin_tts/serving/stub_overlay.py)
STUB_LOCK = ROOT / "requirements" / "stub.lock"
AUDITED_FLAVORS = ("models", "loadtest")
STRICT_ENV = "MANDARIN_TTS_AUDIT_STRICT"


def ignored_ids(text: str) -> set[str]:
    """IDs from audit-ignore.txt: the first word of each non-comment line."""
    return {line.split()[0] for line in text.splitlines() if line.split() and line[0] != "#"}


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    unaudited: list[str] = field(default_factory=list)
    stale_ignores: list[str] = field(default_factory=list)

    def exit_code(self, strict: bool) -> int:
        return 1 if self.failures or (strict and self.unaudited) else 0


def judge(report: dict[str, Any], ignore: set[str]) -> Verdict:
    """Sort pip-audit's JSON report (`-f json`, run without --ignore-vuln) into a verdict."""
    verdict = Verdict()
    seen: set[str] = set()
    for dep in report.get("dependencies", []):
        name = f"{dep['name']}=={dep['version']}" if dep.get("version") else dep["name"]
        if "skip_reason" in dep:
            verdict.unaudited.append(f"{name}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            fixes = vuln.get("fix_versions", [])
            line = f"{name} {vuln['id']} " + (f"fixed in {', '.join(fixes)}" if fixes else "no fix")
            matched = ids & ignore
            seen |= matched
            if fixes:
                verdict.failures.append(line + " -> bump it (make lock)")
            elif matched:
                verdict.accepted.append(line + " (documented in docs/security.md)")
            else:
                verdict.failures.append(line + " -> document it in docs/security.md and ignore it")
    verdict.stale_ignores = sorted(ignore - seen) if not verdict.unaudited else []
    return verdict


PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
Fetch = Callable[[str], dict[str, Any]]


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - fixed https URL
        data: dict[str, Any] = json.loads(response.read())
    return data


def pinned_versions(requirements: str) -> dict[str, str]:
    """{normalized name: version} of the `name==version` lines of a requirements text."""
    pins: dict[str, str] = {}
    for line in requirements.splitlines():
        spec = line.split(";")[0].split(" --hash")[0].rstrip(" \\").strip()
        if "==" in spec and not spec.startswith("#"):
            name, version = spec.split("==", 1)
            pins[name.split("[")[0].strip().lower().replace("_", "-")] = version.strip()
    return pins


def settle_from_project_json(
    report: dict[str, Any], pins: dict[str, str], fetch: Fetch = _fetch_json
) -> int:
    """Audit the skipped pins that are their package's newest release from PyPI's
    per-project JSON (its `vulnerabilities` apply to that release); returns how many."""
    settled = 0
    for dep in report.get("dependencies", []):
        version = pins.get(dep["name"].lower().replace("_", "-"))
        if "skip_reason" not in dep or version is None:
            continue
        try:
            project = fetch(PROJECT_JSON.format(name=dep["name"]))
        except (OSError, ValueError):
            continue
        if project.get("info", {}).get("version") != version:
            continue  # an older pin: the per-project data says nothing about it
        dep["version"] = version
        dep["vulns"] = [
            {
                "id": vuln["id"],
                "aliases": vuln.get("aliases") or [],
                "fix_versions": vuln.get("fixed_in") or [],
            }
            for vuln in project.get("vulnerabilities") or []
            if not vuln.get("withdrawn")
        ]
        del dep["skip_reason"]
        settled += 1
    return settled


def audited_requirements() -> str:
    lines: set[str] = set()
    for flavor in AUDITED_FLAVORS:
        out = subprocess.run(
            [sys.executable, str(ROOT / "docker" / "requirements.py"), "--flavor", flavor],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        lines |= set(out.splitlines())
    # The pip build of tritonserver that make serve/test run: unpacked, not installed, but
    # audited all the same (docs/security.md lists its CVEs, which are not PyPI advisories).
    from mandarin_tts.serving.pytriton_wheel import PYTRITON

    lines.add(f"{PYTRITON.requirement} --hash=sha256:{PYTRITON.sha256}")
    return "".join(f"{line}\n" for line in sorted(lines))


def run_pip_audit(requirements: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "pip_audit", "--requirement", str(requirements)]
    cmd += ["--disable-pip", "--no-deps", "--format", "json", "--progress-spinner", "off"]
    cmd += ["--vulnerability-service", os.environ.get("MANDARIN_TTS_AUDIT_SERVICE", "pypi")]
    # Exit status 1 only means "vulnerabilities found": the report says which.
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"pip-audit failed (exit {result.returncode})") from None
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="also write pip-audit's JSON report here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "audited.txt"
        audited = audited_requirements()
        requirements.write_text(audited, encoding="utf-8")
        report = run_pip_audit(requirements)
        settled = settle_from_project_json(report, pinned_versions(audited))
        # A file of its own: pip-audit refuses two numpy pins in one run.
        stubs = run_pip_audit(STUB_LOCK)
        settled += settle_from_project_json(
            stubs, pinned_versions(STUB_LOCK.read_text(encoding="utf-8"))
        )
        report["dependencies"] += stubs["dependencies"]
    if args.report:
        args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    verdict = judge(report, ignored_ids(IGNORE_FILE.read_text(encoding="utf-8")))
    strict = os.environ.get(STRICT_ENV) == "1"
    total = len(report.get("dependencies", []))
    print(
        f"pip-audit: {total} locked packages, {len(verdict.unaudited)} not auditable "
        f"({settled} looked up in PyPI's per-project data as their newest release)"
    )
    for title, lines in (
        ("FAIL", verdict.failures),
        ("accepted", verdict.accepted),
        ("stale ignore (no longer reported; drop it)", verdict.stale_ignores),
    ):
        for line in lines:
            print(f"  {title}: {line}")
    if verdict.unaudited:
        level = "FAIL" if strict else "WARNING"
        print(
            f"  {level}: the vulnerability service could not look up {len(verdict.unaudited)} "
            f"packages, e.g. {verdict.unaudited[0]}; the audit is incomplete "
            f"({STRICT_ENV}=1 makes this fatal)"
        )
    code = verdict.exit_code(strict)
    print("audit: " + ("FAILED" if code else "passed"))
    return code


if __name__ == "__main__":
    sys.exit(main())
