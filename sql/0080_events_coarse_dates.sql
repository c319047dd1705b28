-- Finding the stored events a new mention may report (pipeline/events/store.py, CANDIDATES) used to
-- read every event of the type dated in the year before the mention, since an event known only to the
-- month or the year is dated by its first day. Day-precision events are now looked up in the mention's
-- own days (± 1) on events_type_date_idx, and only the coarse ones, few, over the year before, on this
-- partial index: the lookup's cost follows the events of those days, not of the year.
CREATE INDEX events_coarse_type_date_idx ON events (event_type, event_date) WHERE date_precision <> 'day';
