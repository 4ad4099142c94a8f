"""Folding names for the Person filter: case and accents are ignored, and a
query matches the start of any word of the given or family name."""
import re
import unicodedata

# The length of person_name_token.token (and caseload_name_token.token).
# Folding can lengthen a word ("ß" -> "ss", "ﬃ" -> "ffi"), so a name that
# fits its column can fold to a longer word: tokens and typed terms are both
# cut to this length, so a term still starts the token it was typed from.
TOKEN_MAX = 100

_WORD_SPLIT = re.compile(r"[^\w]+|_+")
# Letters that do not decompose under NFKD but that people type without marks.
_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i", "þ": "th"})


def fold(text: str) -> str:
    """Lower-case, accent-free form of text: "Zoë" -> "zoe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_tokens(name: str) -> list[str]:
    """Words of a name, folded: "Mary-Jane O'Brien" -> mary, jane, o, brien,
    and each hyphenated or apostrophed part also joined up (maryjane,
    obrien), for people who type a name without its punctuation. Each at
    most TOKEN_MAX characters."""
    folded = fold(name)
    words = [w for w in _WORD_SPLIT.split(folded) if w]
    for part in folded.split():
        words.append("".join(w for w in _WORD_SPLIT.split(part) if w))
    tokens = []
    for word in words:
        token = word[:TOKEN_MAX]
        if token and token not in tokens:
            tokens.append(token)
    return tokens[:20]


def shared_prefixes(tokens: list[str]) -> list[int]:
    """For a person's tokens in sorted order (Python's, which is the database's
    byte order of the tokens: collation "C" on PostgreSQL, BINARY on SQLite),
    how many leading characters each
    shares with the token before it (0 for the first): ["sam", "samuel",
    "smith"] -> [0, 3, 1]. The tokens of one person that start with a typed
    term of n characters sort together, and only the first of them shares
    fewer than n characters with its predecessor; so "shared_prefix < n"
    keeps one matching token a person, and the filter counts people without
    DISTINCT (see send_portal.caseload.queries)."""
    shared, previous = [], ""
    for token in tokens:
        n = 0
        for a, b in zip(previous, token):
            if a != b:
                break
            n += 1
        shared.append(n)
        previous = token
    return shared


def query_terms(query: str) -> list[str]:
    """The words a person typed into the filter, folded: at most five, each
    cut to TOKEN_MAX characters as name_tokens cuts a name's words, so a
    long word typed in full still finds its token and a hostile query
    cannot make a huge statement."""
    words = []
    for word in (w for w in _WORD_SPLIT.split(fold(query[:200])) if w):
        term = word[:TOKEN_MAX]
        if term not in words:
            words.append(term)
    return words[:5]


def sort_key(given_name: str, family_name: str) -> str:
    return f"{fold(family_name).strip()} {fold(given_name).strip()}"[:210]
