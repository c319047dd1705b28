-- An event's toll is the median of its reports, not the largest (docs/events.md, D41).
--
-- `killed`, `injured` and `detained` were the greatest figure any report gave, so one report with a
-- wrong or inflated figure set the event's toll while `independent_sources` counted the outlets that
-- gave other figures. They are now the lower median over the independent sources (the original
-- outlets `independent_sources` counts: a syndicated copy speaks for its original) of each source's
-- lower median figure (`percentile_disc(0.5)`: a figure some report did give; of two, the smaller, as
-- ACLED takes the most conservative of conflicting reports), kept up to date by the events stage as
-- reports join or are read again. `v_events` adds the lowest and highest reported figures, so disagreement shows.

UPDATE events e
SET killed = t.killed, injured = t.injured, detained = t.detained
FROM (SELECT event_id,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY killed) AS killed,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY injured) AS injured,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY detained) AS detained
      FROM (SELECT m.event_id, va.original_source,
                    percentile_disc(0.5) WITHIN GROUP (ORDER BY m.killed) AS killed,
                    percentile_disc(0.5) WITHIN GROUP (ORDER BY m.injured) AS injured,
                    percentile_disc(0.5) WITHIN GROUP (ORDER BY m.detained) AS detained
             FROM event_mentions m JOIN v_articles va ON va.id = m.article_id
            GROUP BY m.event_id, va.original_source) per_source
      GROUP BY event_id) t
WHERE e.id = t.event_id
  AND (e.killed, e.injured, e.detained) IS DISTINCT FROM (t.killed, t.injured, t.detained);

CREATE OR REPLACE VIEW v_events AS
SELECT e.id,
       e.event_type,
       e.event_date,
       e.date_precision,
       e.place,
       e.country,
       e.actors,
       e.killed,
       e.injured,
       e.detained,
       count(m.article_id) AS mention_count,
       count(DISTINCT va.original_source) AS independent_sources,
       array_agg(DISTINCT va.source) AS sources,
       array_agg(m.article_id ORDER BY m.article_id) AS article_ids,
       e.sub_event_type,
       e.lat,
       e.lon,
       e.geo_precision,
       e.country_code,
       e.actor1,
       e.actor2,
       e.background,
       min(m.killed) AS killed_low,
       max(m.killed) AS killed_high,
       count(m.killed) AS killed_reports
FROM events e
JOIN event_mentions m ON m.event_id = e.id
JOIN v_articles va ON va.id = m.article_id
GROUP BY e.id;
