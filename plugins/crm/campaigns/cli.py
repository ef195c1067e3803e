"""``kontor crm send-campaign ID``: send a campaign from the command line, with a progress bar."""
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from core import cli_refusal, KontorError, session as db, transaction

from plugins.crm.campaigns import config, services


@click.command("send-campaign")
@click.argument("campaign_id", type=int)
@with_appcontext
def send_campaign_command(campaign_id):
    """Send campaign CAMPAIGN_ID (or finish a send begun on the web) to its whole segment."""
    with transaction(on_refusal=cli_refusal):
        campaign = services.get_campaign(db, campaign_id)
        smtp = config.smtp_config(db)
        smtp.check()
        base_url = config.site_url(db)
        if not base_url:
            raise KontorError("Set 'Campaigns: address of this Kontor' (crm.site_url) in the module settings: "
                              "unsubscribe links need it.")
        if campaign.status == "draft":
            services.start_send(db, campaign)
    with transaction(on_refusal=cli_refusal):  # each batch commits its own claim and outcomes
        progress = services.progress(db, campaign)
        with click.progressbar(length=progress.total, label=f"Sending {campaign.name}") as bar:
            bar.update(progress.done)
            while not progress.finished:
                before = progress.done
                progress = services.send_batch(db, campaign, smtp, secret=current_app.secret_key, base_url=base_url)
                bar.update(progress.done - before)
                if progress.done == before and not progress.finished:
                    time.sleep(1)  # the open batch is another worker's: let it finish
    click.echo(f"{progress.sent} sent, {progress.failed} failed, {progress.skipped} skipped (unsubscribed).")
