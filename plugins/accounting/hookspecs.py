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


@hookspec
def accounting_account_roles():
    """The accounts a module posts to, by role: a list of :class:`plugins.accounting.AccountRole`.

    Each role has a namespaced ``key`` (``inventory.stock``), a ``label`` for the settings page,
    the ``account_types`` it may be mapped to and the ``default_code`` of its account in the
    default chart. The company maps roles to accounts on Accounting → Settings → Account roles
    (or ``PUT /api/v1/accounting/account-roles``); :func:`plugins.accounting.account_for` answers
    which account a role posts to. A module that does not depend on accounting implements this
    with ``@hookimpl(optionalhook=True)`` (and builds its roles only when accounting is importable).
    """
