"""Reuse the integration tests' real-Triton fixture (`triton_server`) and frontend helper.

The integration conftest is loaded under its own module name so that its session fixture is
registered here too; running tests/load and tests/integration together starts two servers.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

INTEGRATION_DIR = Path(__file__).resolve().parent.parent / "integration"
if str(INTEGRATION_DIR) not in sys.path:
    sys.path.insert(0, str(INTEGRATION_DIR))  # for `frontend_process_helpers`


def _load_integration_conftest():
    spec = importlib.util.spec_from_file_location(
        "integration_conftest", INTEGRATION_DIR / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


triton_server = _load_integration_conftest().triton_server
