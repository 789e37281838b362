"""Statement statistics as Polis defines them (repness.clj, stats.clj, conversation.clj), vectorised in torch."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any


def z_threshold(confidence: float) -> float:
    """One-sided critical z (1.2816 at 90%)."""
    return NormalDist().inv_cdf(confidence)


def vote_counts(rows, cols, vals, labels, k: int, m: int):
    """(agree, disagree, seen) counts, each (k, m), over votes of participants with label >= 0."""
    import torch

    g = labels[rows]  # (nnz,)
    keep = g >= 0
    key = g[keep] * m + cols[keep]
    v = vals[keep]
    size = k * m
    seen = torch.bincount(key, minlength=size).reshape(k, m)
    agree = torch.bincount(key[v > 0], minlength=size).reshape(k, m)
    disagree = torch.bincount(key[v < 0], minlength=size).reshape(k, m)
    return agree, disagree, seen


def prob(count, total):
    """Laplace-smoothed share: (count + 1) / (total + 2)."""
    return (count + 1) / (total + 2)


def prop_test(succ, n):
    """Polis one-proportion z: 2 sqrt(n+1) ((succ+1)/(n+1) - 1/2)."""
    return 2 * (n + 1).sqrt() * ((succ + 1) / (n + 1) - 0.5)


def two_prop_test(succ_in, succ_out, n_in, n_out):
    """Polis two-proportion z with +1 smoothing; 0 where the pooled share is 1."""
    import torch

    s1, s2, n1, n2 = succ_in + 1, succ_out + 1, n_in + 1, n_out + 1
    pi1, pi2 = s1 / n1, s2 / n2
    pooled = (s1 + s2) / (n1 + n2)
    denom = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).sqrt()
    z = (pi1 - pi2) / torch.where(denom > 0, denom, torch.ones_like(denom))
    return torch.where(pooled >= 1, torch.zeros_like(z), z)


def p_value(z):
    """One-sided p-value of a z statistic."""
    import torch

    return 0.5 * torch.erfc(z / math.sqrt(2))


def group_stats(agree, disagree, seen) -> dict[str, Any]:
    """Per (group, statement): counts, shares in and out of group, repness and their z-tests."""
    na, nd, ns = (t.to(float_dtype(agree)) for t in (agree, disagree, seen))
    na_out, nd_out, ns_out = na.sum(0) - na, nd.sum(0) - nd, ns.sum(0) - ns
    pa, pd = prob(na, ns), prob(nd, ns)
    pa_out, pd_out = prob(na_out, ns_out), prob(nd_out, ns_out)
    return {
        "na": na, "nd": nd, "ns": ns,
        "pa": pa, "pd": pd, "pa_out": pa_out, "pd_out": pd_out,
        "pat": prop_test(na, ns), "pdt": prop_test(nd, ns),
        "ra": pa / pa_out, "rd": pd / pd_out,
        "rat": two_prop_test(na, na_out, ns, ns_out), "rdt": two_prop_test(nd, nd_out, ns, ns_out),
    }


def float_dtype(t):
    """float64 for counting tensors (counts are exact; shares must match Polis to 1e-6)."""
    import torch

    return torch.float64 if not t.is_floating_point() else t.dtype


def group_informed_consensus(pa, pd):
    """(agree, disagree), each (m,): product over groups of the smoothed shares (conversation.clj)."""
    return pa.prod(0), pd.prod(0)


def priority(agree, passes, seen, extremity, is_meta, meta_priority: float = 7.0):
    """Polis routing priority: (importance * (1 + 8 * 2^(-S/5)))^2, meta statements at 7^2."""
    import torch

    importance = (1 - prob(passes, seen)) * (extremity + 1) * prob(agree, seen)
    p = importance * (1 + 8 * torch.pow(2.0, -seen / 5))
    return torch.where(is_meta, torch.full_like(p, meta_priority), p) ** 2


def _entry(st: dict[str, list], i: int, tid: int, repness: bool) -> dict[str, Any]:
    """One statement in Polis's repness/consensus format, direction by the larger test."""
    agree = st["rat"][i] > st["rdt"][i] if repness else st["pat"][i] > st["pdt"][i]
    d = "a" if agree else "d"
    out = {
        "tid": tid,
        "n-success": int(st["n" + d][i]),
        "n-trials": int(st["ns"][i]),
        "p-success": st["p" + d][i],
        "p-test": st["p" + d + "t"][i],
    }
    if repness:
        out.update({"repness": st["r" + d][i], "repness-test": st["r" + d + "t"][i],
                    "repful-for": "agree" if agree else "disagree"})
    return out


def select_repness(st: dict[str, list], tids: list[int], eligible: list[bool], z: float, pick_max: int):
    """Polis select-rep-comments for one group: best agree first, then significant ones by metric."""
    best_agree: int | None = None
    for i in range(len(tids)):
        if not eligible[i] or (st["na"][i] == 0 and st["nd"][i] == 0):
            continue
        if best_agree is None:
            ok = st["pat"][i] > z or (st["ra"][i] > 1.0 and st["pa"][i] > 0.5)
        elif st["ra"][best_agree] > 1.0:
            def metric(j: int) -> float:
                return st["ra"][j] * st["rat"][j] * st["pa"][j] * st["pat"][j]
            ok = metric(i) > metric(best_agree)
        else:
            ok = st["pa"][i] * st["pat"][i] > st["pa"][best_agree] * st["pat"][best_agree]
        if ok:
            best_agree = i
    sig = [i for i in range(len(tids)) if eligible[i] and (
        (st["pat"][i] > z and st["rat"][i] > z) or (st["pdt"][i] > z and st["rdt"][i] > z))]
    head: list[dict[str, Any]] = []
    if best_agree is not None:
        head = [_entry(st, best_agree, tids[best_agree], True) | {"best-agree": True}]
        head[0]["n-agree"] = head[0]["n-success"]
    elif not sig:
        best = None
        for i in range(len(tids)):
            if eligible[i] and (best is None or max(st["rat"][i], st["rdt"][i]) > max(st["rat"][best],
                                                                                     st["rdt"][best])):
                best = i
        if best is not None:
            head = [_entry(st, best, tids[best], True)]
    rest = [_entry(st, i, tids[i], True) for i in sig]
    rest.sort(key=lambda e: -(e["repness"] * e["repness-test"] * e["p-success"] * e["p-test"]))
    selected = (head + [e for e in rest if e["tid"] != head[0]["tid"]]) if head else []
    selected = selected[:pick_max]
    return sorted(selected, key=lambda e: e["repful-for"])  # agrees before disagrees, stable


def select_consensus(st: dict[str, list], tids: list[int], eligible: list[bool], z: float, pick_max: int):
    """Polis consensus over everyone: share > 1/2 and significant, ranked by share * z, per direction."""
    out: dict[str, list[dict[str, Any]]] = {}
    for d, name in (("a", "agree"), ("d", "disagree")):
        cand = [i for i in range(len(tids)) if eligible[i] and st["p" + d][i] > 0.5 and st["p" + d + "t"][i] > z]
        cand.sort(key=lambda i: -(st["p" + d][i] * st["p" + d + "t"][i]))
        out[name] = [_entry(st, i, tids[i], False) for i in cand[:pick_max]]
    return out
