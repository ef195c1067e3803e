"""The storage service: one contract, kept by the folder backend and by a real S3 server."""
from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from core.filestore import FolderStorage, InvalidKey, check_key, default_url, new_key, open_storage


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    """A fresh, empty store of each backend."""
    if request.param == "folder":
        return open_storage((tmp_path / "files").as_uri())
    return open_storage(request.getfixturevalue("s3_storage_url"))


def test_put_read_open_size_exists_delete(store):
    key = new_key("attachments")
    assert not store.exists(key)
    store.put(key, b"%PDF-1.7 hello", "application/pdf")
    assert store.exists(key) and store.size(key) == 14
    assert store.read(key) == b"%PDF-1.7 hello"
    stream = store.open(key)
    try:
        assert stream.read(5) == b"%PDF-" and stream.read() == b"1.7 hello"
    finally:
        stream.close()
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting what is gone is no error


def test_a_file_object_is_stored_whole_and_replaces_the_old_object(store):
    key = "exports/2026/12/report"
    store.put(key, b"old", "text/plain")
    payload = bytes(range(256)) * 5000  # 1.28 MB, more than one chunk
    store.put(key, io.BytesIO(payload), "application/octet-stream")
    assert store.read(key) == payload and store.size(key) == len(payload)


def test_a_missing_object_is_file_not_found(store):
    for call in (store.read, store.open, store.size):
        with pytest.raises(FileNotFoundError):
            call("attachments/2026/12/nothing-here")


def test_keys_lists_one_folder_of_keys(store):
    store.put("archives/b.kontor-archive", b"b")
    store.put("archives/a.kontor-archive", b"a")
    store.put("attachments/2026/12/x", b"x")
    assert store.keys("archives") == ["archives/a.kontor-archive", "archives/b.kontor-archive"]
    assert store.keys("nothing") == []


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", ".hidden", "a/", "a\\b",
                                 "a/b c", "é", "a" * 513, None])
def test_keys_are_checked_on_every_call(store, key):
    for call in (lambda k: store.put(k, b"x"), store.read, store.delete, store.exists, store.size):
        with pytest.raises(InvalidKey):
            call(key)


def test_new_keys_are_unique_and_dated():
    first, second = new_key("attachments"), new_key("attachments")
    assert first != second and check_key(first) == first
    assert first.count("/") == 3 and first.startswith("attachments/20")
    with pytest.raises(InvalidKey):
        new_key("../attachments")


def test_folder_objects_are_private_and_stay_under_the_folder(tmp_path):
    store = FolderStorage(tmp_path / "files")
    store.put("attachments/2026/12/abc", b"secret")
    path = tmp_path / "files" / "attachments" / "2026" / "12" / "abc"
    assert path.read_bytes() == b"secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob(".put-*"))  # no temporary file left behind


def test_storage_urls():
    assert default_url("/srv/kontor") == "file:///srv/kontor/files"
    assert open_storage("file:///srv/kontor/files").root == Path("/srv/kontor/files")
    s3 = open_storage("s3://AK:S%2FK@127.0.0.1:9000/bucket/pre/fix?secure=0&region=eu-north-1")
    assert (s3.endpoint, s3.bucket, s3.prefix) == ("http://127.0.0.1:9000", "bucket", "pre/fix")
    assert s3.client.meta.region_name == "eu-north-1"
    assert open_storage("s3://store.example.com/b").endpoint == "https://store.example.com"
    for bad in ("ftp://x/y", "file://relative/path", "s3://host", "s3://h/b?secure=maybe", "s3://h/b?colour=red"):
        with pytest.raises(ValueError, match="KONTOR_STORAGE_URL"):
            open_storage(bad)


def test_an_s3_prefix_keeps_instances_apart(s3_server):
    bucket = s3_server.new_bucket()
    one, two = open_storage(s3_server.url(bucket, "one")), open_storage(s3_server.url(bucket, "two"))
    one.put("archives/x", b"1")
    assert not two.exists("archives/x") and one.keys("archives") == ["archives/x"]
    listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["one/archives/x"]


def test_s3_keeps_the_content_type(s3_server, s3_storage_url):
    store = open_storage(s3_storage_url)
    store.put("attachments/2026/12/a", b"\x89PNG\r\n\x1a\n", "image/png")
    head = s3_server.client().head_object(Bucket=store.bucket, Key=f"{store.prefix}/attachments/2026/12/a")
    assert head["ContentType"] == "image/png"


def test_app_storage_follows_the_configuration(app, settings):
    from core.filestore import storage

    with app.app_context():
        assert storage().root == Path(settings["INSTANCE_PATH"]).resolve() / "files"


# -- module archives go through the storage service --


@pytest.fixture(params=["folder", "s3"])
def archive_settings(request, settings):
    """Settings that find the lifecycle fixture plugins, with archives in a folder or in S3."""
    from tests.core.lifecycle_helpers import PLUGINS

    changed = {**settings, "EXTRA_PLUGINS": PLUGINS}
    if request.param == "s3":
        changed["STORAGE_URL"] = request.getfixturevalue("s3_storage_url")
    return changed


def test_a_purge_archive_is_stored_downloaded_and_restored_from_the_storage(archive_settings, tmp_path):
    import zipfile

    from core.modules import archive as archives
    from core.modules import lifecycle
    from core.testing import WebClient, make_user
    from core.wsgi import Dispatcher

    dispatcher = Dispatcher(archive_settings)
    try:
        lifecycle.install(lifecycle.context_from_app(dispatcher.app), ["lcbase"])
        [key] = lifecycle.purge(lifecycle.context_from_app(dispatcher.app), ["lcbase"])
        store = open_storage(dispatcher.app.config["STORAGE_URL"])
        name = archives.archive_name(key)
        assert store.keys("archives") == [key, f"{key}.sha256"]
        if archive_settings.get("STORAGE_URL"):  # in the bucket, not in the instance folder
            assert not (Path(archive_settings["INSTANCE_PATH"]) / "files").exists()

        make_user(dispatcher.app, "keeper", ["admin"], "keeper password 1")
        client = WebClient(dispatcher)
        assert client.login("keeper", "keeper password 1").status_code == 302
        page = client.get("/admin/modules/").get_data(as_text=True)
        assert f'href="/admin/modules/archives/{name}"' in page
        download = client.get(f"/admin/modules/archives/{name}")
        assert download.status_code == 200 and download.data == store.read(key)
        assert download.headers["Content-Disposition"].startswith("attachment;")
        saved = tmp_path / name
        saved.write_bytes(download.data)
        with zipfile.ZipFile(saved) as zipped:
            assert json_of(zipped, "manifest.json")["module"] == "lcbase"
        assert client.get("/admin/modules/archives/..%2Fsecret_key").status_code == 404
        assert client.get("/admin/modules/archives/lcbase-20260101T000000Z.kontor-archive").status_code == 404

        # restored by its name in the storage (any host), or from the downloaded file
        lifecycle.install(lifecycle.context_from_app(dispatcher.app), ["lcbase"], restore_from=name)
        lifecycle.purge(lifecycle.context_from_app(dispatcher.app), ["lcbase"])
        lifecycle.install(lifecycle.context_from_app(dispatcher.app), ["lcbase"], restore_from=saved)
        assert len(store.keys("archives")) == 4
    finally:
        dispatcher.close()


def json_of(zipped, member: str):
    import json

    return json.loads(zipped.read(member))
