CREATE TABLE "adapter_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"adapter_id" uuid NOT NULL,
	"version" text NOT NULL,
	"digest" text NOT NULL,
	"rank" integer NOT NULL,
	"alpha" real NOT NULL,
	"target_modules" text[] NOT NULL,
	"format" text DEFAULT 'peft' NOT NULL,
	"size_bytes" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "adapter_versions_digest_unique" UNIQUE("digest")
);
--> statement-breakpoint
CREATE TABLE "adapters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"base_model" text NOT NULL,
	"base_digest" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "adapter_versions" ADD CONSTRAINT "adapter_versions_adapter_id_adapters_id_fk" FOREIGN KEY ("adapter_id") REFERENCES "public"."adapters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "adapter_versions_adapter_version_key" ON "adapter_versions" USING btree ("adapter_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "adapters_owner_name_key" ON "adapters" USING btree ("owner","name");--> statement-breakpoint
CREATE INDEX "adapters_base_model_idx" ON "adapters" USING btree ("base_model");--> statement-breakpoint
CREATE INDEX "adapters_name_lower_idx" ON "adapters" USING btree (lower("name"));