"""The steps of a lead import through its pages, for the tests that import leads."""
from __future__ import annotations

import io
import re


def upload(client, content: bytes, name="leads.csv"):
    token = client.csrf_token("/crm/leads/import")
    return client.post("/crm/leads/import", data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def through_columns(client, content: bytes) -> str:
    """Upload ``content`` and accept the guessed columns; returns the preview page's path."""
    response = upload(client, content)
    assert response.status_code == 303
    columns = response.headers["Location"]
    page = client.get(columns).get_data(as_text=True)
    mapping = dict(re.findall(r'<select id="f-map_(\w+)" name="map_\w+"[^>]*>.*?<option value="([^"]*)" selected',
                              page, re.S))
    response = client.post_form(columns, {f"map_{k}": v for k, v in mapping.items()})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]
