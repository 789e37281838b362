"""Write the Taigi demo assembly (assembly/demo_data/taigi-suisian-market/) as a Polis export.

`.venv/bin/python scripts/build_taigi_demo.py` rewrites comments.csv, votes.csv.gz and summary.csv
from the statements and planted opinion groups below, with a seeded generator, so the files are
the same on every run. The statements were written for this project; the votes are SYNTHETIC:
90 made-up participants in three planted groups, each voting by its group's stance on each
statement. `flask --app app demo` loads the folder with the same importer as real Polis exports.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "assembly" / "demo_data" / "taigi-suisian-market"
SEED = 20261202
START_MS = 1_764_547_200_000  # 2025-12-01 00:00 UTC; the conversation runs for about a week
GROUPS = {"A": 32, "B": 33, "C": 25}  # A: keep the old market; B: rebuild and modernise; C: quiet neighbours
SEEN = 0.8  # share of statements each participant votes on
P_AGREE = {"+": (0.82, 0.08), "-": (0.1, 0.8), "0": (0.35, 0.3)}  # stance -> (agree, disagree); the rest pass

TOPIC = "水仙宮市場的未來（台南）— Tsuí-sian-king tshī-tiûnn ê bī-lâi"
DESCRIPTION = ("台南水仙宮市場欲改建抑是保存？請逐家對下面的意見投票：同意、無同意，抑是略過。"
               "（示範用的議題：意見是為這个計畫寫的，投票是程式產生的假資料。）")

# (statement, stance of groups A, B, C)
STATEMENTS = (
    ("水仙宮市場是府城的老記持，應該好好仔保存。", "+0+"),
    ("市場的老攤位愛保留，毋通全部拆掉重起。", "+--"),
    ("市場應該改建做有冷氣的新大樓。", "-+0"),
    ("市場內底的塗跤定定澹糊糊，應該改善排水。", "+++"),
    ("市場邊仔應該加設停車場。", "-+-"),
    ("透早的時陣，機車停甲規路邊，行路真危險。", "0++"),
    ("攤販的垃圾愛照時間收，毋通囥佇路邊。", "+++"),
    ("市場的招牌應該用台語佮華語兩種寫。", "+0-"),
    ("政府應該補助老攤販，予𪜶修理攤仔。", "+0-"),
    ("新的攤位租金袂使起價傷濟。", "+-0"),
    ("市場應該予少年人來開新的店，加較有活力。", "0+-"),
    ("暗時的夜市傷吵，厝邊睏袂落眠。", "--+"),
    ("暗時十點了後，市場附近就袂使閣做生理。", "--+"),
    ("市場內底應該設無障礙的通道，予老人佮坐輪椅的人方便。", "+++"),
    ("改建進前，政府應該先佮攤販、厝邊開會討論。", "+++"),
    ("傳統的菜市仔比超市較有人情味。", "+--"),
    ("市場內底愛裝監視器，按呢較安全。", "0++"),
    ("市場的魚仔、肉攤應該有較好的冷藏設備。", "++0"),
    ("市場若改建，攤販愛有臨時的所在通做生理。", "++-"),
    ("遊客傷濟，本地人買菜煞無方便。", "+-+"),
    ("市場應該加強觀光，吸引外地人來食小食。", "-+-"),
    ("市場的公共便所愛加整理，保持清氣。", "+++"),
    ("Tshī-tiûnn ê lāu thâu-ke lóng kóng Tâi-gí, in ê uē tio̍h-ài lâu--lo̍h-lâi.", "+0+"),
    ("市場應該開放電子支付，逐攤攏會當用手機仔付錢。", "-+0"),
    ("用現金較方便，老人毋捌用手機仔付錢。", "+-0"),
    ("市場附近的巷仔應該規劃做行人徒步區。", "+-+"),
    ("公車站應該徙較倚市場，予無車的人方便。", "++0"),
    ("改建的錢應該開佇別位，莫開佇市場。", "0-0"),
    ("市場的歷史應該做解說牌，講予囡仔聽。", "+++"),
    ("拆掉老市場就是咧拆府城的文化。", "+--"),
    ("Lán ê tshài-tshī-á sī tāi-ke ê, m̄-sī tsâi-thuân ê.", "+-+"),
    ("市場頂懸會使起社會住宅，予少年人有厝通蹛。", "-+-"),
    ("市場的營業時間應該延長到暗時。", "-+-"),
    ("厝邊應該有權利決定市場的未來。", "+0+"),
    ("攤販應該家己出錢整理攤位，毋通攏靠政府。", "-+0"),
    ("市場的狗仔、貓仔愛有人管理。", "0++"),
    ("逐禮拜應該有一工辦在地農民的市集。", "++-"),
    ("改建了後，舊攤販應該有優先租攤位的權利。", "+0-"),
    ("市場的改建計畫資訊應該攏公開佇網路頂。", "+++"),
    ("Kui-ê kè-ue̍h ài iōng Tâi-gí kap tshī-bîn kóng-bîng.", "+0+"),
    ("市場若變做觀光景點，就失去本來的味。", "+-+"),
    ("停車費應該較俗，鼓勵人來市場買物件。", "-+-"),
)


def votes(rng: random.Random) -> list[tuple[int, int, int, int]]:
    """(timestamp ms, comment id, voter id, vote) events: +1 agree, -1 disagree, 0 pass."""
    events = []
    pid = 0
    for g_index, (_, size) in enumerate(GROUPS.items()):
        for _ in range(size):
            t = START_MS + rng.randrange(7 * 24 * 3600 * 1000)
            for tid, (_, stances) in enumerate(STATEMENTS):
                if rng.random() >= SEEN:
                    continue
                agree, disagree = P_AGREE[stances[g_index]]
                r = rng.random()
                vote = 1 if r < agree else -1 if r < agree + disagree else 0
                t += rng.randrange(2000, 40000)
                events.append((t, tid, pid, vote))
            pid += 1
    return sorted(events)


def main() -> int:
    rng = random.Random(SEED)
    events = votes(rng)
    OUT.mkdir(parents=True, exist_ok=True)
    counts = {tid: [0, 0] for tid in range(len(STATEMENTS))}
    for _, tid, _, v in events:
        if v:
            counts[tid][0 if v > 0 else 1] += 1
    with (OUT / "comments.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated",
                    "comment-body"])
        for tid, (text, _) in enumerate(STATEMENTS):
            w.writerow([START_MS + tid, "", tid, "", *counts[tid], 1, text])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["timestamp", "comment-id", "voter-id", "vote"])
    w.writerows(events)
    with open(OUT / "votes.csv.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(buf.getvalue().encode())
    with (OUT / "summary.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        for row in (["topic", TOPIC], ["url", ""], ["voters", sum(GROUPS.values())],
                    ["comments", len(STATEMENTS)], ["conversation-description", DESCRIPTION]):
            w.writerow(row)
    print(f"wrote {len(STATEMENTS)} statements and {len(events)} synthetic votes "
          f"from {sum(GROUPS.values())} participants to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
