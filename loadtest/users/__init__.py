"""Locust building blocks for the TTS load test: text mix, client wrappers, metrics, SLO gate.

`loadtest/locustfile.py` wires them into locust; everything here is plain, importable Python.
"""
