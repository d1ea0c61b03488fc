"""Each detector on real messages: ads it must explain, normal chat it must leave alone."""

from __future__ import annotations

from shequn.features.moderation import Allowlist
from shequn.features.moderation.datasets import Sample
from shequn.features.moderation.detectors import (
    commerce,
    contacts,
    links,
    mentions,
    message_kind,
)
from shequn.features.moderation.lexicon import Lexicon
from shequn.text import normalize


def _first(samples: list[Sample], needle: str, label: int = 1) -> str:
    for s in samples:
        if needle in s.text and s.label == label:
            return s.text
    raise AssertionError(f"no real message with {needle!r}")


def _normal(all_samples: dict[str, list[Sample]], *names: str) -> list[str]:
    return [s.text for n in names for s in all_samples[n] if s.label == 0]


def _detectors(hits: list) -> set[str]:  # type: ignore[type-arg]
    return {r.detector for _, r in hits}


def test_lexicon_on_real_ads(all_samples: dict[str, list[Sample]]) -> None:
    lex = Lexicon.build()
    text = _first(all_samples["qq_extra"], "联系qq")
    assert ("ad", "联系qq") in {(c, r.detail) for c, r in lex.match(normalize(text).compact)}
    tb = _first(all_samples["qq_review"], "券后")
    assert "券后" in {r.detail for _, r in lex.match(normalize(tb).compact)}


def test_lexicon_homophones_and_variants() -> None:
    lex = Lexicon.build()
    for text in ("加威信", "加 薇 信", "加徽信", "加v信"):
        hits = lex.match(normalize(text).compact)
        assert hits, text
    py = lex.match(normalize("来加威信吧").compact)
    assert any(r.detector == "pinyin.ad" and r.detail.endswith("加微信") for _, r in py)


def test_lexicon_ascii_words_need_word_boundaries() -> None:
    lex = Lexicon.build()
    assert not lex.match(normalize("ls /usr/sbin").compact)  # "sb" inside a word
    assert lex.match(normalize("you are sb").compact)
    # the automaton runs on UTF-8 bytes: boundaries next to CJK text still count
    assert lex.match(normalize("你是sb吧").compact)
    mixed = Lexicon.build({"ad": ["q群", "加v", "ab"]}, include_defaults=False)
    found = [r.detail for _, r in mixed.match(normalize("1q群 xab ab2 加vx ab").compact)]
    assert found == ["ab"]  # "q群" after a digit, "ab" in "xab"/"ab2", "加v" in "加vx"


def test_lexicon_edge_marks_cannot_be_forged() -> None:
    """The automaton marks Latin word edges with \\x01; one in the message is just a
    character that is not a letter, as it was before the marks."""
    lex = Lexicon.build({"ad": ["sb", "v信", "a b"]}, include_defaults=False)
    found = lambda t: [r.detail for _, r in lex.match(t)]  # noqa: E731
    assert found("x\x01sb\x01x") == ["sb"]
    assert found("\x01sbc") == []
    assert found("加v信") == ["v信"] and found("xv信") == []
    assert found("a b") == ["a b"] and found("ca b") == [] and found("a bc") == []


def test_lexicon_reports_words_in_text_order() -> None:
    lex = Lexicon.build({"ad": ["代充", "点券", "sb"]}, include_defaults=False)
    hits = lex.match(normalize("点券 sb 代充 点券").compact)
    assert [r.detail for _, r in hits] == ["点券", "sb", "代充"]


def test_lexicon_per_group_words_and_allowlist() -> None:
    lex = Lexicon.build({"ad": ["代充"]}, extra_weight=0.9)
    hits = lex.match(normalize("低价代充点券").compact)
    assert ("ad", "代充") in {(c, r.detail) for c, r in hits}
    allowed = lex.match(normalize("低价代充点券").compact, allowed=frozenset({"代充"}))
    assert "代充" not in {r.detail for _, r in allowed}
    only = Lexicon.build({"abuse": ["菜狗"]}, include_defaults=False)
    assert {r.detail for _, r in only.match(normalize("加微信 菜狗").compact)} == {"菜狗"}


def test_lexicon_quiet_on_most_normal_chat(all_samples: dict[str, list[Sample]]) -> None:
    lex = Lexicon.build()
    normal = _normal(all_samples, "qq_group", "qq_extra", "qq_review")
    strong = [t for t in normal if any(r.weight >= 0.7 for _, r in lex.match(normalize(t).compact))]
    assert len(strong) <= 0.02 * len(normal), strong[:10]


def test_links_shorteners_and_invites(all_samples: dict[str, list[Sample]]) -> None:
    tg = _first(all_samples["telegram"], "tinyurl.com")
    assert "link.shortener" in _detectors(links(normalize(tg)))
    invite = _first(all_samples["telegram"], "t.me/+")
    assert "link.invite" in _detectors(links(normalize(invite)))
    spaced = _first(all_samples["qq_group"], "wqkj777. top")
    assert {r.detail for _, r in links(normalize(spaced))} == {"wqkj777.top"}
    taobao = _first(all_samples["qq_review"], "s.click.Taobao.com")
    assert "link.shortener" in _detectors(links(normalize(taobao)))


def test_links_allowlisted_domains(all_samples: dict[str, list[Sample]]) -> None:
    github = _first(all_samples["qq_extra"], "github.com", label=0)
    assert links(normalize(github))
    assert not links(normalize(github), Allowlist(domains=frozenset({"github.com"})))


def test_links_quiet_on_normal_chat(all_samples: dict[str, list[Sample]]) -> None:
    normal = _normal(all_samples, "qq_group", "qq_extra", "qq_review")
    flagged = [t for t in normal if any(r.weight >= 0.5 for _, r in links(normalize(t)))]
    assert len(flagged) <= 0.01 * len(normal), flagged


def test_contacts_on_real_ads(all_samples: dict[str, list[Sample]]) -> None:
    qq = _first(all_samples["qq_extra"], "联系qq")
    assert "contact.qq" in _detectors(contacts(normalize(qq)))
    group = _first(all_samples["qq_group"], "外部群")
    assert "contact.qq" in _detectors(contacts(normalize(group)))


def test_contacts_handles() -> None:
    def kinds(text: str) -> dict[str, str]:
        return {r.detector: r.detail for _, r in contacts(normalize(text))}

    assert kinds("加V：abc_123")["contact.wechat"] == "abc_123"
    assert kinds("微信号 wxid12345")["contact.wechat"] == "wxid12345"
    assert kinds("扣扣 ⑤⑨⑥③⑦⓪⑨②⑨")["contact.qq"] == "596370929"
    assert kinds("电话 138-1234-5678")["contact.phone"] == "13812345678"
    assert kinds("call 壹叁捌壹贰叁肆伍陆柒捌")["contact.phone"] == "13812345678"
    assert kinds("write me @crypto_master")["contact.telegram"] == "@crypto_master"
    assert "contact.phone" not in kinds("@13812345678 你好")  # an @-mention, not a phone
    allow = Allowlist(handles=frozenset({"abc_123"}))
    assert not contacts(normalize("加V：abc_123"), allow)


def test_contacts_quiet_on_normal_chat(all_samples: dict[str, list[Sample]]) -> None:
    normal = _normal(all_samples, "qq_group", "qq_extra", "qq_review")
    strong = [t for t in normal if any(r.weight >= 0.7 for _, r in contacts(normalize(t)))]
    assert len(strong) <= 0.01 * len(normal), strong


def test_commerce(all_samples: dict[str, list[Sample]]) -> None:
    sale = _first(all_samples["qq_group"], "出b站年度大会员")
    assert {r.detector for _, r in commerce(normalize(sale))} == {"commerce.price"}
    tb = _first(all_samples["qq_review"], "₳BA7DUkq8c5Z₰/")
    assert "commerce.taobao" in _detectors(commerce(normalize(tb)))
    assert not commerce(normalize("等会喝番薯粥去"))


def test_message_kind_and_mentions() -> None:
    assert message_kind("card")[0][1].detector == "kind"
    assert message_kind("miniprogram")
    assert not message_kind("text")
    assert not mentions(4)
    weights = [mentions(n)[0][1].weight for n in (5, 10, 10_000)]
    assert weights == sorted(weights) and weights[-1] <= 0.95
