-- Custom migration (drizzle-kit cannot write PARTITION BY): the sample log and the raw chunks,
-- both partitioned by time, one partition per UTC day. The partitions themselves are created by
-- the store (server/store/pg/partitions.ts): today and the next two days at open and with each
-- retention run, and on demand for the day of an incoming sample; retention drops whole ones.
-- Drizzle definitions of these tables: schema/pg/partitioned-tables.ts.

-- One row per committed sample until it is folded into chunks (then deleted in the fold's
-- transaction). A (chip, ts) pair is logged once: the first insert wins (ON CONFLICT DO NOTHING).
CREATE TABLE "sample_log" (
	"id" bigserial NOT NULL,
	"chip_id" text NOT NULL,
	"ts" bigint NOT NULL,
	"received_at" bigint NOT NULL,
	"flags" smallint NOT NULL,
	"present" smallint NOT NULL,
	"util_pct" double precision,
	"mem_util_pct" double precision,
	"mem_used_bytes" double precision,
	"mem_total_bytes" double precision,
	"power_w" double precision,
	"power_limit_w" double precision,
	"temp_c" double precision,
	"energy_j" double precision,
	"sm_clock_mhz" double precision,
	"ecc_corrected" double precision,
	"ecc_uncorrected" double precision,
	"extras" jsonb,
	CONSTRAINT "sample_log_pk" PRIMARY KEY ("chip_id", "ts")
) PARTITION BY RANGE ("ts");
--> statement-breakpoint
CREATE INDEX "sample_log_id_idx" ON "sample_log" USING btree ("id");
--> statement-breakpoint
-- Per-chip chunks of raw samples (server/store/chunk-codec.ts). A chunk never crosses a UTC day,
-- so the partition of its start holds all of it and dropping a day drops exactly that day.
CREATE TABLE "sample_chunks" (
	"chip_id" text NOT NULL,
	"start_ts" bigint NOT NULL,
	"end_ts" bigint NOT NULL,
	"n" integer NOT NULL,
	"data" bytea NOT NULL,
	CONSTRAINT "sample_chunks_pk" PRIMARY KEY ("chip_id", "start_ts")
) PARTITION BY RANGE ("start_ts");
--> statement-breakpoint
CREATE INDEX "sample_chunks_end_idx" ON "sample_chunks" USING btree ("chip_id", "end_ts");
