-- Views for analysts: articles with topics and syndication, events with source counts, daily topic counts.

-- One row per article: its topics (best first), its story cluster and that cluster's original.
CREATE VIEW v_articles AS
SELECT a.id,
       a.url,
       a.source,
       a.title,
       a.authors,
       a.published_at,
       a.date_source,
       a.language,
       a.word_count,
       a.relevant,
       coalesce(t.topics, '{}') AS topics,
       cm.cluster_id,
       coalesce(cm.relation, 'original') AS relation,
       cm.similarity,
       coalesce(o.id, a.id) AS original_id,
       coalesce(o.url, a.url) AS original_url,
       coalesce(o.source, a.source) AS original_source
FROM articles a
LEFT JOIN LATERAL (
    SELECT array_agg(at.topic_id ORDER BY at.score DESC) AS topics
    FROM article_topics at WHERE at.article_id = a.id
) t ON true
LEFT JOIN cluster_members cm ON cm.article_id = a.id
LEFT JOIN story_clusters sc ON sc.id = cm.cluster_id
LEFT JOIN articles o ON o.id = sc.original_article_id;

-- One row per event: how many articles mention it and how many independent outlets reported it
-- (a syndicated copy or duplicate counts as its original's outlet, so it adds no source).
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
       array_agg(m.article_id ORDER BY m.article_id) AS article_ids
FROM events e
JOIN event_mentions m ON m.event_id = e.id
JOIN v_articles va ON va.id = m.article_id
GROUP BY e.id;

-- Articles and distinct stories per topic per day (a story counts once however many copies it has).
CREATE VIEW v_daily_topic_counts AS
SELECT (coalesce(va.published_at, a.created_at) AT TIME ZONE 'UTC')::date AS day,
       at.topic_id,
       count(*) AS articles,
       count(DISTINCT va.original_id) AS stories
FROM article_topics at
JOIN articles a ON a.id = at.article_id
JOIN v_articles va ON va.id = at.article_id
GROUP BY 1, 2;
