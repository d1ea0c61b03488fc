"""Generate realistic Telegram Desktop exports for the benchmark.

The shape is drawn from the real chat logs in ``../shared/data``: member activity is
heavy-tailed (a Zipf law, as in the Ubuntu IRC log where the top 20% of nicks write
~80% of lines), about a third of messages reply to a recent message, activity follows
a day/night cycle, members join over time (by link or invited by a member) and some
leave, a few percent of messages are ads. Texts are sampled from the real Chinese and
English sets, so segmentation and pattern matching see real text.

    python bench/generate.py --messages 1000000 --groups 10 --out bench/out/data
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import orjson

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
START = 1_672_531_200  # 2023-01-01T00:00:00Z
DAY = 86_400


def _texts() -> tuple[list[str], list[str]]:
    """Normal chat lines and ad lines from the real sets (fallbacks if absent)."""
    chat: list[str] = []
    ads: list[str] = []
    spam = SHARED / "spam"
    try:
        chat += (spam / "zh_qq_group_ads_extra_chatting.txt").read_text("utf-8").splitlines()
        ads += (spam / "zh_qq_group_ads_extra_ads.txt").read_text("utf-8").splitlines()
        for p in sorted((SHARED / "chatlogs" / "ubuntu_irc" / "dev").glob("*.raw.txt")):
            for line in p.read_text("utf-8", errors="replace").splitlines():
                if line.startswith("[") and "> " in line:
                    chat.append(line.split("> ", 1)[1])
    except FileNotFoundError:
        pass
    chat = [t for t in chat if t.strip()] or ["你好", "hello", "有人在吗", "thanks!"]
    ads = [t for t in ads if t.strip()] or ["加V领福利 abc123"]
    intent = ["这个多少钱？", "怎么买呀", "有优惠券吗", "包邮吗", "how much is it?", "link please?"]
    return chat + intent * 20, ads


def generate_group(
    rng: random.Random, gid: int, n_messages: int, n_members: int, days: int,
    chat: list[str], ads: list[str],
) -> dict[str, object]:  # fmt: skip
    # Zipf weights over members; join times spread over the period, heavy speakers early.
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(n_members)]
    join_at = sorted(START + int(rng.random() ** 1.5 * days * DAY) for _ in range(n_members))
    members = list(range(n_members))
    rng.shuffle(members)  # so the heaviest speaker is not always the first joiner
    uid = [gid * 1_000_000 + m for m in members]
    msgs: list[dict[str, object]] = []
    mid = 0
    for i, t in enumerate(join_at):
        mid += 1
        if i % 3 == 0 and i:
            inviter = uid[rng.randrange(i)]
            msgs.append({"id": mid, "type": "service", "date_unixtime": str(t), "actor": f"m{inviter}",
                         "actor_id": f"user{inviter}", "action": "invite_members",
                         "members": [f"m{uid[i]}"], "text": ""})  # fmt: skip
        else:
            msgs.append({"id": mid, "type": "service", "date_unixtime": str(t), "actor": f"m{uid[i]}",
                         "actor_id": f"user{uid[i]}", "action": "join_group_by_link",
                         "inviter": "Group", "text": ""})  # fmt: skip
    # message times: uniform days with a day/night cycle (peaks 10-12h and 20-23h UTC+8)
    hour_w = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1, 2, 3, 4, 4, 3, 3, 3, 3, 3, 3, 3, 4, 5, 5, 4, 2]
    times = sorted(
        START + rng.randrange(days) * DAY
        + ((rng.choices(range(24), hour_w)[0] - 8) % 24) * 3600 + rng.randrange(3600)
        for _ in range(n_messages)
    )  # fmt: skip
    speakers = rng.choices(range(n_members), weights, k=n_messages)
    first_regular = mid + 1
    for t, s in zip(times, speakers, strict=True):
        mid += 1
        sender = uid[s]
        t = max(t, join_at[s] + 60)
        is_ad = rng.random() < 0.02
        text = rng.choice(ads if is_ad else chat)
        # Telegram Desktop always writes text_entities beside text (plain runs included)
        m: dict[str, object] = {"id": mid, "type": "message", "date_unixtime": str(t),
                                "from": f"m{sender}", "from_id": f"user{sender}", "text": text,
                                "text_entities": [{"type": "plain", "text": text}]}  # fmt: skip
        if mid > first_regular + 5 and rng.random() < 0.33:
            m["reply_to_message_id"] = mid - 1 - int(rng.expovariate(0.3))
        if rng.random() < 0.03:
            m["media_type"] = "sticker"
            m["text"] = ""
            m["text_entities"] = []
        msgs.append(m)
    for i in rng.sample(range(n_members), n_members // 10):  # some leave
        mid += 1
        t = START + days * DAY - rng.randrange(days * DAY // 3)
        msgs.append({"id": mid, "type": "service", "date_unixtime": str(t), "actor": f"m{uid[i]}",
                     "actor_id": f"user{uid[i]}", "action": "remove_members",
                     "members": [f"m{uid[i]}"], "text": ""})  # fmt: skip
    msgs.sort(key=lambda m: int(str(m["date_unixtime"])))
    return {"name": f"基准测试群 {gid}", "type": "public_supergroup", "id": 2_000_000 + gid,
            "messages": msgs}  # fmt: skip


def generate(out: Path, messages: int, groups: int, seed: int = 7) -> list[Path]:
    """Write ``groups`` single-chat exports holding ``messages`` messages in all."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    chat, ads = _texts()
    paths = []
    per = messages // groups
    for g in range(groups):
        n_members = max(50, per // 40)
        chat_json = generate_group(rng, g, per, n_members, days=180, chat=chat, ads=ads)
        path = out / f"result_{g:02d}.json"
        path.write_bytes(orjson.dumps(chat_json, option=orjson.OPT_INDENT_2))
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "data")
    args = ap.parse_args()
    for p in generate(args.out, args.messages, args.groups):
        print(p, p.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()
