"""Hooks accounting offers other modules; each is called inside the transaction of the act."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


@hookspec
def accounting_entry_posted(entry, session):
    """A journal entry was posted (numbered, hashed); ``entry.lines`` are final."""


@hookspec
def accounting_invoice_posted(invoice, session):
    """A customer invoice, supplier bill or credit note was posted; ``invoice.entry`` is its entry."""


@hookspec
def accounting_invoice_paid(invoice, session):
    """An invoice or bill became fully paid (its receivable or payable is reconciled)."""


@hookspec
def accounting_payment_registered(payment, session):
    """A payment was registered and posted."""
