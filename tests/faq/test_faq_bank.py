"""Loading FAQ banks from CSV, JSON and StackFAQ, and the errors for broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shequn.features.faq import FaqBank, FaqBankError, FaqEntry, load_bank, load_stackfaq


def test_csv_with_variants_and_keywords(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(
        "id,question,answer,variants,keywords\n"
        'checkin,怎么签到？,发送「打卡」。,"如何每日打卡 | 在哪里签到",签到\n'
        "rules,群规是什么？,见公告。,,\n",
        encoding="utf-8",
    )
    bank = load_bank(path)
    assert [e.id for e in bank] == ["checkin", "rules"]
    assert bank.get("checkin").variants == ("如何每日打卡", "在哪里签到")
    assert bank.get("checkin").keywords == ("签到",)
    assert bank.get("checkin").texts == ("怎么签到？", "如何每日打卡", "在哪里签到")
    assert bank.get("rules").variants == ()


def test_csv_without_optional_columns_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("\ufeffid,question,answer\n1,How to join?,Use the link.\n\n", encoding="utf-8")
    bank = load_bank(path)
    assert len(bank) == 1 and bank.get("1").answer == "Use the link."


def test_malformed_csv_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("id,question,answer\n1,a?,b\n2,only two fields\n", encoding="utf-8")
    with pytest.raises(FaqBankError, match=r"bank\.csv:3: expected 3 fields"):
        load_bank(path)


def test_csv_missing_question_and_header(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("id,question,answer\n1,,b\n", encoding="utf-8")
    with pytest.raises(FaqBankError, match=r"bank\.csv:2: missing 'question'"):
        load_bank(path)
    path.write_text("id,answer\n1,b\n", encoding="utf-8")
    with pytest.raises(FaqBankError, match=r"bank\.csv:1: header lacks question"):
        load_bank(path)


def test_json_list_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    items = [
        {"id": 1, "question": "How to join?", "answer": "Link.", "variants": ["Joining?"]},
        {"id": "2", "question": "Rules?", "keywords": ["re:^rules$"]},
    ]
    path.write_text(json.dumps(items), encoding="utf-8")
    bank = load_bank(path)
    assert bank.get("1").variants == ("Joining?",)
    assert bank.get("2").keywords == ("re:^rules$",)
    path.write_text(json.dumps({"entries": [items[0], items[0]]}), encoding="utf-8")
    with pytest.raises(FaqBankError, match="duplicate FAQ id '1'"):
        load_bank(path)


def test_json_errors(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    path.write_text('[{"id": 1,\n "question": }]', encoding="utf-8")
    with pytest.raises(FaqBankError, match=r"bank\.json:2: invalid JSON"):
        load_bank(path)
    path.write_text('[{"id": 1, "question": "q", "variants": [1]}]', encoding="utf-8")
    with pytest.raises(FaqBankError, match="entry 0: expected a list of strings"):
        load_bank(path)
    with pytest.raises(FaqBankError, match="unknown bank format"):
        load_bank(tmp_path / "bank.txt")


def test_stackfaq(data_dir: Path) -> None:
    path = data_dir / "faq" / "en_stackfaq.json"
    bank, queries = load_stackfaq(path)
    assert len(bank) == 125
    # 1,375 paraphrase slots, of which 126 are null or a bare "*".
    assert len(queries) == 1249
    assert all(q.strip() != "*" for q, _ in queries)
    assert isinstance(load_bank(path), FaqBank)
    assert all(e.answer for e in bank)


def test_entry_texts() -> None:
    assert FaqEntry("a", "q", variants=("v",)).texts == ("q", "v")


def test_excel_bank_errors_name_the_file_and_row(tmp_path: Path) -> None:
    import xlsxwriter

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(FaqBankError, match=r"broken.xlsx: not a readable .xlsx"):
        load_bank(broken)
    path = tmp_path / "faq.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["id", "question", "answer"])
    ws.write_row(1, 0, ["a", "怎么签到？", "发送打卡"])
    ws.write_row(3, 0, ["b", "群规在哪？", "群公告", "stray"])  # row 4, after a blank row
    wb.close()
    with pytest.raises(FaqBankError, match=r"faq.xlsx:4: a value beyond"):
        load_bank(path)
    ws_missing = tmp_path / "nohead.xlsx"
    wb = xlsxwriter.Workbook(str(ws_missing))
    wb.add_worksheet().write_row(0, 0, ["id", "question"])
    wb.close()
    with pytest.raises(FaqBankError, match=r"nohead.xlsx:1: header lacks answer"):
        load_bank(ws_missing)
