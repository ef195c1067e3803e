"""The ``kontor things`` command."""
import click
from flask.cli import with_appcontext

from core import session


@click.command("things")
@with_appcontext
def things_command():
    """List every thing."""
    from everyhook.services import all_things

    for thing in all_things(session):
        click.echo(thing.name)
