# Types of a compiled kernel module (one per instruction-set level, all alike).
LEVEL: str
COMPILED_FOR: str
USES_FMA: bool  # ELU's gradient uses fma() (last bit may differ from levels without)
TABLE: object  # PyCapsule "relu_fast.KernelTable" holding the C kernel table
TRAIN_TABLE: object  # PyCapsule "relu_fast.TrainTable": mask and activity kernels

def _make_table(level: bytes) -> object: ...

def _make_train_table() -> object: ...
def _stream_threshold(nbytes: int | None = None) -> int: ...
