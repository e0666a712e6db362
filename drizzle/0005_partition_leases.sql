-- Scale-out (README "Scale-out"): a site's devices are split into partitions,
-- one per plot ('{site}/{plot}'). Each partition is owned by one server
-- instance at a time through a lease that the owner renews; epoch grows at
-- every change of owner and fences late writes of a former owner.
CREATE TABLE partition_leases (
  partition text PRIMARY KEY,
  owner text NOT NULL,
  epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
--> statement-breakpoint
-- The live instances of each site, renewed with the leases: each instance
-- takes a fair share (partitions / live instances) and gives back the rest.
CREATE TABLE partition_members (
  site_id text NOT NULL,
  instance text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (site_id, instance)
);
--> statement-breakpoint
-- @socket.io/postgres-adapter: events too large for NOTIFY (8000 bytes) travel through this table.
CREATE TABLE IF NOT EXISTS socket_io_attachments (
  id bigserial UNIQUE,
  created_at timestamptz DEFAULT now(),
  payload bytea
);
