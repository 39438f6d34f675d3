"""CPU feature detection: which kernel levels this CPU *and* its OS can run.

A level needs its instructions (CPUID) and the OS saving the wider registers
(XGETBV: XMM|YMM for AVX2, plus opmask|ZMM for AVX-512).
"""

from relu_fast import _levels

cdef extern from "_cpu.h":
    int rf_levels() nogil
    bint RF_X86


def level_bits():
    """Bits of the levels above baseline that this CPU and OS can run (see _cpu.h)."""
    return rf_levels()


def supported_levels():
    """Kernel levels this machine can run, lowest first (always starts with 'baseline')."""
    cdef int bits = rf_levels()
    return [name for name, lv in _levels.LEVELS.items() if lv["cpu_bit"] is None or bits & lv["cpu_bit"]]


IS_X86 = bool(RF_X86)
