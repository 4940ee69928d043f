CREATE TABLE `chip_jobs` (
	`chip_id` text NOT NULL,
	`job` text NOT NULL,
	`first_ts` integer NOT NULL,
	`last_ts` integer NOT NULL,
	`labels` text,
	PRIMARY KEY(`chip_id`, `job`)
);
--> statement-breakpoint
CREATE INDEX `chip_jobs_last_idx` ON `chip_jobs` (`last_ts`);--> statement-breakpoint
CREATE TABLE `work_buckets` (
	`tier` text NOT NULL,
	`start` integer NOT NULL,
	`job` text NOT NULL,
	`unit` text NOT NULL,
	`chips` text NOT NULL,
	`units` real NOT NULL,
	`first_ts` integer NOT NULL,
	`last_ts` integer NOT NULL,
	PRIMARY KEY(`tier`, `start`, `job`, `unit`, `chips`)
);
--> statement-breakpoint
CREATE TABLE `work_counters` (
	`key` text PRIMARY KEY NOT NULL,
	`ts` integer NOT NULL,
	`value` real NOT NULL
);
--> statement-breakpoint
CREATE TABLE `work_increments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job` text NOT NULL,
	`unit` text NOT NULL,
	`chips` text NOT NULL,
	`from_ts` integer NOT NULL,
	`to_ts` integer NOT NULL,
	`units` real NOT NULL
);
--> statement-breakpoint
CREATE INDEX `work_increments_to_idx` ON `work_increments` (`to_ts`);