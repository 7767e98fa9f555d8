"""Short examples of each protocol: the HTTP frontend (native and OpenAI-style), its WebSocket
(text streamed in, audio out: ws_stream.py), Triton HTTP, Triton gRPC (both through
triton_ensemble.py)."""
