"""Reviews (复盘): what an activity, post, topic or campaign did to its groups.

- :mod:`.items`    reviewable things from every feature; :func:`register_source` adds more
- :mod:`.figures`  before/after figures against comparable groups (difference-in-differences)
"""

from __future__ import annotations

from shequn.features.reviews.figures import METRICS, Review, review
from shequn.features.reviews.items import Item, all_items, find_item, register_source

__all__ = ["METRICS", "Item", "Review", "all_items", "find_item", "register_source", "review"]
