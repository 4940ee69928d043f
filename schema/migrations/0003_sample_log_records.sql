PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_sample_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`received_at` integer NOT NULL,
	`n` integer NOT NULL,
	`data` blob NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_sample_log`("id", "received_at", "n", "data") SELECT "id", "received_at", "n", "data" FROM `sample_log`;--> statement-breakpoint
DROP TABLE `sample_log`;--> statement-breakpoint
ALTER TABLE `__new_sample_log` RENAME TO `sample_log`;--> statement-breakpoint
PRAGMA foreign_keys=ON;