-- Accounts for authentication and static content served through the CDN.

CREATE TABLE accounts (
    id           bigint  PRIMARY KEY,
    email        text    NOT NULL UNIQUE,
    display_name text    NOT NULL,
    verified     boolean NOT NULL DEFAULT false
);

-- surrogate_keys tag the asset for CDN purges, such as {product:42,category:7}.
CREATE TABLE static_assets (
    path           text   PRIMARY KEY CHECK (path LIKE '/%'),
    content_type   text   NOT NULL,
    body           bytea  NOT NULL,
    surrogate_keys text[] NOT NULL DEFAULT '{}'
);
