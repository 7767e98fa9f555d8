"""One sentence straight from Triton's `tts` ensemble over gRPC (tritonclient.grpc), a little
higher (PITCH 1.1); writes hello_grpc.wav. The request: triton_ensemble.py.

    python -m client.examples.triton_grpc [127.0.0.1:8001]
"""

from client.examples.triton_ensemble import main

main("grpc")
