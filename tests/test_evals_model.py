"""Scoring a real causal LM (finetune-core's tiny random Gemma 3) with and without a peft adapter,
the lm-evaluation-harness export run by lm-eval itself, and the refusals for bad models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finetune.evals import report
from finetune.evals.items import EvalError
from finetune.evals.lmeval_export import export_suite, task_name
from finetune.evals.scoring import encode_pair, load_scorers
from finetune.evals.suites import EvalSource, OpinionStatement, get

STATEMENTS = tuple(
    OpinionStatement(str(i), text, shares, {"A": a, "B": b})
    for i, (text, shares, a, b) in enumerate([
        ("司機必須有職業駕照。", (0.8, 0.1, 0.1), (0.9, 0.05, 0.05), (0.7, 0.1, 0.2)),
        ("應該禁止共乘平台。", (0.4, 0.1, 0.5), (0.8, 0.1, 0.1), (0.1, 0.1, 0.8)),
        ("乘客不需要保險。", (0.1, 0.1, 0.8), (0.1, 0.2, 0.7), (0.05, 0.05, 0.9)),
    ])
)
# Community-written items as assembly/evals/community.py passes them: plain data, votes as provenance.
COMMUNITY = tuple(
    {"id": f"community-{i}", "prompt": prompt, "good": good, "bad": bad,
     "votes": {"overall": {"agree": 18, "disagree": 1, "pass": 1, "seen": 20}}, "provenance": {"item_id": i}}
    for i, (prompt, good, bad) in enumerate([
        ("共乘司機需要什麼？", "職業駕照和保險。", "什麼都不需要。"),
        ("乘客出事誰負責？", "平台和司機都要負責。", "乘客自己負責。"),
        ("How should fares be set?", "Openly, with the rules published.", "However the platform likes."),
    ], 1)
)
SOURCE = EvalSource("demo", "zh-Hant-TW", ("en",), heldout=STATEMENTS,
                    group_views={"A": (("平台應該被規範。", "agree"),), "B": (("計程車應該減少。", "disagree"),)},
                    community_items=COMMUNITY)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny base model and a LoRA adapter on it with random (non-zero) weights."""
    from peft import LoraConfig, get_peft_model

    from finetune import base_models

    cache = tmp_path_factory.mktemp("cache")
    base = base_models.resolve(base_models.TINY_TEST_MODEL, cache)
    model, _ = base_models.load(base, device="cpu")
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter = cache / "adapter"
    peft_model.save_pretrained(adapter)
    return cache, base, adapter


def test_batched_scores_equal_one_unpadded_forward_each(tiny):
    import torch

    cache, _, adapter = tiny
    (base, tuned), info = load_scorers(None, adapter, cache, batch_size=4)
    assert info["adapter"]["name"] == "adapter" and info["base"]["weights_sha256"]
    requests = [("陳述：司機必須有職業駕照。\n回答：", "同意"), ("Statement: x\nAnswer:", " disagree"),
                ("User: hi\nAssistant: ", "hello there"), ("短", "不確定")]
    for scorer in (base, tuned):
        got = scorer.loglikelihood(requests)
        with torch.no_grad(), scorer._ctx():
            for (ctx, cont), value in zip(requests, got, strict=True):
                c, x = encode_pair(scorer.tokenizer, ctx, cont)
                logits = scorer.model(torch.tensor([c + x])).logits[0]
                logp = torch.log_softmax(logits.float(), -1)
                want = sum(float(logp[len(c) - 1 + j, t]) for j, t in enumerate(x))
                assert value == pytest.approx(want, abs=1e-4)
    assert base.loglikelihood(requests) != tuned.loglikelihood(requests)  # the adapter is really applied


def test_base_and_adapter_side_by_side_keep_per_item_results(tiny):
    cache, _, adapter = tiny
    scorers, info = load_scorers(None, adapter, cache)
    rep = report.run(SOURCE, scorers, ["consensus", "plurality"], samples=50, models=info)
    items = rep["suites"]["consensus"]["items"]
    assert len(items) == 6
    for it in items:
        assert len(it["base"]["distribution"]) == 3 and abs(sum(it["adapter"]["distribution"]) - 1) < 1e-9
        assert len(it["base"]["loglikelihoods"]) == 3  # one row per rotation of the listed options
    assert rep["models"]["adapter"]["base_model_name_or_path"]
    assert rep["promotion"]["checks"]


def test_adapter_whose_base_model_is_missing(tiny, tmp_path):
    cache, _, adapter = tiny
    moved = tmp_path / "orphan"
    moved.mkdir()
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(tmp_path / "gone")
    (moved / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(EvalError, match=r"base model .* is missing"):
        load_scorers(None, moved, cache)
    with pytest.raises(EvalError, match="not an adapter folder"):
        load_scorers(None, tmp_path, cache)
    with pytest.raises(EvalError, match="is missing"):
        load_scorers("no-such-model", None, cache)


@pytest.mark.slow
def test_lm_eval_reproduces_the_platforms_scores(tiny, tmp_path):
    """lm-eval 0.4.13 itself, on the exported task folders, gives the platform's numbers (1e-6): the
    opinion suites and the community-written items."""
    cache, base, adapter = tiny
    names = ["consensus", "plurality", "steerable", "community", "safety"]  # the last two: whole answers, per character
    scorers, _ = load_scorers(None, adapter, cache)
    rep = report.run(SOURCE, scorers, names, samples=10)
    tasks = tmp_path / "tasks"
    for n in names:
        export_suite(get(n), get(n).items(SOURCE), "demo", tasks)
    lm_eval = Path(sys.executable).with_name("lm-eval")
    out = subprocess.run(
        [str(lm_eval), "run", "--model", "hf",
         "--model_args", f"pretrained={base.local_dir},peft={adapter},dtype=float32",
         "--tasks", ",".join(task_name("demo", n) for n in names), "--include_path", str(tasks),
         "--output_path", str(tmp_path / "out"), "--device", "cpu", "--batch_size", "8"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())["results"]
    compared = 0
    for n in names:
        for metric, m in rep["suites"][n]["metrics"].items():
            theirs = results[task_name("demo", n)][f"{metric},none"]
            ours = m["adapter"]["value"]
            if ours is None:
                assert theirs != theirs or theirs is None  # NaN on both sides
                continue
            assert theirs == pytest.approx(ours, abs=1e-6), (n, metric)
            compared += 1
    assert compared >= 12
    assert rep["suites"]["community"]["n_items"] == len(COMMUNITY)
