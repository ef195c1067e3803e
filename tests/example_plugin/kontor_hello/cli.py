"""Hello's command: ``kontor hello greet``."""
import click
from flask.cli import with_appcontext

from core import session

from kontor_hello import services


@click.group("hello")
def hello_group():
    """Greetings."""


@hello_group.command("greet")
@click.option("--language", default="en", show_default=True, type=click.Choice(services.LANGUAGES))
@click.argument("name", default="")
@with_appcontext
def greet_command(language, name):
    """Print a greeting in LANGUAGE (to NAME, when given)."""
    greeting = services.greeting_for(session, language)
    if greeting is None:
        raise click.ClickException("there are no greetings")
    click.echo(f"{greeting.text}, {name}!" if name else f"{greeting.text}!")
