DROP TABLE short_links;
