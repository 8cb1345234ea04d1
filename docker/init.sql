-- AtSync: run once by the MySQL image on the first start of an empty data volume, as root, after the image's
-- entrypoint has created the `phpbb` database and the `atsync` account from MYSQL_DATABASE, MYSQL_USER and
-- MYSQL_PASSWORD (a password never appears in this file).
-- The entrypoint grants `atsync` ALL on phpbb.*; this narrows it to what phpBB's installer and the services need:
-- tables and indexes (phpBB installer, migrations), data, temporary tables and locks (phpBB), and TRIGGER (the
-- QueueWorker and the Firehose create triggers on phpBB's tables).

CREATE DATABASE IF NOT EXISTS `phpbb` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER DATABASE `phpbb` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

REVOKE ALL PRIVILEGES ON `phpbb`.* FROM 'atsync'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE,
      CREATE, ALTER, DROP, INDEX, REFERENCES,
      CREATE TEMPORARY TABLES, LOCK TABLES,
      CREATE VIEW, SHOW VIEW, TRIGGER
   ON `phpbb`.* TO 'atsync'@'%';
FLUSH PRIVILEGES;
