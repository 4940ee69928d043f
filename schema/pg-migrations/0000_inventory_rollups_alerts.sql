CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"version" text NOT NULL,
	"interval_ms" integer NOT NULL,
	"token_id" text,
	"first_seen" bigint NOT NULL,
	"last_seen" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alert_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"rule_id" text NOT NULL,
	"chip_id" text NOT NULL,
	"from_phase" text NOT NULL,
	"to_phase" text NOT NULL,
	"at" bigint NOT NULL,
	"value" double precision,
	"severity" text NOT NULL,
	"labels" text NOT NULL,
	"annotations" text NOT NULL,
	"fingerprint" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_states" (
	"rule_id" text NOT NULL,
	"chip_id" text NOT NULL,
	"state" text NOT NULL,
	"labels" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "alert_states_rule_id_chip_id_pk" PRIMARY KEY("rule_id","chip_id")
);
--> statement-breakpoint
CREATE TABLE "chips" (
	"id" text PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"hostname" text NOT NULL,
	"vendor" text NOT NULL,
	"model" text NOT NULL,
	"idx" integer NOT NULL,
	"cores" integer,
	"mem_total_bytes" double precision,
	"rated_power_w" double precision,
	"first_seen" bigint NOT NULL,
	"last_seen" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hosts" (
	"hostname" text PRIMARY KEY NOT NULL,
	"instance_id" text,
	"instance_type" text,
	"last_agent_id" text,
	"first_seen" bigint NOT NULL,
	"last_seen" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollups" (
	"tier" text NOT NULL,
	"key" text NOT NULL,
	"row_start" bigint NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "rollups_tier_key_row_start_pk" PRIMARY KEY("tier","key","row_start")
);
--> statement-breakpoint
CREATE INDEX "alert_events_at_idx" ON "alert_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "alert_events_chip_idx" ON "alert_events" USING btree ("chip_id","at");--> statement-breakpoint
CREATE INDEX "chips_host_idx" ON "chips" USING btree ("hostname");--> statement-breakpoint
CREATE INDEX "rollups_age_idx" ON "rollups" USING btree ("tier","row_start");