-- Credential lists are newest first, often within one environment (the console's credentials
-- page, BENCH P11): keyset paging walks these indexes instead of sorting.
CREATE INDEX credentials_env_created ON credentials (environment_id, created_at, id);
CREATE INDEX credentials_created ON credentials (created_at, id);
