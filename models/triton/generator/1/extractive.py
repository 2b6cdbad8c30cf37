"""Extractive, grounded "generation" for the ragmesh generator model (pure Python, no Triton imports).

The generator service builds a prompt of this shape::

    <instructions: free text, one or more lines>

    <<<SOURCE 1>>>
    title: <title>
    document: <document id>
    <chunk text, possibly several lines>
    <<<END SOURCE>>>

    <<<QUESTION>>>
    <question text>
    <<<ANSWER>>>

``answer()`` parses it, splits every source into sentences, scores each sentence against the question
(lowercase word tokens, stopwords removed, light suffix stemming; score = IDF-weighted fraction of the
question's terms present in the sentence, IDF over all sentences of all sources, so in [0, 1]), keeps up
to ``max_sentences`` sentences scoring >= ``relevance_threshold`` (best first) and returns them verbatim
(whitespace collapsed to single spaces), each followed by `` [n]`` where n is the source label. When
nothing passes it returns ``NO_ANSWER``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

NO_ANSWER = "I don't know: the provided sources do not answer this question."

DEFAULT_MAX_SENTENCES = 3
DEFAULT_RELEVANCE_THRESHOLD = 0.2

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each either else etc ever few for from further get gets got had hadn't has hasn't have haven't
    having he her here hers herself him himself his how however i if in into is isn't it it's its itself
    just let many may me might more most much must mustn't my myself neither no nor not now of off on once
    one only or other others ought our ours ourselves out over own per please same shall shan't she should
    shouldn't since so some such than that that's the their theirs them themselves then there there's
    these they this those though through thus to too under until up upon us use used using very via was
    wasn't we were weren't what what's when where where's whether which while who who's whom whose why
    will with within without won't would wouldn't yes yet you your yours yourself yourselves tell explain
    describe give list name know says say said
    """.split()
)
# "use/used/using" are stopwords on purpose: questions say "what is X used for" far more often than
# the word carries meaning.

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SOURCE_RE = re.compile(r"<<<SOURCE\s+([^>\n]*?)\s*>>>\s*?\n(.*?)<<<END SOURCE>>>", re.DOTALL)
_QUESTION_RE = re.compile(r"<<<QUESTION>>>(.*?)(?:<<<ANSWER>>>|\Z)", re.DOTALL)
_META_RE = re.compile(r"^\s*(title|document)\s*:\s*(.*?)\s*$", re.IGNORECASE)
_BULLET_RE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) + whitespace.
_SENT_END_RE = re.compile(r"(?<=[.!?])[\"')\]\u201d\u2019]*\s+")
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs mr mrs ms dr prof st no fig approx cf al inc ltd co jr sr jan feb mar apr jun jul aug "
    "sep sept oct nov dec".split()
)


@dataclass(frozen=True)
class Source:
    label: str
    title: str
    document: str
    text: str


@dataclass(frozen=True)
class Prompt:
    instructions: str
    sources: list[Source]
    question: str


@dataclass(frozen=True)
class Scored:
    score: float
    source: str  # source label
    text: str


@dataclass
class Options:
    max_sentences: int = DEFAULT_MAX_SENTENCES
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# parsing


def parse_prompt(prompt: str) -> Prompt:
    """Parse the generator prompt. Never raises: a prompt without markers is all question, no sources."""
    text = prompt.replace("\r\n", "\n").replace("\r", "\n")
    sources: list[Source] = []
    first_marker = None
    for m in _SOURCE_RE.finditer(text):
        if first_marker is None:
            first_marker = m.start()
        label = m.group(1).strip() or str(len(sources) + 1)
        title, document, body = _split_metadata(m.group(2))
        sources.append(Source(label=label, title=title, document=document, text=body))

    questions = list(_QUESTION_RE.finditer(text))
    q = questions[-1] if questions else None  # the last QUESTION block wins
    if q is not None:
        question = q.group(1).strip()
        if first_marker is None or q.start() < first_marker:
            first_marker = q.start()
    else:
        # No QUESTION marker: whatever follows the last source (or the whole prompt) is the question.
        tail_start = 0
        for m in _SOURCE_RE.finditer(text):
            tail_start = m.end()
        question = text[tail_start:].replace("<<<ANSWER>>>", "").strip()
    instructions = text[:first_marker].strip() if first_marker is not None else ""
    return Prompt(instructions=instructions, sources=sources, question=question)


def _split_metadata(block: str) -> tuple[str, str, str]:
    """Leading ``title:`` / ``document:`` lines (any order, each at most once) are metadata."""
    lines = block.split("\n")
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() and not meta:
            i += 1  # blank lines before the metadata
            continue
        m = _META_RE.match(line)
        if m and m.group(1).lower() not in meta:
            meta[m.group(1).lower()] = m.group(2)
            i += 1
            continue
        break
    return meta.get("title", ""), meta.get("document", ""), "\n".join(lines[i:]).strip()


def split_sentences(text: str) -> list[str]:
    """Split a chunk into sentences.

    Blank lines and bullet/numbered list items (marker dropped) start new segments; other line breaks are treated as
    spaces (wrapped text). Inside a segment, a sentence ends at ``.``, ``!`` or ``?`` followed by
    whitespace, except after common abbreviations and single letters (initials).
    """
    segments: list[str] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                segments.append(" ".join(current))
                current = []
            continue
        bullet = _BULLET_RE.match(line)
        if bullet:  # a list item starts a new segment; the marker is not part of the sentence
            if current:
                segments.append(" ".join(current))
                current = []
            line = line[bullet.end() :]
        current.append(line.strip())
    if current:
        segments.append(" ".join(current))

    sentences: list[str] = []
    for seg in segments:
        seg = " ".join(seg.split())
        start = 0
        for m in _SENT_END_RE.finditer(seg):
            candidate = seg[start : m.start()]
            last_word = candidate.rstrip(".!?\"')]\u201d\u2019").rsplit(" ", 1)[-1].lower()
            if candidate.endswith(".") and (
                last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())
            ):
                continue
            piece = seg[start : m.end()].strip()
            if piece:
                sentences.append(piece)
            start = m.end()
        rest = seg[start:].strip()
        if rest:
            sentences.append(rest)
    return sentences


# --------------------------------------------------------------------------------------------------
# scoring


def stem(word: str) -> str:
    """Very light suffix stemming so that store/stores/stored/storing meet."""
    w = word
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ness") and len(w) > 6:
        w = w[:-4]
    elif w.endswith("ing") and len(w) > 5:
        w = w[:-3]
        w = _undouble(w)
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
        w = _undouble(w)
    elif w.endswith("ly") and len(w) > 5:
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def _undouble(w: str) -> str:
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeioulsz":
        return w[:-1]
    return w


def terms(text: str) -> list[str]:
    """Lowercase word tokens, stopwords removed, stemmed."""
    out = []
    for tok in _TOKEN_RE.findall(text.lower()):
        if tok in STOPWORDS:
            continue
        s = stem(tok)
        if s and s not in STOPWORDS:
            out.append(s)
    return out


def score_sentences(question: str, sentences: list[tuple[str, str]]) -> list[Scored]:
    """Score ``(source_label, sentence)`` pairs against the question; same order as the input."""
    q_terms = set(terms(question))
    bags = [set(terms(s)) for _, s in sentences]
    if not q_terms:
        return [Scored(0.0, label, s) for label, s in sentences]
    n = len(sentences)
    df = {t: sum(1 for b in bags if t in b) for t in q_terms}
    # Smoothed IDF (always > 0): a question term absent from every sentence weighs the most, so a
    # question about something the sources never mention scores low everywhere.
    idf = {t: math.log((n + 1) / (df[t] + 1)) + 1.0 for t in q_terms}
    total = sum(idf.values())
    return [
        Scored(sum(idf[t] for t in q_terms & bag) / total, label, s)
        for (label, s), bag in zip(sentences, bags, strict=True)
    ]


def select(prompt: Prompt, max_sentences: int, relevance_threshold: float) -> list[Scored]:
    """The sentences that make the answer, best first (ties: source order, then position)."""
    candidates: list[tuple[str, str]] = []
    seen: set[str] = set()
    for src in prompt.sources:
        for sent in split_sentences(src.text):
            key = " ".join(sent.lower().split())
            if key in seen:
                continue
            seen.add(key)
            candidates.append((src.label, sent))
    scored = score_sentences(prompt.question, candidates)
    ranked = sorted(
        (s for s in scored if s.score > 0 and s.score >= relevance_threshold),
        key=lambda s: -s.score,  # stable sort keeps source order/position for ties
    )
    return ranked[: max(0, max_sentences)]


def format_answer(chosen: list[Scored]) -> str:
    if not chosen:
        return NO_ANSWER
    return " ".join(f"{s.text} [{s.source}]" for s in chosen)


def answer(
    prompt: str,
    max_sentences: int = DEFAULT_MAX_SENTENCES,
    relevance_threshold: float = DEFAULT_RELEVANCE_THRESHOLD,
) -> str:
    return format_answer(select(parse_prompt(prompt), max_sentences, relevance_threshold))


def pieces(text: str) -> list[str]:
    """Split an answer into word pieces for streaming; ``"".join(pieces(t)) == t``.

    Each piece is one word with the whitespace before it (like LLM tokens: "Paris", " is", ...).
    """
    parts = re.findall(r"\s*\S+", text)
    tail = text[len("".join(parts)) :]
    if tail:  # trailing whitespace
        if parts:
            parts[-1] += tail
        else:
            parts = [tail]
    return parts


def group_by_sentence(parts: list[str]) -> list[str]:
    """Regroups word pieces into one piece per answer sentence (each ends with its citation marker):
    an extractive model produces whole sentences, and a piece per word costs a response per word."""
    groups: list[str] = []
    current = ""
    for part in parts:
        current += part
        if re.search(r"\[\d+\]\s*$", part):
            groups.append(current)
            current = ""
    if current:
        groups.append(current)
    return groups


# --------------------------------------------------------------------------------------------------
# request options


class OptionsError(ValueError):
    pass


def parse_sampling_parameters(raw: str | bytes | None, defaults: dict | None = None) -> dict:
    """Parse the ``sampling_parameters`` JSON. Returns a dict with the honoured keys.

    Honoured: max_tokens (int >= 1, cap on streamed pieces/words), max_sentences (int >= 1),
    relevance_threshold (float in [0, 1]), piece_delay_ms (float >= 0), piece_granularity ("sentence",
    the default, or "word"). Other keys (temperature, top_p,
    ...) are accepted and ignored, as an extractive model has no sampling. Numbers given as strings are
    accepted (Triton's generate endpoint sends them that way).
    """
    import json

    out = {
        "max_tokens": None,
        "max_sentences": DEFAULT_MAX_SENTENCES,
        "relevance_threshold": DEFAULT_RELEVANCE_THRESHOLD,
        "piece_delay_ms": 0.0,
        "piece_granularity": "sentence",
    }
    if defaults:
        out.update(defaults)
    if raw is None:
        return out
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OptionsError(f"sampling_parameters is not valid UTF-8: {exc}") from None
    if not raw.strip():
        return out
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise OptionsError(f"sampling_parameters is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OptionsError("sampling_parameters must be a JSON object")
    if data.get("max_tokens") is not None:
        out["max_tokens"] = _number(data, "max_tokens", int, minimum=1)
    if data.get("max_sentences") is not None:
        out["max_sentences"] = _number(data, "max_sentences", int, minimum=1)
    if data.get("relevance_threshold") is not None:
        out["relevance_threshold"] = _number(data, "relevance_threshold", float, minimum=0.0, maximum=1.0)
    if data.get("piece_delay_ms") is not None:
        out["piece_delay_ms"] = _number(data, "piece_delay_ms", float, minimum=0.0, maximum=60000.0)
    if data.get("piece_granularity") is not None:
        if data["piece_granularity"] not in ("sentence", "word"):
            raise OptionsError("sampling_parameters.piece_granularity must be 'sentence' or 'word'")
        out["piece_granularity"] = data["piece_granularity"]
    return out


def _number(data: dict, key: str, kind, minimum=None, maximum=None):
    value = data[key]
    if isinstance(value, bool):
        raise OptionsError(f"sampling_parameters.{key} must be a number, got {value!r}")
    try:
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            number = int(value) if not isinstance(value, str) else int(value.strip())
        else:
            number = float(value)
            if math.isnan(number) or math.isinf(number):
                raise ValueError
    except (TypeError, ValueError):
        raise OptionsError(
            f"sampling_parameters.{key} must be {'an integer' if kind is int else 'a number'}, got {value!r}"
        ) from None
    if minimum is not None and number < minimum:
        raise OptionsError(f"sampling_parameters.{key} must be >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise OptionsError(f"sampling_parameters.{key} must be <= {maximum}, got {number}")
    return number
