CREATE TABLE `fold_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`folded_log_id` integer NOT NULL
);
