"""A Hypothesis state machine over the ledger: random drafts (balanced or not) on random accounts,
postings, reversals, customer invoices and payments. After every step: every posted entry balances,
the trial balance sums to zero, each account's balance equals a plain Python model, and no posted
row ever changed."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from core import KontorError
from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import Entry, Line

ACCOUNTS = ("1100", "1110", "1200", "2100", "3000", "4000", "5100", "6100")
ZERO = Decimal("0.00")
amounts = st.integers(min_value=1, max_value=1_000_000).map(lambda cents: Decimal(cents).scaleb(-2))
line_specs = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.booleans(), amounts), min_size=1, max_size=4)


def machine_for(db):
    today = date.today()

    class Ledger(RuleBasedStateMachine):
        drafts = Bundle("drafts")
        posted = Bundle("posted")

        def __init__(self):
            super().__init__()
            self.db = db
            self.ids = {code: services.account_by_code(db, code).id for code in ACCOUNTS}
            self.model = {k: v for k, v in services.account_balances(db).items()}
            self.snapshot = self._posted_rows()
            self.reversed: set[int] = set()
            self.party_id = None

        def _posted_rows(self):
            entries = {r[0]: tuple(r[1:]) for r in db.execute(select(
                Entry.id, Entry.number, Entry.date, Entry.hash, Entry.previous_hash, Entry.journal_id)
                .where(Entry.state == "posted"))}
            lines = {r[0]: tuple(r[1:]) for r in db.execute(select(
                Line.id, Line.entry_id, Line.account_id, Line.debit, Line.credit, Line.party_id, Line.date)
                .where(Line.state == "posted"))}
            return entries, lines

        def _book(self, entry):
            for line in entry.lines:
                self.model[line.account_id] = self.model.get(line.account_id, ZERO) + line.debit - line.credit

        @rule(target=drafts, specs=line_specs, balanced=st.booleans(), journal=st.sampled_from(("GEN", "SAL", "BNK")))
        def create_draft(self, specs, balanced, journal):
            lines = [{"account": code, "debit": amount if is_debit else "", "credit": "" if is_debit else amount}
                     for code, is_debit, amount in specs]
            if balanced:
                gap = sum((a if d else -a for _c, d, a in specs), ZERO)
                if gap:
                    lines.append({"account": "3000", "debit": -gap if gap < 0 else "", "credit": gap if gap > 0 else ""})
            entry = services.create_entry(db, journal=journal, date=today, lines=lines)
            db.commit()
            return entry.id

        @rule(target=posted, entry_id=consumes(drafts))
        def post(self, entry_id):
            entry = db.get(Entry, entry_id)
            debit, credit = services.entry_totals(entry)
            should_post = len(entry.lines) >= 2 and debit == credit
            try:
                services.post_entry(db, entry)
                db.commit()
            except KontorError as exc:
                db.rollback()
                assert not should_post, exc.message
                assert exc.field == "lines"
                services.delete_entry(db, db.get(Entry, entry_id))
                db.commit()
                return None
            assert should_post
            self._book(entry)
            return entry_id

        @rule(entry_id=posted)
        def reverse(self, entry_id):
            if entry_id is None:
                return
            entry = db.get(Entry, entry_id)
            try:
                reversal = services.reverse_entry(db, entry, date=today)
                db.commit()
            except KontorError as exc:
                db.rollback()
                assert entry_id in self.reversed and exc.status == 409
                return
            assert entry_id not in self.reversed
            self.reversed.add(entry_id)
            self._book(reversal)

        @rule(entry_id=posted, new_reference=st.text(max_size=5))
        def tamper_through_the_orm(self, entry_id, new_reference):
            if entry_id is None:
                return
            entry = db.get(Entry, entry_id)
            entry.reference = entry.reference + "!" + new_reference
            with pytest.raises(KontorError):
                db.flush()
            db.rollback()

        @rule(amount=amounts, pay=st.booleans())
        def invoice_and_payment(self, amount, pay):
            try:
                from core.parties.services import create_party
                from plugins.accounting.banking.services import register_payment
                from plugins.accounting.invoicing.services import create_invoice, post_invoice
            except ImportError:
                return
            if self.party_id is None:
                self.party_id = create_party(db, {"kind": "company", "name": "Stateful Customer A/S"}).id
                db.commit()
            invoice = create_invoice(db, "out_invoice", {
                "party_id": self.party_id, "invoice_date": today.isoformat(),
                "lines": [{"description": "Work", "quantity": "1", "unit_price": str(amount), "account": "4100",
                           "taxes": []}]})
            post_invoice(db, invoice)
            db.commit()
            self._book(db.get(Entry, invoice.entry_id))
            if pay:
                payment = register_payment(db, party_id=self.party_id, amount=invoice.amount_total,
                                           currency=invoice.currency, date=today, journal="BNK",
                                           allocations=[(invoice, invoice.amount_total)])
                db.commit()
                self._book(db.get(Entry, payment.entry_id))
                assert invoice.state == "paid" and invoice.amount_residual == 0

        @invariant()
        def every_posted_entry_balances(self):
            unbalanced = db.execute(select(Line.entry_id).where(Line.state == "posted").group_by(Line.entry_id)
                                    .having(func.sum(Line.debit) != func.sum(Line.credit))).all()
            assert unbalanced == []

        @invariant()
        def trial_balance_is_zero_and_matches_the_model(self):
            debit, credit = db.execute(select(func.coalesce(func.sum(Line.debit), 0),
                                              func.coalesce(func.sum(Line.credit), 0))
                                       .where(Line.state == "posted")).one()
            assert Decimal(debit) == Decimal(credit)
            actual = {k: v for k, v in services.account_balances(db).items() if v != 0}
            assert actual == {k: v for k, v in self.model.items() if v != 0}

        @invariant()
        def posted_rows_never_change(self):
            entries, lines = self._posted_rows()
            old_entries, old_lines = self.snapshot
            assert all(entries.get(k) == v for k, v in old_entries.items())
            assert all(lines.get(k) == v for k, v in old_lines.items())
            self.snapshot = (entries, lines)

    return Ledger


def test_ledger_state_machine(db):
    run_state_machine_as_test(machine_for(db), settings=hsettings(
        max_examples=12, stateful_step_count=12, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    assert services.verify_chains(db)[1] == []
