"""One sentence straight from Triton's `tts` ensemble over HTTP (tritonclient.http) at
SPEED 1.0; writes hello_http.wav. The request: triton_ensemble.py.

    python -m client.examples.triton_http [127.0.0.1:8000]
"""

from client.examples.triton_ensemble import main

main("http")
