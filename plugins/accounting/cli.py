"""``kontor accounting``: the one command group the areas' ``cli.py`` add their commands to."""
import click

group = click.Group("accounting", help="The books: entries, verification, rates, statements and reports.")
