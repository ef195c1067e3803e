"""Name matching for duplicate detection: normalised company names and their similarity."""
from __future__ import annotations

import re
import unicodedata
from itertools import combinations
from difflib import SequenceMatcher
from typing import Any

#: How alike two normalised names must be (difflib ratio) to count as possibly the same.
SIMILARITY = 0.85
# Names that alike (ratio 0.85) share about two thirds of their two-letter pieces or more; fewer
# rules a pair out before difflib is asked.
GRAM_SHARE = 0.6

# Legal-form suffixes, as token sequences after punctuation is dropped ("Sp. z o.o." → sp z o o).
LEGAL_SUFFIXES = sorted({
    ("aps",), ("a", "s"), ("as",), ("i", "s"), ("k", "s"), ("p", "s"), ("amba",), ("ivs",),
    ("gmbh",), ("gmbh", "co", "kg"), ("ag",), ("kg",), ("ohg",), ("ug",), ("e", "k"), ("ev",), ("e", "v"),
    ("sp", "z", "o", "o"), ("spzoo",), ("s", "a"), ("sa",), ("sp", "j"), ("sp", "k"), ("s", "c"),
    ("oy",), ("oyj",), ("ky",), ("tmi",), ("ab",), ("publ",), ("hb",), ("kb",), ("asa",), ("ans",),
    ("ltd",), ("limited",), ("inc",), ("llc",), ("plc",), ("co",), ("corp",), ("bv",), ("nv",),
    ("sarl",), ("sas",), ("srl",), ("spa",),
}, key=len, reverse=True)

# the suffixes by their last word, longest first: a name's last word picks the few to try
_SUFFIXES_BY_LAST: dict[str, list[tuple[str, ...]]] = {}
for _suffix in LEGAL_SUFFIXES:
    _SUFFIXES_BY_LAST.setdefault(_suffix[-1], []).append(_suffix)

_NOT_WORD = re.compile(r"[^\w]+")
# Letters that do not decompose into a base letter and an accent, folded by hand.
_FOLD = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ð": "d", "þ": "th", "œ": "oe"})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_tokens(name: str) -> list[str]:
    """The words of ``name``, casefolded and without accents, punctuation or trailing legal-form suffixes."""
    tokens = [t for t in _NOT_WORD.split(_fold(name or "").replace("&", " ")) if t and t != "_"]
    while len(tokens) > 1:
        suffix = next((sfx for sfx in _SUFFIXES_BY_LAST.get(tokens[-1], ())
                       if len(tokens) > len(sfx) and tuple(tokens[-len(sfx):]) == sfx), None)
        if suffix is None:
            break
        del tokens[-len(suffix):]
    return tokens


def normalise_name(name: str) -> str:
    """``name`` reduced for comparison: casefolded words, sorted, legal suffixes removed."""
    return " ".join(sorted(name_tokens(name)))


def similar(a: str, b: str) -> bool:
    """Whether two normalised names are alike enough to be the same company or person."""
    if not a or not b:
        return False
    if a == b:
        return True
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(a)
    return _alike(matcher, a, b)


def blocks_of(key: str) -> set[str]:
    """The buckets a normalised name is compared within: each pair of its words' first three letters
    (names alike enough to match share at least two word starts), or its one word's start."""
    starts = sorted({word[:3] for word in key.split()})
    if len(starts) < 2:
        return set(starts)
    return {f"{a} {b}" for a, b in combinations(starts, 2)}


def bigrams(key: str) -> frozenset[str]:
    """The two-letter pieces of ``key`` (a cheap first test before difflib's)."""
    return frozenset(key[i:i + 2] for i in range(len(key) - 1))


def derived_columns(name: str, company_name: str, email: str, match_key: str | None = None) -> dict[str, str]:
    """A lead's derived columns: sort key, duplicate-check keys and search text (``match_key`` when
    it was computed already)."""
    return {
        "name_key": (name or "").casefold(),
        "email_key": (email or "").strip().casefold(),
        "match_key": normalise_name(company_name or name)[:200] if match_key is None else match_key,
        "search_text": " ".join(p for p in (name, company_name, email) if p).casefold(),
    }


class NameIndex:
    """Normalised names bucketed by word starts, for fast similarity lookups over many rows (an import).

    A lookup compares with at most :attr:`budget` names sharing word starts with it, smallest
    buckets first, so a large file stays linear; exact matches are always found. Names with few
    two-letter pieces in common are passed over before difflib is asked.
    """

    budget = 100

    def __init__(self):
        self._exact: dict[str, list[Any]] = {}
        self._blocks: dict[str, list[str]] = {}
        self._grams: dict[str, frozenset[str]] = {}

    def add(self, key: str, ref: Any) -> None:
        """Remember ``ref`` under the normalised name ``key``."""
        if not key:
            return
        if key not in self._exact:
            self._exact[key] = []
            self._grams[key] = bigrams(key)
            for block in blocks_of(key):
                self._blocks.setdefault(block, []).append(key)
        self._exact[key].append(ref)

    def find(self, key: str) -> Any | None:
        """The first ref whose name is similar to ``key``, or None."""
        if not key:
            return None
        if key in self._exact:
            return self._exact[key][0]
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(key)  # the side difflib caches: set once per lookup
        grams = bigrams(key)
        budget, seen = self.budget, set()
        for block in sorted(blocks_of(key), key=lambda b: len(self._blocks.get(b, ()))):
            for other in self._blocks.get(block, ()):
                if other in seen:
                    continue
                seen.add(other)
                budget -= 1
                if budget < 0:
                    return None
                if 2 * min(len(key), len(other)) < SIMILARITY * (len(key) + len(other)):
                    continue
                other_grams = self._grams[other]
                if 2 * len(grams & other_grams) < GRAM_SHARE * (len(grams) + len(other_grams)):
                    continue
                if _alike(matcher, key, other):
                    return self._exact[other][0]
        return None


def _alike(matcher: SequenceMatcher, key: str, other: str) -> bool:
    if 2 * min(len(key), len(other)) < SIMILARITY * (len(key) + len(other)):
        return False  # the length alone rules it out (difflib's real_quick_ratio)
    matcher.set_seq1(other)
    return matcher.quick_ratio() >= SIMILARITY and matcher.ratio() >= SIMILARITY
