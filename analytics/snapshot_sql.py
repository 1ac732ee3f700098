"""The nightly jobs' PostgreSQL statements (analytics.services runs them; their portable twins are there too): the
SQL text only, with `{table}` names to fill in and named parameters. Nothing here touches the database.
"""

# A snapshot is derived data: if the machine crashes right after a run commits, losing that commit keeps the previous
# snapshot, exactly as a failed run does, and the next night computes it again; nothing can be corrupted (this is
# PostgreSQL's synchronous_commit, for the job's transaction only). So a job's COMMIT does not wait for the disk.
NO_WAIT_FOR_DISK = "SET LOCAL synchronous_commit TO OFF"


# services.write_matrix_snapshot_portable's steps (analytics.matrix) as one statement, on bigint cents as numpy works on
# int64 cents (an amount too large raises, as there). The medians are the exact mean of the middle value(s) (the same
# one twice for an odd count) rounded half up to the cent (ROUND on numeric; amounts are never negative); regions sort
# by their sort order, then region codes and names by code point (COLLATE "C"), as Python compares strings; share is
# cents made float and divided, as numpy does. The year's rows are updated in place, with rows inserted for accounts new
# to the matrix and deleted for those that left it (snapshot rows have no database foreign key to check: see
# analytics.models.AccountValue). Only rows whose values change are updated (and stamped computed_at), as the twin keeps
# an unchanged row's computed_at: most nights most rows stay, and an update that writes nothing leaves no dead row and
# no index entry behind. One full join of the snapshot with the year's stored rows (`changes`) finds the rows to update,
# insert and delete, so the stored rows are read once. All parts see the same data (one statement) and touch disjoint
# rows.
MATRIX_SNAPSHOT_CTES = """
WITH won AS (
    SELECT account_id, SUM(amount) AS amount
    FROM {opportunity}
    WHERE status = %(won)s AND closed_at >= %(start)s AND closed_at < %(end)s
    GROUP BY account_id
), units AS (
    SELECT account_id,
           COALESCE(SUM(units) FILTER (WHERE is_ours), 0) AS ours,
           COALESCE(SUM(units) FILTER (WHERE NOT is_ours), 0) AS theirs
    FROM {installed_base}
    WHERE year IS NULL OR year <= %(year)s
    GROUP BY account_id
), inputs AS (
    SELECT a.id AS account_id, a.name, a.is_target, r.code AS region_code, r.sort_order AS region_order,
           ((COALESCE(w.amount, 0) + COALESCE(y.other_revenue, 0)) * 100)::bigint AS cv,
           (y.potential_value * 100)::bigint AS potential,
           COALESCE(u.ours, 0) AS ours, COALESCE(u.theirs, 0) AS theirs,
           COALESCE(a.employee_count, 0)::bigint AS employees,
           COALESCE((i.spend_per_employee * 100)::bigint, %(default_spend)s) AS spend
    FROM {account} a
    LEFT JOIN {industry} i ON i.id = a.industry_id
    LEFT JOIN {region} r ON r.id = a.region_id
    LEFT JOIN won w ON w.account_id = a.id
    LEFT JOIN {account_year} y ON y.account_id = a.id AND y.year = %(year)s
    LEFT JOIN units u ON u.account_id = a.id
), sourced AS (
    SELECT *,
           CASE WHEN potential IS NOT NULL THEN %(explicit)s
                WHEN ours + theirs > 0 THEN %(installed_base)s
                WHEN employees > 0 THEN %(employees)s
                ELSE '' END AS pv_source,
           CASE WHEN ours > 0 AND theirs > 0 THEN %(mixed)s
                WHEN ours > 0 THEN %(ours)s
                WHEN theirs > 0 THEN %(competitor)s
                ELSE %(none)s END AS customer_type
    FROM inputs
), valued AS MATERIALIZED (
    SELECT *
    FROM (
        SELECT account_id, name, is_target, region_code, region_order, cv, customer_type,
               GREATEST(estimate, cv) AS pv,
               CASE WHEN cv > estimate THEN %(current_value)s ELSE pv_source END AS pv_source
        FROM (
            SELECT *,
                   CASE pv_source WHEN %(explicit)s THEN potential
                                  WHEN %(installed_base)s THEN (ours + theirs) * %(value_per_unit)s
                                  WHEN %(employees)s THEN employees * spend
                                  ELSE 0 END AS estimate
            FROM sourced
        ) e
    ) v
    WHERE cv > 0 OR pv > 0
), thresholds AS MATERIALIZED (
    SELECT cv, pv, (cv * 100)::bigint AS cv_cents, (pv * 100)::bigint AS pv_cents
    FROM (
        SELECT COALESCE(%(fixed_cv)s::numeric, ROUND((c[(n + 1) / 2] + c[n / 2 + 1])::numeric / 200, 2)) AS cv,
               COALESCE(%(fixed_pv)s::numeric, ROUND((p[(n + 1) / 2] + p[n / 2 + 1])::numeric / 200, 2)) AS pv
        FROM (SELECT array_agg(cv ORDER BY cv) AS c, array_agg(pv ORDER BY pv) AS p, count(*) AS n FROM valued) sorted
    ) medians
), classified AS (
    SELECT v.account_id, v.name, v.region_code, v.region_order, v.cv, v.pv, v.pv_source, v.customer_type,
           CASE WHEN v.pv >= t.pv_cents AND v.cv >= t.cv_cents THEN %(core)s
                WHEN v.pv >= t.pv_cents THEN %(develop)s
                WHEN v.cv >= t.cv_cents THEN %(maintain)s
                ELSE %(observe)s END AS quadrant,
           CASE WHEN v.customer_type IN (%(ours)s, %(mixed)s) THEN 0
                WHEN v.customer_type = %(competitor)s THEN 1
                WHEN v.is_target THEN 2 END AS visit_group
    FROM valued v CROSS JOIN thresholds t
), snapshot AS MATERIALIZED (
    SELECT account_id, cv * 0.01 AS cv, pv * 0.01 AS pv, pv_source, quadrant, customer_type,
           CASE WHEN pv > 0 THEN cv::float8 / pv::float8 END AS share,
           CASE WHEN visit_group IS NOT NULL THEN ROW_NUMBER() OVER (
               ORDER BY visit_group NULLS LAST, array_position(%(quadrant_order)s::text[], quadrant),
                        region_code IS NULL, region_order, region_code COLLATE "C", name COLLATE "C", account_id
           ) END AS priority
    FROM classified
)
"""

# The run row is written first (an upsert, which locks it: a concurrent run of the same year waits there, as in the
# twin, and only then does the next statement take its snapshot); the year's rows are then written as described above.
MATRIX_SQL = (
    NO_WAIT_FOR_DISK
    + """;
INSERT INTO {run} (year, computed_at, cv_threshold, pv_threshold, thresholds_fixed)
VALUES (%(year)s, %(computed_at)s, %(fixed_cv)s, %(fixed_pv)s, %(thresholds_fixed)s)
ON CONFLICT (year) DO UPDATE SET computed_at = EXCLUDED.computed_at, cv_threshold = EXCLUDED.cv_threshold,
    pv_threshold = EXCLUDED.pv_threshold, thresholds_fixed = EXCLUDED.thresholds_fixed;
"""
    + MATRIX_SNAPSHOT_CTES
    + """, run AS (
    UPDATE {run} SET cv_threshold = t.cv, pv_threshold = t.pv
    FROM thresholds t
    WHERE {run}.year = %(year)s
    RETURNING {run}.id, {run}.year, {run}.computed_at, {run}.cv_threshold, {run}.pv_threshold, {run}.thresholds_fixed
), changes AS MATERIALIZED (
    SELECT o.id AS row_id, s.*
    FROM snapshot s
    FULL JOIN (SELECT * FROM {account_value} WHERE year = %(year)s) o ON o.account_id = s.account_id
    WHERE o.id IS NULL OR s.account_id IS NULL
       OR (o.run_id, o.cv, o.pv, o.pv_source, o.share, o.quadrant, o.customer_type, o.priority)
          IS DISTINCT FROM ((SELECT id FROM run), s.cv, s.pv, s.pv_source, s.share, s.quadrant, s.customer_type,
                            s.priority)
), updated AS (
    UPDATE {account_value} AS o
    SET run_id = (SELECT id FROM run), cv = c.cv, pv = c.pv, pv_source = c.pv_source, share = c.share,
        quadrant = c.quadrant, customer_type = c.customer_type, priority = c.priority, computed_at = %(computed_at)s
    FROM changes c
    WHERE o.id = c.row_id AND c.account_id IS NOT NULL
), inserted AS (
    INSERT INTO {account_value}
        (run_id, account_id, year, cv, pv, pv_source, share, quadrant, customer_type, priority, computed_at)
    SELECT (SELECT id FROM run), account_id, %(year)s, cv, pv, pv_source, share, quadrant, customer_type, priority,
           %(computed_at)s
    FROM changes
    WHERE row_id IS NULL
    ORDER BY account_id  -- new rows in the order of the (account, year) index, as the flags' inserts below
), deleted AS (
    DELETE FROM {account_value} AS o
    USING changes c
    WHERE o.id = c.row_id AND c.account_id IS NULL
)
SELECT * FROM run
"""
)


# services._untouched_targets in SQL, for the statement of services.replace_flags_postgresql (no ORM query to build: at
# a small scale building one costs as much as running it). test_flags_sql checks both give the same flags.
UNTOUCHED_SQL = """
SELECT a.id, MAX(v.done_at)
FROM {account} a
LEFT JOIN {visit} v ON v.account_id = a.id AND v.status = %(done)s
WHERE a.is_target
GROUP BY a.id
HAVING MAX(v.done_at) IS NULL OR MAX(v.done_at) < %(cutoff)s
"""


# services._stale_opportunities in SQL (pipeline.selectors.opportunities.is_stale_expression: open, entered its stage
# before the cutoff, no stage change and no completed visit on it since), with the last of the three moments: GREATEST
# skips NULLs as services._latest does, and stage_entered_at is never NULL. test_flags_sql checks both give the same
# flags.
STALE_SQL = """
SELECT o.id,
       GREATEST(o.stage_entered_at,
                (SELECT MAX(c.changed_at) FROM {stage_change} c WHERE c.opportunity_id = o.id),
                (SELECT MAX(v.done_at) FROM {visit} v WHERE v.opportunity_id = o.id AND v.status = %(done)s))
FROM {opportunity} o
WHERE o.status = %(open)s AND o.stage_entered_at < %(cutoff)s
  AND NOT EXISTS (SELECT 1 FROM {stage_change} c WHERE c.opportunity_id = o.id AND c.changed_at >= %(cutoff)s)
  AND NOT EXISTS (
      SELECT 1 FROM {visit} v WHERE v.opportunity_id = o.id AND v.status = %(done)s AND v.done_at >= %(cutoff)s
  )
"""


# The flags of services._replace_flags_portable, written by the database in one round trip of three statements, in the
# job's transaction: its COMMIT is not to wait for the disk (NO_WAIT_FOR_DISK); the job row is upserted, which locks it,
# so a concurrent run waits there, and only then does the last statement take its snapshot. That statement computes the
# flags (`flagged`: key, moment) and writes them: rows still flagged are updated in place (their key and id stay), new
# ones inserted, the others deleted, each flag stamped with this run as the twin's new rows are. No flag travels to
# Python; the flags are counted.
FLAGS_SQL = """
{no_wait_for_disk};
INSERT INTO {job_run} (job, computed_at) VALUES (%(job)s, %(computed_at)s)
ON CONFLICT (job) DO UPDATE SET computed_at = EXCLUDED.computed_at;
WITH flagged ({key}, {moment}) AS MATERIALIZED ({flagged}),
kept AS (
    UPDATE {table} AS t SET {moment} = f.{moment}, computed_at = %(computed_at)s
    FROM flagged f
    WHERE t.{key} = f.{key}
), added AS (
    INSERT INTO {table} ({key}, {moment}, computed_at)
    SELECT f.{key}, f.{moment}, %(computed_at)s
    FROM flagged f
    WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = f.{key})
    ORDER BY f.{key}  -- new keys in order: each lands at the end of the key's unique index (a first run: 1.5x faster)
), gone AS (
    DELETE FROM {table} AS t
    WHERE NOT EXISTS (SELECT 1 FROM flagged f WHERE f.{key} = t.{key})
)
SELECT COUNT(*) FROM flagged
"""
