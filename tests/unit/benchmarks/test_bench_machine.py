from __future__ import annotations

from benchmarks.system.machine import KERNEL_FLAGS, Machine, parse_cpuinfo

ZEN3 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse avx fma avx2 bmi2

processor\t: 1
model name\t: something else
flags\t\t: avx512f avx512_vnni
"""


def test_first_processor_is_described() -> None:
    model, family_model, flags = parse_cpuinfo(ZEN3)
    assert model == "AMD EPYC" and family_model == "family 25 model 1"
    assert "avx2" in flags and "avx512_vnni" not in flags


def test_description_names_the_kernel_flags() -> None:
    machine = Machine("AMD EPYC", "family 25 model 1", ("avx2", "fma"), 2, "cpu-2")
    text = machine.describe()
    assert "AMD EPYC" in text and "avx2 fma" in text and "tier cpu-2" in text
    bare = Machine("x", "unknown", (), 1, "cpu-2").describe()
    assert "none of " + ",".join(KERNEL_FLAGS) in bare
