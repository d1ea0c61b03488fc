"""The real exports the engine-equality tests share (Telegram threads, Ubuntu IRC days,
a QQ group, a Discord server), and the warnings Spark leaves behind.

The archive is imported once per test process (``real_archive`` in ``conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# PySpark's py4j gateway leaves sockets for the garbage collector, and pandas 3 warns
# about a keyword PySpark/Ibis still pass: both are theirs, not ours.
SPARK_WARNINGS = [
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:Exception ignored in. <socket.socket"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:The .future.infer_string. option is deprecated"),
]


def exports(data_dir: Path) -> list[Path]:
    """The sample exports, a QQ group and (for its reactions) a Discord server."""
    return [
        *sorted((REPO / "examples" / "sample").glob("*.json")),
        *sorted((REPO / "examples" / "sample").glob("*.raw.txt")),
        REPO / "tests" / "fixtures" / "qq" / "qq_group_export.txt",
        data_dir / "formats" / "discordchatexporter_sample.json",
    ]
