# Types of the compiled module relu_fast._cpu.
from typing import List

IS_X86: bool

def supported_levels() -> List[str]: ...
