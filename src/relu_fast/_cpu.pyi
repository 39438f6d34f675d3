# Types of the compiled module relu_fast._cpu.
from typing import List

IS_X86: bool

def level_bits() -> int: ...
def supported_levels() -> List[str]: ...
