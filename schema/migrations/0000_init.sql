CREATE TABLE `agents` (
	`id` text PRIMARY KEY NOT NULL,
	`hostname` text NOT NULL,
	`version` text NOT NULL,
	`interval_ms` integer NOT NULL,
	`last_seq` integer,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `chips` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`hostname` text NOT NULL,
	`vendor` text NOT NULL,
	`model` text NOT NULL,
	`idx` integer NOT NULL,
	`cores` integer,
	`mem_total_bytes` real,
	`rated_power_w` real,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `chips_host_idx` ON `chips` (`hostname`);--> statement-breakpoint
CREATE TABLE `hosts` (
	`hostname` text PRIMARY KEY NOT NULL,
	`instance_id` text,
	`instance_type` text,
	`last_agent_id` text,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `samples` (
	`chip_id` text NOT NULL,
	`ts` integer NOT NULL,
	`util_pct` real,
	`mem_util_pct` real,
	`mem_used_bytes` real,
	`mem_total_bytes` real,
	`power_w` real,
	`power_limit_w` real,
	`temp_c` real,
	`energy_j` real,
	`sm_clock_mhz` real,
	`ecc_corrected` real,
	`ecc_uncorrected` real,
	`flags` integer DEFAULT 0 NOT NULL,
	`extras` text,
	PRIMARY KEY(`chip_id`, `ts`)
);
