"""Search over the service catalogue: Chinese substrings, pinyin, pinyin initials and one-typo tolerance.

Pure module (no Django import): the catalogue hands in ``SearchDocument`` values and gets ``SearchHit``
values back, so the index can be built from a queryset, a YAML file or a benchmark generator alike.

Matching works on a *compact* form of the text: NFKC (full-width letters, digits and brackets become
half-width), lowercase, and everything that is not a letter or a digit dropped, so ``（新办）``,
``(新办)`` and ``新办`` are the same to a query. Pinyin (toneless, ``ü`` written ``v``, as typed with a
pinyin input method) comes from pypinyin, phrase-aware, so 银行 is ``yinhang``; fuzzy matching comes
from rapidfuzz and only runs when the exact stages have not filled the page.

Tiers, best first; a document appears once, in the best tier it reaches:

=========  ======================================================================
name       the query equals the name, starts it, or occurs in it (three sub-tiers)
pinyin     the query's pinyin occurs in the name's pinyin from a syllable start
           (covers typed pinyin and same-sound wrong characters)
initials   a latin query occurs in the name's pinyin initials (csyxzm)
fuzzy      the name is within one wrong character of the query (rapidfuzz)
keywords   the query occurs in the keywords (department, item type, bundle names …)
body       the query occurs in the body (conditions, materials …)
=========  ======================================================================

Within a tier: closer fuzzy matches first (and pinyin or initials matching from the start of the name
before those matching further in), then shorter names, then higher boost, then key, so the order is
deterministic for a given set of documents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

__all__ = ["SearchDocument", "SearchHit", "SearchIndex", "pinyin_initials", "slug_for", "to_pinyin"]


@dataclass(frozen=True)
class SearchDocument:
    """One searchable catalogue entry.

    key: stable id, e.g. the item's slug (unique within an index).
    name: the item's name, e.g. ``"企业投资项目备案（技术改造）"``.
    keywords: department name, item type, bundle names … separated by whitespace.
    body: acceptance conditions, materials … (matched last).
    boost: small tie-breaker in 0..1, e.g. popularity; it only orders names of equal length in a tier.
    """

    key: str
    name: str
    keywords: str = ""
    body: str = ""
    boost: float = 0.0


@dataclass(frozen=True)
class SearchHit:
    """One result: the document's key, its score (higher is better) and the tier that matched.

    matched is one of ``"name"``, ``"pinyin"``, ``"initials"``, ``"fuzzy"``, ``"keywords"``, ``"body"``.
    score = tier weight (exact name 8, name prefix 7, name contains 6, pinyin 5, initials 4, fuzzy 3,
    keywords 2, body 1) + a fraction below 1 that orders hits within the tier, so scores from
    different tiers never overlap and hits are listed by score, descending.
    """

    key: str
    score: float
    matched: str


# Tier ranks (0 best) with the tier name reported in SearchHit.matched.
_EXACT, _PREFIX, _CONTAINS, _PINYIN, _INITIALS, _FUZZY, _KEYWORDS, _BODY = range(8)
_TIER_NAMES = ("name", "name", "name", "pinyin", "initials", "fuzzy", "keywords", "body")
_TIER_COUNT = len(_TIER_NAMES)

# Within-tier fraction: quality (fuzzy similarity rounded to 0.01) dominates, then brevity (one step
# per character up to _LENGTH_CAP), then boost; each weight is smaller than one step of the previous.
_QUALITY_WEIGHT = 0.9
_LENGTH_CAP = 100
_LENGTH_STEP = 0.00008
_BOOST_WEIGHT = 0.00007
# Quality of a pinyin or initials match that does not start at the beginning of the name.
_INNER_QUALITY = 0.9

# Fuzzy stage bounds: minimum compact query length (Chinese / latin) and the most candidates kept.
_FUZZY_MIN_CJK = 4
_FUZZY_MIN_LATIN = 6
_FUZZY_MAX_CANDIDATES = 500
_FUZZY_CUTOFF_MARGIN = 0.01
# Subsequence stage: minimum Chinese query length (two characters in order match too much).
_SUBSEQUENCE_MIN = 3

# Han characters (CJK unified ideographs, extension A, compatibility ideographs, extensions B+, 〇).
_HAN_RUN = re.compile("([\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)")
_ALNUM_RUN = re.compile(r"[^\W_]+")
_NOT_ALNUM = re.compile(r"[\W_]+")
_LATIN_QUERY = re.compile(r"[a-z0-9]+")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def _compact(text: str) -> str:
    """NFKC, lowercase, letters and digits only: ``"食品经营许可（新办）"`` -> ``"食品经营许可新办"``."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).lower())


def _strip_marks(text: str) -> str:
    """Drop combining marks (``ê`` -> ``e``) so pinyin output stays plain latin."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def _han_run_syllables(run: str) -> tuple[str, ...]:
    """Toneless pinyin for a run of Han characters, one syllable per character (phrase-aware).

    Cached per run: names repeat their Chinese runs (企业投资项目备案 with different suffixes), so the
    cache makes an index build pay pypinyin's phrase segmentation once per distinct run.
    """
    syllables: list[str] = []
    for syllable in lazy_pinyin(run, errors="default"):
        plain = _strip_marks(syllable).lower()
        if plain:
            syllables.append(plain)
    return tuple(syllables)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """The pinyin tokens of a text as ``(token, is_syllable)``; punctuation and spaces dropped.

    One syllable per Han character, one token per latin/digit word:
    ``"ABC公司（技术改造）"`` -> ``[("abc", False), ("gong", True), ("si", True), ("ji", True), …]``.
    """
    tokens: list[tuple[str, bool]] = []
    for index, part in enumerate(_HAN_RUN.split(unicodedata.normalize("NFKC", text))):
        if not part:
            continue
        if index % 2:  # odd parts are the captured Han runs
            tokens.extend((syllable, True) for syllable in _han_run_syllables(part))
        else:
            tokens.extend((word.lower(), False) for word in _ALNUM_RUN.findall(part))
    return tokens


def to_pinyin(text: str) -> str:
    """Toneless lowercase pinyin, no separators; other letters and digits kept lowercased, punctuation dropped.

    ``"出生医学证明"`` -> ``"chushengyixuezhengming"``; ``"ABC公司（技术改造）"`` -> ``"abcgongsijishugaizao"``.
    """
    return "".join(token for token, _ in _tokens(text))


def pinyin_initials(text: str) -> str:
    """First letter of each syllable; latin and digit words are kept whole, punctuation dropped.

    ``"出生医学证明"`` -> ``"csyxzm"``; ``"ABC公司"`` -> ``"abcgs"``.
    """
    return "".join(token[0] if is_syllable else token for token, is_syllable in _tokens(text))


def _truncate_slug(slug: str, limit: int) -> str:
    """Cut a slug to at most ``limit`` characters, at a ``-`` when there is one, without a trailing ``-``."""
    if len(slug) <= limit:
        return slug
    cut = slug[:limit]
    if slug[limit] != "-" and "-" in cut:
        cut = cut.rsplit("-", 1)[0]
    return cut.strip("-")


def slug_for(name: str, taken: set[str] | frozenset[str] = frozenset(), max_length: int = 80) -> str:
    """A URL slug: the name's pinyin words joined by ``-``, ``[a-z0-9-]`` only, never empty, not in ``taken``.

    ``"出生医学证明"`` -> ``"chu-sheng-yi-xue-zheng-ming"``; ``"ABC公司（技术改造）"`` ->
    ``"abc-gong-si-ji-shu-gai-zao"``; a name with nothing to spell (``"（）"``) -> ``"item"``. Long names
    are cut at a word boundary to ``max_length``; a slug already in ``taken`` gets ``-2``, ``-3`` … (the
    whole slug, suffix included, stays within ``max_length``).
    """
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    words = (_SLUG_JUNK.sub("", _strip_marks(token).lower()) for token, _ in _tokens(name))
    base = _truncate_slug("-".join(word for word in words if word), max_length) or "item"[:max_length]
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        room = max_length - len(suffix)
        if room < 1:
            raise ValueError(f"no free slug for {name!r} within {max_length} characters")
        candidate = _truncate_slug(base, room) + suffix
        if candidate not in taken:
            return candidate
        number += 1


class SearchIndex:
    """An in-memory index over catalogue documents; immutable once built, safe to share between threads.

    Build: per document the compact name, its pinyin, the syllable start offsets in that pinyin, its
    initials, and the compact keywords and body are computed once (pinyin cached per Han run).
    Search: ``index.search("csyxzm")`` -> ``[SearchHit(key="chu-sheng-yi-xue-zheng-ming", score=4.9…,
    matched="initials"), …]``, at most ``limit`` hits, best first.
    """

    def __init__(self, documents: Iterable[SearchDocument]) -> None:
        self._keys: list[str] = []
        self._names: list[str] = []
        self._pinyins: list[str] = []
        self._bounds: list[frozenset[int]] = []
        self._initials: list[str] = []
        self._keywords: list[str] = []
        self._keyword_pinyins: list[tuple[str, frozenset[int]]] = []
        self._keyword_initials: list[frozenset[str]] = []
        self._bodies: list[str] = []
        self._lengths: list[int] = []
        self._boosts: list[float] = []
        seen: set[str] = set()
        for document in documents:
            if document.key in seen:
                raise ValueError(f"duplicate search document key {document.key!r}")
            seen.add(document.key)
            tokens = _tokens(document.name)
            starts: set[int] = set()
            offset = 0
            for token, _ in tokens:
                starts.add(offset)
                offset += len(token)
            starts.add(offset)
            name = _compact(document.name)
            boost = document.boost if 0.0 <= document.boost <= 1.0 else (1.0 if document.boost > 1.0 else 0.0)
            self._keys.append(document.key)
            self._names.append(name)
            self._pinyins.append("".join(token for token, _ in tokens))
            self._bounds.append(frozenset(starts))
            self._initials.append("".join(token[0] if syllable else token for token, syllable in tokens))
            keywords = [word for word in map(_compact, document.keywords.split()) if word]
            self._keywords.append(" ".join(keywords))
            keyword_pinyin, keyword_starts, offset = [], set(), 0
            for token, _ in _tokens(document.keywords):
                keyword_starts.add(offset)
                keyword_pinyin.append(token)
                offset += len(token)
            self._keyword_pinyins.append(("".join(keyword_pinyin), frozenset(keyword_starts)))
            self._keyword_initials.append(frozenset(filter(None, map(pinyin_initials, keywords))))
            self._bodies.append(_compact(document.body))
            self._lengths.append(min(len(name), _LENGTH_CAP))
            self._boosts.append(boost)  # NaN fails both comparisons above and becomes 0.0

    def __len__(self) -> int:
        return len(self._keys)

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """The best ``limit`` documents for ``query``, best first; ``[]`` for an empty or blank query.

        Stages run best tier first and stop once ``limit`` hits are certain, so a query with many
        exact hits never pays for the fuzzy, keyword or body stages.
        """
        text = _compact(query)
        if not text or limit <= 0:
            return []
        latin = _LATIN_QUERY.fullmatch(text) is not None
        taken: set[int] = set()
        hits: list[SearchHit] = []
        stages = (
            lambda: self._name_stage(text),
            lambda: self._pinyin_stage(query, text, latin, taken),
            lambda: self._initials_stage(text, latin, taken),
            lambda: self._fuzzy_stage(text, latin, taken),
            lambda: self._subsequence_stage(text, latin, taken),
            lambda: self._substring_stage(text, self._keywords, _KEYWORDS, taken),
            # Typed pinyin reaches keywords too (chusheng finds the items of 新生儿出生一件事), from 4 letters.
            lambda: self._keyword_pinyin_stage(text, taken) if latin and len(text) >= 3 else [],
            lambda: self._substring_stage(text, self._bodies, _BODY, taken),
        )
        for stage in stages:
            found = stage()
            found.sort(
                key=lambda hit: (hit[0], -hit[2], self._lengths[hit[1]], -self._boosts[hit[1]], self._keys[hit[1]])
            )
            for tier, index, quality in found:
                taken.add(index)
                hits.append(SearchHit(self._keys[index], self._score(tier, index, quality), _TIER_NAMES[tier]))
            if len(hits) >= limit:
                break
        return hits[:limit]

    # Each stage returns (tier, document index, quality 0..1) for documents not yet taken.

    def _name_stage(self, text: str) -> list[tuple[int, int, float]]:
        found = []
        for index in [index for index, name in enumerate(self._names) if text in name]:
            name = self._names[index]
            tier = _EXACT if len(name) == len(text) else _PREFIX if name.startswith(text) else _CONTAINS
            found.append((tier, index, 1.0))
        return found

    def _pinyin_stage(self, query: str, text: str, latin: bool, taken: set[int]) -> list[tuple[int, int, float]]:
        """Query pinyin from a syllable start; a Chinese query must also end on a syllable (same sound).

        A match at the start of the name's pinyin has quality 1.0, a later one _INNER_QUALITY, mirroring
        name prefix > name contains.
        """
        if not latin and len(text) < 2:
            return []  # 证 alone would bring every 政, 正 and 整: same-sound tolerance needs a word
        spelled = to_pinyin(query)
        if not spelled:
            return []
        found = []
        for index in [index for index, pinyin in enumerate(self._pinyins) if spelled in pinyin]:
            if index in taken:
                continue
            pinyin, bounds = self._pinyins[index], self._bounds[index]
            position = pinyin.find(spelled)
            while position != -1:
                if position in bounds and (latin or position + len(spelled) in bounds):
                    found.append((_PINYIN, index, 1.0 if position == 0 else _INNER_QUALITY))
                    break
                position = pinyin.find(spelled, position + 1)
        return found

    def _initials_stage(self, text: str, latin: bool, taken: set[int]) -> list[tuple[int, int, float]]:
        """A latin query inside the initials; at the start (quality 1.0) before further in (_INNER_QUALITY)."""
        if not latin:
            return []
        return [
            (_INITIALS, index, 1.0 if initials.startswith(text) else _INNER_QUALITY)
            for index, initials in enumerate(self._initials)
            if text in initials and index not in taken
        ]

    def _fuzzy_stage(self, text: str, latin: bool, taken: set[int]) -> list[tuple[int, int, float]]:
        """Names (pinyin for a latin query) within one wrong character of the query, via rapidfuzz.

        One substituted character in an n-character query leaves an Indel similarity of (n-1)/n, the
        cutoff; partial_ratio aligns the query with the best window of the name. A name shorter than
        the query is compared whole (ratio), otherwise a short name inside a long query would score 100.
        A latin query must line up with the start of a syllable, as in the pinyin stage (rapidfuzz's own
        alignment may pick an equally good window one letter off), see _syllable_aligned_ratio.
        The cutoff is lowered by _FUZZY_CUTOFF_MARGIN: rapidfuzz 3.14's process functions dropped a
        score of 83.333… (6 characters, one wrong) at score_cutoff 83.3333323 and kept it at 83.33332,
        while the next lower score a window can reach, 100/(n(n-1)) below, is above the margin for
        queries up to 100 characters.
        """
        if len(text) < (_FUZZY_MIN_LATIN if latin else _FUZZY_MIN_CJK):
            return []
        choices = self._pinyins if latin else self._names
        cutoff = 100.0 * (len(text) - 1) / len(text) - _FUZZY_CUTOFF_MARGIN
        matches = process.extract(
            text,
            choices,
            scorer=fuzz.partial_ratio,
            score_cutoff=cutoff,
            limit=_FUZZY_MAX_CANDIDATES + len(taken),
        )
        found = []
        for choice, similarity, index in matches:
            if index in taken:
                continue
            if len(choice) < len(text):
                similarity = fuzz.ratio(text, choice, score_cutoff=cutoff)
                if not similarity:
                    continue
            elif latin:
                similarity = self._syllable_aligned_ratio(text, index)
                if similarity < cutoff:
                    continue
            found.append((_FUZZY, index, round(similarity / 100.0, 2)))
        return found

    def _subsequence_stage(self, text: str, latin: bool, taken: set[int]) -> list[tuple[int, int, float]]:
        """Names holding every character of a Chinese query in order, with words between: 食品许可 finds
        食品经营许可, 出生证明 finds 出生医学证明. From _SUBSEQUENCE_MIN characters; fewer gaps rank first
        (quality = query length / length of the shortest window holding it)."""
        if latin or len(text) < _SUBSEQUENCE_MIN:
            return []
        pattern = re.compile("(?=(" + ".*?".join(map(re.escape, text)) + "))")
        found = []
        for index, name in enumerate(self._names):
            if index in taken or text[0] not in name:
                continue
            windows = [len(match.group(1)) for match in pattern.finditer(name)]
            if windows:
                found.append((_FUZZY, index, round(len(text) / min(windows), 2)))
        return found

    def _syllable_aligned_ratio(self, text: str, index: int) -> float:
        """Best rapidfuzz ratio of ``text`` against windows of the pinyin that start on a syllable.

        Window sizes len(text) - 1 .. len(text) + 1 cover one wrong, missing or extra letter.
        """
        pinyin, size = self._pinyins[index], len(text)
        return max(
            (
                fuzz.ratio(text, pinyin[start : start + width])
                for start in self._bounds[index]
                if start < len(pinyin)
                for width in (size - 1, size, size + 1)
            ),
            default=0.0,
        )

    def _keyword_pinyin_stage(self, text: str, taken: set[int]) -> list[tuple[int, int, float]]:
        """Keywords whose pinyin holds the typed pinyin from the start of a syllable, or a keyword
        whose initials are the query (sbk finds 社保卡)."""
        found = []
        for index, (pinyin, starts) in enumerate(self._keyword_pinyins):
            if index in taken:
                continue
            if text in self._keyword_initials[index]:
                found.append((_KEYWORDS, index, 1.0))
                continue
            if text not in pinyin:
                continue
            position = pinyin.find(text)
            while position != -1 and position not in starts:
                position = pinyin.find(text, position + 1)
            if position != -1:
                found.append((_KEYWORDS, index, 1.0))
        return found

    @staticmethod
    def _substring_stage(text: str, fields: list[str], tier: int, taken: set[int]) -> list[tuple[int, int, float]]:
        return [(tier, index, 1.0) for index, field in enumerate(fields) if text in field and index not in taken]

    def _score(self, tier: int, index: int, quality: float) -> float:
        brevity = _LENGTH_CAP - self._lengths[index]
        score = (
            (_TIER_COUNT - tier)
            + _QUALITY_WEIGHT * quality
            + _LENGTH_STEP * brevity
            + _BOOST_WEIGHT * self._boosts[index]
        )
        return round(score, 8)  # hits are sorted on the exact components; rounding only tidies the figure
