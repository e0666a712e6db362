CREATE TABLE "latest_readings" (
	"device_id" text PRIMARY KEY NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"seq" integer NOT NULL,
	"values" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "readings_group_daily" (
	"group_key" text NOT NULL,
	"metric" text NOT NULL,
	"day" timestamp (3) with time zone NOT NULL,
	"delta" double precision NOT NULL,
	CONSTRAINT "readings_group_daily_pkey" PRIMARY KEY("group_key","metric","day")
);
--> statement-breakpoint
CREATE TABLE "readings_group_hourly" (
	"group_key" text NOT NULL,
	"metric" text NOT NULL,
	"hour" timestamp (3) with time zone NOT NULL,
	"delta" double precision NOT NULL,
	CONSTRAINT "readings_group_hourly_pkey" PRIMARY KEY("group_key","metric","hour")
);
--> statement-breakpoint
CREATE TABLE "readings_hourly" (
	"device_id" text NOT NULL,
	"metric" text NOT NULL,
	"hour" timestamp (3) with time zone NOT NULL,
	"n" integer NOT NULL,
	"sum" double precision NOT NULL,
	"min" double precision NOT NULL,
	"max" double precision NOT NULL,
	"first" double precision NOT NULL,
	"last" double precision NOT NULL,
	"prev" double precision,
	CONSTRAINT "readings_hourly_pkey" PRIMARY KEY("device_id","metric","hour")
);
--> statement-breakpoint
CREATE TABLE "rollup_dirty" (
	"device_id" text NOT NULL,
	"hour" timestamp (3) with time zone NOT NULL,
	"gen" bigint DEFAULT 1 NOT NULL,
	CONSTRAINT "rollup_dirty_pkey" PRIMARY KEY("device_id","hour")
);
--> statement-breakpoint
CREATE TABLE "rollup_dirty_hours" (
	"hour" timestamp (3) with time zone PRIMARY KEY NOT NULL,
	"gen" bigint DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollup_groups" (
	"group_key" text PRIMARY KEY NOT NULL,
	"version" text NOT NULL
);
