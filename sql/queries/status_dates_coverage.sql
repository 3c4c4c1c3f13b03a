-- How many of the staged applications' statuses carry their status-change date (dated) and how many
-- do not (undated: read with their final value at every month; tasks/marts.py status_dates_coverage).
SELECT
    count(*) FILTER (WHERE shortlisted AND shortlisted_date IS NULL)
    + count(*) FILTER (WHERE interviewed AND interviewed_date IS NULL)
    + count(*) FILTER (WHERE offered AND offered_date IS NULL)
    + count(*) FILTER (WHERE offer_declined AND declined_date IS NULL)
    + count(*) FILTER (WHERE appointed AND appointed_date IS NULL)
    + count(*) FILTER (WHERE withdrawn_stage IS NOT NULL AND withdrawn_date IS NULL) AS undated,
    count(shortlisted_date) + count(interviewed_date) + count(offered_date) + count(declined_date)
    + count(appointed_date) + count(withdrawn_date)                                    AS dated
FROM staging.applications;
