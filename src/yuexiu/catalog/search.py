"""Search over the service catalogue: Chinese substrings, words in any order, pinyin, pinyin initials and
one-typo tolerance.

Pure module (no Django import): the catalogue hands in ``SearchDocument`` values and gets ``SearchHit``
values back, so the index can be built from a queryset, a YAML file or a benchmark generator alike.

Matching works on a *compact* form of the text: NFKC (full-width letters, digits and brackets become
half-width), lowercase, and everything that is not a letter or a digit dropped, so ``（新办）``,
``(新办)`` and ``新办`` are the same to a query. The query's *words* are its runs of letters and digits
between spaces or punctuation (``公积金 退休`` has two); its *parts* split the words further into runs
of Han characters and runs of latin letters or digits. Pinyin (toneless, ``ü`` written ``v``, as typed
with a pinyin input method) comes from pypinyin, phrase-aware, so 银行 is ``yinhang``; fuzzy matching
comes from rapidfuzz and only runs when the exact stages have not filled the page.

Tiers, best first; a document appears once, in the best tier it reaches:

=========  ======================================================================
name       the query equals the name, starts it, or occurs in it (three sub-tiers)
pinyin     the query's pinyin occurs in the name's pinyin from a syllable start
           (covers typed pinyin and same-sound wrong characters)
initials   a latin query occurs in the name's pinyin initials (csyxzm)
words      every part of the query is in the name, in another order or with words between:
           each Han part cut into pieces of two or more characters found in the name
           (公积金提取 and 公积金 退休 find 退休提取住房公积金), or the query's characters in
           order with gaps, from three characters (社保卡 finds 社会保障卡, 出生证明 finds
           出生医学证明); a latin part is pinyin from a syllable start
fuzzy      the name is within one wrong character of the query (rapidfuzz), or holds every
           character but one in order with gaps, from four characters (出身证明 finds
           出生医学证明)
keywords   the query, or every one of its words, occurs in the keywords (department, item type,
           bundle names, common names …) or the name; typed pinyin reaches keywords too
body       the query, or every one of its words, occurs in the body (conditions, materials …),
           the keywords or the name
=========  ======================================================================

Within a tier: closer matches first (fuzzy similarity; fewer characters between the words found; the
words in the query's order before reordered ones; pinyin or initials matching from the start of the
name before those matching further in), then shorter names, then higher boost, then key, so the order
is deterministic for a given set of documents.

Speed: every field is also kept joined into one string, so a substring search runs in C over the whole
catalogue and visits only the documents that hold it; the words and fuzzy stages first narrow the
documents to those holding the query's characters (a posting list per character of the names).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

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

    matched is one of ``"name"``, ``"pinyin"``, ``"initials"``, ``"words"``, ``"fuzzy"``, ``"keywords"``,
    ``"body"``. score = tier weight (exact name 9, name prefix 8, name contains 7, pinyin 6, initials 5,
    words 4, fuzzy 3, keywords 2, body 1) + a fraction below 1 that orders hits within the tier, so
    scores from different tiers never overlap and hits are listed by score, descending.
    """

    key: str
    score: float
    matched: str


# Tier ranks (0 best) with the tier name reported in SearchHit.matched.
_EXACT, _PREFIX, _CONTAINS, _PINYIN, _INITIALS, _WORDS, _FUZZY, _KEYWORDS, _BODY = range(9)
_TIER_NAMES = ("name", "name", "name", "pinyin", "initials", "words", "fuzzy", "keywords", "body")
_TIER_COUNT = len(_TIER_NAMES)

# Within-tier fraction: quality (rounded to 0.01) dominates, then brevity (one step per character up
# to _LENGTH_CAP), then boost; each weight is smaller than one step of the previous.
_QUALITY_WEIGHT = 0.9
_LENGTH_CAP = 100
_LENGTH_STEP = 0.00008
_BOOST_WEIGHT = 0.00007
# Quality of a pinyin or initials match that does not start at the beginning of the name.
_INNER_QUALITY = 0.9
# Words stage: a query whose words are found in another order than typed counts for this share of
# the same words found in order; a latin word found as pinyin has this quality (no character span).
_REORDERED_FACTOR = 0.8
_LATIN_WORD_QUALITY = 0.5
# Fuzzy stage: a name holding all but one character of the query with gaps counts for this share of
# its compactness, so it stays below every contiguous one-wrong-character match (similarity >= 0.75).
_TYPO_GAP_FACTOR = 0.5

# Fuzzy stage bounds: minimum compact query length (Chinese / latin) and the most candidates kept.
_FUZZY_MIN_CJK = 4
_FUZZY_MIN_LATIN = 6
_FUZZY_MAX_CANDIDATES = 500
_FUZZY_CUTOFF_MARGIN = 0.01
# Subsequence stage: minimum Chinese query length (two characters in order match too much); one wrong
# character is tolerated from one more character (the three that remain must be in order).
_SUBSEQUENCE_MIN = 3
# Words stage: a single word is cut into pieces from this length (a three-character word cannot be
# cut into two pieces of two characters, so it is a plain name match or none).
_REORDER_MIN = 4
# Shortest piece a Han part is cut into (single characters match too much).
_PIECE_MIN = 2

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


class _Joined:
    """The strings of one field of every document, joined, so that a substring is searched in C over the
    whole catalogue and only the documents holding it are visited.

    The strings must not contain ``"\\n"`` (compact text and pinyin never do).
    """

    __slots__ = ("_joined", "_starts", "texts")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self._joined = "\n".join(texts)
        starts, offset = [], 0
        for text in texts:
            starts.append(offset)
            offset += len(text) + 1
        self._starts = starts

    def occurrences(self, needle: str) -> Iterator[tuple[int, int]]:
        """``(document index, position in its text)`` of every occurrence of ``needle``, in document order."""
        joined, starts = self._joined, self._starts
        position = joined.find(needle) if needle else -1
        while position != -1:
            index = bisect_right(starts, position) - 1
            yield index, position - starts[index]
            position = joined.find(needle, position + 1)

    def containing(self, needle: str) -> list[int]:
        """Indexes of the documents whose text holds ``needle``, each once, ascending."""
        joined, starts = self._joined, self._starts
        found: list[int] = []
        position = joined.find(needle) if needle else -1
        while position != -1:
            index = bisect_right(starts, position) - 1
            found.append(index)
            if index + 1 == len(starts):
                break
            position = joined.find(needle, starts[index + 1])
        return found


@dataclass(frozen=True)
class _Query:
    """A parsed query: ``raw`` as typed, ``text`` compact, ``latin`` when ``text`` is only ``[a-z0-9]``,
    ``words`` its compact words, ``parts`` the words cut into Han runs and latin/digit runs.

    ``"公积金 退休"`` -> text ``"公积金退休"``, words ``("公积金", "退休")``, parts the same;
    ``"abc公司"`` -> one word, parts ``("abc", "公司")``.
    """

    raw: str
    text: str
    latin: bool
    words: tuple[str, ...]
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, query: str) -> _Query:
        words = tuple(_ALNUM_RUN.findall(unicodedata.normalize("NFKC", query).lower()))
        parts = tuple(part for word in words for part in _HAN_RUN.split(word) if part)
        text = "".join(words)
        return cls(query, text, _LATIN_QUERY.fullmatch(text) is not None, words, parts)


def _is_han(part: str) -> bool:
    return _HAN_RUN.fullmatch(part) is not None


def _cover(part: str, name: str) -> list[str] | None:
    """The fewest pieces, in the part's order, that cut ``part`` into substrings of ``name`` of at least
    _PIECE_MIN characters (a one-character part is its own piece); ``None`` when there are none.

    ``_cover("公积金提取", "退休提取住房公积金")`` -> ``["公积金", "提取"]``.
    """
    size = len(part)
    if size < _PIECE_MIN:
        return [part] if part in name else None
    best: list[list[str] | None] = [None] * (size + 1)
    best[size] = []
    for start in range(size - _PIECE_MIN, -1, -1):
        for end in range(size, start + _PIECE_MIN - 1, -1):  # longest piece first
            rest, current = best[end], best[start]
            if rest is not None and (current is None or len(rest) + 1 < len(current)) and part[start:end] in name:
                best[start] = [part[start:end], *rest]
    return best[0]


def _subsequence(text: str) -> re.Pattern[str]:
    """A pattern whose overlapping matches are the windows holding ``text``'s characters in order."""
    return re.compile("(?=(" + ".*?".join(map(re.escape, text)) + "))")


# A stage returns (tier, document index, quality 0..1) for documents not yet taken; a group of stages
# is ranked together (one tier, or the three name sub-tiers) before the next group runs.
_Found = list[tuple[int, int, float]]
_Stage = Callable[[_Query, set[int]], _Found]


class SearchIndex:
    """An in-memory index over catalogue documents; immutable once built, safe to share between threads.

    Build: per document the compact name, its pinyin, the syllable start offsets in that pinyin, its
    initials, the compact keywords and body, and a posting list per character of the names are computed
    once (pinyin cached per Han run).
    Search: ``index.search("csyxzm")`` -> ``[SearchHit(key="chu-sheng-yi-xue-zheng-ming", score=5.9…,
    matched="initials"), …]``, at most ``limit`` hits, best first.
    """

    def __init__(self, documents: Iterable[SearchDocument]) -> None:
        self._keys: list[str] = []
        names: list[str] = []
        pinyins: list[str] = []
        initials: list[str] = []
        keywords: list[str] = []
        keyword_pinyins: list[str] = []
        bodies: list[str] = []
        self._bounds: list[frozenset[int]] = []
        self._keyword_bounds: list[frozenset[int]] = []
        self._keyword_initials: dict[str, set[int]] = {}
        self._lengths: list[int] = []
        self._boosts: list[float] = []
        postings: dict[str, list[int]] = {}
        seen: set[str] = set()
        for index, document in enumerate(documents):
            if document.key in seen:
                raise ValueError(f"duplicate search document key {document.key!r}")
            seen.add(document.key)
            tokens = _tokens(document.name)
            name = _compact(document.name)
            boost = document.boost if 0.0 <= document.boost <= 1.0 else (1.0 if document.boost > 1.0 else 0.0)
            self._keys.append(document.key)
            names.append(name)
            pinyins.append("".join(token for token, _ in tokens))
            self._bounds.append(_starts(tokens))
            initials.append("".join(token[0] if syllable else token for token, syllable in tokens))
            words = [word for word in map(_compact, document.keywords.split()) if word]
            keywords.append(" ".join(words))
            keyword_tokens = _tokens(document.keywords)
            keyword_pinyins.append("".join(token for token, _ in keyword_tokens))
            self._keyword_bounds.append(_starts(keyword_tokens))
            for word_initials in filter(None, map(pinyin_initials, words)):
                self._keyword_initials.setdefault(word_initials, set()).add(index)
            bodies.append(_compact(document.body))
            self._lengths.append(min(len(name), _LENGTH_CAP))
            self._boosts.append(boost)  # NaN fails both comparisons above and becomes 0.0
            for character in set(name):
                postings.setdefault(character, []).append(index)
        self._names = _Joined(names)
        self._pinyins = _Joined(pinyins)
        self._initials = _Joined(initials)
        self._keywords = _Joined(keywords)
        self._keyword_pinyins = _Joined(keyword_pinyins)
        self._bodies = _Joined(bodies)
        self._postings = {character: frozenset(indexes) for character, indexes in postings.items()}
        self._groups: tuple[tuple[_Stage, ...], ...] = (
            (self._name_stage,),
            (self._pinyin_stage,),
            (self._initials_stage,),
            (self._subsequence_stage, self._reordered_stage),
            (self._fuzzy_stage, self._typo_gap_stage),
            (self._keyword_stage, self._keyword_pinyin_stage, self._all_words_stage(_KEYWORDS)),
            (self._body_stage, self._all_words_stage(_BODY)),
        )

    def __len__(self) -> int:
        return len(self._keys)

    def search(self, query: str, limit: int | None = 20) -> list[SearchHit]:
        """The best ``limit`` documents for ``query``, best first (every match when ``limit`` is None);
        ``[]`` for an empty or blank query.

        Stage groups run best tier first and stop once ``limit`` hits are certain, so a query with many
        exact hits never pays for the fuzzy, keyword or body stages. The hits of a smaller ``limit`` are
        the first hits of a larger one, so ``len(search(query, None))`` is the number of matches.
        """
        parsed = _Query.parse(query)
        if not parsed.text or (limit is not None and limit <= 0):
            return []
        taken: set[int] = set()
        hits: list[SearchHit] = []
        for group in self._groups:
            found = [hit for stage in group for hit in stage(parsed, taken)]
            found.sort(
                key=lambda hit: (hit[0], -hit[2], self._lengths[hit[1]], -self._boosts[hit[1]], self._keys[hit[1]])
            )
            for tier, index, quality in found:
                if index in taken:  # found by two stages of the group: the better one came first
                    continue
                if len(hits) == limit:
                    return hits
                taken.add(index)
                hits.append(SearchHit(self._keys[index], self._score(tier, index, quality), _TIER_NAMES[tier]))
            if len(hits) == limit:
                break
        return hits

    # ---- stages: each returns (tier, document index, quality 0..1) for documents not yet taken ----

    def _name_stage(self, query: _Query, taken: set[int]) -> _Found:
        text, names = query.text, self._names.texts
        found = []
        for index in self._names.containing(text):
            name = names[index]
            tier = _EXACT if len(name) == len(text) else _PREFIX if name.startswith(text) else _CONTAINS
            found.append((tier, index, 1.0))
        return found

    def _pinyin_stage(self, query: _Query, taken: set[int]) -> _Found:
        """Query pinyin from a syllable start; a Chinese query must also end on a syllable (same sound).

        A match at the start of the name's pinyin has quality 1.0, a later one _INNER_QUALITY, mirroring
        name prefix > name contains.
        """
        if not query.latin and len(query.text) < 2:
            return []  # 证 alone would bring every 政, 正 and 整: same-sound tolerance needs a word
        spelled = to_pinyin(query.raw)
        found, done = [], set(taken)
        for index, position in self._pinyins.occurrences(spelled):
            if index in done:
                continue
            bounds = self._bounds[index]
            if position in bounds and (query.latin or position + len(spelled) in bounds):
                found.append((_PINYIN, index, 1.0 if position == 0 else _INNER_QUALITY))
                done.add(index)
        return found

    def _initials_stage(self, query: _Query, taken: set[int]) -> _Found:
        """A latin query inside the initials; at the start (quality 1.0) before further in (_INNER_QUALITY)."""
        if not query.latin:
            return []
        text, initials = query.text, self._initials.texts
        return [
            (_INITIALS, index, 1.0 if initials[index].startswith(text) else _INNER_QUALITY)
            for index in self._initials.containing(text)
            if index not in taken
        ]

    def _subsequence_stage(self, query: _Query, taken: set[int]) -> _Found:
        """Names holding every character of a Chinese query in order, with words between: 食品许可 finds
        食品经营许可, 社保卡 finds 社会保障卡申领. From _SUBSEQUENCE_MIN characters; fewer gaps rank first
        (quality = query length / length of the shortest window holding it)."""
        text = query.text
        if query.latin or len(text) < _SUBSEQUENCE_MIN:
            return []
        return [
            (_WORDS, index, quality)
            for index, quality in self._in_order(text, self._holding(set(text)) - taken).items()
        ]

    def _reordered_stage(self, query: _Query, taken: set[int]) -> _Found:
        """Names holding every part of the query, in any order: each Han part cut into the fewest pieces
        of _PIECE_MIN or more characters found in the name (公积金提取 -> 公积金 + 提取), a digit part
        as it is, a latin part in the name or as pinyin from a syllable start. Runs for a query of several
        parts, or of one Han part of _REORDER_MIN or more characters.

        Quality: the characters of the Han parts over the span of the name they are found in (fewer
        characters between them first), times _REORDERED_FACTOR when they are not in the query's order;
        _LATIN_WORD_QUALITY when a latin part is involved (its span in characters is not known).
        """
        parts = query.parts
        if len(parts) < 2 and not (_is_han(parts[0]) and len(parts[0]) >= _REORDER_MIN):
            return []
        fixed = [part for part in parts if _is_han(part) or part.isdigit()]
        spelled = sorted({part for part in parts if part not in fixed}, key=len, reverse=True)  # rarest first
        if fixed:
            candidates = self._holding(set("".join(fixed))) - taken
        else:
            first = spelled.pop(0)
            candidates = (set(self._names.containing(first)) | self._pinyin_from_syllable(first)) - taken
        for part in spelled:
            candidates = {index for index in candidates if self._spells(part, index)}
        names = self._names.texts
        found = []
        for index in sorted(candidates):
            name = names[index]
            pieces: list[str] = []
            for part in fixed:
                cut = _cover(part, name)
                if cut is None:
                    break
                pieces.extend(cut)
            else:
                if spelled:
                    found.append((_WORDS, index, _LATIN_WORD_QUALITY))
                    continue
                positions = [name.find(piece) for piece in pieces]
                span = max(position + len(piece) for position, piece in zip(positions, pieces, strict=True))
                span -= min(positions)
                in_order = all(later > earlier for earlier, later in pairwise(positions))
                covered = sum(map(len, pieces))
                quality = min(1.0, covered / span) * (1.0 if in_order else _REORDERED_FACTOR)
                found.append((_WORDS, index, round(quality, 2)))
        return found

    def _fuzzy_stage(self, query: _Query, taken: set[int]) -> _Found:
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
        A Chinese query is only compared with names holding all of its characters but one (a window
        within the cutoff shares n-1 characters with the query, so no match is lost).
        """
        text, latin = query.text, query.latin
        if len(text) < (_FUZZY_MIN_LATIN if latin else _FUZZY_MIN_CJK):
            return []
        cutoff = 100.0 * (len(text) - 1) / len(text) - _FUZZY_CUTOFF_MARGIN
        choices: list[str] | dict[int, str]
        if latin:
            pinyins = self._pinyins.texts
            choices = pinyins
            if taken:  # leave the documents already found out of rapidfuzz's scan and its candidate limit
                choices = {index: pinyins[index] for index in range(len(pinyins)) if index not in taken}
        else:
            names = self._names.texts
            choices = {index: names[index] for index in sorted(self._holding_all_but_one(set(text)) - taken)}
        matches = process.extract(
            text, choices, scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=_FUZZY_MAX_CANDIDATES
        )
        found = []
        for choice, similarity, index in matches:
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

    def _typo_gap_stage(self, query: _Query, taken: set[int]) -> _Found:
        """Names holding every character of a Chinese query but one, in order with words between: 出身证明
        finds 出生医学证明 (身 wrong, 生医学 between). From _SUBSEQUENCE_MIN + 1 characters. Quality:
        _TYPO_GAP_FACTOR times the characters found over the shortest window holding them."""
        text = query.text
        if query.latin or len(text) < _SUBSEQUENCE_MIN + 1:
            return []
        best: dict[int, float] = {}
        for position in range(len(text)):
            rest = text[:position] + text[position + 1 :]
            for index, quality in self._in_order(rest, self._holding(set(rest)) - taken).items():
                best[index] = max(best.get(index, 0.0), round(quality * _TYPO_GAP_FACTOR, 2))
        return [(_FUZZY, index, quality) for index, quality in best.items()]

    def _keyword_stage(self, query: _Query, taken: set[int]) -> _Found:
        return [(_KEYWORDS, index, 1.0) for index in self._keywords.containing(query.text) if index not in taken]

    def _keyword_pinyin_stage(self, query: _Query, taken: set[int]) -> _Found:
        """Typed pinyin from 3 letters reaches keywords too (chusheng finds the items of 新生儿出生一件事):
        keywords whose pinyin holds it from the start of a syllable, or a keyword whose initials are the
        query (sbk finds 社保卡)."""
        text = query.text
        if not query.latin or len(text) < 3:
            return []
        found, done = [], set(taken)
        for index in sorted(self._keyword_initials.get(text, ())):
            if index not in done:
                found.append((_KEYWORDS, index, 1.0))
                done.add(index)
        for index, position in self._keyword_pinyins.occurrences(text):
            if index not in done and position in self._keyword_bounds[index]:
                found.append((_KEYWORDS, index, 1.0))
                done.add(index)
        return found

    def _body_stage(self, query: _Query, taken: set[int]) -> _Found:
        return [(_BODY, index, 1.0) for index in self._bodies.containing(query.text) if index not in taken]

    def _all_words_stage(self, tier: int) -> _Stage:
        """A stage for a query of several words: documents where each word occurs in the name or the
        keywords (keywords tier), or in the name, the keywords or the body (body tier): 公积金 退休 finds
        住房公积金个人账户封存, whose keywords name 退休一件事."""
        fields = (self._names, self._keywords) + ((self._bodies,) if tier == _BODY else ())

        def stage(query: _Query, taken: set[int]) -> _Found:
            if len(query.words) < 2:
                return []
            matching: set[int] | None = None
            for word in query.words:
                holding = {index for field in fields for index in field.containing(word)}
                matching = holding if matching is None else matching & holding
                if not matching:
                    return []
            return [(tier, index, 1.0) for index in sorted((matching or set()) - taken)]

        return stage

    # ---- helpers ----

    def _holding(self, characters: set[str]) -> set[int]:
        """Documents whose name holds every one of ``characters`` (all documents for none)."""
        if not characters:
            return set(range(len(self._keys)))
        lists = sorted((self._postings.get(character, frozenset()) for character in characters), key=len)
        return set(lists[0]).intersection(*lists[1:])

    def _holding_all_but_one(self, characters: set[str]) -> set[int]:
        """Documents whose name holds every one of ``characters`` except at most one."""
        if len(characters) <= 1:
            return set(range(len(self._keys)))
        found: set[int] = set()
        for left_out in characters:
            found |= self._holding(characters - {left_out})
        return found

    def _in_order(self, text: str, candidates: Iterable[int]) -> dict[int, float]:
        """Per candidate whose name holds ``text``'s characters in order: len(text) over the length of
        the shortest window holding them, rounded to 0.01."""
        pattern, names = _subsequence(text), self._names.texts
        found = {}
        for index in candidates:
            windows = [len(match.group(1)) for match in pattern.finditer(names[index])]
            if windows:
                found[index] = round(len(text) / min(windows), 2)
        return found

    def _pinyin_from_syllable(self, spelled: str) -> set[int]:
        """Documents whose name's pinyin holds ``spelled`` from the start of a syllable."""
        return {index for index, position in self._pinyins.occurrences(spelled) if position in self._bounds[index]}

    def _spells(self, part: str, index: int) -> bool:
        """Whether document ``index``'s name holds the latin ``part``, or its pinyin from a syllable start."""
        if part in self._names.texts[index]:
            return True
        pinyin, bounds = self._pinyins.texts[index], self._bounds[index]
        position = pinyin.find(part)
        while position != -1 and position not in bounds:
            position = pinyin.find(part, position + 1)
        return position != -1

    def _syllable_aligned_ratio(self, text: str, index: int) -> float:
        """Best rapidfuzz ratio of ``text`` against windows of the pinyin that start on a syllable.

        Window sizes len(text) - 1 .. len(text) + 1 cover one wrong, missing or extra letter.
        """
        pinyin, size = self._pinyins.texts[index], len(text)
        windows = [
            pinyin[start : start + width]
            for start in self._bounds[index]
            if start < len(pinyin)
            for width in (size - 1, size, size + 1)
        ]
        best = process.extractOne(text, windows, scorer=fuzz.ratio)  # one call into rapidfuzz, not one per window
        return best[1] if best else 0.0

    def _score(self, tier: int, index: int, quality: float) -> float:
        brevity = _LENGTH_CAP - self._lengths[index]
        score = (
            (_TIER_COUNT - tier)
            + _QUALITY_WEIGHT * quality
            + _LENGTH_STEP * brevity
            + _BOOST_WEIGHT * self._boosts[index]
        )
        return round(score, 8)  # hits are sorted on the exact components; rounding only tidies the figure


def _starts(tokens: list[tuple[str, bool]]) -> frozenset[int]:
    """Offsets in the joined tokens where a token starts, and the end offset."""
    starts: set[int] = set()
    offset = 0
    for token, _ in tokens:
        starts.add(offset)
        offset += len(token)
    starts.add(offset)
    return frozenset(starts)
