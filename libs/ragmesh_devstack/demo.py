"""`make demo`: submits a few documents of CPython's reference text (pydoc_data) through the
gateway, waits until they are searchable, asks three questions and prints each answer with its
citations and trace id."""

from __future__ import annotations

import sys
import time
from pydoc_data.topics import topics

import grpc

from ragmesh.common.v1 import types_pb2
from ragmesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ragmesh_devstack import stack
from ragmesh_devstack.settings import StackSettings

DOCUMENTS = ["pass", "break", "continue", "global", "nonlocal", "del", "assert", "return", "lambda", "with"]
QUESTIONS = [
    "What happens when a pass statement is executed?",
    "What does the global statement declare?",
    "What does continue do in a loop?",
]


def _read_env(settings: StackSettings) -> dict[str, str]:
    env = stack.dev_env(settings)
    if not env:
        raise SystemExit("no .run/dev.env: start the stack with `make up` first")
    return env


def main() -> int:
    settings = StackSettings()
    env = _read_env(settings)
    auth = [("x-api-key", env["RAGMESH_API_KEY"])]
    with grpc.insecure_channel(env["GATEWAY_ADDR"]) as channel:
        gateway = gateway_pb2_grpc.GatewayServiceStub(channel)
        print(f"Submitting {len(DOCUMENTS)} documents (CPython's pydoc_data topics) through Kafka ...")
        submitted: dict[str, int] = {}
        for topic in DOCUMENTS:
            reply = gateway.SubmitDocument(
                gateway_pb2.SubmitDocumentRequest(
                    document_id=f"python-{topic}", title=f"The {topic} statement", text=topics[topic]
                ),
                metadata=auth,
                timeout=15,
            )
            submitted[reply.document_id] = reply.version
            print(f"  accepted {reply.document_id} version {reply.version} trace {reply.trace_id}")
        started = time.monotonic()
        # Searchable = indexed at the submitted version (asking until cited would depend on ranking,
        # and on what else the tenant holds).
        while submitted:
            for document_id, version in list(submitted.items()):
                status = gateway.GetDocumentStatus(
                    gateway_pb2.GetDocumentStatusRequest(document_id=document_id), metadata=auth, timeout=10
                ).status
                if status.state == types_pb2.DOCUMENT_STATE_FAILED:
                    print(f"  {document_id} failed to index: {status.reason}")
                    return 1
                if status.state == types_pb2.DOCUMENT_STATE_INDEXED and status.version >= version:
                    del submitted[document_id]
            if submitted and time.monotonic() - started > 120:
                print(f"  not searchable after 120 s: {sorted(submitted)}; see .run/logs/indexer.log")
                return 1
            time.sleep(0.3)
        print(f"Searchable after {time.monotonic() - started:.1f} s.\n")
        for question in QUESTIONS:
            answer = gateway.Ask(gateway_pb2.AskRequest(question=question), metadata=auth, timeout=30)
            print(f"Q: {question}")
            print(f"A: {answer.answer}")
            for citation in answer.citations:
                print(f"   [{citation.label}] {citation.document_id} ({citation.chunk_id}, score {citation.score:.3f})")
            print(f"   trace id {answer.trace_id}: {env['JAEGER_QUERY_URL']}/api/traces/{answer.trace_id}")
            print(f"   tokens: prompt {answer.usage.prompt_tokens}, completion {answer.usage.completion_tokens}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
