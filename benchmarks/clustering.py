"""Benchmark clustering/: vs red-dwarf on the real Polis exports, a synthetic scale sweep, label stability.

    python benchmarks/clustering.py --part polis                 # red-dwarf side by side, agreement with Polis
    python benchmarks/clustering.py --part replay                # replay of votes.csv vs Polis's group-id
    python benchmarks/clustering.py --part umap                  # trustworthiness of the PCA and UMAP maps
    python benchmarks/clustering.py --part scale --sizes 10k:1k,100k:2k
    python benchmarks/clustering.py --part scale --sizes 1m:10k --device cuda
    python benchmarks/clustering.py --part stability             # group ids between incremental runs
    python benchmarks/clustering.py --part kmeans --sizes 100k:2k  # base k-means vs scikit-learn's

Each scale size runs in a fresh subprocess so its peak memory (RSS, or CUDA allocator) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clustering import ClusterConfig, VoteMatrix, cluster  # noqa: E402
from tests.polis_data import agreement, load_polis_groups, load_votes, reddwarf_groups  # noqa: E402

DATA = Path(os.environ.get("POLIS_OPENDATA", ROOT.parent / "shared" / "polis-opendata"))
if not DATA.is_dir():
    DATA = Path("/work/shared/polis-opendata")


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table, so the output pastes into docs/benchmarks.md."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def best_time(fn, repeat: int) -> tuple[float, object]:
    """Fastest of `repeat` runs (the machine is shared: the minimum is the least disturbed)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def part_polis(args) -> None:
    """Ours vs red-dwarf on every shared conversation: wall time and agreement with Polis's group-id."""
    from tqdm import tqdm

    rows = []
    convs = sorted(p.name for p in DATA.iterdir() if p.is_dir())
    for conv in tqdm(convs, desc="conversations", file=sys.stderr):
        vm = load_votes(DATA / conv)
        polis = load_polis_groups(DATA / conv)
        cfg = ClusterConfig(device=args.device, seed=args.seed)
        cluster(vm, cfg)  # warm-up: first torch calls pay one-off costs
        t_ours, res = best_time(lambda vm=vm, cfg=cfg: cluster(vm, cfg), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_rd, (_, rd) = best_time(lambda vm=vm: reddwarf_groups(vm, args.seed), args.repeat)
        k_rd = len({g for g in rd.values() if g is not None})
        rows.append([conv, f"{vm.shape[0]} x {vm.shape[1]}", vm.nnz, len(set(polis.values())), res.k, k_rd,
                     f"{agreement(res.group_of(), polis):.3f}", f"{agreement(rd, polis):.3f}",
                     f"{t_ours * 1000:.0f}", f"{t_rd * 1000:.0f}", f"{t_rd / t_ours:.1f}x"])
    print(table(["conversation", "participants x statements", "votes", "k Polis", "k ours", "k red-dwarf",
                 "agreement ours", "agreement red-dwarf", "ours ms", "red-dwarf ms", "speed-up"], rows))


def part_replay(args) -> None:
    """Replay each conversation's votes.csv (clustering.replay) vs Polis's group-id, beside one-shot and red-dwarf."""
    from tqdm import tqdm

    from clustering.replay import history_config, replay
    from tests.polis_data import load_log

    rows = []
    convs = sorted(p.name for p in DATA.iterdir() if p.is_dir())
    for conv in tqdm(convs, desc="conversations", file=sys.stderr):
        polis = load_polis_groups(DATA / conv)
        vm = load_votes(DATA / conv)
        once = cluster(vm, ClusterConfig(device=args.device, seed=args.seed))
        out = replay(**load_log(DATA / conv), config=history_config(device=args.device, seed=args.seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, rd = reddwarf_groups(vm, args.seed)
        ours = out.result.group_of()
        rows.append([conv, f"{vm.nnz:,}", f"{len(set(polis.values()))} / {out.result.k} / {once.k}",
                     f"{len(polis)} / {sum(g is not None for g in ours.values())}",
                     f"**{agreement(ours, polis):.3f}**", f"{agreement(once.group_of(), polis):.3f}",
                     f"{agreement(rd, polis):.3f}", len(out.steps), f"{out.seconds:.1f}"])
    print(table(["conversation", "votes", "k Polis / replay / one-shot", "clustered Polis / replay",
                 "agreement replay", "agreement one-shot", "agreement red-dwarf", "updates", "replay s"], rows))


def part_umap(args) -> None:
    """Trustworthiness of the PCA and UMAP maps against the full vote vectors, what UMAP costs, which map is shown.

    Through `with_umap_view`, the function the app's clustering runs call, so the euclidean figures
    are the ones a run stores (method.maps) and the results page goes by.
    """
    from tqdm import tqdm

    from clustering.umap_view import centred_votes, trust_scores, umap_projection, with_umap_view

    rows = []
    convs = sorted(p.name for p in DATA.iterdir() if p.is_dir())
    warm = True
    for conv in tqdm(convs, desc="conversations", file=sys.stderr):
        vm = load_votes(DATA / conv)
        res = cluster(vm, ClusterConfig(device="cpu", seed=args.seed))
        n, m = vm.shape
        if warm:  # numba compiles on the first call; time the steady state
            umap_projection(centred_votes(vm), args.seed)
            warm = False
        shown = with_umap_view(res, vm, args.seed)
        maps = shown.method["maps"]
        x = centred_votes(vm).to_dense().numpy()  # (n, m) centred votes, 0 where unseen
        cos = trust_scores(x, {"pca": res.projections, "umap": shown.umap}, metric="cosine")
        t = maps["trustworthiness"]
        rows.append([conv, f"{n:,} x {m}", f"{t['pca']:.3f}", f"{t['umap']:.3f}", f"{cos['pca']:.3f}",
                     f"{cos['umap']:.3f}", maps["preferred"].upper(), f"{res.method['timings_s']['pca']:.3f}",
                     f"{maps['seconds']['umap']:.2f}", f"{maps['seconds']['trustworthiness']:.2f}"])
    print(table(["conversation", "participants x statements", "PCA, euclidean", "UMAP, euclidean",
                 "PCA, cosine", "UMAP, cosine", "map shown first", "PCA s", "UMAP s", "trustworthiness s"], rows))


def parse_size(text: str) -> int:
    """10k -> 10000, 1m -> 1000000."""
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * mult)


def synthetic(n: int, m: int, votes_each: int, groups: int, seed: int) -> tuple[VoteMatrix, np.ndarray]:
    """n participants in `groups` planted camps; each votes on ~votes_each random statements."""
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, groups, n)  # (n,)
    stance = rng.choice([-1, 1], size=(groups, m)).astype(np.int8)  # each camp's side on each statement
    rows = np.repeat(np.arange(n, dtype=np.int64), votes_each)
    cols = rng.integers(0, m, n * votes_each, dtype=np.int64)
    keys = np.unique(rows * m + cols)  # drop repeated draws: one latest vote per pair
    rows, cols = keys // m, keys % m
    r = rng.random(len(rows), dtype=np.float32)
    side = stance[camp[rows], cols]
    # 75% vote their camp's side, 15% the other, 10% pass.
    vals = np.where(r < 0.75, side, np.where(r < 0.9, -side, 0)).astype(np.int8)
    return VoteMatrix(rows, cols, vals, np.arange(n), np.arange(m)), camp


def run_one_size(args) -> None:
    """Child process: one scale point, printed as JSON."""
    n, m = parse_size(args.one.split(":")[0]), parse_size(args.one.split(":")[1])
    t = time.perf_counter()
    vm, camp = synthetic(n, m, args.votes_each, args.groups, args.seed)
    t_gen = time.perf_counter() - t
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cfg = ClusterConfig(device=args.device, seed=args.seed, dtype=args.dtype)
    if True:  # warm-up on a slice: first calls pay one-off costs (allocators, lazy inits, CUDA context)
        cluster(VoteMatrix(vm.rows[:1000], vm.cols[:1000], vm.values[:1000], vm.participant_ids, vm.tids), cfg)
    t = time.perf_counter()
    res = cluster(vm, cfg)
    total = time.perf_counter() - t
    planted = {int(p): int(c) for p, c in zip(vm.participant_ids, camp, strict=True)}
    rd = {}
    if args.reddwarf:  # red-dwarf densifies the matrix: only for sizes that fit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            _, rd_groups = reddwarf_groups(vm, args.seed)
            rd = {"reddwarf_s": time.perf_counter() - t,
                  "reddwarf_recovery": agreement(planted, {p: g for p, g in rd_groups.items() if g is not None})}
    print(json.dumps(rd | {
        "n": n, "m": m, "votes": vm.nnz, "generate_s": t_gen, "total_s": total,
        "stages": res.method["timings_s"], "cuda_peak": res.method["cuda_peak_bytes"],
        "rss_before_mb": rss0 / 1024, "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "k": res.k, "recovery": agreement(planted, {int(p): g for p, g in res.group_of().items() if g is not None}),
        "pca_iters": res.method["pca"]["iterations"], "device": res.method["params"]["device"],
    }))


def part_scale(args) -> None:
    """Synthetic assemblies with planted groups: time and peak memory per stage, recovery of the camps."""
    from tqdm import tqdm

    rows = []
    for size in tqdm(args.sizes.split(","), desc="sizes", file=sys.stderr):
        cmd = [sys.executable, __file__, "--one", size, *(["--reddwarf"] if args.reddwarf else []),
               "--device", args.device, "--dtype", args.dtype, "--votes-each", str(args.votes_each),
               "--groups", str(args.groups), "--seed", str(args.seed)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            rows.append([size, "failed"] + [""] * 9)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        st = r["stages"]
        peak = (f"{max(r['cuda_peak'].values()) / 2**20:.0f} (CUDA)" if r["cuda_peak"]
                else f"{r['rss_peak_mb']:.0f} (RSS; {r['rss_before_mb']:.0f} before)")
        rows.append([f"{r['n']:,} x {r['m']:,}", f"{r['votes']:,}", r["device"], f"{r['total_s']:.2f}",
                     " / ".join(f"{st.get(s, 0):.2f}" for s in ("matrix", "pca", "base_clusters", "groups",
                                                                   "statistics", "selection")),
                     r["pca_iters"], peak, f"{r['k']} of {args.groups}", f"{r['recovery']:.3f}"])
        if "reddwarf_s" in r:
            rows.append(["(red-dwarf, same data)", "", "cpu", f"{r['reddwarf_s']:.2f}", "", "", "", "",
                         f"{r['reddwarf_recovery']:.3f}"])
    print(table(["size", "votes", "device", "total s",
                 "matrix / pca / base / groups / stats / selection s", "PCA iters", "peak MiB", "k found",
                 "recovery"], rows))


def part_kmeans(args) -> None:
    """The base step alone: Polis's 100 base clusters on the 2-D projections of a synthetic
    assembly, ours (Lloyd with Hamerly's bounds) against scikit-learn's Lloyd and Elkan from the
    same first-distinct start, each with Polis's 100 iterations at most; fastest of --repeat."""
    import torch
    from sklearn.cluster import KMeans

    from clustering import kmeans as km

    rows = []
    for size in args.sizes.split(","):
        n, m = parse_size(size.split(":")[0]), parse_size(size.split(":")[1])
        vm, _ = synthetic(n, m, args.votes_each, args.groups, args.seed)
        res = cluster(vm, ClusterConfig(device="cpu", seed=args.seed))
        x = torch.from_numpy(np.ascontiguousarray(res.projections[res.groups >= 0]))
        init = km.first_distinct(x, 100)
        t_ours, ours = best_time(lambda x=x, init=init: km.kmeans(x, 100, 100, init=init, threshold=0.01), args.repeat)
        rows.append([f"{n:,} x {m:,}", f"{x.shape[0]:,}", "ours (torch, Hamerly bounds)", f"{t_ours:.3f}",
                     ours.iterations, "1.000"])
        for algo in ("lloyd", "elkan"):
            def fit(x=x, init=init, algo=algo):
                return KMeans(n_clusters=init.shape[0], init=init.numpy(), n_init=1, max_iter=100, tol=1e-4,
                              algorithm=algo).fit(x.numpy())
            t, theirs = best_time(fit, args.repeat)
            same = float((theirs.labels_ == ours.labels.numpy()).mean())
            rows.append(["", "", f"scikit-learn {algo}", f"{t:.3f} ({t / t_ours:.2f}x ours)", theirs.n_iter_,
                         f"{same:.3f}"])
    print(table(["size", "points", "k-means", "seconds", "iterations", "same labels as ours"], rows))


def part_stability(args) -> None:
    """Replay a conversation in time slices: how many keep their group id between runs, cold vs warm start."""
    import csv

    from tqdm import tqdm

    folder = DATA / args.conversation
    with open(folder / "votes.csv", newline="", encoding="utf-8") as f:
        ev = list(csv.DictReader(f))
    ts = np.array([int(e["timestamp"]) for e in ev])
    order = np.argsort(ts, kind="stable")
    rows = []
    prev: dict = {"cold": None, "warm": None}  # previous group maps
    prev_res: dict = {"cold": None, "warm": None}  # previous results (warm start)
    kept = {"cold": [], "warm": []}
    ks = {"cold": [], "warm": []}
    for s in tqdm(range(1, args.slices + 1), desc="slices", file=sys.stderr):
        idx = order[: len(order) * s // args.slices]
        vm = VoteMatrix.from_events([int(ev[i]["voter-id"]) for i in idx], [int(ev[i]["comment-id"]) for i in idx],
                                    [int(ev[i]["vote"]) for i in idx], ts[idx])
        for mode in ("cold", "warm"):
            cfg = ClusterConfig(device=args.device, seed=args.seed,
                                previous=prev_res[mode] if mode == "warm" else None,
                                k_buffer=4 if mode == "warm" else 1)
            prev_res[mode] = cluster(vm, cfg)
            res = prev_res[mode].group_of()
            if prev[mode] is not None:
                both = [p for p, g in res.items() if g is not None and prev[mode].get(p) is not None]
                kept[mode].append(sum(res[p] == prev[mode][p] for p in both) / max(len(both), 1))
            prev[mode] = res
            ks[mode].append(max((g for g in res.values() if g is not None), default=-1) + 1)
    for i in range(len(kept["cold"])):
        rows.append([i + 2, ks["cold"][i + 1], f"{kept['cold'][i]:.3f}", ks["warm"][i + 1], f"{kept['warm'][i]:.3f}"])
    print(table(["slice", "k cold", "same id, cold (Polis without memory)", "k warm",
                 "same id, warm start + label matching + k smoother"], rows))
    print(f"\nmean share keeping its id: cold {np.mean(kept['cold']):.3f}, warm {np.mean(kept['warm']):.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["polis", "replay", "umap", "scale", "stability", "kmeans", "all"], default="all")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="runs per conversation; the fastest counts")
    p.add_argument("--sizes", default="10k:1k,100k:2k",
                   help="participants:statements list, e.g. 10k:1k,100k:2k,1m:10k")
    p.add_argument("--votes-each", type=int, default=50, help="votes drawn per synthetic participant")
    p.add_argument("--groups", type=int, default=3, help="planted camps in the synthetic assemblies")
    p.add_argument("--conversation", default="vtaiwan.uberx", help="for --part stability")
    p.add_argument("--slices", type=int, default=10, help="time slices for --part stability")
    p.add_argument("--reddwarf", action="store_true", help="--part scale: also time red-dwarf (small sizes only)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: one scale point in a child process
    args = p.parse_args()
    if args.one:
        return run_one_size(args)
    print(f"# clustering benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start\n")
    if args.part in ("polis", "all"):
        part_polis(args)
        print()
    if args.part in ("replay", "all"):
        part_replay(args)
        print()
    if args.part in ("umap", "all"):
        part_umap(args)
        print()
    if args.part in ("scale", "all"):
        part_scale(args)
        print()
    if args.part in ("stability", "all"):
        part_stability(args)
        print()
    if args.part in ("kmeans", "all"):
        part_kmeans(args)
    return None


if __name__ == "__main__":
    main()
