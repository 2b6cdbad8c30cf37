"""`make bench`: ragmesh measured against the physical limit and a naive baseline, in one run."""
