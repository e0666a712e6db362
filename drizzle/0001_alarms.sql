CREATE TABLE "alarm_engine_state" (
	"site_id" text PRIMARY KEY NOT NULL,
	"snapshot" text NOT NULL,
	"saved_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alarm_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alarm_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"alarm_id" text,
	"plot_id" text NOT NULL,
	"type" text NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"by" text,
	"payload" jsonb NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alarms" (
	"id" text PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"rule_id" text NOT NULL,
	"kind" text NOT NULL,
	"plot_id" text NOT NULL,
	"building_id" text,
	"priority" smallint NOT NULL,
	"ticket" text NOT NULL,
	"title_en" text NOT NULL,
	"title_zh" text NOT NULL,
	"state" text NOT NULL,
	"value" jsonb,
	"message" text,
	"count" integer NOT NULL,
	"first_active_at" timestamp (3) with time zone,
	"last_active_at" timestamp (3) with time zone,
	"last_cleared_at" timestamp (3) with time zone,
	"ack_by" text,
	"ack_at" timestamp (3) with time zone,
	"ack_comment" text,
	"shelved_by" text,
	"shelved_at" timestamp (3) with time zone,
	"shelved_until" timestamp (3) with time zone,
	"shelve_reason" text,
	"suppressed_by" text,
	"out_of_service" boolean NOT NULL,
	"chattering" boolean NOT NULL,
	"recent_activations" jsonb NOT NULL,
	"last_announced_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alarm_events_alarm_idx" ON "alarm_events" USING btree ("alarm_id","id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "alarm_events_type_at_idx" ON "alarm_events" USING btree ("type","at");--> statement-breakpoint
CREATE INDEX "alarms_open_idx" ON "alarms" USING btree ("priority","last_active_at" DESC NULLS LAST,"id") WHERE "alarms"."state" <> 'normal';--> statement-breakpoint
CREATE INDEX "alarms_plot_idx" ON "alarms" USING btree ("plot_id","state");--> statement-breakpoint
CREATE INDEX "alarms_kind_idx" ON "alarms" USING btree ("kind","state");--> statement-breakpoint
CREATE INDEX "alarms_device_idx" ON "alarms" USING btree ("device_id");