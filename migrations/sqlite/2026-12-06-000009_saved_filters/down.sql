DROP INDEX notifications_recipient_kind_sent;
DROP TABLE saved_filters;
