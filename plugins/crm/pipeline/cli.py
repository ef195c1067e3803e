"""The pipeline's commands: ``kontor crm stages`` and ``kontor crm move``."""
import click
from flask.cli import with_appcontext

from sqlalchemy import func, select

from core import NotFound, cli_refusal, session, transaction

from plugins.crm.access import every_owner
from plugins.crm.pipeline import services
from plugins.crm.pipeline.models import Opportunity


@click.command("stages")
@with_appcontext
def stages_command():
    """List the pipeline stages with their probability and counts."""
    with every_owner():  # a stage's count is every salesperson's opportunities in it
        counts = dict(session.execute(select(Opportunity.stage_id, func.count(Opportunity.id))
                                      .group_by(Opportunity.stage_id)).all())
    for stage in services.list_stages(session, include_inactive=True):
        count = counts.get(stage.id, 0)
        flag = " won" if stage.is_won else " lost" if stage.is_lost else ""
        click.echo(f"{stage.id:>4}  {stage.name:<20} {stage.probability:>3} %{flag:<5}  {count} opportunities")


@click.command("move")
@click.argument("opportunity_id", type=int)
@click.argument("stage_id", type=int)
@click.option("--reason", default="", help="Why it was lost (needed for a lost stage).")
@with_appcontext
def move_command(opportunity_id, stage_id, reason):
    """Move OPPORTUNITY_ID to STAGE_ID (the same rules as the board)."""
    with transaction(on_refusal=cli_refusal):
        opportunity = session.get(Opportunity, opportunity_id)
        if opportunity is None:
            raise NotFound(f"there is no opportunity {opportunity_id}")
        services.change_stage(session, opportunity, services.get_stage(session, stage_id), lost_reason=reason)
    click.echo(f"{opportunity.title}: {opportunity.stage.name}")
