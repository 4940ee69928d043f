CREATE TABLE `sample_chunks` (
	`chip_id` text NOT NULL,
	`start_ts` integer NOT NULL,
	`end_ts` integer NOT NULL,
	`n` integer NOT NULL,
	`data` blob NOT NULL,
	PRIMARY KEY(`chip_id`, `start_ts`)
);
--> statement-breakpoint
CREATE INDEX `sample_chunks_end_idx` ON `sample_chunks` (`chip_id`,`end_ts`);--> statement-breakpoint
CREATE TABLE `sample_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`received_at` integer NOT NULL,
	`n` integer NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
DROP TABLE `samples`;