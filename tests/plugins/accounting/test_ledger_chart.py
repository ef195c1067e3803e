"""The chart of accounts: rules, CSV export and import (UI and CLI), round trip."""
from datetime import date

import pytest
from sqlalchemy import select

from core import KontorError
from plugins.accounting.ledger import chart, services
from plugins.accounting.ledger.models import Account


def test_account_rules(db):
    assets = services.account_by_code(db, "1")
    with pytest.raises(KontorError) as caught:
        chart.create_account(db, {"code": "2150", "name": "x", "type": "asset", "kind": "payable"})
    assert caught.value.field == "kind"
    with pytest.raises(KontorError) as caught:
        chart.create_account(db, {"code": "1200", "name": "x", "type": "asset"})
    assert caught.value.field == "code"
    with pytest.raises(KontorError) as caught:
        chart.create_account(db, {"code": "1105", "name": "x", "type": "asset", "parent": "1100"})
    assert caught.value.field == "parent_id"
    with pytest.raises(KontorError) as caught:
        chart.update_account(db, assets, {"parent_id": services.account_by_code(db, "1").id})
    assert caught.value.field == "parent_id"
    # once used, an account is deactivated rather than deleted, and keeps its type
    services.create_and_post(db, journal="GEN", date=date.today(),
                             lines=[{"account": "6100", "debit": "5.00"}, {"account": "1100", "credit": "5.00"}])
    rent = services.account_by_code(db, "6100")
    with pytest.raises(KontorError) as caught:
        chart.delete_account(db, rent)
    assert caught.value.field == "active"
    with pytest.raises(KontorError) as caught:
        chart.update_account(db, rent, {"type": "asset"})
    assert caught.value.field == "type"
    chart.update_account(db, rent, {"active": False})
    assert rent.active is False
    unused = chart.create_account(db, {"code": "6150", "name": "Leasing", "type": "expense", "parent": "6"})
    chart.delete_account(db, unused)
    assert db.scalar(select(Account).where(Account.code == "6150")) is None


def test_tree_rolls_up_by_sql(db):
    services.create_and_post(db, journal="GEN", date=date.today(), lines=[
        {"account": "1100", "debit": "70.00"}, {"account": "1200", "debit": "30.00"}, {"account": "3000", "credit": "100.00"}])
    rows = {r.account.code: r for r in chart.tree(db)}
    assert rows["1"].total == 100 and rows["1"].own == 0 and rows["1100"].total == 70
    assert rows["3"].total == -100
    filtered = [r.account.code for r in chart.tree(db, search="receivable")]
    assert filtered == ["1", "1200"]  # the match and its ancestor


def test_csv_round_trip(db):
    exported = chart.export_csv(db)
    assert exported.splitlines()[0] == ",".join(chart.CSV_FIELDS)
    # change the chart through an import: a new group with a child listed before it, and a rename
    text = exported.replace("1300,Inventory,", "1300,Stock,") + \
        "9100,Suspense items,asset,other,9,1,0,,1\n9,Suspense,asset,other,,0,0,,1\n"
    result = chart.import_chart(db, text.encode())
    assert result.created == 2 and result.updated == len(exported.splitlines()) - 1
    assert services.account_by_code(db, "1300").name == "Stock"
    assert services.account_by_code(db, "9100").parent.code == "9"
    again = chart.export_csv(db)
    assert "1300,Stock," in again and "9100,Suspense items,asset,other,9,1,0,,1" in again
    # importing the export changes nothing
    before = [(a.code, a.name, a.type, a.kind, a.parent_id, a.postable, a.reconcilable) for a in
              db.scalars(select(Account).order_by(Account.code))]
    chart.import_chart(db, again.encode())
    after = [(a.code, a.name, a.type, a.kind, a.parent_id, a.postable, a.reconcilable) for a in
             db.scalars(select(Account).order_by(Account.code))]
    assert before == after


def test_import_is_all_or_nothing_and_names_the_line(db):
    data = b"code;name;type;kind\n7100;Travel;expense;other\n7200;Bad;expense;payable\n"
    with pytest.raises(KontorError) as caught:
        chart.import_chart(db, data)
    assert "Line 3" in caught.value.message and caught.value.field == "kind"
    db.rollback()
    assert db.scalar(select(Account).where(Account.code == "7100")) is None


def test_chart_cli(kontor, tmp_path, db):
    out = tmp_path / "chart.csv"
    result = kontor("accounting", "chart", "export", str(out))
    assert result.exit_code == 0 and "1200,Accounts receivable,asset,receivable" in out.read_text()
    extra = tmp_path / "extra.csv"
    extra.write_text("code,name,type,parent\n6500,Insurance,expense,6\n")
    result = kontor("accounting", "chart", "import", str(extra))
    assert result.exit_code == 0, result.output
    assert "1 accounts created" in result.output
    assert services.account_by_code(db, "6500").parent.code == "6"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n6600,No type\n")
    db.rollback()
    result = kontor("accounting", "chart", "import", str(bad))
    assert result.exit_code != 0


def test_chart_ui_export_and_import(admin_client):
    exported = admin_client.get("/accounting/accounts/export?format=csv")
    assert exported.status_code == 200 and b"1100,Bank,asset,bank" in exported.data
    import io
    ok = admin_client.post_form("/accounting/accounts/import",
                                {"file": (io.BytesIO(b"code,name,type,parent\n6700,Training,expense,6\n"), "c.csv")},
                                content_type="multipart/form-data")
    assert ok.status_code == 303
    assert b"6700" in admin_client.get("/accounting/accounts?q=training").data
    bad = admin_client.post_form("/accounting/accounts/import",
                                 {"file": (io.BytesIO(b"code,name,type\n6800,X,nonsense\n"), "c.csv")},
                                 content_type="multipart/form-data")
    assert bad.status_code == 422 and b"Line 2" in bad.data


def test_default_chart_file_passes_the_import_rules(db):
    """The shipped chart, loaded fast on install, obeys every rule the checked import applies."""
    rows = {a.code: (a.name, a.type, a.kind, a.parent.code if a.parent else None, a.postable, a.reconcilable)
            for a in db.scalars(select(Account))}
    assert {"1100", "1110", "1200", "1400", "2100", "2200", "2210", "3100", "4000", "8300"} <= set(rows)
    assert rows["1200"][2:] == ("receivable", "1", True, True) and rows["1"][4] is False
    result = chart.import_chart(db, chart.DEFAULT_CHART.read_bytes())
    assert result.created == 0 and result.updated == len(rows)
    again = {a.code: (a.name, a.type, a.kind, a.parent.code if a.parent else None, a.postable, a.reconcilable)
             for a in db.scalars(select(Account))}
    assert again == rows
