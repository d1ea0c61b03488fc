"""The member CRM: profiles across platforms, tags, notes, segments, export and conversion.

Nothing here reacts to chat events: the CRM reads the archive and the feature tables
and writes its own tables (``schema/crm.py``). Modules, each owning one thing:

=================  =============================================================
``identities``     one person's accounts on several platforms (merge, unlink)
``tags``           tags by playbook category (§4.4), free tags, notes
``people``         the people of some groups with every figure a segment filters on
``segments``       filters and saved segments
``buyers``         likely buyers (the report's scoring), cached per archive state
``campaigns``      promotions and coupons sent to a segment (a mass message)
``orders``         orders: manual, CSV import, shop webhook; shop tokens
``funnel``         the conversion funnel per group and per campaign
``export``         a segment's members as CSV or Excel
``profile``        what a member's page shows
=================  =============================================================
"""

from __future__ import annotations

from shequn.features.crm.buyers import Buyer, likely_buyers
from shequn.features.crm.campaigns import create_campaign
from shequn.features.crm.funnel import campaign_funnel, group_funnel
from shequn.features.crm.identities import Account, accounts_of, link, unlink
from shequn.features.crm.orders import OrderError, OrderInput, import_csv, record_order
from shequn.features.crm.people import Person, people
from shequn.features.crm.segments import Filter, apply, save_segment
from shequn.features.crm.tags import add_note, add_tag, bulk_tag, remove_tag, replace_source_tags

__all__ = [
    "Account",
    "Buyer",
    "Filter",
    "OrderError",
    "OrderInput",
    "Person",
    "accounts_of",
    "add_note",
    "add_tag",
    "apply",
    "bulk_tag",
    "campaign_funnel",
    "create_campaign",
    "group_funnel",
    "import_csv",
    "likely_buyers",
    "link",
    "people",
    "record_order",
    "remove_tag",
    "replace_source_tags",
    "save_segment",
    "unlink",
]
