-- The rows phpBB 3.3's installer writes into the tables AtSync reads (phpBB's install/schemas/schema_data.sql and
-- its install steps), for the forum stand-in. `phpbb_` is the table prefix, and {NOW}, {ADMIN_NAME}, {ADMIN_NAME_CLEAN},
-- {ADMIN_EMAIL} and {ADMIN_PASSWORD_HASH} are filled in by forum_standin.py (values quoted by it).
-- Not written: bots, groups, ACL, modules and the other tables of phpBB that AtSync never touches.

CREATE TABLE IF NOT EXISTS phpbb_config (
  config_name varchar(255) DEFAULT '' NOT NULL,
  config_value varchar(255) DEFAULT '' NOT NULL,
  is_dynamic tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  PRIMARY KEY (config_name),
  KEY is_dynamic (is_dynamic)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin ENGINE InnoDB;

INSERT INTO phpbb_users (user_id, user_type, group_id, user_permissions, user_regdate, username, username_clean, user_sig, user_lang, user_style)
VALUES (1, 2, 1, '', 0, 'Anonymous', 'anonymous', '', 'en', 1);

INSERT INTO phpbb_users (user_id, user_type, group_id, user_permissions, user_regdate, username, username_clean, user_password, user_email, user_sig, user_lang, user_style, user_rank, user_colour, user_posts, user_lastpost_time, user_new)
VALUES (2, 3, 5, '', {NOW}, {ADMIN_NAME}, {ADMIN_NAME_CLEAN}, {ADMIN_PASSWORD_HASH}, {ADMIN_EMAIL}, '', 'en', 1, 1, 'AA0000', 1, {NOW}, 0);

INSERT INTO phpbb_forums (forum_id, forum_name, forum_desc, left_id, right_id, parent_id, forum_type, forum_posts_approved, forum_topics_approved, forum_last_post_id, forum_last_poster_id, forum_last_poster_name, forum_last_poster_colour, forum_last_post_subject, forum_last_post_time, forum_link, forum_password, forum_image, forum_rules, forum_rules_link, forum_rules_uid, forum_desc_uid, prune_freq, prune_days, prune_viewed, forum_parents)
VALUES (1, 'Your first category', '', 1, 4, 0, 0, 1, 1, 1, 2, {ADMIN_NAME}, 'AA0000', 'Welcome to phpBB3', {NOW}, '', '', '', '', '', '', '', 1, 7, 7, '');

INSERT INTO phpbb_forums (forum_id, forum_name, forum_desc, left_id, right_id, parent_id, forum_type, forum_posts_approved, forum_topics_approved, forum_last_post_id, forum_last_poster_id, forum_last_poster_name, forum_last_poster_colour, forum_last_post_subject, forum_last_post_time, forum_link, forum_password, forum_image, forum_rules, forum_rules_link, forum_rules_uid, forum_desc_uid, prune_freq, prune_days, prune_viewed, forum_parents)
VALUES (2, 'Your first forum', 'Description of your first forum.', 2, 3, 1, 1, 1, 1, 1, 2, {ADMIN_NAME}, 'AA0000', 'Welcome to phpBB3', {NOW}, '', '', '', '', '', '', '', 1, 7, 7, '');

INSERT INTO phpbb_topics (topic_id, topic_title, topic_poster, topic_time, topic_views, topic_posts_approved, forum_id, topic_status, topic_type, topic_first_post_id, topic_first_poster_name, topic_first_poster_colour, topic_last_post_id, topic_last_poster_id, topic_last_poster_name, topic_last_poster_colour, topic_last_post_subject, topic_last_post_time, topic_last_view_time, poll_title, topic_visibility)
VALUES (1, 'Welcome to phpBB3', 2, {NOW}, 0, 1, 2, 0, 0, 1, {ADMIN_NAME}, 'AA0000', 1, 2, {ADMIN_NAME}, 'AA0000', 'Welcome to phpBB3', {NOW}, {NOW}, '', 1);

INSERT INTO phpbb_posts (post_id, topic_id, forum_id, poster_id, icon_id, enable_bbcode, enable_smilies, enable_magic_url, enable_sig, poster_ip, post_time, post_reported, post_username, post_subject, post_text, post_checksum, bbcode_uid, post_visibility)
VALUES (1, 1, 2, 2, 0, 1, 1, 1, 1, '127.0.0.1', {NOW}, 0, '', 'Welcome to phpBB3', '<t>This is an example post in your phpBB3 installation. Everything seems to be working. You may delete this post if you like and continue to set up your board. During the installation process your first category and your first forum are assigned an appropriate set of permissions for the predefined usergroups administrators, bots, global moderators, guests, registered users and registered COPPA users. If you also choose to delete your first category and your first forum, do not forget to assign permissions for all these usergroups for all new categories and forums you create. It is recommended to rename your first category and your first forum and copy permissions from these while creating new categories and forums. Have fun!</t>', '5dd683b17f641daf84c040bfefc58ce9', '', 1);

INSERT INTO phpbb_config (config_name, config_value, is_dynamic) VALUES
  ('board_email', {ADMIN_EMAIL}, 0),
  ('board_startdate', '{NOW}', 0),
  ('default_lang', 'en', 0),
  ('newest_user_id', '2', 1),
  ('newest_username', {ADMIN_NAME}, 1),
  ('num_posts', '1', 1),
  ('num_topics', '1', 1),
  ('num_users', '1', 1),
  ('sitename', 'AtSync forum', 0),
  ('version', '3.3.17', 0);
