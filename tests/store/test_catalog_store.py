"""The versioned catalog store, on SQLite and (given ARBITER_TEST_PG_URL) PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from arbiter.catalog.embedded import default_accelerators, default_catalog
from arbiter.catalog.schema import OFFER_COLUMNS
from arbiter.domain.accelerator import Accelerator, Platform
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError, StoreError, UnknownNameError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.store import CatalogStore, StoreUrlError, VersionInfo, default_db_url
from arbiter.store import catalog_store as catalog_store_module
from arbiter.store import tables as store_tables

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def _chip() -> Accelerator:
    """An accelerator with every optional figure missing."""
    return Accelerator(
        name="TestChip-1",
        vendor="NVIDIA",
        platform=Platform.CUDA,
        generation="Test",
        year=2026,
        bf16_tflops=0.1 + 0.2,  # not exactly representable: the float must come back bit-exact
        fp16_tflops=None,
        fp8_tflops=None,
        fp4_tflops=None,
        int8_tops=None,
        hbm_gb=1e-3,
        hbm_tbps=123456789.123456789,
        interconnect_gbps=None,
        tdp_w=None,
        chips_per_node=None,
        memory_type="HBM3e",
        interconnect_type="",
        source="https://example.com/datasheet?ü=1",
        verified="no",
        notes='commas, "quotes" and\nnewlines',
    )


def _offer(**changes: object) -> Offer:
    base = Offer(
        provider="aws",
        region="us-east-1",
        instance_type="p5.48xlarge",
        accelerator="H100-SXM",
        accelerators_per_instance=8,
        price_regime=PriceRegime.ON_DEMAND,
        usd_per_hour=98.32,
        as_of=AsOf.parse("2026-10-01"),
        source="https://aws.amazon.com/ec2/pricing/",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def small_catalog(price: float = 98.32) -> Catalog:
    """A few offers that between them give every column a value and, if nullable, a None."""
    offers = [
        _offer(usd_per_hour=price),
        _offer(
            price_regime=PriceRegime.SPOT,
            source_regime="spot",
            zone="use1-az4",
            usd_per_hour=31.4159,
            as_of=AsOf.parse("2026-09"),
            interruption_rate=0.0125,
        ),
        _offer(
            provider="runpod",
            region="global",
            instance_type="TestChip-1 x4",
            accelerator="TestChip-1",
            accelerators_per_instance=4,
            price_regime=PriceRegime.COMMITTED,
            source_regime="commit_6m",
            term_months=6,
            usd_per_hour=7.0,
            as_of=AsOf.parse("2024-12/2025-06"),
            derived=True,
            provenance="on-demand price x (1 - 20%), the documented 6-month discount",
            capacity_instances=12,
        ),
        _offer(
            provider="gcp",
            region="europe-west4",
            instance_type="a3-highgpu-8g",
            price_regime=PriceRegime.RESERVED_3Y,
            source_regime="cud_3y",
            term_months=36,
            usd_per_hour=1e-9,
            as_of=AsOf.parse("2026-01-21/2026-02"),
            interruption_rate=0.0,
            capacity_instances=0,
        ),
    ]
    return Catalog.of([default_accelerators()["H100-SXM"], _chip()], offers)


def count_rows(engine: sa.Engine, table: sa.Table, version: str) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(table.c.version_hash == version)
        return conn.execute(query.select_from(table)).scalar_one()


def table_names(store_url: str) -> list[str]:
    """The tables in the database, without creating a SQLite file that is not there."""
    url = sa.make_url(store_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return []
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


# -- round trips ---------------------------------------------------------------------------


def test_small_catalog_covers_every_offer_column():
    offers = small_catalog().offers
    for column in OFFER_COLUMNS:
        values = [getattr(o, column.attr) for o in offers]
        assert len(set(map(repr, values))) > 1 or column.name == "source", column.name
        if store_tables.offers.c[column.name].nullable:
            assert None in values and any(v is not None for v in values), column.name
    assert any(o.derived for o in offers)
    assert any("/" in o.as_of.text for o in offers)


def test_round_trip_of_the_embedded_catalog(store):
    catalog = default_catalog()
    info = store.save(catalog, label="embedded", created_at=T0)
    loaded = store.load(info.version)
    assert info.version == catalog.content_hash
    assert loaded.content_hash == info.version
    assert loaded == catalog


def test_round_trip_of_every_column_exactly(store):
    catalog = small_catalog()
    info = store.save(catalog, label="small", created_at=T0, parent="default")
    loaded = store.load(info.version)
    assert loaded.content_hash == info.version == catalog.content_hash
    assert loaded == catalog
    # Types come back as the domain's, not as the driver's (enum, AsOf, bool, int).
    spot = next(o for o in loaded.offers if o.price_regime is PriceRegime.SPOT)
    assert isinstance(spot.as_of, AsOf) and spot.as_of.text == "2026-09"
    assert loaded.accelerators["TestChip-1"].platform is Platform.CUDA
    assert info == VersionInfo(
        version=catalog.content_hash,
        created_at="2026-11-01T12:00:00+00:00",
        label="small",
        parent="default",
        n_offers=4,
        n_accelerators=2,
    )


def test_a_non_canonical_catalog_is_stored_in_canonical_form(store):
    catalog = small_catalog()
    shuffled = Catalog(
        accelerators=dict(reversed(catalog.accelerators.items())),
        offers=tuple(reversed(catalog.offers)),
    )
    info = store.save(shuffled, label=None, created_at=T0)
    assert info.version == catalog.content_hash
    assert store.load(info.version) == catalog


def test_save_is_idempotent(store, raw_engine):
    first = store.save(small_catalog(), label="first", created_at=T0)
    again = store.save(small_catalog(), label="second", created_at=at(5), parent="default")
    assert again == first
    assert [v.version for v in store.versions()] == ["default", first.version]
    assert count_rows(raw_engine, store_tables.offers, first.version) == 4
    assert count_rows(raw_engine, store_tables.accelerators, first.version) == 2


def test_a_concurrent_writer_of_the_same_content_is_not_an_error(store, monkeypatch):
    info = store.save(small_catalog(), label="theirs", created_at=T0)
    # Simulate losing the race: our check sees nothing, then the insert hits their row;
    # the re-read after the conflict sees it again.
    original = catalog_store_module._version_info
    calls = []

    def first_call_misses(conn, version):
        calls.append(version)
        return None if len(calls) == 1 else original(conn, version)

    monkeypatch.setattr(catalog_store_module, "_version_info", first_call_misses)
    assert store.save(small_catalog(), label="ours", created_at=at(1)) == info
    assert len(calls) == 2


# -- listing and naming versions -----------------------------------------------------------


def test_an_empty_store_lists_only_the_default(store):
    (default,) = store.versions()
    assert default.version == "default"
    assert default.created_at is None
    assert default.n_accelerators == len(default_catalog().accelerators)
    assert default.n_offers == len(default_catalog().offers)
    assert store.current() == "default"
    assert store.load("default") is default_catalog()


def test_versions_are_listed_default_first_then_by_creation_time(store):
    late = store.save(small_catalog(1.0), label="late", created_at=at(3))
    early = store.save(small_catalog(2.0), label="early", created_at=at(1))
    # Two versions created at the same moment are ordered by hash.
    tie = [store.save(small_catalog(p), label="tie", created_at=at(2)) for p in (3.0, 4.0)]
    tie.sort(key=lambda v: v.version)
    listed = store.versions()
    assert [v.version for v in listed] == [
        "default",
        early.version,
        *(v.version for v in tie),
        late.version,
    ]
    assert listed[1] == early


def test_versions_persist_across_store_instances(open_store):
    info = open_store().save(small_catalog(), label="x", created_at=T0)
    other = open_store()
    assert other.versions()[1] == info
    assert other.load(info.version[:8]) == small_catalog()


def test_created_at_is_stored_in_utc(store):
    cet = dt.timezone(dt.timedelta(hours=1))
    info = store.save(
        small_catalog(), label=None, created_at=dt.datetime(2026, 1, 1, 13, tzinfo=cet)
    )
    assert info.created_at == "2026-01-01T12:00:00+00:00"


def test_resolve_accepts_default_full_hashes_and_unique_prefixes(store):
    info = store.save(small_catalog(), label=None, created_at=T0)
    h = info.version
    assert store.resolve("default") == "default"
    assert store.resolve(" Default ") == "default"
    assert store.resolve(h) == h
    assert store.resolve(h[:6]) == h
    assert store.resolve(h[:10].upper()) == h
    assert store.load(h[:6]) == small_catalog()


def test_a_prefix_shorter_than_six_digits_is_refused(store):
    info = store.save(small_catalog(), label=None, created_at=T0)
    with pytest.raises(InputError, match="too short") as err:
        store.resolve(info.version[:5])
    assert "at least 6 hex digits" in str(err.value)
    assert err.value.exit_code == 2


def _insert_version_row(engine: sa.Engine, version: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(store_tables.catalog_versions).values(
                version_hash=version,
                created_at="2026-01-01T00:00:00",
                label="crafted",
                parent_hash=None,
                n_offers=0,
                n_accelerators=0,
            )
        )


def test_an_ambiguous_prefix_names_the_candidates(store, raw_engine):
    store.save(small_catalog(), label=None, created_at=T0)  # creates the tables
    # Real hashes sharing 6 digits would take millions of catalogs: craft the rows instead.
    _insert_version_row(raw_engine, "abcdef01" + "0" * 56)
    _insert_version_row(raw_engine, "abcdef02" + "0" * 56)
    with pytest.raises(InputError, match="ambiguous") as err:
        store.resolve("abcdef")
    assert "abcdef010000" in str(err.value) and "abcdef020000" in str(err.value)
    assert not isinstance(err.value, UnknownNameError)
    assert store.resolve("abcdef02") == "abcdef02" + "0" * 56


def test_an_unknown_version_is_named_with_suggestions(store):
    info = store.save(small_catalog(), label=None, created_at=T0)
    typo = info.version[:11] + ("0" if info.version[11] != "0" else "1")
    with pytest.raises(UnknownNameError) as err:
        store.load(typo)
    assert err.value.kind == "catalog version"
    assert err.value.suggestions == [info.version[:12]]
    with pytest.raises(UnknownNameError, match="Did you mean 'default'") as err:
        store.load("defualt")
    assert err.value.exit_code == 2


def test_an_unknown_version_in_an_empty_store_suggests_default(store):
    with pytest.raises(UnknownNameError, match="Did you mean 'default'"):
        store.resolve("defaul")
    with pytest.raises(UnknownNameError):
        store.load("abcdef")


# -- the current version ---------------------------------------------------------------


def test_current_and_use(store, open_store):
    assert store.current() == "default"
    first = store.save(small_catalog(1.0), label=None, created_at=T0)
    second = store.save(small_catalog(2.0), label=None, created_at=at(1))
    assert store.current() == "default"  # saving does not switch
    assert store.use(first.version[:7]) == first.version
    assert store.current() == first.version
    store.use(second.version)
    assert open_store().current() == second.version
    with pytest.raises(UnknownNameError):
        store.use("nonexistent")
    assert store.current() == second.version
    assert store.use("default") == "default"
    assert store.current() == "default"


def test_save_records_the_resolved_parent(store):
    first = store.save(small_catalog(1.0), label=None, created_at=T0, parent="default")
    child = store.save(small_catalog(2.0), label=None, created_at=at(1), parent=first.version[:8])
    assert child.parent == first.version
    with pytest.raises(UnknownNameError):
        store.save(small_catalog(3.0), label=None, created_at=at(2), parent="deadbeef")
    assert len(store.versions()) == 3


# -- reading never creates, writing is atomic ------------------------------------------------


def test_reading_creates_no_database(store, store_url):
    assert store.versions()[0].version == "default"
    assert store.current() == "default"
    assert store.resolve("default") == "default"
    assert store.load("default") is default_catalog()
    with pytest.raises(UnknownNameError):
        store.load("abcdef")
    assert store.use("default") == "default"  # nothing to record
    assert table_names(store_url) == []
    url = sa.make_url(store_url)
    if url.get_backend_name() == "sqlite":
        assert not Path(url.database or "").parent.exists()


def test_the_first_write_creates_directory_and_tables(store, store_url):
    store.save(small_catalog(), label=None, created_at=T0)
    assert set(table_names(store_url)) == {
        "catalog_versions",
        "accelerators",
        "offers",
        "store_state",
    }


def _fail_on_third_offer(monkeypatch):
    """Make the third offer row violate NOT NULL, after earlier rows were sent."""
    real = store_tables.offer_row

    def bad(version, position, offer):
        row = real(version, position, offer)
        if position == 2:
            row["usd_per_hour"] = None
        return row

    monkeypatch.setattr(store_tables, "offer_row", bad)


def test_a_failed_save_leaves_nothing_behind(store, raw_engine, monkeypatch):
    kept = store.save(small_catalog(1.0), label="kept", created_at=T0)
    store.use(kept.version)
    before = store.versions()
    doomed = small_catalog(2.0)
    _fail_on_third_offer(monkeypatch)
    with pytest.raises(StoreError, match="Nothing was written") as err:
        store.save(doomed, label="doomed", created_at=at(1), parent=kept.version)
    assert err.value.exit_code == 5
    assert doomed.content_hash[:12] in str(err.value)
    assert "INSERT" not in str(err.value)  # the driver's reason, not the SQL
    monkeypatch.undo()
    assert store.versions() == before
    assert store.current() == kept.version
    for table in (store_tables.catalog_versions, store_tables.accelerators, store_tables.offers):
        assert count_rows(raw_engine, table, doomed.content_hash) == 0
    # And the same content saves cleanly afterwards.
    assert store.save(doomed, label="retry", created_at=at(2)).label == "retry"


def test_a_failed_first_save_does_not_even_create_the_tables(store, store_url, monkeypatch):
    _fail_on_third_offer(monkeypatch)
    with pytest.raises(StoreError):
        store.save(small_catalog(), label=None, created_at=T0)
    # Table creation is part of the same transaction, on SQLite as on PostgreSQL.
    assert table_names(store_url) == []
    assert [v.version for v in store.versions()] == ["default"]


def test_a_version_changed_behind_the_stores_back_is_reported(store, raw_engine):
    info = store.save(small_catalog(), label=None, created_at=T0)
    with raw_engine.begin() as conn:
        offers = store_tables.offers
        conn.execute(sa.update(offers).where(offers.c.position == 0).values(usd_per_hour=1.5))
    with pytest.raises(StoreError, match="damaged") as err:
        store.load(info.version)
    assert err.value.exit_code == 5


def test_a_store_of_another_layout_version_is_refused(store, raw_engine):
    store.save(small_catalog(), label=None, created_at=T0)
    with raw_engine.begin() as conn:
        state = store_tables.store_state
        conn.execute(sa.update(state).where(state.c.key == "schema").values(value="99"))
    with pytest.raises(StoreError, match="layout version 99"):
        store.versions()


# -- URLs and errors (no server needed) ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("notadialect://whatever", "notadialect://whatever"),
        ("garbage", "garbage"),
        ("", "''"),
        ("mysql://me:s3cret@db.example.com/arbiter", "mysql://me:***@db.example.com/arbiter"),
        ("postgresql+asyncpg://me:s3cret@localhost/db", "postgresql+asyncpg://me:***@localhost/db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_an_unreadable_url_is_bad_input(url, shown):
    with pytest.raises(StoreUrlError) as err:
        CatalogStore(url)
    message = str(err.value)
    assert err.value.exit_code == 2
    assert isinstance(err.value, InputError) and isinstance(err.value, StoreError)
    assert shown in message
    assert "s3cret" not in message
    assert "sqlite:///path/to/arbiter.db" in message
    assert "postgresql+psycopg://user:pass@host:5432/db" in message
    assert "ARBITER_DB_URL" in message
    assert "\n" not in message


def test_an_unreachable_postgres_server_is_a_store_error():
    store = CatalogStore("postgresql://me:s3cret@127.0.0.1:1/arbiter")
    with pytest.raises(StoreError) as err:
        store.versions()
    store.close()
    message = str(err.value)
    assert not isinstance(err.value, StoreUrlError)
    assert err.value.exit_code == 5
    assert "postgresql://me:***@127.0.0.1:1/arbiter" in message
    assert "s3cret" not in message
    assert "Connection refused" in message or "connection failed" in message
    assert "ARBITER_DB_URL" in message


def test_postgres_urls_use_psycopg_3():
    for url in ("postgresql://u:p@h/db", "postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"):
        with CatalogStore.open(url) as store:
            assert store._url.url.drivername == "postgresql+psycopg"
            assert store.url == url.replace(":p@", ":***@")


def test_a_sqlite_directory_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    url = f"sqlite:///{blocker / 'sub' / 'arbiter.db'}"
    with CatalogStore(url) as store:
        assert [v.version for v in store.versions()] == ["default"]  # reading is fine
        with pytest.raises(StoreError) as err:
            store.save(small_catalog(), label=None, created_at=T0)
    assert err.value.exit_code == 5
    assert str(blocker) in str(err.value)
    assert "ARBITER_DB_URL" in str(err.value)


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "arbiter.db"
    path.write_text("not a database, just text " * 100)
    with CatalogStore(f"sqlite:///{path}") as store, pytest.raises(StoreError) as err:
        store.versions()
    assert err.value.exit_code == 5
    assert "not a database" in str(err.value)
    assert str(path) in str(err.value)


def test_an_in_memory_sqlite_store_works():
    with CatalogStore("sqlite://") as store:
        assert store.current() == "default"
        info = store.save(small_catalog(), label=None, created_at=T0)
        assert store.load(info.version) == small_catalog()


# -- the default URL ---------------------------------------------------------------------


def test_default_db_url_prefers_the_environment_variable(tmp_path):
    env = {"ARBITER_DB_URL": "postgresql://h/db", "XDG_DATA_HOME": str(tmp_path)}
    assert default_db_url(env) == "postgresql://h/db"


def test_default_db_url_is_a_sqlite_file_in_the_xdg_data_directory(tmp_path):
    assert default_db_url({"XDG_DATA_HOME": str(tmp_path / "xdg"), "HOME": "/nowhere"}) == (
        f"sqlite:///{tmp_path / 'xdg' / 'arbiter' / 'arbiter.db'}"
    )
    # Unset, empty or relative XDG_DATA_HOME: ~/.local/share, per the XDG spec.
    expected = f"sqlite:///{tmp_path / '.local' / 'share' / 'arbiter' / 'arbiter.db'}"
    for xdg in ({}, {"XDG_DATA_HOME": ""}, {"XDG_DATA_HOME": "relative/dir"}):
        assert default_db_url({"HOME": str(tmp_path), **xdg}) == expected
    assert default_db_url({"HOME": str(tmp_path), "ARBITER_DB_URL": ""}) == expected


def test_the_default_store_is_created_only_when_written(tmp_path):
    url = default_db_url({"XDG_DATA_HOME": str(tmp_path / "xdg")})
    with CatalogStore(url) as store:
        assert store.current() == "default"
        assert not (tmp_path / "xdg").exists()
        store.save(small_catalog(), label=None, created_at=T0)
    assert (tmp_path / "xdg" / "arbiter" / "arbiter.db").is_file()
