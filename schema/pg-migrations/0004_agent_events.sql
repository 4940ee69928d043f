CREATE TABLE "agent_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "agent_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"agent_id" text NOT NULL,
	"ts" bigint NOT NULL,
	"kind" text NOT NULL,
	"hub" text,
	"detail" text
);
--> statement-breakpoint
CREATE INDEX "agent_events_agent_ts_idx" ON "agent_events" USING btree ("agent_id","ts");--> statement-breakpoint
CREATE INDEX "agent_events_ts_idx" ON "agent_events" USING btree ("ts");