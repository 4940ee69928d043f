CREATE TABLE `alert_texts` (
	`hash` text PRIMARY KEY NOT NULL,
	`text` text NOT NULL,
	`last_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_texts_last_idx` ON `alert_texts` (`last_at`);