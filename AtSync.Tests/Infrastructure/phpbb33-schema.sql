-- phpBB 3.3's tables AtSync reads and writes, exactly as phpBB 3.3's installer creates them on MySQL, for tests.
-- Generated from phpBB's own code (branch 3.3.x, 3.3.17-dev): phpbb\db\migration\schema_generator over every
-- migration in phpBB/phpbb/db/migration/data/ (what the installer's create_schema_file task does), then
-- phpbb\db\tools\tools::sql_create_table for the mysqli driver (what its add_tables task does). That gives:
--   * every table `CHARACTER SET utf8 COLLATE utf8_bin` (3-byte utf8: utf8mb3 on MySQL 8 and MariaDB), no ENGINE
--     clause (the server's default engine, InnoDB);
--   * `COLLATE utf8_unicode_ci` on the columns phpBB declares 'true_sort': post_subject, topic_title and
--     topic_first_poster_name (the other subject and name columns, forum_name, *_last_post_subject, username, are
--     utf8_bin like their table);
--   * the indexes added by separate ALTER TABLE statements, as the installer does.
-- phpBB itself connects with SET NAMES 'utf8' and strict sql_mode, and stores characters outside the BMP as numeric
-- character references (utf8_encode_ucr, and s9e TextFormatter does the same in post_text).
-- `phpbb_` is replaced by the configured prefix when applied (AtSync.Tests/Infrastructure/PhpbbSchema.cs).

CREATE TABLE phpbb_users (
  user_id INT(10) UNSIGNED NOT NULL auto_increment,
  user_type tinyint(2) DEFAULT '0' NOT NULL,
  group_id mediumint(8) UNSIGNED DEFAULT '3' NOT NULL,
  user_permissions mediumtext NOT NULL,
  user_perm_from mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  user_ip varchar(40) DEFAULT '' NOT NULL,
  user_regdate int(11) UNSIGNED DEFAULT '0' NOT NULL,
  username varchar(255) DEFAULT '' NOT NULL,
  username_clean varchar(255) DEFAULT '' NOT NULL,
  user_password varchar(255) DEFAULT '' NOT NULL,
  user_passchg int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_email varchar(100) DEFAULT '' NOT NULL,
  user_birthday varchar(10) DEFAULT '' NOT NULL,
  user_lastvisit int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_last_active int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_lastmark int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_lastpost_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_lastpage varchar(200) DEFAULT '' NOT NULL,
  user_last_confirm_key varchar(10) DEFAULT '' NOT NULL,
  user_last_search int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_warnings tinyint(4) DEFAULT '0' NOT NULL,
  user_last_warning int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_login_attempts tinyint(4) DEFAULT '0' NOT NULL,
  user_inactive_reason tinyint(2) DEFAULT '0' NOT NULL,
  user_inactive_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_posts mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  user_lang varchar(30) DEFAULT '' NOT NULL,
  user_timezone varchar(100) DEFAULT '' NOT NULL,
  user_dateformat varchar(64) DEFAULT 'd M Y H:i' NOT NULL,
  user_style mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  user_rank mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  user_colour varchar(6) DEFAULT '' NOT NULL,
  user_new_privmsg int(4) DEFAULT '0' NOT NULL,
  user_unread_privmsg int(4) DEFAULT '0' NOT NULL,
  user_last_privmsg int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_message_rules tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  user_full_folder int(11) DEFAULT '-3' NOT NULL,
  user_emailtime int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_topic_show_days smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  user_topic_sortby_type varchar(1) DEFAULT 't' NOT NULL,
  user_topic_sortby_dir varchar(1) DEFAULT 'd' NOT NULL,
  user_post_show_days smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  user_post_sortby_type varchar(1) DEFAULT 't' NOT NULL,
  user_post_sortby_dir varchar(1) DEFAULT 'a' NOT NULL,
  user_notify tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  user_notify_pm tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  user_notify_type tinyint(4) DEFAULT '0' NOT NULL,
  user_allow_pm tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  user_allow_viewonline tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  user_allow_viewemail tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  user_allow_massemail tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  user_options int(11) UNSIGNED DEFAULT '230271' NOT NULL,
  user_avatar varchar(255) DEFAULT '' NOT NULL,
  user_avatar_type varchar(255) DEFAULT '' NOT NULL,
  user_avatar_width smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  user_avatar_height smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  user_sig mediumtext NOT NULL,
  user_sig_bbcode_uid varchar(8) DEFAULT '' NOT NULL,
  user_sig_bbcode_bitfield varchar(255) DEFAULT '' NOT NULL,
  user_jabber varchar(255) DEFAULT '' NOT NULL,
  user_actkey varchar(32) DEFAULT '' NOT NULL,
  user_actkey_expiration int(11) UNSIGNED DEFAULT '0' NOT NULL,
  reset_token varchar(64) DEFAULT '' NOT NULL,
  reset_token_expiration int(11) UNSIGNED DEFAULT '0' NOT NULL,
  user_newpasswd varchar(255) DEFAULT '' NOT NULL,
  user_form_salt varchar(32) DEFAULT '' NOT NULL,
  user_new tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  user_reminded tinyint(4) DEFAULT '0' NOT NULL,
  user_reminded_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  PRIMARY KEY (user_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_users ADD INDEX user_birthday (user_birthday);
ALTER TABLE phpbb_users ADD INDEX user_type (user_type);
ALTER TABLE phpbb_users ADD UNIQUE INDEX username_clean(username_clean);
ALTER TABLE phpbb_users ADD INDEX user_email (user_email);

CREATE TABLE phpbb_forums (
  forum_id mediumint(8) UNSIGNED NOT NULL auto_increment,
  parent_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  left_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  right_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_parents mediumtext NOT NULL,
  forum_name varchar(255) DEFAULT '' NOT NULL,
  forum_desc text NOT NULL,
  forum_desc_bitfield varchar(255) DEFAULT '' NOT NULL,
  forum_desc_options int(11) UNSIGNED DEFAULT '7' NOT NULL,
  forum_desc_uid varchar(8) DEFAULT '' NOT NULL,
  forum_link varchar(255) DEFAULT '' NOT NULL,
  forum_password varchar(255) DEFAULT '' NOT NULL,
  forum_style mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_image varchar(255) DEFAULT '' NOT NULL,
  forum_rules text NOT NULL,
  forum_rules_link varchar(255) DEFAULT '' NOT NULL,
  forum_rules_bitfield varchar(255) DEFAULT '' NOT NULL,
  forum_rules_options int(11) UNSIGNED DEFAULT '7' NOT NULL,
  forum_rules_uid varchar(8) DEFAULT '' NOT NULL,
  forum_topics_per_page smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  forum_type tinyint(4) DEFAULT '0' NOT NULL,
  forum_status tinyint(4) DEFAULT '0' NOT NULL,
  forum_last_post_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  forum_last_poster_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  forum_last_post_subject varchar(255) DEFAULT '' NOT NULL,
  forum_last_post_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  forum_last_poster_name varchar(255) DEFAULT '' NOT NULL,
  forum_last_poster_colour varchar(6) DEFAULT '' NOT NULL,
  forum_flags tinyint(4) DEFAULT '32' NOT NULL,
  display_on_index tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  enable_indexing tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  enable_icons tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  enable_prune tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  prune_next int(11) UNSIGNED DEFAULT '0' NOT NULL,
  prune_days mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  prune_viewed mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  prune_freq mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  display_subforum_list tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  display_subforum_limit tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  forum_options int(20) UNSIGNED DEFAULT '0' NOT NULL,
  enable_shadow_prune tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  prune_shadow_days mediumint(8) UNSIGNED DEFAULT '7' NOT NULL,
  prune_shadow_freq mediumint(8) UNSIGNED DEFAULT '1' NOT NULL,
  prune_shadow_next int(11) DEFAULT '0' NOT NULL,
  forum_posts_approved mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_posts_unapproved mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_posts_softdeleted mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_topics_approved mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_topics_unapproved mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_topics_softdeleted mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  PRIMARY KEY (forum_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_forums ADD INDEX left_right_id (left_id, right_id);
ALTER TABLE phpbb_forums ADD INDEX forum_lastpost_id (forum_last_post_id);

CREATE TABLE phpbb_topics (
  topic_id INT(10) UNSIGNED NOT NULL auto_increment,
  forum_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  icon_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  topic_attachment tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  topic_reported tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  topic_title varchar(255) DEFAULT '' NOT NULL COLLATE utf8_unicode_ci,
  topic_poster INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  topic_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  topic_time_limit int(11) UNSIGNED DEFAULT '0' NOT NULL,
  topic_views INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  topic_status tinyint(3) DEFAULT '0' NOT NULL,
  topic_type tinyint(3) DEFAULT '0' NOT NULL,
  topic_first_post_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  topic_first_poster_name varchar(255) DEFAULT '' NOT NULL COLLATE utf8_unicode_ci,
  topic_first_poster_colour varchar(6) DEFAULT '' NOT NULL,
  topic_last_post_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  topic_last_poster_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  topic_last_poster_name varchar(255) DEFAULT '' NOT NULL,
  topic_last_poster_colour varchar(6) DEFAULT '' NOT NULL,
  topic_last_post_subject varchar(255) DEFAULT '' NOT NULL,
  topic_last_post_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  topic_last_view_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  topic_moved_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  topic_bumped tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  topic_bumper mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  poll_title varchar(255) DEFAULT '' NOT NULL,
  poll_start int(11) UNSIGNED DEFAULT '0' NOT NULL,
  poll_length int(11) UNSIGNED DEFAULT '0' NOT NULL,
  poll_max_options tinyint(4) DEFAULT '1' NOT NULL,
  poll_last_vote int(11) UNSIGNED DEFAULT '0' NOT NULL,
  poll_vote_change tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  topic_visibility tinyint(3) DEFAULT '0' NOT NULL,
  topic_delete_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  topic_delete_reason varchar(255) DEFAULT '' NOT NULL,
  topic_delete_user INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  topic_posts_approved mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  topic_posts_unapproved mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  topic_posts_softdeleted mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  PRIMARY KEY (topic_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_topics ADD INDEX forum_id (forum_id);
ALTER TABLE phpbb_topics ADD INDEX forum_id_type (forum_id, topic_type);
ALTER TABLE phpbb_topics ADD INDEX last_post_time (topic_last_post_time);
ALTER TABLE phpbb_topics ADD INDEX fid_time_moved (forum_id, topic_last_post_time, topic_moved_id);
ALTER TABLE phpbb_topics ADD INDEX topic_visibility (topic_visibility);
ALTER TABLE phpbb_topics ADD INDEX forum_vis_last (forum_id, topic_visibility, topic_last_post_id);
ALTER TABLE phpbb_topics ADD INDEX latest_topics (forum_id, topic_last_post_time, topic_last_post_id, topic_moved_id);

CREATE TABLE phpbb_posts (
  post_id INT(10) UNSIGNED NOT NULL auto_increment,
  topic_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  forum_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  poster_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  icon_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  poster_ip varchar(40) DEFAULT '' NOT NULL,
  post_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  post_reported tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  enable_bbcode tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  enable_smilies tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  enable_magic_url tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  enable_sig tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  post_username varchar(255) DEFAULT '' NOT NULL,
  post_subject varchar(255) DEFAULT '' NOT NULL COLLATE utf8_unicode_ci,
  post_text mediumtext NOT NULL,
  post_checksum varchar(32) DEFAULT '' NOT NULL,
  post_attachment tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  bbcode_bitfield varchar(255) DEFAULT '' NOT NULL,
  bbcode_uid varchar(8) DEFAULT '' NOT NULL,
  post_postcount tinyint(1) UNSIGNED DEFAULT '1' NOT NULL,
  post_edit_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  post_edit_reason varchar(255) DEFAULT '' NOT NULL,
  post_edit_user INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  post_edit_count smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  post_edit_locked tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  post_visibility tinyint(3) DEFAULT '0' NOT NULL,
  post_delete_time int(11) UNSIGNED DEFAULT '0' NOT NULL,
  post_delete_reason varchar(255) DEFAULT '' NOT NULL,
  post_delete_user INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  PRIMARY KEY (post_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_posts ADD INDEX forum_id (forum_id);
ALTER TABLE phpbb_posts ADD INDEX topic_id (topic_id);
ALTER TABLE phpbb_posts ADD INDEX poster_ip (poster_ip);
ALTER TABLE phpbb_posts ADD INDEX poster_id (poster_id);
ALTER TABLE phpbb_posts ADD INDEX tid_post_time (topic_id, post_time);
ALTER TABLE phpbb_posts ADD INDEX post_username (post_username);
ALTER TABLE phpbb_posts ADD INDEX post_visibility (post_visibility);

-- The tables phpBB decides bans and moderators with (read by the Firehose's posting policy). Written by hand from
-- phpBB 3.3's migrations (v30x/release_3_0_0 and the later changes: v30x/release_3_0_1_rc1, _3_0_3_rc1, _3_0_6_rc1,
-- v310/avatars, v310/dev, v320/default_data_type_ids) with the mysqli types of phpbb\db\tools\tools.
CREATE TABLE phpbb_banlist (
  ban_id INT(10) UNSIGNED NOT NULL auto_increment,
  ban_userid INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  ban_ip varchar(40) DEFAULT '' NOT NULL,
  ban_email varchar(100) DEFAULT '' NOT NULL,
  ban_start int(11) UNSIGNED DEFAULT '0' NOT NULL,
  ban_end int(11) UNSIGNED DEFAULT '0' NOT NULL,
  ban_exclude tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  ban_reason varchar(255) DEFAULT '' NOT NULL,
  ban_give_reason varchar(255) DEFAULT '' NOT NULL,
  PRIMARY KEY (ban_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_banlist ADD INDEX ban_end (ban_end);
ALTER TABLE phpbb_banlist ADD INDEX ban_user (ban_userid, ban_exclude);
ALTER TABLE phpbb_banlist ADD INDEX ban_email (ban_email, ban_exclude);
ALTER TABLE phpbb_banlist ADD INDEX ban_ip (ban_ip, ban_exclude);

CREATE TABLE phpbb_groups (
  group_id mediumint(8) UNSIGNED NOT NULL auto_increment,
  group_type tinyint(4) DEFAULT '1' NOT NULL,
  group_founder_manage tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  group_skip_auth tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  group_name varchar(255) DEFAULT '' NOT NULL,
  group_desc text NOT NULL,
  group_desc_bitfield varchar(255) DEFAULT '' NOT NULL,
  group_desc_options int(11) UNSIGNED DEFAULT '7' NOT NULL,
  group_desc_uid varchar(8) DEFAULT '' NOT NULL,
  group_display tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  group_avatar varchar(255) DEFAULT '' NOT NULL,
  group_avatar_type varchar(255) DEFAULT '' NOT NULL,
  group_avatar_width smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  group_avatar_height smallint(4) UNSIGNED DEFAULT '0' NOT NULL,
  group_rank mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  group_colour varchar(6) DEFAULT '' NOT NULL,
  group_sig_chars mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  group_receive_pm tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  group_message_limit mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  group_legend mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  group_max_recipients mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  group_teampage mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  PRIMARY KEY (group_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_groups ADD INDEX group_legend_name (group_legend, group_name);

CREATE TABLE phpbb_user_group (
  group_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  user_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  group_leader tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  user_pending tinyint(1) UNSIGNED DEFAULT '1' NOT NULL
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_user_group ADD INDEX group_id (group_id);
ALTER TABLE phpbb_user_group ADD INDEX user_id (user_id);
ALTER TABLE phpbb_user_group ADD INDEX group_leader (group_leader);

CREATE TABLE phpbb_moderator_cache (
  forum_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  user_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  username varchar(255) DEFAULT '' NOT NULL,
  group_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  group_name varchar(255) DEFAULT '' NOT NULL,
  display_on_index tinyint(1) UNSIGNED DEFAULT '1' NOT NULL
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_moderator_cache ADD INDEX disp_idx (display_on_index);
ALTER TABLE phpbb_moderator_cache ADD INDEX forum_id (forum_id);

CREATE TABLE phpbb_acl_options (
  auth_option_id mediumint(8) UNSIGNED NOT NULL auto_increment,
  auth_option varchar(50) DEFAULT '' NOT NULL,
  is_global tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  is_local tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  founder_only tinyint(1) UNSIGNED DEFAULT '0' NOT NULL,
  PRIMARY KEY (auth_option_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_acl_options ADD UNIQUE auth_option (auth_option);

CREATE TABLE phpbb_acl_roles_data (
  role_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_option_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_setting tinyint(2) DEFAULT '0' NOT NULL,
  PRIMARY KEY (role_id, auth_option_id)
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_acl_roles_data ADD INDEX ath_op_id (auth_option_id);

CREATE TABLE phpbb_acl_users (
  user_id INT(10) UNSIGNED DEFAULT '0' NOT NULL,
  forum_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_option_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_role_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_setting tinyint(2) DEFAULT '0' NOT NULL
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_acl_users ADD INDEX user_id (user_id);
ALTER TABLE phpbb_acl_users ADD INDEX auth_option_id (auth_option_id);
ALTER TABLE phpbb_acl_users ADD INDEX auth_role_id (auth_role_id);

CREATE TABLE phpbb_acl_groups (
  group_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  forum_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_option_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_role_id mediumint(8) UNSIGNED DEFAULT '0' NOT NULL,
  auth_setting tinyint(2) DEFAULT '0' NOT NULL
) CHARACTER SET `utf8` COLLATE `utf8_bin`;
ALTER TABLE phpbb_acl_groups ADD INDEX group_id (group_id);
ALTER TABLE phpbb_acl_groups ADD INDEX auth_opt_id (auth_option_id);
ALTER TABLE phpbb_acl_groups ADD INDEX auth_role_id (auth_role_id);
