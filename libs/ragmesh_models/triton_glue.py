"""What every Python-backend model of ragmesh says to Triton the same way: an error response with
its status code, and the string parameters of its config.pbtxt. Imported by the models' model.py
only (triton_python_backend_utils exists inside the backend's stub alone)."""

from __future__ import annotations

from typing import Any

import triton_python_backend_utils as pb_utils


def error_response(message: str, code_name: str = "INVALID_ARG") -> Any:
    """A response carrying an error; ``code_name`` is a TritonError code (INVALID_ARG, CANCELLED, ...)."""
    code = getattr(pb_utils.TritonError, code_name, None)
    error = pb_utils.TritonError(message, code) if code is not None else pb_utils.TritonError(message)
    return pb_utils.InferenceResponse(output_tensors=[], error=error)


def config_parameters(config: dict[str, Any]) -> dict[str, str]:
    """The model's ``parameters`` from config.pbtxt (as Triton passes it, JSON), key -> string value."""
    return {key: value.get("string_value", "") for key, value in config.get("parameters", {}).items()}


def config_parameter(config: dict[str, Any], key: str, default: str) -> str:
    """One parameter, stripped; ``default`` when absent or blank."""
    return config_parameters(config).get(key, "").strip() or default
