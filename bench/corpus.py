"""Real text for the benchmarks, written by no one here: CPython's reference topics (pydoc_data)
and the docstrings of standard-library modules."""

from __future__ import annotations

import importlib
import inspect
import re
from pydoc_data.topics import topics

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
STDLIB_MODULES = (
    "os",
    "sys",
    "re",
    "json",
    "math",
    "statistics",
    "random",
    "datetime",
    "collections",
    "itertools",
    "functools",
    "pathlib",
    "shutil",
    "subprocess",
    "threading",
    "asyncio",
    "socket",
    "ssl",
    "http.client",
    "urllib.request",
    "email",
    "csv",
    "sqlite3",
    "zipfile",
    "tarfile",
    "logging",
    "argparse",
    "unittest",
    "typing",
    "dataclasses",
    "enum",
    "decimal",
    "fractions",
    "heapq",
    "bisect",
    "array",
    "struct",
    "io",
    "tempfile",
    "glob",
    "fnmatch",
    "hashlib",
    "hmac",
    "secrets",
    "base64",
    "binascii",
    "pickle",
    "copy",
    "pprint",
    "textwrap",
    "string",
    "difflib",
    "calendar",
    "time",
    "locale",
    "gettext",
    "codecs",
    "inspect",
    "ast",
    "dis",
    "tokenize",
    "traceback",
    "warnings",
    "contextlib",
    "abc",
    "operator",
    "weakref",
    "gc",
    "queue",
    "sched",
    "selectors",
    "signal",
    "mmap",
    "configparser",
    "plistlib",
    "xml.etree.ElementTree",
    "html.parser",
    "mailbox",
    "mimetypes",
    "ipaddress",
    "uuid",
    "zlib",
    "gzip",
    "bz2",
    "lzma",
    "doctest",
    "pdb",
    "profile",
    "timeit",
    "platform",
    "ctypes",
    "multiprocessing",
)


def topic_documents() -> dict[str, str]:
    return {f"python-{name}": text for name, text in topics.items()}


def sentences(minimum_words: int = 5) -> list[str]:
    """Distinct natural sentences from the reference topics and stdlib docstrings, in a fixed order."""
    texts: list[str] = list(topics.values())
    for name in STDLIB_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for _, member in sorted(vars(module).items()):
            doc = inspect.getdoc(member) if callable(member) or inspect.isclass(member) else None
            if doc:
                texts.append(doc)
    seen: set[str] = set()
    found: list[str] = []
    for text in texts:
        for sentence in _SENTENCE_END.split(" ".join(text.split())):
            if len(sentence.split()) >= minimum_words and sentence not in seen and len(sentence) < 600:
                seen.add(sentence)
                found.append(sentence)
    return found
