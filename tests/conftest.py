"""Shared by every test layer: pytest puts this folder on sys.path (it holds this conftest),
so helpers used by more than one layer live here as `<subject>_helpers.py` (mel_helpers)."""
