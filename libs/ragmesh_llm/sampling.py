"""A llama.cpp sampler chain for one request's options."""

from __future__ import annotations

from typing import Any

from ragmesh_llm.options import SamplingOptions


def make_sampler(ll: Any, options: SamplingOptions) -> Any:
    """Greedy at temperature 0 (deterministic, whatever else is set); otherwise top-k, top-p,
    min-p, temperature, then a seeded draw (random seed when none is given)."""
    chain = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
    if options.temperature <= 0.0:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_greedy())
        return chain
    if options.top_k > 0:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_k(options.top_k))
    if options.top_p < 1.0:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_p(options.top_p, 1))
    if options.min_p > 0.0:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_min_p(options.min_p, 1))
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_temp(options.temperature))
    seed = ll.LLAMA_DEFAULT_SEED if options.seed is None else options.seed
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_dist(seed))
    return chain
