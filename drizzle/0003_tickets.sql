CREATE TABLE "callbacks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "callbacks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"ticket_id" bigint NOT NULL,
	"phone" text NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"done_at" timestamp (3) with time zone,
	"done_by" text,
	"note" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patrol_records" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "patrol_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"round_id" bigint NOT NULL,
	"item" text NOT NULL,
	"category" text NOT NULL,
	"ok" boolean NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"major" boolean DEFAULT false NOT NULL,
	"ticket_id" bigint
);
--> statement-breakpoint
CREATE TABLE "patrol_rounds" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "patrol_rounds_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"zone_id" text NOT NULL,
	"scheduled_at" timestamp (3) with time zone NOT NULL,
	"due_by" timestamp (3) with time zone NOT NULL,
	"status" text NOT NULL,
	"officer" text,
	"started_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"version" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patrol_zones" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_zh" text NOT NULL,
	"plot_id" text NOT NULL,
	"building_ids" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "roster_shifts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "roster_shifts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"username" text NOT NULL,
	"weekdays" jsonb NOT NULL,
	"from_minutes" integer NOT NULL,
	"to_minutes" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff" (
	"username" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_zh" text NOT NULL,
	"role" text NOT NULL,
	"department" text,
	"skills" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"zone_id" text,
	"company" text,
	"phone" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ticket_alarms" (
	"ticket_id" bigint NOT NULL,
	"alarm_id" text NOT NULL,
	"device_id" text NOT NULL,
	"linked_at" timestamp (3) with time zone NOT NULL,
	"active" boolean NOT NULL,
	"changed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "ticket_alarms_pkey" PRIMARY KEY("ticket_id","alarm_id")
);
--> statement-breakpoint
CREATE TABLE "ticket_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ticket_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"ticket_id" bigint NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"by" text NOT NULL,
	"action" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tickets" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "tickets_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"priority" integer NOT NULL,
	"status" text NOT NULL,
	"source" text NOT NULL,
	"major" boolean DEFAULT false NOT NULL,
	"confidential" boolean DEFAULT false NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"plot_id" text,
	"building_id" text,
	"unit_id" text,
	"device_id" text,
	"location" text DEFAULT '' NOT NULL,
	"root_cause_key" text,
	"assignee" text,
	"created_by" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"acknowledged_at" timestamp (3) with time zone,
	"on_site_at" timestamp (3) with time zone,
	"resolved_at" timestamp (3) with time zone,
	"closed_at" timestamp (3) with time zone,
	"due_acknowledge_at" timestamp (3) with time zone NOT NULL,
	"due_on_site_at" timestamp (3) with time zone NOT NULL,
	"due_resolve_at" timestamp (3) with time zone NOT NULL,
	"needed_by" timestamp (3) with time zone,
	"callback_phone" text,
	"letter_due_at" timestamp (3) with time zone,
	"handed_over_at" timestamp (3) with time zone,
	"handed_over_to" text,
	"reply" text,
	"replied_by" text,
	"replied_at" timestamp (3) with time zone,
	"escalations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reopen_count" integer DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "callbacks" ADD CONSTRAINT "callbacks_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_records" ADD CONSTRAINT "patrol_records_round_id_patrol_rounds_id_fk" FOREIGN KEY ("round_id") REFERENCES "public"."patrol_rounds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patrol_records" ADD CONSTRAINT "patrol_records_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_alarms" ADD CONSTRAINT "ticket_alarms_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_events" ADD CONSTRAINT "ticket_events_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "callbacks_open_idx" ON "callbacks" USING btree ("done_at","due_at");--> statement-breakpoint
CREATE INDEX "patrol_records_round_idx" ON "patrol_records" USING btree ("round_id");--> statement-breakpoint
CREATE UNIQUE INDEX "patrol_rounds_zone_time_key" ON "patrol_rounds" USING btree ("zone_id","scheduled_at");--> statement-breakpoint
CREATE INDEX "patrol_rounds_status_idx" ON "patrol_rounds" USING btree ("status","due_by");--> statement-breakpoint
CREATE INDEX "roster_shifts_username_idx" ON "roster_shifts" USING btree ("username");--> statement-breakpoint
CREATE INDEX "ticket_alarms_alarm_idx" ON "ticket_alarms" USING btree ("alarm_id");--> statement-breakpoint
CREATE INDEX "ticket_events_ticket_idx" ON "ticket_events" USING btree ("ticket_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_open_root_cause_key" ON "tickets" USING btree ("root_cause_key") WHERE status not in ('closed', 'cancelled');--> statement-breakpoint
CREATE INDEX "tickets_status_idx" ON "tickets" USING btree ("status");--> statement-breakpoint
CREATE INDEX "tickets_assignee_idx" ON "tickets" USING btree ("assignee");--> statement-breakpoint
CREATE INDEX "tickets_created_at_idx" ON "tickets" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_root_cause_idx" ON "tickets" USING btree ("root_cause_key");