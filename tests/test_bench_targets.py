"""The rules `make bench` judges its measurements by (scripts/bench_targets.py): made-up numbers, no database."""

from scripts.bench_targets import (
    FLOOR_MS,
    MAX_BYTES,
    Measurement,
    format_export_table,
    format_table,
    growth_ratio,
    ratio_limit,
    seed_failures,
    target_failures,
)


def measured(page="home", role="director", scale=1, ms=10.0, queries=12, size=40_000, status=200, error=""):
    return Measurement(
        page=page, role=role, scale=scale, status=status, ms=ms, queries=queries, bytes=size, error=error
    )


def pair(role, base_ms, big_ms, **big):
    return [measured(role=role, ms=base_ms), measured(role=role, scale=10, ms=big_ms, **big)]


def test_a_page_that_stays_within_every_target_passes():
    measurements = pair("director", 100.0, 199.0) + pair("manager1", 50.0, 65.0) + pair("rep1", 20.0, 26.0)

    assert target_failures(measurements) == []


def test_a_director_page_may_double_but_not_more():
    assert target_failures(pair("director", 100.0, 200.0)) == []
    assert target_failures(pair("director", 100.0, 201.0)) == [
        "home as director at scale 10: 201.0 ms is 2.01x its 100.0 ms at scale 1 (limit 2x for a director)"
    ]


def test_managers_and_reps_may_grow_by_less_than_a_third():
    assert target_failures(pair("manager1", 100.0, 131.0)) == [
        "home as manager1 at scale 10: 131.0 ms is 1.31x its 100.0 ms at scale 1 (limit 1.3x for a manager)"
    ]
    assert target_failures(pair("rep1", 100.0, 140.0)) == [
        "home as rep1 at scale 10: 140.0 ms is 1.40x its 100.0 ms at scale 1 (limit 1.3x for a rep)"
    ]


def test_times_under_the_floor_count_as_the_floor():
    assert FLOOR_MS == 5.0
    assert growth_ratio(1.0, 4.9) == 1.0
    assert growth_ratio(2.0, 6.0) == 1.2
    assert target_failures(pair("rep1", 1.0, 4.0)) == []
    assert target_failures(pair("rep1", 2.0, 7.0)) == [
        "home as rep1 at scale 10: 7.0 ms is 1.40x its 2.0 ms at scale 1 (limit 1.3x for a rep)"
    ]


def test_more_queries_at_a_larger_scale_fail_even_when_fast():
    assert target_failures(pair("rep1", 10.0, 10.0, queries=13)) == [
        "home as rep1 at scale 10: 13 queries, 12 at scale 1"
    ]


def test_fewer_queries_at_a_larger_scale_are_not_growth():
    """A page skips a fetch that has nothing to fetch (a rep with no stage changes this week): not a failure."""
    assert target_failures(pair("rep1", 10.0, 10.0, queries=11)) == []


def test_a_response_over_the_size_limit_fails_at_any_scale():
    assert MAX_BYTES == 500_000
    measurements = [measured(size=500_001), measured(scale=10, size=500_000), measured(scale=50, size=2_000_000)]

    assert target_failures(measurements) == [
        "home as director at scale 1: 500,001 bytes > 500,000",
        "home as director at scale 50: 2,000,000 bytes > 500,000",
    ]


def test_every_larger_scale_is_compared_with_the_smallest():
    measurements = [measured(ms=100.0), measured(scale=10, ms=150.0), measured(scale=50, ms=250.0)]

    assert target_failures(measurements) == [
        "home as director at scale 50: 250.0 ms is 2.50x its 100.0 ms at scale 1 (limit 2x for a director)"
    ]


def test_an_error_or_an_unexpected_status_fails_and_is_not_compared():
    measurements = [
        measured(ms=10.0),
        measured(scale=10, ms=None, queries=None, size=None, status=500, error="raised ValueError: boom"),
        measured(page="board", ms=10.0),
        measured(page="board", scale=10, ms=None, queries=None, size=None, status=302),
    ]

    assert target_failures(measurements) == [
        "home as director at scale 10: raised ValueError: boom",
        "board as director at scale 10: answered 302",
    ]


def test_a_page_the_role_may_not_open_at_any_scale_is_not_judged():
    closed = [measured(role="rep1", scale=s, ms=None, queries=None, size=None, status=404) for s in (1, 10)]

    assert target_failures(closed) == []
    assert format_table(closed)[-1].endswith("n/a (404)")


def test_a_page_that_opens_at_one_scale_only_fails():
    measurements = [measured(role="rep1"), measured(role="rep1", scale=10, ms=None, queries=None, status=404)]

    assert target_failures(measurements) == ["home as rep1 at scale 10: answered 404"]


def test_the_limit_of_an_unknown_role_is_the_strictest():
    assert (ratio_limit("director"), ratio_limit("manager12"), ratio_limit("rep3"), ratio_limit("someone")) == (
        2.0,
        1.3,
        1.3,
        1.3,
    )


def test_seeding_scale_ten_must_take_under_three_minutes():
    assert seed_failures({1: 20.0, 10: 179.0}) == []
    assert seed_failures({1: 20.0, 10: 181.0}) == ["seed_demo --scale 10 took 181 s > 180 s"]
    assert seed_failures({1: 500.0}) == []


def test_the_table_shows_each_scale_the_ratio_and_the_verdict():
    lines = format_table(pair("director", 100.0, 250.0) + pair("rep1", 20.0, 22.0))

    assert "scale 1" in lines[0] and "scale 10" in lines[0] and "10/1" in lines[0]
    assert " ".join(lines[3].split()) == "home director | 100.0 - 12 40.0 | 250.0 - 12 40.0 2.50 FAIL"
    assert " ".join(lines[4].split()) == "home rep1 | 20.0 - 12 40.0 | 22.0 - 12 40.0 1.10 ok"


def test_cpu_time_is_shown_but_wall_time_is_judged():
    measurements = pair("rep1", 100.0, 200.0)
    measurements[0].cpu_ms, measurements[1].cpu_ms = 30.0, 31.0

    assert (
        " ".join(format_table(measurements)[3].split()) == "home rep1 | 100.0 30 12 40.0 | 200.0 31 12 40.0 2.00 FAIL"
    )
    assert target_failures(measurements) == [
        "home as rep1 at scale 10: 200.0 ms is 2.00x its 100.0 ms at scale 1 (limit 1.3x for a rep)"
    ]


def export_pair(base_peak, big_peak, **big):
    page = "export opps CSV"
    return [
        Measurement(
            page=page, role="director", scale=1, status=200, ms=200.0, queries=4, bytes=900_000, peak_kb=base_peak
        ),
        Measurement(
            page=page,
            role="director",
            scale=10,
            status=200,
            ms=2_500.0,
            queries=big.get("queries", 4),
            bytes=9_000_000,
            peak_kb=big_peak,
        ),
    ]


def test_an_export_may_grow_in_time_and_bytes_with_the_rows_but_not_in_memory():
    assert target_failures(export_pair(3_000.0, 4_500.0)) == []
    assert target_failures(export_pair(3_000.0, 30_000.0)) == [
        "export opps CSV as director at scale 10: peak memory 30,000 kB is 10.00x its 3,000 kB at scale 1 "
        "(limit 2x: an export streams)"
    ]


def test_an_export_keeps_the_same_query_count_and_small_peaks_count_as_the_floor():
    assert target_failures(export_pair(300.0, 3_900.0)) == []  # 3,900 / 2,000 (the floor) is under 2x
    assert target_failures(export_pair(3_000.0, 3_000.0, queries=5)) == [
        "export opps CSV as director at scale 10: 5 queries, 4 at scale 1"
    ]
    assert target_failures(export_pair(None, 3_000.0))[0].endswith("peak memory not measured")


def test_the_exports_table_shows_time_bytes_and_peak_memory_per_scale():
    lines = format_export_table(export_pair(3_000.0, 4_500.0))

    assert lines[0].split() == ["export", "role", "scale", "ms", "kB", "peak", "kB"]
    assert lines[2].split()[-4:] == ["10", "2500.0", "9,000.0", "4,500"]
