"""``kontor crm send-campaign ID``: send a campaign from the command line, with a progress bar."""
import click
from flask.cli import with_appcontext

from core import cli_refusal, KontorError, session as db, transaction

from plugins.crm.campaigns import config, jobs, services


@click.command("send-campaign")
@click.argument("campaign_id", type=int)
@click.option("--background", is_flag=True,
              help="Only start the send job and return: a worker (kontor worker) sends the campaign.")
@with_appcontext
def send_campaign_command(campaign_id, background):
    """Send campaign CAMPAIGN_ID (or finish a send begun on the web) to its whole segment.

    By default the campaign is sent here and now, with a progress bar, whether a worker runs or not.
    """
    with transaction(on_refusal=cli_refusal):
        campaign = services.get_campaign(db, campaign_id)
        config.mail_settings(db)  # refused before the mail server and the sender are set
        base_url = config.site_url(db)
        if not base_url:
            raise KontorError("Set the address of this Kontor (core.mail.site_url) under Administration → Mail: "
                              "unsubscribe links need it.")
        if background:
            job = jobs.send_in_background(db, campaign, user_id=None, base_url=base_url)
        else:
            job = jobs.running_job(db, campaign)
            if job is not None:
                raise KontorError(f"Job {job.id} is sending this campaign already (kontor jobs list).")
            if campaign.status == "draft":
                services.start_send(db, campaign)
    if background:
        click.echo(f"Job {job.id} sends {campaign.name}; a worker runs it.")
        return
    with transaction(on_refusal=cli_refusal):  # each batch commits its own claim and outcomes
        start = services.progress(db, campaign)
        with click.progressbar(length=start.total, label=f"Sending {campaign.name}") as bar:
            bar.update(start.done)
            shown = [start.done]

            def report(progress: services.Progress) -> None:
                bar.update(progress.done - shown[0])
                shown[0] = progress.done

            progress = jobs.send_all(db, campaign, base_url=base_url, report=report)
    click.echo(f"{progress.sent} sent, {progress.failed} failed, {progress.skipped} skipped (unsubscribed).")
