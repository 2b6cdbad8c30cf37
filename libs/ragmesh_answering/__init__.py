"""The extractive generator's parts (pure Python, no Triton imports): prompt parsing, units, term
weighting, answer composition, request options and streaming pieces. ``extractive``
is the surface the model and the benchmarks import."""
