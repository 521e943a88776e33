-- Product catalogue. Every product row carries a version that a trigger bumps on each UPDATE, whoever runs it,
-- so that cache fills and invalidations can be ordered by row version.

CREATE TABLE categories (
    id   bigint PRIMARY KEY,
    name text   NOT NULL
);

CREATE TABLE products (
    id          bigint      PRIMARY KEY,
    category_id bigint      NOT NULL REFERENCES categories (id),
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    stock       integer     NOT NULL CHECK (stock >= 0),
    version     bigint      NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_category_id_idx ON products (category_id);

-- Runs BEFORE UPDATE, so a version set by the statement itself is overwritten: the version always grows by one.
-- now() is the transaction start time, so two updates in one transaction share updated_at but not version.
CREATE FUNCTION bump_row_version() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER products_bump_version
    BEFORE UPDATE ON products
    FOR EACH ROW
EXECUTE FUNCTION bump_row_version();

-- Change data capture needs the old image of updated and deleted rows, not only their primary key.
ALTER TABLE products REPLICA IDENTITY FULL;
ALTER TABLE categories REPLICA IDENTITY FULL;
