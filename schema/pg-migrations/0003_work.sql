CREATE TABLE "chip_jobs" (
	"chip_id" text NOT NULL,
	"job" text NOT NULL,
	"first_ts" bigint NOT NULL,
	"last_ts" bigint NOT NULL,
	"labels" text,
	CONSTRAINT "chip_jobs_chip_id_job_pk" PRIMARY KEY("chip_id","job")
);
--> statement-breakpoint
CREATE TABLE "work_buckets" (
	"tier" text NOT NULL,
	"start" bigint NOT NULL,
	"job" text NOT NULL,
	"unit" text NOT NULL,
	"chips" text NOT NULL,
	"units" double precision NOT NULL,
	"first_ts" bigint NOT NULL,
	"last_ts" bigint NOT NULL,
	CONSTRAINT "work_buckets_tier_start_job_unit_chips_pk" PRIMARY KEY("tier","start","job","unit","chips")
);
--> statement-breakpoint
CREATE TABLE "work_counters" (
	"key" text PRIMARY KEY NOT NULL,
	"ts" bigint NOT NULL,
	"value" double precision NOT NULL
);
--> statement-breakpoint
CREATE TABLE "work_increments" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "work_increments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"job" text NOT NULL,
	"unit" text NOT NULL,
	"chips" text NOT NULL,
	"from_ts" bigint NOT NULL,
	"to_ts" bigint NOT NULL,
	"units" double precision NOT NULL
);
--> statement-breakpoint
CREATE INDEX "chip_jobs_last_idx" ON "chip_jobs" USING btree ("last_ts");--> statement-breakpoint
CREATE INDEX "work_increments_to_idx" ON "work_increments" USING btree ("to_ts");