"""Continuous-batching text generation over llama.cpp (the `llm` Triton model's engine).

Kept free of Triton imports so the bench and the tests run the same engine in-process. llama_cpp is
imported only by ``engine.LlamaEngine`` (installed by `make setup` from requirements/llm.txt).
"""
