"""Which messages look like ads: a deliberately simple heuristic, in one replaceable place.

The moderation classifier will replace :func:`ad_flags`; everything else (health
stages, ``ad_share``) only reads the boolean it returns. A message is ad-like when
it is member speech (staff posts are the community's own content) and any of:

* its kind carries ads in chat groups: ``settings.ad_kinds`` (link, contact card,
  mini-program: the playbook's 广告、外链、拼团);
* its text asks to move the contact elsewhere: 加V / 加微信 / 微信号 / VX: / QQ号 /
  扣扣 / 加群 / 群号, t.me/ or wa.me/ links, WhatsApp, or a phone number (a Chinese
  mobile number or an international ``+`` number; ASCII or full-width digits);
* the same text (lower-cased, spaces removed, at least ``ad_repeat_min_chars``
  long) is posted by ``ad_repeat_members`` members or in ``ad_repeat_groups``
  groups: copy-paste campaigns and cross-posting.

Known false positives: members sharing useful links, chain messages (接龙) long
enough to pass the length floor. That is why it is called "ad-like".
"""

from __future__ import annotations

import polars as pl

from shequn.analytics.frame import Frames
from shequn.analytics.query_texts import DIGIT, NON_DIGIT, SPACE, pattern
from shequn.analytics.settings import AnalyticsSettings

__all__ = ["CONTACT", "ad_flags"]

#: Contact handles and phone numbers, in the regex subset every engine reads alike
#: (:func:`shequn.analytics.query_texts.pattern`): digits ASCII or full-width, spaces
#: the :data:`~shequn.analytics.query_texts.SPACES`, no look-around.
CONTACT = (
    f"加[vV微威薇]|加个?微信|微信号|[vV][xX]号|[vV][xX]{SPACE}*[:：]|[qQ]{{2}}号|扣扣|加群|进群|群号"
    rf"|(?i:t\.me/|wa\.me/|whatsapp|wechat{SPACE}*id)"
    f"|(?:^|{NON_DIGIT})[1１][3-9３-９]{DIGIT}{{9}}(?:{NON_DIGIT}|$)|\\+{DIGIT}{{10,14}}"
)


def ad_flags(f: Frames, s: AnalyticsSettings) -> pl.Series:
    """A boolean ``ad`` per row of ``f.messages`` (same order): ad-like member speech.

    The engines' version is :func:`shequn.analytics.query_texts.ad_messages`."""
    m = f.messages
    if m.height == 0:
        return pl.Series("ad", [], dtype=pl.Boolean)
    member = pl.col("speech") & ~pl.col("staff")
    # Texts are compared by their repeat key (:func:`shequn.analytics.frame.derive`:
    # a 64-bit hash of the normalised text): grouping and joining a million strings
    # costs several times more, and a collision needs two different texts each
    # repeated by several members. Rows are numbered to put the answer back in place.
    long = (
        m.with_row_index("row")
        .filter(member & (pl.col("text_len") >= s.ad_repeat_min_chars))
        .select("row", "group_id", "member_id", pl.col("text_key").alias("key"))
    )
    repeated = (
        long.group_by("key")
        .agg(
            pl.col("member_id").n_unique().alias("n_members"),
            pl.col("group_id").n_unique().alias("n_groups"),
        )
        .filter(
            (pl.col("n_members") >= s.ad_repeat_members)
            | (pl.col("n_groups") >= s.ad_repeat_groups)
        )
        .select("key")
    )
    rows = long.join(repeated, on="key", how="semi")["row"]
    flags = (
        m.with_columns(f.text)
        .with_row_index("row")
        .select(
            (
                member
                & (
                    pl.col("kind").is_in(list(s.ad_kinds))
                    | pl.col("text").str.contains(pattern(CONTACT, "polars")).fill_null(False)
                    | pl.col("row").is_in(rows.implode())
                )
            ).alias("ad")
        )
    )
    return flags["ad"]
