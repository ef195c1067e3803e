"""The campaign endpoints under /api/v1/crm/campaigns."""
from dataclasses import asdict

from flask import request
from flask_login import current_user

from core import documented, json_response, load_body, load_query, require, session as db, transaction

from plugins.crm.campaigns import jobs, services
from plugins.crm.campaigns.schemas import CampaignInputSchema, CampaignQuerySchema, CampaignSchema, SegmentSchema
from plugins.crm.permissions import CAMPAIGN_READ, CAMPAIGN_SEND, CAMPAIGN_WRITE
from plugins.crm.web import api


def _dump(campaign) -> dict:
    body = CampaignSchema().dump(campaign)
    counts = services.progress(db, campaign)
    body["progress"] = {**asdict(counts), "done": counts.done, "percent": counts.percent}
    return body


def _dump_segment(segment) -> dict:
    body = SegmentSchema().dump(segment)
    counted = services.count(db, segment)
    body["count"] = {"total": counted.total, "opted_out": counted.opted_out, "reachable": counted.reachable}
    return body


@api.get("/segments")
@require(CAMPAIGN_READ)
@documented("List segments with how many addresses each reaches", response=SegmentSchema, many=True)
def api_segments():
    return json_response({"items": [_dump_segment(s) for s in services.list_segments(db)], "next": None})


@api.get("/segments/<int:segment_id>")
@require(CAMPAIGN_READ)
@documented("One segment with its count", response=SegmentSchema)
def api_segment(segment_id: int):
    segment = services.get_segment(db, segment_id)
    return json_response(_dump_segment(segment))


@api.post("/segments")
@require(CAMPAIGN_WRITE)
@documented("Save a segment", body=SegmentSchema, response=SegmentSchema, status=201)
def api_segment_create():
    data = load_body(SegmentSchema())
    with transaction():
        segment = services.create_segment(db, data)
    return json_response(_dump_segment(segment), 201)


@api.get("/campaigns")
@require(CAMPAIGN_READ)
@documented("List campaigns, newest first", query=CampaignQuerySchema, response=CampaignSchema, many=True)
def api_campaigns():
    args = load_query(CampaignQuerySchema())
    return json_response({"items": [_dump(c) for c in services.list_campaigns(db, **args)], "next": None})


@api.get("/campaigns/<int:campaign_id>")
@require(CAMPAIGN_READ)
@documented("One campaign with its progress", response=CampaignSchema)
def api_campaign(campaign_id: int):
    return json_response(_dump(services.get_campaign(db, campaign_id)))


@api.post("/campaigns")
@require(CAMPAIGN_WRITE)
@documented("Create a draft campaign", body=CampaignInputSchema, response=CampaignSchema, status=201)
def api_campaign_create():
    data = load_body(CampaignInputSchema())
    with transaction():
        campaign = services.create_campaign(db, data, user_id=current_user.id)
    return json_response(_dump(campaign), 201)


@api.patch("/campaigns/<int:campaign_id>")
@require(CAMPAIGN_WRITE)
@documented("Change a draft campaign", body=CampaignInputSchema, response=CampaignSchema)
def api_campaign_update(campaign_id: int):
    campaign = services.get_campaign(db, campaign_id)
    data = load_body(CampaignInputSchema(), partial=True)
    with transaction():
        services.update_campaign(db, campaign, data)
    return json_response(_dump(campaign))


@api.post("/campaigns/<int:campaign_id>/send")
@require(CAMPAIGN_SEND)
@documented("Send a campaign in the background: fixes its recipients and starts the job that mails them "
            "(the answer names the job; the campaign's progress shows how far it got)", response=CampaignSchema,
            status=202)
def api_campaign_send(campaign_id: int):
    campaign = services.get_campaign(db, campaign_id)
    with transaction():
        job = jobs.send_in_background(db, campaign, user_id=current_user.id, base_url=request.url_root.rstrip("/"))
    db.refresh(campaign)
    db.refresh(job)
    return json_response({**_dump(campaign), "job": {"id": job.id, "status": job.status}}, 202)
