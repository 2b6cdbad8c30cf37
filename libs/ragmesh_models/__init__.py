"""The Triton models' own code, free of Triton imports: the sentence encoder (minilm, rerank), the
rerank rescoring and the Hugging Face causal-LM runner. The model repository puts this package (with
ragmesh_answering and ragmesh_llm) in each model's version folder, which the Python backend's stub
has on sys.path; the bench and the tests import it from libs/ like any other package."""
