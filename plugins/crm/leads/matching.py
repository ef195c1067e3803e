"""Name matching for duplicate detection: normalised company names and their similarity."""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any, Iterable

#: How alike two normalised names must be (difflib ratio) to count as possibly the same.
SIMILARITY = 0.85

# Legal-form suffixes, as token sequences after punctuation is dropped ("Sp. z o.o." → sp z o o).
LEGAL_SUFFIXES = sorted({
    ("aps",), ("a", "s"), ("as",), ("i", "s"), ("k", "s"), ("p", "s"), ("amba",), ("ivs",),
    ("gmbh",), ("gmbh", "co", "kg"), ("ag",), ("kg",), ("ohg",), ("ug",), ("e", "k"), ("ev",), ("e", "v"),
    ("sp", "z", "o", "o"), ("spzoo",), ("s", "a"), ("sa",), ("sp", "j"), ("sp", "k"), ("s", "c"),
    ("oy",), ("oyj",), ("ky",), ("tmi",), ("ab",), ("publ",), ("hb",), ("kb",), ("asa",), ("ans",),
    ("ltd",), ("limited",), ("inc",), ("llc",), ("plc",), ("co",), ("corp",), ("bv",), ("nv",),
    ("sarl",), ("sas",), ("srl",), ("spa",),
}, key=len, reverse=True)

_NOT_WORD = re.compile(r"[^\w]+")


def name_tokens(name: str) -> list[str]:
    """The words of ``name``, casefolded, without punctuation or trailing legal-form suffixes."""
    tokens = [t for t in _NOT_WORD.split((name or "").casefold().replace("&", " ")) if t and t != "_"]
    stripped = True
    while stripped and len(tokens) > 1:
        stripped = False
        for suffix in LEGAL_SUFFIXES:
            if len(tokens) > len(suffix) and tuple(tokens[-len(suffix):]) == suffix:
                del tokens[-len(suffix):]
                stripped = True
                break
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
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (matcher.real_quick_ratio() >= SIMILARITY and matcher.quick_ratio() >= SIMILARITY
            and matcher.ratio() >= SIMILARITY)


def block_of(key: str) -> str:
    """The bucket a normalised name is compared within (its first two characters)."""
    return key[:2]


def derived_columns(name: str, company_name: str, email: str, vat_id: str) -> dict[str, str]:
    """A lead's derived columns: sort key, duplicate-check keys and search text."""
    return {
        "name_key": (name or "").casefold(),
        "email_key": (email or "").strip().casefold(),
        "match_key": normalise_name(company_name or name)[:200],
        "search_text": " ".join(p for p in (name, company_name, email) if p).casefold(),
    }


class NameIndex:
    """Normalised names bucketed for fast similarity lookups over many rows (an import)."""

    def __init__(self):
        self._exact: dict[str, list[Any]] = {}
        self._blocks: dict[str, list[str]] = {}

    def add(self, key: str, ref: Any) -> None:
        """Remember ``ref`` under the normalised name ``key``."""
        if not key:
            return
        if key not in self._exact:
            self._exact[key] = []
            self._blocks.setdefault(block_of(key), []).append(key)
        self._exact[key].append(ref)

    def add_all(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Remember every (key, ref) pair."""
        for key, ref in pairs:
            self.add(key, ref)

    def find(self, key: str) -> list[Any]:
        """The refs whose names are similar to ``key``."""
        if not key:
            return []
        found = list(self._exact.get(key, ()))
        for other in self._blocks.get(block_of(key), ()):
            if other != key and similar(key, other):
                found.extend(self._exact[other])
        return found
