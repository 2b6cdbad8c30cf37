"""The extractive generator's parts (pure Python, no Triton imports): prompt parsing, units, term
weighting, answer composition, request options and streaming pieces. ``extractive.py`` beside this
package is the surface the model and the benchmarks import."""
