-- The benchmark plan (bench/run.py PLAN_YAML) written as one DuckDB query, for comparison.
--
-- {data} is replaced by the folder holding deals/quotas/roster/fx .parquet.  Money is
-- integer cents (BIGINT/HUGEINT) and every payout line is computed as an exact fraction
-- N / D and rounded once, half away from zero: sign(N) * ((2|N| + D) // (2D)), as spmkit
-- does (spec rule 10).
--
-- Three parts, split at the '-- @@' markers (bench/run.py runs them): the credit lines
-- (a query; bench/run.py makes it the table or view credit_lines), the payouts (CTEs ending
-- in payouts: one row per rep, period and component) and the totals per component.
--
-- Plan: quarterly, plan year 2026, USD.
--   commission  ytd, filter deal_type in (new, expansion), weight 0.75, marginal bands
--               0%: 5%, 100%: 8%, 150%: 2 x BCR (BCR = TI x 0.75 / annual quota, the
--               TI prorated by days employed in the plan year),
--               paid as round(E_k) - round(E_{k-1}) (YTD true-up)
--   bonus       period attainment on all credit, weight 0.25,
--               curve (0.5, 0) (1.0, 1.0) (1.5, 1.5), flat above; target = TI x 0.25 x
--               (period quota / annual quota) x (days employed / days in period)
--   q4_spif     500.00 per Widget Pro deal closed 2026-10-01..2026-12-31 (no clawback)
WITH
fx AS (
    SELECT currency, CAST(rate * 10000 AS BIGINT) AS rate_e4
    FROM read_parquet('{data}/fx.parquet')
),
deals AS (   -- rule 1: convert once per deal, round half away from zero
    SELECT d.deal_id, d.rep_id, d.close_date, d.cancel_date, d.product, d.deal_type,
           coalesce(d.currency, 'USD') <> 'USD' AS fx,
           CASE WHEN coalesce(d.currency, 'USD') = 'USD' THEN CAST(d.amount * 100 AS BIGINT)
                ELSE CAST(sign(d.amount) * ((2 * abs(CAST(d.amount * 100 AS HUGEINT)) * fx.rate_e4
                                             + 10000) // 20000) AS BIGINT)
           END AS cents
    FROM read_parquet('{data}/deals.parquet') AS d
    LEFT JOIN fx ON fx.currency = d.currency
)
-- credit lines: the deal, and a negative line at its cancel date
SELECT deal_id, rep_id, close_date AS credit_date, close_date AS deal_date, cents, product,
       deal_type, false AS clawback, CASE WHEN fx THEN 'owner+fx' ELSE 'owner' END AS rule
FROM deals
UNION ALL
SELECT deal_id, rep_id, cancel_date, close_date, -cents, product, deal_type, true,
       CASE WHEN fx THEN 'owner+fx+clawback' ELSE 'owner+clawback' END
FROM deals WHERE cancel_date IS NOT NULL
-- @@ payouts
WITH
periods AS (
    SELECT k, p_start, p_end, CAST(p_end - p_start AS BIGINT) + 1 AS days
    FROM (VALUES (0, DATE '2026-01-01', DATE '2026-03-31'),
                 (1, DATE '2026-04-01', DATE '2026-06-30'),
                 (2, DATE '2026-07-01', DATE '2026-09-30'),
                 (3, DATE '2026-10-01', DATE '2026-12-31')) AS t(k, p_start, p_end)
),
lines AS (SELECT * FROM credit_lines),
in_year AS (  -- lines dated outside the plan year are ignored (rule 2)
    SELECT *, (month(credit_date) - 1) // 3 AS k
    FROM lines WHERE credit_date BETWEEN DATE '2026-01-01' AND DATE '2026-12-31'
),
measures AS (
    SELECT rep_id, k,
           sum(cents) AS credit,
           coalesce(sum(cents) FILTER (WHERE deal_type IN ('new', 'expansion')), 0) AS comm,
           count(*) FILTER (WHERE product = 'Widget Pro' AND NOT clawback
                            AND deal_date BETWEEN DATE '2026-10-01' AND DATE '2026-12-31')
               AS spif_deals
    FROM in_year GROUP BY rep_id, k
),
annual AS (
    SELECT rep_id, sum(CAST(quota * 100 AS BIGINT)) AS aq
    FROM read_parquet('{data}/quotas.parquet') WHERE year = 2026 GROUP BY rep_id
),
payees AS (   -- no plan column in the roster: everyone with credit or quota in the year
    SELECT rep_id FROM measures UNION SELECT rep_id FROM annual
),
roster AS (
    SELECT rep_id, CAST(target_incentive * 100 AS BIGINT) AS ti, hire_date, term_date
    FROM read_parquet('{data}/roster.parquet')
),
grid AS (
    SELECT p.rep_id, per.k, per.days,
           coalesce(a.aq, 0) AS aq,
           -- annual quota phased evenly in whole cents (largest remainder, earlier first)
           coalesce(a.aq, 0) // 4 + CASE WHEN per.k < coalesce(a.aq, 0) % 4 THEN 1 ELSE 0 END
               AS q,
           coalesce(m.credit, 0) AS credit,
           coalesce(m.comm, 0) AS comm,
           coalesce(m.spif_deals, 0) AS spif_deals,
           coalesce(r.ti, 0) AS ti,
           greatest(0, CAST(least(coalesce(r.term_date, per.p_end), per.p_end)
                            - greatest(coalesce(r.hire_date, per.p_start), per.p_start)
                            AS BIGINT) + 1) AS employed
    FROM payees AS p CROSS JOIN periods AS per
    LEFT JOIN annual AS a ON a.rep_id = p.rep_id
    LEFT JOIN measures AS m ON m.rep_id = p.rep_id AND m.k = per.k
    LEFT JOIN roster AS r ON r.rep_id = p.rep_id
),
ytd AS (
    SELECT *,
           2 * sum(comm) OVER w AS c2,   -- doubled so that 1.5 x quota stays an integer
           2 * sum(q) OVER w AS q2,
           sum(q) OVER w AS qy,
           sum(employed) OVER (PARTITION BY rep_id) AS year_employed
    FROM grid
    WINDOW w AS (PARTITION BY rep_id ORDER BY k ROWS UNBOUNDED PRECEDING)
),
comm_terms AS (
    -- marginal portions (doubled): [0, Q), [Q, 1.5Q), [1.5Q, inf); negative credit earns
    -- at the first band's rate.  BCR uses the year's TI prorated by days employed
    -- (TI x Y / 365, docs/semantics.md).  E = (0.05 p0 + 0.08 p1 + 1.5 TI Y / (365 AQ) p2) / 2
    --   = N / D with N = 365 (5 p0 AQ + 8 p1 AQ) + 150 TI Y p2 and D = 200 AQ 365.
    SELECT rep_id, k,
           365 * (5 * CAST(least(c2, q2) AS HUGEINT) * aq
                  + 8 * CAST(greatest(least(c2, 3 * qy) - q2, 0) AS HUGEINT) * aq)
             + 150 * CAST(ti AS HUGEINT) * year_employed * greatest(c2 - 3 * qy, 0) AS n,
           200 * 365 * CAST(aq AS HUGEINT) AS d
    FROM ytd
),
comm_to_date AS (
    SELECT rep_id, k,
           CASE WHEN d = 0 THEN 0
                ELSE CAST(sign(n) * ((2 * abs(n) + d) // (2 * d)) AS BIGINT) END AS e
    FROM comm_terms
),
commission AS (
    SELECT rep_id, k, e - coalesce(lag(e) OVER (PARTITION BY rep_id ORDER BY k), 0) AS amount
    FROM comm_to_date
),
bonus_terms AS (
    -- f(a), a = C / Q: 0 below 0.5; 2a - 1 up to 1.0; a up to 1.5; 1.5 above.
    -- E = TI x 0.25 x (Q / AQ) x (d / D) x f = N / (8 AQ D) with N = TI d x
    --     {0, 2(2C - Q), 2C, 3Q} by segment.
    SELECT rep_id, k,
           CAST(ti AS HUGEINT) * employed * CASE
               WHEN q = 0 OR 2 * credit < q THEN 0
               WHEN credit < q THEN 2 * (2 * CAST(credit AS HUGEINT) - q)
               WHEN 2 * credit < 3 * q THEN 2 * CAST(credit AS HUGEINT)
               ELSE 3 * CAST(q AS HUGEINT) END AS n,
           8 * CAST(aq AS HUGEINT) * days AS d
    FROM grid
),
bonus AS (
    SELECT rep_id, k,
           CASE WHEN d = 0 THEN 0
                ELSE CAST(sign(n) * ((2 * abs(n) + d) // (2 * d)) AS BIGINT) END AS amount
    FROM bonus_terms
),
spif AS (
    SELECT rep_id, k, spif_deals * 50000 AS amount FROM grid
),
payouts AS (
    SELECT rep_id, k, 'commission' AS component, amount FROM commission
    UNION ALL
    SELECT rep_id, k, 'bonus', amount FROM bonus
    UNION ALL
    SELECT rep_id, k, 'q4_spif', amount FROM spif
)
-- @@ totals
SELECT component, sum(amount) AS total_cents, count(*) AS lines FROM payouts
GROUP BY component ORDER BY component
