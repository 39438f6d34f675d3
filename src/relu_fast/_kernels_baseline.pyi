# Types of a compiled kernel module (one per instruction-set level, all alike).
LEVEL: str
COMPILED_FOR: str
TABLE: object  # PyCapsule "relu_fast.KernelTable" holding the C kernel table

def _make_table(level: bytes) -> object: ...
