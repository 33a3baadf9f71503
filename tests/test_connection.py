"""One Redis setting for every part: a URL, or Sentinel hosts with a master name."""

from __future__ import annotations

import pytest
from copydesk.settings import Settings
from copydesk.workers.queue.connection import (
    broker_transport_options,
    broker_url,
    describe,
    sentinel_hosts,
)
from copydesk.workers.worker.app import celery_config


def sentinel_settings(**extra: object) -> Settings:
    return Settings(redis_url="redis://:s3cret@ignored:6379/2",
                    sentinel={"hosts": "10.9.0.1:26379, sentinel-b:26380,sentinel-c", **extra})


def test_without_sentinels_the_broker_is_the_redis_url() -> None:
    settings = Settings(redis_url="redis://cache:6380/1")
    assert broker_url(settings) == "redis://cache:6380/1"
    assert broker_transport_options(settings) == {}
    assert describe(settings) == "Redis at redis://cache:6380/1"


def test_sentinel_hosts_are_read_from_a_comma_list_with_the_default_port() -> None:
    assert sentinel_hosts(sentinel_settings()) == [
        ("10.9.0.1", 26379), ("sentinel-b", 26380), ("sentinel-c", 26379)]


def test_the_broker_url_lists_every_sentinel_with_the_masters_password_and_database() -> None:
    url = broker_url(sentinel_settings())
    assert url.split(";") == ["sentinel://:s3cret@10.9.0.1:26379/2",
                              "sentinel://:s3cret@sentinel-b:26380/2",
                              "sentinel://:s3cret@sentinel-c:26379/2"]


def test_the_celery_app_gets_the_master_name_and_the_sentinels_own_password() -> None:
    config = celery_config(sentinel_settings(master="news", password="sentinel-pw"))
    assert config["broker_url"].startswith("sentinel://")
    options = config["broker_transport_options"]
    assert options["master_name"] == "news"
    assert options["sentinel_kwargs"] == {"password": "sentinel-pw"}
    assert options["visibility_timeout"]  # the queue's own options stay


def test_messages_name_the_sentinels_and_never_a_password() -> None:
    text = describe(sentinel_settings(master="news", password="sentinel-pw"))
    assert "news" in text and "sentinel-b:26380" in text
    assert "s3cret" not in text and "sentinel-pw" not in text


def test_a_sentinel_address_that_is_not_host_port_is_refused() -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        sentinel_hosts(Settings(sentinel={"hosts": "host:port"}))
