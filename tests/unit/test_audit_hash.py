"""Sealing many events at once hashes exactly what verification recomputes row by row, under the
key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from marketplace.services.audit import _Encoder, event_hash, event_key

KEY = event_key("a-test-audit-key-of-thirty-two-characters")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
texts = st.text(max_size=30)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**12),
            times,
            texts,
            texts,
            texts,
            st.one_of(texts, st.integers(1, 10**9).map(str)),
            st.none() | json_values,
            st.none() | json_values,
            st.text(alphabet="0123456789abcdef", min_size=64, max_size=64) | texts,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_batch_encoder_hashes_each_event_as_verification_does(events: list[Any]) -> None:
    encoder = _Encoder(KEY)
    for event in events:
        assert encoder.hash(*event) == event_hash(KEY, *event)


def test_values_shared_by_many_events_hash_as_if_each_had_its_own() -> None:
    encoder = _Encoder(KEY)
    at = datetime(2027, 1, 1, tzinfo=UTC)
    shared = {"status": "issued", "programme_id": 1, "value_minor": 400_000}
    for i in range(1, 50):
        when = at if i % 2 else at + timedelta(microseconds=i)
        assert encoder.hash(
            i, when, "officer", "voucher.issued", "voucher", str(i), None, shared, "0" * 64
        ) == event_hash(
            KEY,
            i,
            when,
            "officer",
            "voucher.issued",
            "voucher",
            str(i),
            None,
            dict(shared),
            "0" * 64,
        )


def test_the_hash_depends_on_the_key() -> None:
    event = (1, datetime(2027, 1, 1, tzinfo=UTC), "a", "b", "c", "1", None, None, "0" * 64)
    other = event_key("another-audit-key-of-thirty-two-characters")
    assert event_hash(KEY, *event) != event_hash(other, *event)
    assert _Encoder(other).hash(*event) == event_hash(other, *event)
