CREATE TABLE `agent_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`agent_id` text NOT NULL,
	`ts` integer NOT NULL,
	`kind` text NOT NULL,
	`hub` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `agent_events_agent_ts_idx` ON `agent_events` (`agent_id`,`ts`);--> statement-breakpoint
CREATE INDEX `agent_events_ts_idx` ON `agent_events` (`ts`);