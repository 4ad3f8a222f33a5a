DROP TABLE storage_cleanup;
