CREATE TABLE `rollups` (
	`tier` text NOT NULL,
	`key` text NOT NULL,
	`row_start` integer NOT NULL,
	`data` blob NOT NULL,
	PRIMARY KEY(`tier`, `key`, `row_start`)
);
--> statement-breakpoint
CREATE INDEX `rollups_age_idx` ON `rollups` (`tier`,`row_start`);--> statement-breakpoint
CREATE INDEX `sample_chunks_age_idx` ON `sample_chunks` (`end_ts`);