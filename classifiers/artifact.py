"""Saving and safely loading model artifacts (skops, never a bare pickle).

A loaded file may only contain the scikit-learn, NumPy and SciPy types listed in ``TRUSTED``; anything
else (for instance an arbitrary function a tampered file wants to call) is refused before loading.
"""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path
from typing import Any

from monitor.errors import InputError

SHIPPED = Path(__file__).resolve().parent / "artifacts" / "model.skops"
FORMAT = 1

TRUSTED = frozenset({
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.str", "builtins.int",
    "builtins.float", "builtins.bool", "builtins.NoneType", "builtins.slice", "builtins.type",
    "numpy.dtype", "numpy.ndarray", "numpy.float32", "numpy.float64", "numpy.int64", "numpy.int32",
    "numpy.bool_", "numpy.str_", "numpy.random.mtrand.RandomState",
    "scipy.sparse._csr.csr_matrix", "scipy.sparse._csr.csr_array",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.utils._bunch.Bunch",
    "collections.OrderedDict", "collections.defaultdict",
    "re.Pattern", "builtins.frozenset", "builtins.set",
    "numpy.int8", "numpy.uint8", "numpy.float16",
})


def _pack(payload: dict[str, Any]) -> dict[str, Any]:
    """Vocabularies as one newline-joined string each (skops stores a dict of 100,000 terms slowly
    and large), coefficients as float32; ``_unpack`` restores them."""
    packed = dict(payload)
    vocabularies, vectorizers = {}, {}
    for name, vec in payload["vectorizers"].items():
        vec = copy.copy(vec)
        terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
        vocabularies[name] = "\n".join(terms)
        vec.vocabulary_ = {}
        vectorizers[name] = vec
    packed["vectorizers"], packed["vocabularies"] = vectorizers, vocabularies
    return packed


def _unpack(payload: dict[str, Any]) -> dict[str, Any]:
    for name, vec in payload["vectorizers"].items():
        text = payload["vocabularies"][name]
        vec.vocabulary_ = {term: i for i, term in enumerate(text.split("\n"))} if text else {}
    del payload["vocabularies"]
    return payload


def save(payload: dict[str, Any], path: Path) -> Path:
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    sio.dump(_pack(payload), tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    tmp.replace(path)
    return path


def load(path: Path) -> dict[str, Any]:
    """Load an artifact after checking every type it contains against ``TRUSTED``."""
    import skops.io as sio

    if not path.is_file():
        raise InputError(f"artifact: model file {path} does not exist")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a damaged or foreign file
        raise InputError(f"artifact: {path} is not a skops model file ({exc})") from exc
    refused = sorted(set(untrusted) - TRUSTED)
    if refused:
        raise InputError(f"artifact: {path} contains types that are not trusted: {', '.join(refused)}")
    payload = sio.load(path, trusted=list(untrusted))
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(f"artifact: {path} has no model of format {FORMAT}")
    return _unpack(payload)
