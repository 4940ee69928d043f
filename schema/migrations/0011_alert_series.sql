CREATE TABLE `alert_series` (
	`id` integer PRIMARY KEY NOT NULL,
	`chip_id` text NOT NULL,
	`rule_id` text NOT NULL,
	`severity` text NOT NULL,
	`labels` text NOT NULL,
	`fingerprint` text NOT NULL,
	`last_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_series_key_idx` ON `alert_series` (`chip_id`,`rule_id`,`labels`,`severity`,`fingerprint`);--> statement-breakpoint
CREATE TABLE `alert_transitions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`series` integer NOT NULL,
	`phases` integer NOT NULL,
	`at` integer NOT NULL,
	`value` real,
	`annotations` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_transitions_at_idx` ON `alert_transitions` (`at`);--> statement-breakpoint
CREATE INDEX `alert_transitions_series_idx` ON `alert_transitions` (`series`,`at`);--> statement-breakpoint
-- The history written before: each alert's shared columns once in alert_series, its transitions keyed by it (ids kept).
INSERT INTO `alert_series` (`chip_id`, `rule_id`, `severity`, `labels`, `fingerprint`, `last_at`)
	SELECT `chip_id`, `rule_id`, `severity`, `labels`, `fingerprint`, max(`at`) FROM `alert_events`
	GROUP BY `chip_id`, `rule_id`, `labels`, `severity`, `fingerprint`;--> statement-breakpoint
INSERT INTO `alert_transitions` (`id`, `series`, `phases`, `at`, `value`, `annotations`)
	SELECT e.`id`, s.`id`, 4 * (CASE e.`from_phase` WHEN 'inactive' THEN 0 WHEN 'pending' THEN 1 WHEN 'firing' THEN 2 ELSE 3 END) + (CASE e.`to_phase` WHEN 'inactive' THEN 0 WHEN 'pending' THEN 1 WHEN 'firing' THEN 2 ELSE 3 END), e.`at`, e.`value`, e.`annotations`
	FROM `alert_events` e JOIN `alert_series` s
	ON s.`chip_id` = e.`chip_id` AND s.`rule_id` = e.`rule_id` AND s.`labels` = e.`labels` AND s.`severity` = e.`severity` AND s.`fingerprint` = e.`fingerprint`
	ORDER BY e.`id`;--> statement-breakpoint
DROP TABLE `alert_events`;--> statement-breakpoint
-- The history as it read before (the columns of the table it replaces): what the hub's reads and any SQL of its users query.
CREATE VIEW `alert_events` AS SELECT t.`id` AS `id`, s.`rule_id` AS `rule_id`, s.`chip_id` AS `chip_id`,
	CASE t.`phases` >> 2 WHEN 0 THEN 'inactive' WHEN 1 THEN 'pending' WHEN 2 THEN 'firing' ELSE 'resolved' END AS `from_phase`,
	CASE t.`phases` & 3 WHEN 0 THEN 'inactive' WHEN 1 THEN 'pending' WHEN 2 THEN 'firing' ELSE 'resolved' END AS `to_phase`,
	t.`at` AS `at`, t.`value` AS `value`, s.`severity` AS `severity`, s.`labels` AS `labels`, t.`annotations` AS `annotations`, s.`fingerprint` AS `fingerprint`
	FROM `alert_transitions` t JOIN `alert_series` s ON s.`id` = t.`series`;