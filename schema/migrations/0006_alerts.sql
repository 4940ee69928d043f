CREATE TABLE `alert_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule_id` text NOT NULL,
	`chip_id` text NOT NULL,
	`from_phase` text NOT NULL,
	`to_phase` text NOT NULL,
	`at` integer NOT NULL,
	`value` real,
	`severity` text NOT NULL,
	`labels` text NOT NULL,
	`annotations` text NOT NULL,
	`fingerprint` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_events_at_idx` ON `alert_events` (`at`);--> statement-breakpoint
CREATE INDEX `alert_events_chip_idx` ON `alert_events` (`chip_id`,`at`);--> statement-breakpoint
CREATE TABLE `alert_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`receiver` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`attempts` integer NOT NULL,
	`next_at` integer NOT NULL,
	`status` text NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_outbox_key_idx` ON `alert_outbox` (`receiver`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `alert_outbox_due_idx` ON `alert_outbox` (`status`,`next_at`);--> statement-breakpoint
CREATE TABLE `alert_receivers` (
	`name` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`body` text NOT NULL,
	`source` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`body` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_silences` (
	`id` text PRIMARY KEY NOT NULL,
	`matchers` text NOT NULL,
	`comment` text NOT NULL,
	`created_by` text NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_states` (
	`rule_id` text NOT NULL,
	`chip_id` text NOT NULL,
	`state` text NOT NULL,
	`labels` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`rule_id`, `chip_id`)
);
