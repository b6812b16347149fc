"""Helpers every training script shares: the ROC AUC, metrics that may be undefined on a
split, and JSON that never holds NaN or Infinity.

JSON has no NaN and no Infinity. Python's json module writes them anyway unless told not to,
and the Go side (rightly) refuses such a file. So every JSON the pipeline writes or prints
goes through write_json or dumps, which pass allow_nan=False: a non-finite number that slips
through raises here, naming the field, instead of breaking the station later. A metric that
cannot be computed on a split is written as null with the reason beside it (put_metric).
"""
import json
import math
import os

import numpy as np

# The reason written beside an AUC that a split with one class only cannot give.
ONE_CLASS = "one class only in this split"


def roc_auc(scores, labels):
    """The Mann-Whitney ROC AUC (ties count half), or NaN when the labels hold one class only.
    Use put_metric to store it: NaN never goes into JSON."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels).astype(bool)
    npos, nneg = int(labels.sum()), int((~labels).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), np.float64)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2.0 + 1
        i = j + 1
    r = np.empty_like(ranks)
    r[order] = ranks
    return float((r[labels].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def auc_reason(labels):
    """Why an AUC over these labels cannot be computed, or None when it can."""
    labels = np.asarray(labels).astype(bool)
    npos, nneg = int(labels.sum()), int((~labels).sum())
    if npos and nneg:
        return None
    return f"{ONE_CLASS} ({npos} defective, {nneg} defect-free)"


def put_metric(out, key, value, why):
    """out[key] = value when it is a finite number; otherwise out[key] = None and
    out[key + "_why"] = why (a plain reason such as "one class only in this split")."""
    if value is not None and math.isfinite(value):
        out[key] = float(value)
        out.pop(key + "_why", None)
    else:
        out[key] = None
        out[key + "_why"] = why
    return out


def known(value):
    """True when a metric was computed (neither null nor NaN)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def rounded(value, digits=6):
    """round() that leaves an undefined metric (None) alone."""
    return None if value is None else round(float(value), digits)


def _where_not_finite(obj, path="$"):
    """The JSON path of the first NaN or Infinity in obj, or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = _where_not_finite(v, f"{path}.{k}")
            if p:
                return p
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            p = _where_not_finite(v, f"{path}[{i}]")
            if p:
                return p
    return None


def dumps(obj, **kw):
    """json.dumps with allow_nan=False; the error names the field that is not finite."""
    try:
        return json.dumps(obj, allow_nan=False, **kw)
    except ValueError as e:
        where = _where_not_finite(obj)
        raise ValueError(f"{where}: {e}" if where else str(e)) from None


def write_json(path, obj, indent=2):
    """Write obj as JSON to path atomically (a temporary file, then a rename), never with NaN or
    Infinity: a non-finite value raises ValueError naming the file and the field, and the old
    file is left as it was."""
    try:
        text = dumps(obj, indent=indent)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    try:
        with open(path + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(path + ".tmp", path)
    except BaseException:
        if os.path.exists(path + ".tmp"):
            os.remove(path + ".tmp")
        raise
