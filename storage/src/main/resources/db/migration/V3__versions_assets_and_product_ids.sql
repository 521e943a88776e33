-- Row versions for accounts and static assets, static asset metadata, and generated ids for new products.

-- Accounts and static assets get the version and updated_at columns of products, bumped by the same trigger, so
-- that their cache fills are ordered by row version too and static assets can carry Last-Modified.
ALTER TABLE accounts
    ADD COLUMN version    bigint      NOT NULL DEFAULT 1,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TRIGGER accounts_bump_version
    BEFORE UPDATE ON accounts
    FOR EACH ROW
EXECUTE FUNCTION bump_row_version();

CREATE INDEX accounts_verified_idx ON accounts (id) WHERE verified;

-- An asset has either stored bytes (body) or a body generated on read from its path (generated_bytes long), for
-- demos and benchmarks that need large assets without storing them. Responses carry the body as UTF-8 text inside
-- a ClientResponse event, so only text content types are accepted. The application also checks that body is UTF-8.
ALTER TABLE static_assets
    ADD COLUMN version         bigint      NOT NULL DEFAULT 1,
    ADD COLUMN updated_at      timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN requires_auth   boolean     NOT NULL DEFAULT false,
    ADD COLUMN generated_bytes integer,
    ALTER COLUMN body DROP NOT NULL,
    ADD CONSTRAINT static_assets_body_or_generated CHECK (num_nonnulls(body, generated_bytes) = 1),
    ADD CONSTRAINT static_assets_generated_bytes_range CHECK (generated_bytes BETWEEN 0 AND 4194304),
    ADD CONSTRAINT static_assets_text_content_type CHECK (content_type ~
        '^(text/(css|csv|html|javascript|plain|xml)|application/(javascript|json|xml)|image/svg\+xml)(; ?charset=utf-8)?$'),
    -- Segments of letters, digits, '.', '_', '~' or '-', never '.' or '..': no path traversal, no encoded characters.
    ADD CONSTRAINT static_assets_safe_path CHECK (
        length(path) <= 512 AND path ~ '^(/[A-Za-z0-9._~-]+)+$' AND path !~ '/\.\.?(/|$)');

CREATE TRIGGER static_assets_bump_version
    BEFORE UPDATE ON static_assets
    FOR EACH ROW
EXECUTE FUNCTION bump_row_version();

-- Change data capture needs the old image of updated and deleted rows here too.
ALTER TABLE accounts REPLICA IDENTITY FULL;
ALTER TABLE static_assets REPLICA IDENTITY FULL;

-- POST /products takes its ids from this sequence. CatalogueSeeder inserts explicit ids and moves the sequence past
-- them afterwards.
CREATE SEQUENCE products_id_seq OWNED BY products.id;
SELECT setval('products_id_seq', COALESCE((SELECT max(id) FROM products), 0) + 1, false);
ALTER TABLE products ALTER COLUMN id SET DEFAULT nextval('products_id_seq');

-- Category pages list products in id order.
CREATE INDEX products_category_id_id_idx ON products (category_id, id);
DROP INDEX products_category_id_idx;
