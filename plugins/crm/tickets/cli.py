"""``kontor crm sla-check``: the open tickets that missed their service level."""
import click
from flask.cli import with_appcontext

from core import session as db, utcnow

from plugins.crm.tickets import services


@click.command("sla-check")
@click.option("--at-risk", is_flag=True, help="Also list the tickets about to breach.")
@with_appcontext
def sla_check_command(at_risk):
    """Print the open tickets past a due time they did not meet (exit status 1 when there are any)."""
    now = utcnow()
    breached = services.breached_tickets(db, now)
    for ticket in breached:
        sla = services.sla_of(ticket, now)
        missed = ", ".join(name for name, state in (("response", sla.response), ("resolution", sla.resolution))
                           if state == "breached")
        due = ticket.resolution_due.strftime("%Y-%m-%d %H:%M UTC") if ticket.resolution_due else "-"
        click.echo(f"{ticket.number}\t{ticket.priority}\t{ticket.status}\t{missed}\tdue {due}\t"
                   f"{ticket.party_name or ticket.contact_email}\t{ticket.subject}")
    if at_risk:
        for ticket in services.at_risk_tickets(db, now):
            click.echo(f"{ticket.number}\t{ticket.priority}\t{ticket.status}\tabout to breach\t"
                       f"{ticket.party_name or ticket.contact_email}\t{ticket.subject}")
    click.echo(f"{len(breached)} breached ticket(s).")
    if breached:
        raise SystemExit(1)
