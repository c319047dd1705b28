-- Events an analyst can map and count (docs/events.md): ACLED event and sub-event types, coordinates with
-- a precision, actor roles, and a background flag. Existing events are kept: their old type names are
-- mapped onto ACLED's; they get coordinates when `newsflow refind`/the nightly run finds them again.
-- `event_key` stays unique but is only the first mention's key: later mentions join an event by the
-- merge rule (same type family, date within a day or inside a month, place within a distance or region).

ALTER TABLE events
    ADD COLUMN sub_event_type text,
    ADD COLUMN lat            double precision CHECK (lat BETWEEN -90 AND 90),
    ADD COLUMN lon            double precision CHECK (lon BETWEEN -180 AND 180),
    ADD COLUMN geo_precision  text CHECK (geo_precision IN ('town', 'region', 'country')),
    ADD COLUMN country_code   text,
    ADD COLUMN place_key      text,            -- gn:<GeoNames id>, cfg:<name>|<CC>, region:..., country:<CC>
    ADD COLUMN actor1         text,
    ADD COLUMN actor2         text,
    ADD COLUMN background     boolean NOT NULL DEFAULT false;  -- dated over a year before its first article

UPDATE events
SET sub_event_type = CASE event_type
        WHEN 'suicide bombing' THEN 'Suicide bomb'
        WHEN 'bombing' THEN 'Remote explosive/landmine/IED'
        WHEN 'air strike' THEN 'Air/drone strike'
        WHEN 'arrest' THEN 'Arrests'
        WHEN 'territorial change' THEN 'Change to territory'
        WHEN 'attack' THEN 'Attack'
        ELSE 'Armed clash' END,
    event_type = CASE event_type
        WHEN 'suicide bombing' THEN 'Explosions/Remote violence'
        WHEN 'bombing' THEN 'Explosions/Remote violence'
        WHEN 'air strike' THEN 'Explosions/Remote violence'
        WHEN 'arrest' THEN 'Strategic developments'
        WHEN 'territorial change' THEN 'Strategic developments'
        WHEN 'attack' THEN 'Violence against civilians'
        ELSE 'Battles' END,
    actor1 = actors[1],
    actor2 = actors[2]
WHERE extractor = 'newsflow-events/1';

CREATE INDEX events_type_date_idx ON events (event_type, event_date);

-- v_events gains the new columns; a copy still counts as its original's outlet.
DROP VIEW v_events;
CREATE VIEW v_events AS
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
       e.background
FROM events e
JOIN event_mentions m ON m.event_id = e.id
JOIN v_articles va ON va.id = m.article_id
GROUP BY e.id;
