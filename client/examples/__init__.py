"""Short examples of each protocol: the HTTP frontend (native and OpenAI-style), Triton HTTP,
Triton gRPC (both through triton_ensemble.py)."""
