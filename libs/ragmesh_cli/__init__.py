"""The `ragmesh` command line."""
