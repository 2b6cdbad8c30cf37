"""Question and unit terms: lowercase word tokens, stopwords removed, light suffix stemming."""

from __future__ import annotations

import re
from functools import lru_cache

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


@lru_cache(maxsize=65536)
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
