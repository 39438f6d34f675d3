"""asv benchmarks of relu_fast, each beside NumPy's equivalent."""
