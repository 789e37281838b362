"""clustering/ on real Polis exports: groups vs Polis's own group-id beside red-dwarf, statistics equal to red-dwarf's.

The all-conversation comparison with timings lives in benchmarks/clustering.py; here a fast subset.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from clustering import ClusterConfig, cluster
from tests.conftest import need_shared
from tests.polis_data import agreement, load_polis_groups, load_votes, reddwarf_groups

pytestmark = pytest.mark.shared
SMALL = ["london.youth.policing", "brexit-consensus", "15-per-hour-seattle"]


@pytest.mark.parametrize("conversation", SMALL)
def test_groups_agree_with_polis_at_least_as_well_as_red_dwarf(conversation):
    folder = need_shared() / conversation
    vm = load_votes(folder)
    polis = load_polis_groups(folder)
    ours = cluster(vm, ClusterConfig(device="cpu"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, theirs = reddwarf_groups(vm)
    assert ours.method["n_clustered"] == sum(g is not None for g in theirs.values())
    assert agreement(ours.group_of(), polis) >= agreement(theirs, polis)


def test_statement_statistics_equal_red_dwarf_given_the_same_groups():
    from reddwarf.utils.consensus import select_consensus_statements
    from reddwarf.utils.matrix import generate_raw_matrix
    from reddwarf.utils.stats import (
        calculate_comment_statistics_dataframes,
        populate_priority_calculations_into_statements_df,
        select_representative_statements,
    )

    folder = need_shared() / "canadian-electoral-reform"
    vm = load_votes(folder)
    assert vm.moderated_out, "this conversation has moderated-out statements, which the check needs"
    res = cluster(vm, ClusterConfig(device="cpu"))
    votes = [{"participant_id": int(vm.participant_ids[r]), "statement_id": int(vm.tids[c]), "vote": int(v)}
             for r, c, v in zip(vm.rows, vm.cols, vm.values, strict=True)]
    raw = generate_raw_matrix(votes)
    assert list(raw.columns) == vm.tids.tolist() and list(raw.index) == vm.participant_ids.tolist()
    inc = res.groups >= 0
    grouped, gac = calculate_comment_statistics_dataframes(raw.loc[inc], cluster_labels=res.groups[inc])
    for name in ("na", "nd", "ns", "pa", "pd", "pat", "pdt", "ra", "rd", "rat", "rdt"):
        theirs = np.stack([grouped.xs(g, level="group_id")[name].to_numpy() for g in range(res.k)])
        np.testing.assert_allclose(res.group_stats[name], theirs, atol=1e-6, rtol=0, err_msg=name)
    np.testing.assert_allclose(res.statements["gic_agree"], gac["group-aware-consensus-agree"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.statements["gic_disagree"], gac["group-aware-consensus-disagree"], atol=1e-6, rtol=0)

    mod_out = sorted(vm.moderated_out)
    want = select_representative_statements(grouped, mod_out_statement_ids=mod_out, pick_max=5, confidence=0.9)
    for g in range(res.k):
        assert [e["tid"] for e in res.top_repness[g]] == [int(e["tid"]) for e in want[g]]
        for mine, theirs in zip(res.top_repness[g], want[g], strict=True):
            for key in ("n-success", "n-trials", "p-success", "p-test", "repness", "repness-test"):
                assert mine[key] == pytest.approx(float(theirs[key]), abs=1e-6), key
            assert mine["repful-for"] == theirs["repful-for"]
    cons = select_consensus_statements(raw, mod_out_statement_ids=mod_out, pick_max=5, confidence=0.9)
    for direction in ("agree", "disagree"):
        assert [e["tid"] for e in res.consensus[direction]] == [int(e["tid"]) for e in cons[direction]]
        for mine, theirs in zip(res.consensus[direction], cons[direction], strict=True):
            assert mine["p-success"] == pytest.approx(float(theirs["p-success"]), abs=1e-6)
            assert mine["p-test"] == pytest.approx(float(theirs["p-test"]), abs=1e-6)

    # Priority needs the extremity; feed red-dwarf our statement projections so only the formula is compared.
    import pandas as pd

    sdf = pd.DataFrame({"x": res.statements["x"], "y": res.statements["y"], "is_meta": False}, index=raw.columns)
    prio = populate_priority_calculations_into_statements_df(sdf, raw.loc[inc])
    live = ~res.moderated_out
    np.testing.assert_allclose(res.statements["extremity"], prio["extremity"], atol=1e-9, rtol=0)
    np.testing.assert_allclose(res.statements["priority"][live], prio["priority"].to_numpy()[live], atol=1e-6, rtol=0)
