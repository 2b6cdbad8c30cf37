"""Shared kit of the ragmesh services: settings, logging, tracing, errors, gRPC server and clients."""
