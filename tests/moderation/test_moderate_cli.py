"""``shequn moderate`` as a user runs it: readable zh/en output and a JSONL pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def shequn(
    *args: str, stdin: str | None = None, lang: str = "en"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHEQUN_LANG": lang, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "shequn.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_jsonl_one_line_per_input_line_including_empty() -> None:
    lines = [
        "加 我 微 信 abc12345",
        "",
        "hello, how are you?",
        "   ",
        "出个vape100r 联系qq 3194704877",
    ]
    r = shequn("moderate", "--jsonl", stdin="\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert len(out) == len(lines)
    rows = [json.loads(x) for x in out]
    assert [row["text"] for row in rows] == lines
    for row in rows:
        assert set(row) >= {"text", "verdict", "score", "reasons"}
        assert row["verdict"] in {"ok", "ad", "spam", "abuse", "sensitive"}
        assert all(isinstance(x, str) and ":" in x for x in row["reasons"])
    assert rows[0]["verdict"] == "ad" and rows[1]["verdict"] == "ok"
    assert rows[4]["verdict"] == "ad"


def test_jsonl_without_trailing_newline() -> None:
    r = shequn("moderate", "--jsonl", stdin="a\nb")
    assert len(r.stdout.splitlines()) == 2


def test_jsonl_flushes_each_line_in_a_pipe() -> None:
    env = {**os.environ, "SHEQUN_LANG": "en"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shequn.cli", "moderate", "--jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("加微信 abc12345\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())  # answered before stdin is closed
        assert first["verdict"] == "ad"
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
        proc.stdout.close()


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", ["Verdict: ad", "Detector"]), ("zh", ["结论：广告", "检测器"])]
)
def test_readable_output(lang: str, expected: list[str]) -> None:
    r = shequn("moderate", "加我微信 abc12345 日结", lang=lang)
    assert r.returncode == 0, r.stderr
    for text in expected:
        assert text in r.stdout
    assert "contact.wechat" in r.stdout


def test_ok_message_and_missing_text() -> None:
    r = shequn("moderate", "等会喝番薯粥去")
    assert "Verdict: ok" in r.stdout and "No evidence found." in r.stdout
    assert shequn("moderate").returncode == 2


def test_image_option_reads_qr_codes(tmp_path: Path) -> None:
    import segno

    code = tmp_path / "code.png"
    segno.make("https://weixin.qq.com/g/AwYAAFakeGroupCode").save(str(code), scale=5)
    r = shequn("moderate", "--image", str(code))
    assert r.returncode == 0 and "qr.invite" in r.stdout
    r = shequn("moderate", "--image", str(tmp_path / "missing.png"))
    assert r.returncode == 2 and "missing.png" in r.stderr


def test_line_batches_split_whole_lines_only() -> None:
    from shequn.commands.moderate import line_batches

    r, w = os.pipe()
    big = "长" * 1_500_000  # 4.5 MB of UTF-8: several reads and more than one batch limit
    os.write(w, b"a\r\nb")
    pid = os.fork()
    if pid == 0:  # the writer: the rest arrives in pieces, split inside a character
        os.close(r)
        data = b"c\n\n" + big.encode() + b"\nbad \xff\xfe end\nlast"
        for i in range(0, len(data), 70_001):
            os.write(w, data[i : i + 70_001])
        os._exit(0)
    os.close(w)
    try:
        lines = [line for batch in line_batches(r) for line in batch]
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    assert lines == ["a", "bc", "", big, "bad \ufffd\ufffd end", "last"]


def test_jsonl_invalid_utf8_still_gets_its_line() -> None:
    env = {**os.environ, "SHEQUN_LANG": "en"}
    r = subprocess.run(
        [sys.executable, "-m", "shequn.cli", "moderate", "--jsonl"],
        input=b"ok \xff\n\xe5\x8a\xa0\xe5\xbe\xae\xe4\xbf\xa1 abc12345\n",
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.decode("utf-8").splitlines()]
    assert [row["text"] for row in rows] == ["ok \ufffd", "加微信 abc12345"]
    assert rows[1]["verdict"] == "ad"
