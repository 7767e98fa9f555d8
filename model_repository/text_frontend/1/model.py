"""Triton Python-backend entry point: mandarin_tts.serving.backend_adapter does the work."""

import os
import site

# The stub's embedded interpreter ignores PYTHONPATH (the project and its site-packages).
for _path in filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)):
    site.addsitedir(_path)

from mandarin_tts.serving.backend_adapter import TritonPythonModel  # noqa: E402, F401
